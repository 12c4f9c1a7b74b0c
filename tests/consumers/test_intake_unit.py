"""The intake's per-record semantics against a real ledger (no broker: records and producer are fakes)."""

from __future__ import annotations

import orjson

from consumers.binding import to_binary
from consumers.intake import H_CODE, H_OFFSET, H_RESULT, Intake
from ledger.bootstrap import Ledger
from tests.consumers.fakes import TP, FakeProducer, Record
from tests.consumers.history import address_history


def _intake(ledger: Ledger, sent: list) -> Intake:
    intake = Intake(lambda items, org: ledger.service.append(items, org), lambda: None, lambda: None)
    intake._producer = FakeProducer(sent)
    return intake


def _records(topic: str, events: list[dict], start: int = 0) -> list[Record]:
    out = []
    for offset, event in enumerate(events, start=start):
        key, value, headers = to_binary(event)
        out.append(Record(topic, 0, offset, key, value, headers))
    return out


def test_one_bad_record_does_not_take_its_neighbours_of_the_same_address_down(ledger: Ledger) -> None:
    events = [e for e in address_history(1) if e["org"] == "IMG"]
    bad = dict(events[1], data={**events[1]["data"], "claim_type": "earthquake"})
    records = _records("ledger.inbound.img", [events[0], bad, *events[2:]])
    sent: list = []
    intake = _intake(ledger, sent)
    intake._process({TP("ledger.inbound.img", 0): records})
    stored_ids = {e["id"] for _, e in ledger.log.read(0, 100)}
    # The claim's receipt depends on the rejected filing, so it is rejected on its own merits (R2).
    assert events[0]["id"] in stored_ids and bad["id"] not in stored_ids
    codes = sorted(dict(h)[H_CODE].decode() for _, _, _, h in sent)
    assert "schema_invalid" in codes
    assert intake.stats.accepted == len(stored_ids)
    assert intake.stats.accepted + intake.stats.rejected == len(records)


def test_rejections_carry_the_original_bytes_headers_and_the_result(ledger: Ledger) -> None:
    good = address_history(2)[0]
    records = [
        Record("ledger.inbound.ncg", 3, 41, b"k", b"\x00not json", [("ce_id", b"x"), ("trace", b"t")]),
        *_records("ledger.inbound.ncg", [good], start=42),  # IMG's event on NCG's topic
    ]
    sent: list = []
    intake = _intake(ledger, sent)
    intake._process({TP("ledger.inbound.ncg", 3): records})
    assert len(sent) == 2
    topic, key, value, headers = sent[0]
    assert (topic, key, value) == ("ledger.rejections", b"k", b"\x00not json")
    as_dict = dict(headers)
    assert as_dict["trace"] == b"t" and as_dict[H_OFFSET] == b"41"
    result = orjson.loads(as_dict[H_RESULT])
    assert result["result"] == "rejected" and result["code"] == "schema_invalid"
    assert result["topic"] == "ledger.inbound.ncg" and result["org"] == "NCG"
    second = orjson.loads(dict(sent[1][3])[H_RESULT])
    assert second["code"] == "not_authorized" and second["id"] == good["id"]
    assert ledger.log.max_position() == 0


def test_redelivered_records_are_answered_duplicate(ledger: Ledger) -> None:
    events = [e for e in address_history(3) if e["org"] == "IMG"]
    records = _records("ledger.inbound.img", events)
    sent: list = []
    intake = _intake(ledger, sent)
    intake._process({TP("ledger.inbound.img", 0): records})
    intake._process({TP("ledger.inbound.img", 0): records})
    assert intake.stats.accepted == len(events) and intake.stats.duplicate == len(events)
    assert ledger.log.max_position() == len(events) and not sent
