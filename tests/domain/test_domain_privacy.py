"""The personal-data guard of contract §6 as pure functions (the append path is in test_domain_append)."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.privacy import check_personal_data, free_text_problem, passes_eleven_test
from domain.results import Rejection


def test_the_eleven_test() -> None:
    assert passes_eleven_test("123456782")  # 9·1+8·2+7·3+6·4+5·5+4·6+3·7+2·8 − 2 = 154 = 14·11
    assert passes_eleven_test("111222333")
    assert not passes_eleven_test("123456789")
    assert not passes_eleven_test("000000000")
    assert not passes_eleven_test("12345678")
    assert not passes_eleven_test("12345678x")


def test_a_valid_iban_counts_and_a_mistyped_one_does_not() -> None:
    assert free_text_problem("rekening NL91ABNA0417164300") == "an IBAN"
    assert free_text_problem("rekening DE89 3704 0044 0532 0130 00") == "an IBAN"
    assert free_text_problem("kenmerk NL91ABNA9417164300") is None  # fails the mod-97 check


def test_check_personal_data_names_the_field() -> None:
    event = {"actor": "img-1", "data": {"claim_ids": ["C-1", "123456782"], "reason": "x"}}
    try:
        check_personal_data(event)
    except Rejection as rej:
        assert (rej.code, rej.path) == ("personal_data", "$.data.claim_ids[1]")
    else:
        raise AssertionError("a BSN in claim_ids passed")


def test_only_free_text_fields_are_searched_for_phone_numbers_and_e_mail() -> None:
    check_personal_data({"data": {"campaign_ref": "0612345678"}})  # a reference, not free text
    try:
        check_personal_data({"data": {"reason": "06 12345678"}})
    except Rejection as rej:
        assert rej.path == "$.data.reason"
    else:
        raise AssertionError("a phone number in reason passed")


# Text made only of the ledger's own formats never trips the guard.
bag_ids = st.from_regex(r"\A\d{4}(20|10|01)\d{10}\Z")
postcodes = st.from_regex(r"\A[1-9][0-9]{3} ?[A-Z]{2}\Z")
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
iso_dates = dates.map(date.isoformat)
dutch_dates = dates.map(lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}")
times = st.times().map(lambda t: t.strftime("%H:%M"))
timestamps = st.datetimes(min_value=datetime(2012, 1, 1)).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
uuids = st.uuids().map(str)
euros = st.integers(0, 99_999_999).map(lambda c: "€ " + f"{c // 100:,}".replace(",", ".") + f",{c % 100:02d}")
cents = st.integers(1, 99_999_999).map(lambda c: f"{c} cent")
words = st.sampled_from(["dubbel", "zie", "adres", "besluit", "van", "om", "bedrag", "i.p.v.", "op", "—", ";"])
tokens = st.one_of(
    bag_ids,
    postcodes,
    iso_dates,
    dutch_dates,
    st.tuples(dutch_dates, times).map(" ".join),
    st.tuples(iso_dates, times).map(" ".join),
    timestamps,
    uuids,
    euros,
    cents,
    words,
)


@settings(max_examples=300, derandomize=True)
@given(st.lists(tokens, min_size=1, max_size=8).map(" ".join))
def test_the_ledgers_own_formats_never_look_like_personal_data(text: str) -> None:
    assert free_text_problem(text) is None, text
