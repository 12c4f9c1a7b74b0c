"""The personal-data guard of contract §6 (version 1.1): every string of an event, every form.

The append path's own personal-data cases are in test_domain_append; here the guard itself, the
rejections it gives through the service, and two properties: generated BSNs, IBANs, phone numbers
and e-mail addresses, embedded as a token in any string of an event in any accepted form, are
rejected with the field's path; the ledger's own formats never are.
"""

from __future__ import annotations

import copy
import io
from datetime import date, datetime
from typing import Any

import orjson
import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from domain import privacy
from domain.envelope import validate
from domain.results import Rejection
from ledger.bootstrap import Ledger
from ledger.generator import generate
from ledger.generator.address import pseudonym
from ledger.generator.catalogue import TYPES
from tests.domain.support import accept, reject
from tests.factories import claim_filed, example, retracted_contact, subject

A = subject(1)


def rejection(event: dict[str, Any]) -> Rejection | None:
    try:
        privacy.check_personal_data(event)
    except Rejection as rej:
        return rej
    return None


def outcome(event: dict[str, Any]) -> tuple[str, str | None] | None:
    rej = rejection(event)
    return None if rej is None else (rej.code, rej.path)


def validated(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the guard sees it on the append path: validated and normalised."""
    return validate(copy.deepcopy(event), None).event


# -- examples: the forms of contract §6 1.1 and where they hide -----------------------------
def test_a_bsn_passes_the_eleven_test() -> None:
    assert privacy.is_bsn("123456782")  # 9·1+8·2+7·3+6·4+5·5+4·6+3·7+2·8 − 2 = 154 = 14·11
    assert privacy.is_bsn("111222333")
    assert not privacy.is_bsn("123456789")
    assert not privacy.is_bsn("000000000")
    assert not privacy.is_bsn("12345678")  # stdnum would zero-pad eight digits; a token of eight is no BSN
    assert not privacy.is_bsn("12345678x")


def test_a_valid_iban_counts_and_a_mistyped_one_does_not() -> None:
    assert privacy.string_problem("rekening NL91ABNA0417164300") == privacy.IBAN
    assert privacy.string_problem("rekening DE89 3704 0044 0532 0130 00 overgemaakt") == privacy.IBAN
    assert privacy.string_problem("kenmerk NL91ABNA9417164300") is None  # fails the mod-97 check


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("111222333", privacy.BSN),
        ("1112.22.333", privacy.BSN),
        ("111 222 333", privacy.BSN),
        ("111-22-2333", privacy.BSN),
        ("111.222.333", privacy.BSN),
        ("C_111222333", privacy.BSN),
        ("dossier 12 111222333", privacy.BSN),
        ("0612345678", privacy.PHONE),
        ("claim-0612345678", privacy.PHONE),
        ("06 12 34 56 78", privacy.PHONE),
        ("+31 6 12345678", privacy.PHONE),
        ("+31 (0)6 12345678", privacy.PHONE),
        ("+31(0)612345678", privacy.PHONE),
        ("0031612345678", privacy.PHONE),
        ("0031 6 12345678", privacy.PHONE),
        ("0031 (0)50 123 4567", privacy.PHONE),
        ("(0591) 123456", privacy.PHONE),
        ("050/1234567", privacy.PHONE),
        ("NL91ABNA0417164300", privacy.IBAN),
        ("C-NL91ABNA0417164300", privacy.IBAN),
        ("nl91abna0417164300", privacy.IBAN),
        ("NL91-ABNA-0417-1643-00", privacy.IBAN),
        ("mailto:jan.jansen@example.nl", privacy.EMAIL),
    ],
)
def test_the_forms_of_personal_data(text: str, kind: str) -> None:
    assert privacy.string_problem(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "IMG111222333",  # one token: letters and digits together are no number
        "111222333abc",
        "1111222333",  # ten digits, no leading zero: neither a BSN nor a national number
        "0014200000000001",  # a BAG id: its last nine digits are no token
        "0800-1234567",  # organisations' numbers are no personal data
        "0900 1234567",
        "088 123 4567",
        "bedrag € 111.222.333,00 en 123456782 cent",  # amounts marked as such
        "04-03-2021 12:00",  # 0403202112 would be an Eindhoven number
        "IMG-SM-06123456",
    ],
)
def test_what_is_no_personal_data(text: str) -> None:
    assert privacy.string_problem(text) is None


def test_the_message_names_kind_and_field_never_the_value() -> None:
    event = {"actor": "img-1", "data": {"claim_ids": ["C-1", "C_111222333"], "reason": "x"}}
    rej = rejection(event)
    assert rej is not None and (rej.code, rej.path) == ("personal_data", "$.data.claim_ids[1]")
    assert "BSN" in rej.message and "data.claim_ids[1]" in rej.message
    assert "111222333" not in rej.message and "C_1" not in rej.message


# Regression: before contract 1.1 only `reason` was searched, and other strings only for a bare BSN.
@pytest.mark.parametrize(
    ("claim_id", "kind"),
    [
        ("NL91ABNA0417164300", "IBAN"),
        ("C-NL91ABNA0417164300", "IBAN"),
        ("0612345678", "phone"),
        ("claim-0612345678", "phone"),
        ("06-12345678", "phone"),
        ("0031612345678", "phone"),
        ("050-1234567", "phone"),
        ("C_111222333", "BSN"),
        ("C-111222333", "BSN"),
        ("111-22-2333", "BSN"),
        ("1112.22.333", "BSN"),
    ],
)
def test_personal_data_as_an_identifier_is_rejected_at_append(ledger: Ledger, claim_id: str, kind: str) -> None:
    result = reject(ledger, claim_filed(A, claim_id))
    assert (result.code, result.path) == ("personal_data", "$.data.claim_id"), result
    assert result.message is not None and kind in result.message and claim_id not in result.message


@pytest.mark.parametrize(
    "source",
    ["urn:nl:img:111222333", "urn:nl:img:1112.22.333", "tel:+31612345678", "mailto:jan@example.nl"],
)
def test_personal_data_in_source_is_rejected_at_append(ledger: Ledger, source: str) -> None:
    result = reject(ledger, {**claim_filed(A, "C-1"), "source": source})
    assert (result.code, result.path) == ("personal_data", "$.source"), result


@pytest.mark.parametrize(
    ("name", "data", "path"),
    [
        ("ConsentToDataExchangeGiven", {"party_ref": "bewoner-0612345678", "scope": "both"}, "$.data.party_ref"),
        ("CaseGuideAssigned", {"claim_id": "C-1", "guide_ref": "zb-0031612345678"}, "$.data.guide_ref"),
        ("IntegratedApproachDeclined", {"party_ref": "bewoner-111-22-2333"}, "$.data.party_ref"),
    ],
)
def test_personal_data_in_a_pseudonym_is_rejected(name: str, data: dict[str, Any], path: str) -> None:
    assert outcome(validated(example(name, A, data))) == ("personal_data", path)


@pytest.mark.parametrize("actor", ["0612345678", "img-0612345678", "111-22-2333"])
def test_personal_data_as_actor_is_rejected_at_append(ledger: Ledger, actor: str) -> None:
    result = reject(ledger, {**claim_filed(A, "C-1"), "actor": actor})
    assert (result.code, result.path) == ("personal_data", "$.actor"), result


@pytest.mark.parametrize(
    ("attribute", "value", "path"),
    [
        ("actor", "jan@example.nl", "$.actor"),
        ("actor", "+31612345678", "$.actor"),
        ("correlationid", "111222333", "$.correlationid"),
        ("specversion", "NL91ABNA0417164300", "$.specversion"),
    ],
)
def test_personal_data_behind_a_schema_error_is_rejected_as_personal_data(
    ledger: Ledger, attribute: str, value: str, path: str
) -> None:
    # `actor` is `^[a-z0-9-]{1,64}$` (contract §1), so the envelope refuses these values anyway;
    # the code must still say personal_data, which is what makes the Kafka intake withhold the
    # record's payload (events §2).
    result = reject(ledger, {**claim_filed(A, "C-1"), attribute: value})
    assert (result.code, result.path) == ("personal_data", path), result
    assert result.message is not None and value not in result.message


def test_personal_data_in_a_malformed_data_field_is_rejected_as_personal_data(ledger: Ledger) -> None:
    event = claim_filed(A, "06 12345678")  # not a valid claim_id, and a phone number
    result = reject(ledger, event)
    assert (result.code, result.path) == ("personal_data", "$.data.claim_id"), result


def test_a_malformed_event_without_personal_data_stays_schema_invalid(ledger: Ledger) -> None:
    deep: Any = "x"
    for _ in range(900):
        deep = [deep]
    for bad in ({**claim_filed(A, "C-1"), "actor": "Not A Pseudonym"}, {**claim_filed(A, "C-1"), "extra": deep}):
        assert reject(ledger, bad).code == "schema_invalid"


@pytest.mark.parametrize(
    "reason",
    [
        "bsn 1112.22.333 verwisseld",
        "bsn 111 222 333 verwisseld",
        "bsn 111-22-2333 verwisseld",
        "bsn 111.222.333 verwisseld",
        "zie claim C_111222333",
        "gebeld: 06 12 34 56 78",
        "gebeld: 0031 (0)6 12345678",
        "gebeld: tel:0612345678",
        "rekening nl91 abna 0417 1643 00",
    ],
)
def test_personal_data_in_a_reason_in_every_form(ledger: Ledger, reason: str) -> None:
    contact, retraction = retracted_contact(A, reason)
    accept(ledger, contact)
    result = reject(ledger, retraction)
    assert (result.code, result.path) == ("personal_data", "$.data.reason"), result


@pytest.mark.parametrize("claim_id", ["claim-0612345678", "NL91ABNA0417164300", "C_111222333"])
def test_personal_data_in_the_replacement_data_of_a_correction(ledger: Ledger, claim_id: str) -> None:
    filed = claim_filed(A, "C-1", time="2021-03-01T09:00:00Z")
    accept(ledger, filed)
    fix = example("EventCorrected", A, {"corrects": filed["id"], "data": {**filed["data"], "claim_id": claim_id}})
    fix["data"]["reason"] = "claimnummer verkeerd overgenomen"
    result = reject(ledger, fix)
    assert (result.code, result.path) == ("personal_data", "$.data.data.claim_id"), result


# -- property (a): generated personal data, in any accepted form, in any string ------------------
@st.composite
def bsns(draw: st.DrawFn) -> str:
    """A valid BSN: eight digits and the check digit the eleven-test needs."""
    head = draw(st.text("0123456789", min_size=8, max_size=8))
    check = sum(int(d) * w for d, w in zip(head, range(9, 1, -1), strict=True)) % 11
    assume(check < 10 and head != "00000000")
    number = head + str(check)
    assert stdnum_bsn.is_valid(number)
    return number


def bsn_forms(number: str) -> list[str]:
    n = number
    return [
        n,
        stdnum_bsn.format(n),
        f"{n[:3]} {n[3:6]} {n[6:]}",
        f"{n[:3]}-{n[3:5]}-{n[5:]}",
        f"{n[:3]}.{n[3:6]}.{n[6:]}",
    ]


BANKS = {"NL": ["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ"]}


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A valid Dutch or German IBAN, its check digits computed by python-stdnum."""
    if draw(st.booleans()):
        bban = draw(st.sampled_from(BANKS["NL"])) + draw(st.text("0123456789", min_size=10, max_size=10))
        country = "NL"
    else:
        bban = draw(st.text("0123456789", min_size=18, max_size=18))
        country = "DE"
    number = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
    assume(stdnum_iban.is_valid(number))
    return number


def iban_forms(number: str) -> list[str]:
    return [number, number.lower(), stdnum_iban.format(number), stdnum_iban.format(number).lower()]


AREA_CODES = ["6", "10", "13", "20", "23", "30", "40", "43", "50", "58", "70", "591", "594", "596", "597", "598", "599"]


@st.composite
def phones(draw: st.DrawFn) -> tuple[phonenumbers.PhoneNumber, str, str]:
    """A Dutch mobile or landline number that phonenumbers knows as valid, its area code and the rest."""
    area = draw(st.sampled_from(AREA_CODES))
    first = "12345" if area == "6" else "23456789"
    rest = draw(st.sampled_from(first)) + draw(st.text("0123456789", min_size=8 - len(area), max_size=8 - len(area)))
    number = phonenumbers.parse("0" + area + rest, "NL")
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    assume(phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in kinds)
    return number, area, rest


def phone_forms(phone: tuple[phonenumbers.PhoneNumber, str, str]) -> list[str]:
    number, area, rest = phone
    fmt = phonenumbers.PhoneNumberFormat
    e164 = phonenumbers.format_number(number, fmt.E164)
    pairs = " ".join(rest[i : i + 2] for i in range(0, len(rest), 2))
    return [
        f"0{area}{rest}",
        phonenumbers.format_number(number, fmt.NATIONAL),
        phonenumbers.format_number(number, fmt.INTERNATIONAL),
        e164,
        "00" + e164[1:],
        f"0031 {area} {rest}",
        f"0{area}-{rest}",
        f"(0{area}) {rest}",
        f"0{area} {pairs}",
        f"+31 (0){area} {rest}",
        f"+31(0){area}{rest}",
    ]


personal_data = st.one_of(
    bsns().flatmap(lambda n: st.sampled_from(bsn_forms(n))),
    ibans().flatmap(lambda n: st.sampled_from(iban_forms(n))),
    phones().flatmap(lambda n: st.sampled_from(phone_forms(n))),
    st.emails(),
)
# What may stand around a token: nothing, or a word and a separator (never a letter or digit).
words = st.sampled_from(["C", "claim", "urn:nl:img", "zie", "bsn", "tel", "IMG-SM", "bewoner", "rekening"])
separators = st.sampled_from([" ", "-", "_", ":", "/", ".", ", ", " (", ") ", "#"])
around = st.one_of(st.just(""), st.tuples(words, separators).map("".join))
after = st.one_of(st.just(""), st.tuples(separators, words).map("".join))

BASE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "3f2a0b12-0456-4789-8123-0a1b2c3d4e5f",
    "source": "urn:nl:img:schadesysteem",
    "type": "nl.groningen.ledger.EventCorrected.v1",
    "subject": "0014200000000001",
    "time": "2021-03-01T09:00:00.000000Z",
    "org": "IMG",
    "actor": "img-medewerker-0042",
    "correlationid": "01234567-0123-4567-89ab-0123456789ab",
    "data": {
        "corrects": "3f2a0b12-0456-4789-8123-a123456782bc",
        "data": {"decision_id": "IMG-BS-00001234", "claim_ids": ["IMG-SM-00001234", "IMG-SM-00001235"]},
        "reason": "gegevens gecorrigeerd na controle",
        "owner_ref": "eigenaar-0a1b2c3d4e",
        "pand_id": "0014100000000001",
    },
}
FIELDS = [
    ("specversion",),
    ("id",),
    ("source",),
    ("type",),
    ("subject",),
    ("time",),
    ("org",),
    ("actor",),
    ("correlationid",),
    ("data", "corrects"),
    ("data", "data", "decision_id"),
    ("data", "data", "claim_ids", 1),
    ("data", "reason"),
    ("data", "owner_ref"),
    ("data", "pand_id"),
]


def json_path(field: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in field)


def with_value(field: tuple[str | int, ...], value: str) -> dict[str, Any]:
    event = copy.deepcopy(BASE)
    inner: Any = event
    for part in field[:-1]:
        inner = inner[part]
    inner[field[-1]] = value
    return event


def test_the_base_event_is_clean() -> None:
    assert rejection(BASE) is None


@settings(max_examples=600, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much])
@given(personal_data, around, after, st.sampled_from(FIELDS))
def test_personal_data_as_a_token_of_any_string_is_rejected(
    value: str, before: str, behind: str, field: tuple[str | int, ...]
) -> None:
    rej = rejection(with_value(field, before + value + behind))
    assert rej is not None, (field, before + value + behind)
    assert (rej.code, rej.path) == ("personal_data", json_path(field))
    assert value not in rej.message


# -- property (b): the ledger's own formats never trip the guard ----------------------------------
bag_ids = st.from_regex(r"\A[0-9]{4}(20|10|01)[0-9]{10}\Z")
postcodes = st.from_regex(r"\A[1-9][0-9]{3} ?[A-Z]{2}\Z")
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
iso_dates = dates.map(date.isoformat)
dutch_dates = dates.map(lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}")
times = st.times().map(lambda t: t.strftime("%H:%M"))
timestamps = st.datetimes(min_value=datetime(2012, 1, 1)).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
uuids = st.uuids().map(str)
euros = st.integers(0, 99_999_999).map(lambda c: "€ " + f"{c // 100:,}".replace(",", ".") + f",{c % 100:02d}")
cents = st.integers(1, 999_999_999).map(lambda c: f"{c} cent")
prefixes = st.sampled_from(["IMG-SM", "IMG-BS", "IMG-BZ", "IMG-AR", "IMG-OPN", "NCG-WV", "NCG-VB", "SA", "KL", "BZK"])
references = st.tuples(prefixes, st.integers(0, 99_999_999)).map(lambda p: f"{p[0]}-{p[1]:08d}")
pseudonyms = st.one_of(
    st.tuples(st.sampled_from(["eigenaar", "bewoner"]), st.integers(0, 2**40 - 1)).map(lambda p: pseudonym(*p)),
    st.tuples(st.sampled_from(["img-medewerker", "zaakbegeleider", "coordinator"]), st.integers(1, 9999)).map(
        lambda p: f"{p[0]}-{p[1]:04d}"
    ),
)
sources = st.sampled_from(
    ["urn:nl:img:schadesysteem", "urn:nl:ncg:versterkingssysteem", "urn:nl:portal:bewonersportaal"]
)
type_names = st.sampled_from(TYPES)
words_nl = st.sampled_from(["dubbel", "zie", "adres", "besluit", "van", "om", "bedrag", "i.p.v.", "op", "—", ";"])
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
    references,
    pseudonyms,
    sources,
    type_names,
    words_nl,
)
free_text = st.lists(tokens, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=400, derandomize=True)
@given(free_text)
def test_text_of_the_ledgers_own_formats_is_no_personal_data(text: str) -> None:
    assert privacy.string_problem(text) is None, text


@settings(max_examples=400, derandomize=True)
@given(
    uuids,
    sources,
    type_names,
    bag_ids,
    timestamps,
    pseudonyms,
    references,
    st.lists(references, max_size=3),
    pseudonyms,
    postcodes,
    bag_ids,
    free_text,
)
def test_events_of_the_ledgers_own_formats_pass_the_guard(
    event_id: str,
    source: str,
    type_name: str,
    address: str,
    time: str,
    actor: str,
    ref: str,
    refs: list[str],
    owner: str,
    postcode: str,
    pand: str,
    reason: str,
) -> None:
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type_name,
        "subject": address,
        "time": time,
        "org": "IMG",
        "actor": actor,
        "correlationid": event_id,
        "data": {
            "claim_id": ref,
            "claim_ids": refs,
            "owner_ref": owner,
            "postcode": postcode,
            "pand_id": pand,
            "reason": reason,
            "data": {"decision_id": ref, "gemeentecode": address[:4]},
        },
    }
    assert rejection(event) is None, event


@pytest.mark.parametrize("seed", [2, 3, 7])
def test_generated_histories_pass_the_guard(seed: int) -> None:
    out = io.BytesIO()
    generate(2_000, seed, out=out)
    rejected = []
    for line in out.getvalue().splitlines():
        event = validate(orjson.loads(line), None, importing=True).event
        if (rej := rejection(event)) is not None:
            rejected.append((rej.path, rej.message))
    assert rejected == []
