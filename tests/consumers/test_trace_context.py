"""W3C trace context passes through the ledger (events §1, version 1.1; issue 15, item 8).

`traceparent` / `tracestate` are optional publisher attributes: stored (and so covered by the hash
chain), published on `ledger.events` as `ce_traceparent` / `ce_tracestate` and as the plain W3C
headers tracing tools read, and carried by rejections. An inbound record may carry them either way.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from consumers.binding import decode_submission, from_binary, stored_to_binary, to_binary
from consumers.intake import H_WITHHELD, Intake, rejection_record
from domain.chain import verify_stream
from domain.results import PERSONAL_DATA, REJECTED, SCHEMA_INVALID, AppendResult
from tests.consumers.fakes import TP, FakeProducer, Record
from tests.domain.support import accept, open_test_ledger, reject
from tests.factories import claim_filed, subject

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
# A trace id that starts with nine digits passing the eleven-test: random hex can look like a BSN.
BSN_LIKE = "00-111222333aaaaaaaaaaaaaaaaaaaaaaa-00f067aa0ba902b7-01"
A = subject(5)


def test_an_event_with_trace_context_is_stored_with_it_and_its_hash_covers_it(tmp_path: Path) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        accept(ledger, dict(claim_filed(A, "C-1"), traceparent=TRACEPARENT, tracestate=TRACESTATE))
        (stored,) = ledger.log.read_stream(A)
        assert (stored["traceparent"], stored["tracestate"]) == (TRACEPARENT, TRACESTATE)
        assert verify_stream(A, [stored]) is None
        assert verify_stream(A, [dict(stored, traceparent=TRACEPARENT.replace("01", "00"))]) is not None
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("traceparent", "00-abc"),
        ("traceparent", TRACEPARENT.upper()),
        ("tracestate", "x" * 513),
        ("tracestate", "naïve=1"),
    ],
)
def test_malformed_trace_context_is_schema_invalid(tmp_path: Path, attribute: str, value: str) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        result = reject(ledger, dict(claim_filed(A, "C-1"), **{attribute: value}))
        assert (result.code, result.path) == (SCHEMA_INVALID, f"$.{attribute}")
        assert "W3C" in (result.message or "")
    finally:
        ledger.close()


def test_a_traceparent_is_no_personal_data_but_a_tracestate_is_checked(tmp_path: Path) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        accept(ledger, dict(claim_filed(A, "C-1"), traceparent=BSN_LIKE))
        result = reject(ledger, dict(claim_filed(A, "C-2"), tracestate="vendor=111222333"))
        assert (result.code, result.path) == (PERSONAL_DATA, "$.tracestate")
    finally:
        ledger.close()


def test_the_relay_publishes_the_trace_context_in_both_header_forms_and_reads_it_back() -> None:
    stored = {
        **claim_filed(A, "C-1"),
        "traceparent": TRACEPARENT,
        "tracestate": TRACESTATE,
        "recordedtime": "2025-01-01T12:00:00.000000Z",
        "streamposition": 1,
        "prevhash": "0" * 64,
        "hash": "a" * 64,
    }
    _, value, headers = stored_to_binary(orjson.dumps(stored))
    as_dict = dict(headers)
    assert as_dict["ce_traceparent"] == as_dict["traceparent"] == TRACEPARENT.encode()
    assert as_dict["ce_tracestate"] == as_dict["tracestate"] == TRACESTATE.encode()
    assert from_binary(value, headers) == stored
    assert from_binary(value, [(k, v) for k, v in headers if not k.startswith("ce_trace")]) == stored
    assert from_binary(value, [(k, v) for k, v in headers if k not in ("traceparent", "tracestate")]) == stored


def test_an_inbound_record_gives_its_trace_headers_to_the_event() -> None:
    event = claim_filed(A, "C-1")
    _, value, headers = to_binary(event)
    plain = headers + [("traceparent", TRACEPARENT.encode()), ("tracestate", TRACESTATE.encode())]
    assert decode_submission(value, plain) == dict(event, traceparent=TRACEPARENT, tracestate=TRACESTATE)
    # the CloudEvents attribute wins over the plain header
    both = headers + [("ce_traceparent", TRACEPARENT.encode()), ("traceparent", BSN_LIKE.encode())]
    assert decode_submission(value, both) == dict(event, traceparent=TRACEPARENT)
    structured = [("content-type", b"application/cloudevents+json"), ("traceparent", TRACEPARENT.encode())]
    assert decode_submission(orjson.dumps(event), structured) == dict(event, traceparent=TRACEPARENT)
    own = orjson.dumps(dict(event, traceparent=BSN_LIKE))
    assert decode_submission(own, structured) == own  # the event's own attribute stays as sent


def _record(offset: int, event: dict, extra: list[tuple[str, bytes]]) -> Record:
    key, value, headers = to_binary(event)
    return Record("ledger.inbound.img", 0, offset, key, value, headers + extra)


def test_rejections_carry_the_trace_context() -> None:
    rejected = AppendResult(1, None, REJECTED, SCHEMA_INVALID, "bad", "$.data")
    record = _record(3, claim_filed(A, "C-1"), [("ce_traceparent", TRACEPARENT.encode())])
    _, _, headers = rejection_record(record, "IMG", rejected)
    assert dict(headers)["traceparent"] == dict(headers)["ce_traceparent"] == TRACEPARENT.encode()

    withheld = AppendResult(1, None, REJECTED, PERSONAL_DATA, "BSN", "$.actor")
    traced = [("traceparent", TRACEPARENT.encode()), ("tracestate", b"v=111222333")]
    _, _, headers = rejection_record(_record(4, claim_filed(A, "C-2"), traced), "IMG", withheld)
    as_dict = dict(headers)
    assert as_dict[H_WITHHELD] == b"true" and as_dict["traceparent"] == TRACEPARENT.encode()
    assert "tracestate" not in as_dict and not any(k.startswith("ce_") for k in as_dict)
    malformed = [("traceparent", b"00-111222333-x")]
    _, _, headers = rejection_record(_record(5, claim_filed(A, "C-3"), malformed), "IMG", withheld)
    assert "traceparent" not in dict(headers)


def test_the_intake_stores_the_trace_context_of_a_record(tmp_path: Path) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        sent: list = []
        intake = Intake(lambda items, org: ledger.service.append(items, org), lambda: None, lambda: None)
        intake._producer = FakeProducer(sent)
        record = _record(0, claim_filed(A, "C-1"), [("traceparent", TRACEPARENT.encode())])
        intake._process({TP("ledger.inbound.img", 0): [record]})
        assert intake.stats.accepted == 1 and not sent
        assert ledger.log.read_stream(A)[0]["traceparent"] == TRACEPARENT
    finally:
        ledger.close()
