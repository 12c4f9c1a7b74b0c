"""Canonical form and hash chain (contract §5), as pure functions and on stored events."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.chain import GENESIS, canonical, content_digest, event_hash, publisher_form, verify_stream
from ledger.bootstrap import Ledger
from tests.domain.support import accept
from tests.factories import claim_filed, example, receipt, subject

A = subject(1)


def reference(obj: dict[str, Any]) -> bytes:
    """The contract's definition of the canonical form, in plain Python."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chained(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored forms of `events` with positions, times and a correct chain."""
    prev, out = GENESIS, []
    for position, event in enumerate(events, start=1):
        stored = {**copy.deepcopy(event), "recordedtime": "2021-03-05T00:00:00.000000Z", "streamposition": position}
        stored["prevhash"] = prev
        stored["hash"] = prev = event_hash(stored)
        out.append(stored)
    return out


def history() -> list[dict[str, Any]]:
    return chained(
        [
            claim_filed(A, "C-1", time="2021-03-01T09:00:00.000000Z"),
            receipt(A, "C-1", time="2021-03-02T09:00:00.000000Z"),
            receipt(A, "C-1", days=30, time="2021-03-03T09:00:00.000000Z"),
        ]
    )


# canonical form ------------------------------------------------------------------------------
def test_canonical_form_with_non_ascii_text_matches_the_contract_byte_for_byte() -> None:
    contact = example("ContactMade", A)
    retraction = example(
        "EventRetracted",
        A,
        {"retracts": contact["id"], "reason": "coördinatie met NCG — dubbel ingevoerd; ‘ß’ “€” 日本 😀 \u2028 \x7f"},
    )
    stored = {**retraction, "recordedtime": "2021-03-05T00:00:00.000000Z", "streamposition": 2, "prevhash": GENESIS}
    assert canonical(stored) == reference(stored)
    assert "coördinatie".encode() in canonical(stored)  # UTF-8, not \u-escaped
    assert b"\\u" not in canonical(stored)
    assert event_hash(stored) == hashlib.sha256(reference(stored)).hexdigest()


def test_canonical_form_escapes_only_what_json_requires() -> None:
    obj = {"reason": 'quote " backslash \\ newline \n tab \t control \x01 slash /'}
    assert canonical(obj) == reference(obj)
    assert b"\\u0001" in canonical(obj) and b"/" in canonical(obj)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, derandomize=True)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_canonical_form_matches_the_contract_for_any_json_object(obj: dict[str, Any]) -> None:
    # Lone surrogates are not text in UTF-8; the ledger never holds them (they are not valid JSON input).
    try:
        expected = reference(obj)
    except UnicodeEncodeError:
        return
    assert canonical(obj) == expected


def test_the_stored_hash_is_the_sha256_of_the_canonical_form_without_hash(ledger: Ledger) -> None:
    accept(ledger, claim_filed(A, "C-1", time="2021-03-01T09:00:00Z"), receipt(A, "C-1", time="2021-03-02T09:00:00Z"))
    first, second = ledger.log.read_stream(A)
    for stored in (first, second):
        body = {k: v for k, v in stored.items() if k != "hash"}
        assert stored["hash"] == hashlib.sha256(reference(body)).hexdigest()
    assert first["prevhash"] == "0" * 64 == GENESIS
    assert second["prevhash"] == first["hash"]
    assert [first["streamposition"], second["streamposition"]] == [1, 2]


def test_the_stored_bytes_are_the_canonical_form(ledger: Ledger) -> None:
    accept(ledger, claim_filed(A, "C-1", time="2021-03-01T09:00:00Z"))
    ((_, body),) = ledger.log.read_raw(0, 10)
    assert body == reference(json.loads(body))


def test_content_digest_ignores_the_ledgers_attributes() -> None:
    stored = history()[1]
    assert publisher_form(stored).keys() == stored.keys() - {"recordedtime", "streamposition", "prevhash", "hash"}
    assert content_digest(publisher_form(stored)) == content_digest(publisher_form({**stored, "streamposition": 9}))
    changed = {**publisher_form(stored), "time": "2021-03-02T09:00:00.000001Z"}
    assert content_digest(changed) != content_digest(publisher_form(stored))


# verify_stream -------------------------------------------------------------------------------
def test_an_intact_stream_verifies() -> None:
    assert verify_stream(A, history()) is None
    assert verify_stream(A, []) is None


def test_an_edited_event_breaks_the_chain_at_its_position() -> None:
    events = history()
    events[1]["data"]["decision_term_days"] = 1
    brk = verify_stream(A, events)
    assert brk is not None and (brk.subject, brk.position) == (A, 2)
    assert "hash" in brk.reason


def test_an_edited_time_or_recordedtime_breaks_the_chain() -> None:
    for attribute in ("time", "recordedtime"):
        events = history()
        events[2][attribute] = "2021-03-04T09:00:00.000000Z"
        brk = verify_stream(A, events)
        assert brk is not None and brk.position == 3


def test_a_rehashed_edit_still_breaks_the_next_link() -> None:
    events = history()
    events[0]["data"]["channel"] = "phone"
    events[0]["hash"] = event_hash({k: v for k, v in events[0].items() if k != "hash"})
    brk = verify_stream(A, events)
    assert brk is not None and brk.position == 2 and "prevhash" in brk.reason


def test_a_removed_event_breaks_the_chain_at_its_position() -> None:
    events = history()
    del events[1]
    brk = verify_stream(A, events)
    assert brk is not None and brk.position == 2


def test_reordered_events_break_the_chain_at_the_first_moved_position() -> None:
    events = history()
    events[1], events[2] = events[2], events[1]
    brk = verify_stream(A, events)
    assert brk is not None and brk.position == 2


def test_an_event_of_another_address_breaks_the_chain() -> None:
    events = history()
    assert verify_stream(subject(2), events) is not None
    brk = verify_stream(subject(2), events)
    assert brk is not None and (brk.subject, brk.position) == (subject(2), 1)
    assert "subject" in brk.reason
