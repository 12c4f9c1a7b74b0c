"""What goes to `ledger.rejections` (contract §2): a `personal_data` rejection without its payload.

The shaping is pure (`consumers.intake.rejection_record`); the end-to-end cases run the intake's
per-record path against a real SQLite ledger with a fake producer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from consumers.binding import to_binary
from consumers.intake import (
    H_CODE,
    H_OFFSET,
    H_ORG,
    H_PARTITION,
    H_RESULT,
    H_SHA256,
    H_TOPIC,
    H_WITHHELD,
    WITHHELD_MESSAGE,
    Intake,
    rejection_record,
)
from domain.results import PERSONAL_DATA, REJECTED, SCHEMA_INVALID, AppendResult
from ledger.bootstrap import Ledger
from tests.consumers.fakes import TP, FakeProducer, Record
from tests.factories import event, subject

BSN = "111222333"  # nine digits passing the eleven-test
EVENT_ID = "0b6d2c1e-8f0a-4c7e-9a55-3d2f1e0c9b8a"
LEDGER_HEADERS = {H_RESULT, H_CODE, H_TOPIC, H_PARTITION, H_OFFSET, H_ORG, H_SHA256, H_WITHHELD}


def _all_bytes(key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    """Every byte of a record as a producer sends it: key, value, header names and values."""
    return b"\x00".join([key or b"", value, *(name.encode() + b"=" + raw for name, raw in headers)])


def _consent(party_ref: str = BSN, **extra: Any) -> dict[str, Any]:
    out = event(
        "ConsentToDataExchangeGiven",
        "resident",
        {"party_ref": party_ref, "scope": "both"},
        address=subject(41),
        event_id=EVENT_ID,
    )
    out.update(extra)
    return out


def _binary_record(evt: dict[str, Any], *, key: bytes | None = None, offset: int = 17) -> Record:
    own_key, value, headers = to_binary(evt)
    return Record("ledger.inbound.img", 2, offset, own_key if key is None else key, value, headers)


def _personal(message: str = "party_ref is a nine-digit number that passes the eleven-test (BSN)") -> AppendResult:
    return AppendResult(1, EVENT_ID, REJECTED, PERSONAL_DATA, message, "$.data.party_ref")


# -- the pure shaping ------------------------------------------------------------------------------


def test_a_personal_data_rejection_carries_no_payload_and_none_of_the_original_headers() -> None:
    record = _binary_record(_consent(actor=BSN))
    assert BSN.encode() in record.value and BSN.encode() in dict(record.headers)["ce_actor"]
    key, value, headers = rejection_record(record, "IMG", _personal())
    assert value == b""
    assert {name for name, _ in headers} <= LEDGER_HEADERS  # no ce_*, no content-type, nothing copied
    assert BSN.encode() not in _all_bytes(key, value, headers)
    as_dict = dict(headers)
    assert as_dict[H_WITHHELD] == b"true"
    assert as_dict[H_CODE] == b"personal_data"
    assert (as_dict[H_TOPIC], as_dict[H_PARTITION], as_dict[H_OFFSET]) == (b"ledger.inbound.img", b"2", b"17")
    assert as_dict[H_SHA256] == hashlib.sha256(record.value).hexdigest().encode()


def test_the_result_names_the_code_message_path_position_and_the_sha256_of_the_value() -> None:
    record = _binary_record(_consent())
    _, _, headers = rejection_record(record, "IMG", _personal())
    body = orjson.loads(dict(headers)[H_RESULT])
    assert body == {
        "id": EVENT_ID,
        "result": "rejected",
        "code": "personal_data",
        "message": "party_ref is a nine-digit number that passes the eleven-test (BSN)",
        "path": "$.data.party_ref",
        "topic": "ledger.inbound.img",
        "partition": 2,
        "offset": 17,
        "org": "IMG",
        "sha256": hashlib.sha256(record.value).hexdigest(),
        "withheld": True,
    }


def test_the_key_is_kept_only_when_it_is_a_bag_id() -> None:
    record = _binary_record(_consent())
    key, _, _ = rejection_record(record, "IMG", _personal())
    assert key == subject(41).encode()  # the address: not personal data (contract §6)
    for odd in (BSN.encode(), b"jan@example.nl", b"", b"0014200000000041 "):
        key, value, headers = rejection_record(_binary_record(_consent(), key=odd), "IMG", _personal())
        assert key is None
        assert BSN.encode() not in _all_bytes(key, value, headers)


@pytest.mark.parametrize(
    "message",
    [
        f"party_ref {BSN} is a BSN",
        f"party_ref '{BSN}' passes the eleven-test",
        "reason contains jan@example.nl",
        "reason contains 06-12345678",
    ],
)
def test_a_message_that_echoes_the_offending_value_is_replaced(message: str) -> None:
    evt = _consent()
    evt["data"]["party_ref"] = BSN
    record = _binary_record(evt)
    _, _, headers = rejection_record(record, "IMG", _personal(message))
    body = orjson.loads(dict(headers)[H_RESULT])
    assert body["message"] == WITHHELD_MESSAGE
    assert body["path"] == "$.data.party_ref"
    for token in (BSN, "jan@example.nl", "12345678"):
        assert token.encode() not in dict(headers)[H_RESULT]


def test_an_id_that_is_not_a_uuid_is_not_repeated() -> None:
    record = _binary_record(_consent())
    result = AppendResult(1, BSN, REJECTED, PERSONAL_DATA, "actor is a BSN-like number", "$.actor")
    key, value, headers = rejection_record(record, "IMG", result)
    assert orjson.loads(dict(headers)[H_RESULT])["id"] is None
    assert BSN.encode() not in _all_bytes(key, value, headers)


def test_a_structured_mode_record_is_withheld_too() -> None:
    evt = _consent()
    record = Record(
        "ledger.inbound.ncg",
        0,
        3,
        evt["subject"].encode(),
        orjson.dumps(evt),
        [("content-type", b"application/cloudevents+json")],
    )
    key, value, headers = rejection_record(record, "NCG", _personal())
    assert value == b"" and BSN.encode() not in _all_bytes(key, value, headers)
    assert dict(headers)[H_SHA256] == hashlib.sha256(record.value or b"").hexdigest().encode()


def test_other_rejections_keep_the_original_bytes_and_headers() -> None:
    record = Record("ledger.inbound.ncg", 3, 41, b"k", b"\x00not json", [("ce_id", b"x"), ("trace", b"t")])
    result = AppendResult(1, None, REJECTED, SCHEMA_INVALID, "not JSON", "$")
    key, value, headers = rejection_record(record, "NCG", result)
    assert (key, value) == (b"k", b"\x00not json")
    as_dict = dict(headers)
    assert as_dict["ce_id"] == b"x" and as_dict["trace"] == b"t"
    assert H_WITHHELD not in as_dict and H_SHA256 not in as_dict


# -- through the intake ------------------------------------------------------------------------------


def test_the_intake_rejects_a_bsn_and_publishes_it_without_its_payload(ledger: Ledger) -> None:
    binary = _binary_record(_consent(), offset=5)
    actor = _binary_record(
        dict(_consent(party_ref="p-7", actor=BSN), id="5f3a0c1e-8f0a-4c7e-9a55-3d2f1e0c9b8a"), offset=6
    )
    sent: list = []
    intake = Intake(lambda items, org: ledger.service.append(items, org), lambda: None, lambda: None)
    intake._producer = FakeProducer(sent)
    intake._process({TP("ledger.inbound.img", 2): [binary, actor]})
    assert ledger.log.max_position() == 0
    assert len(sent) == 2
    for (topic, key, value, headers), record in zip(sent, (binary, actor), strict=True):
        assert topic == "ledger.rejections"
        assert value == b""
        assert BSN.encode() not in _all_bytes(key, value, headers)
        body = orjson.loads(dict(headers)[H_RESULT])
        assert body["code"] == "personal_data" and body["offset"] == record.offset
        assert body["sha256"] == hashlib.sha256(record.value).hexdigest()
        assert body["path"] in ("$.data.party_ref", "$.actor")
