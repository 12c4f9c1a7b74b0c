"""The CloudEvents Kafka binding: stored event <-> binary-mode record, and inbound records as submissions."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from consumers.binding import decode_submission, from_binary, is_structured, stored_to_binary, to_binary
from domain.results import SCHEMA_INVALID, Rejection
from tests.consumers.history import history

STORED: dict[str, Any] = {
    "specversion": "1.0",
    "id": "6b7c2a43-5a4b-4f1f-9a3e-2c9a7b1d0e11",
    "source": "urn:nl:img:schadesysteem",
    "type": "nl.groningen.img.DamageClaimFiled.v1",
    "subject": "0014200000000001",
    "time": "2021-03-04T09:00:00.000000Z",
    "org": "IMG",
    "actor": "img-medewerker-17",
    "datacontenttype": "application/json",
    "data": {"channel": "online", "claim_id": "C-1", "claim_type": "physical", "route": "maatwerk"},
    "recordedtime": "2021-03-04T09:05:00.000000Z",
    "streamposition": 12,
    "prevhash": "0" * 64,
    "hash": "a" * 64,
}


def test_binary_mode_puts_data_in_the_value_and_every_other_attribute_in_a_header() -> None:
    key, value, headers = to_binary(STORED)
    assert key == b"0014200000000001"
    assert orjson.loads(value) == STORED["data"]
    as_dict = dict(headers)
    assert len(as_dict) == len(headers) == len(STORED) - 1
    assert as_dict["ce_streamposition"] == b"12"
    assert as_dict["ce_id"] == STORED["id"].encode()
    assert as_dict["content-type"] == b"application/json"
    assert "ce_datacontenttype" not in as_dict and "ce_data" not in as_dict
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in headers)


def test_a_record_reads_back_as_exactly_the_stored_event() -> None:
    key, value, headers = stored_to_binary(orjson.dumps(STORED))
    assert from_binary(value, headers) == STORED
    minimal = {k: v for k, v in STORED.items() if k not in ("actor", "datacontenttype")}
    assert from_binary(*to_binary(minimal)[1:]) == minimal


def test_binary_submission_is_rebuilt_from_headers_and_value() -> None:
    event = history(1)[0]
    _, value, headers = to_binary(event)
    assert not is_structured(headers)
    assert decode_submission(value, headers + [("x-request-id", b"abc")]) == event


def test_structured_submission_is_passed_on_as_bytes() -> None:
    raw = orjson.dumps(history(1)[0])
    headers = [("content-type", b"application/cloudevents+json; charset=UTF-8")]
    assert is_structured(headers)
    assert decode_submission(raw, headers) == raw


@pytest.mark.parametrize(
    ("value", "headers", "fragment"),
    [
        (b"not json", [("ce_id", b"x")], "not valid JSON"),
        (None, [("ce_id", b"x")], "no value"),
        (b"{}", [("ce_id", b"\xff\xfe")], "not UTF-8"),
        (b"{}", [("ce_id", b"a"), ("ce_id", b"b")], "more than once"),
        (b"{}", [("ce_data", b"{}")], "ce_data"),
        (b'{"claim_id": "C-1", "claim_id": "C-2"}', [("ce_id", b"x")], "$.data.claim_id appears more than once"),
        (b"[]", [("content-type", b"application/cloudevents-batch+json")], "batch"),
        (None, [("content-type", b"application/cloudevents+json")], "structured-mode"),
    ],
)
def test_unreadable_records_are_rejected_as_schema_invalid(
    value: bytes | None, headers: list[tuple[str, bytes]], fragment: str
) -> None:
    with pytest.raises(Rejection) as caught:
        decode_submission(value, headers)
    assert caught.value.code == SCHEMA_INVALID
    assert fragment in caught.value.message
