"""On a real broker: W3C trace context passes through intake, store, relay and rejections
(events §1, version 1.1; issue 15, item 8).

Records on the inbound topics carry `traceparent` / `tracestate` as plain headers (what tracing
tools write), as `ce_*` headers (the CloudEvents binding) or, in structured mode, beside the JSON
event. Each accepted event is stored with its trace context and published on `ledger.events` with
`ce_traceparent` (read back by librdkafka) and the plain `traceparent` header; each rejection on
`ledger.rejections` carries the `traceparent` too, a withheld (`personal_data`) one without
`tracestate`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from consumers.clients import KafkaEndpoint, make_producer
from consumers.intake import H_CODE, H_WITHHELD
from consumers.topics import TopicNames
from tests.consumers.kafka_support import (
    decode_independently,
    delete_topics,
    export,
    inbound_record,
    ledger_env,
    read_topic_confluent,
    run_ledger,
)
from tests.factories import claim_filed, subject

BSN = "111222333"


def _traceparent() -> str:
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


@pytest.fixture
def names(kafka_bootstrap: KafkaEndpoint) -> Iterator[TopicNames]:
    names = TopicNames(f"t{uuid.uuid4().hex[:8]}.")
    yield names
    delete_topics(kafka_bootstrap, names)


def test_trace_context_is_stored_relayed_and_kept_on_rejections(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, tmp_path: Path
) -> None:
    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix)
    run_ledger(env, "kafka", "init", "--partitions", "2", "--inbound-partitions", "1")
    plain, ce, structured, invalid, personal = (_traceparent() for _ in range(5))
    state = "congo=t61rcWkgMzE"
    cases = {
        # case -> (event, structured mode, extra headers)
        "plain": (claim_filed(subject(1), "C-1"), False, [("traceparent", plain), ("tracestate", state)]),
        "ce": (claim_filed(subject(2), "C-2"), False, [("ce_traceparent", ce)]),
        "structured": (claim_filed(subject(3), "C-3"), True, [("traceparent", structured)]),
        "invalid": (
            claim_filed(subject(4), "C-4") | {"data": {"claim_id": "C-4"}},
            False,
            [("traceparent", invalid), ("tracestate", state)],
        ),
        "personal": (
            claim_filed(subject(5), "C-5") | {"actor": BSN},
            False,
            [("traceparent", personal), ("tracestate", state)],
        ),
    }
    producer = make_producer(kafka_bootstrap, "trace-publisher")
    try:
        for evt, mode, extra in cases.values():
            key, value, headers = inbound_record(evt, structured=mode)
            headers = headers + [(k, v.encode()) for k, v in extra]
            producer.send(names.prefix + "ledger.inbound.img", key=key, value=value, headers=headers).get(timeout=60)
    finally:
        producer.close()

    run_ledger(env, "intake", "--once", "--max-idle", "20")
    run_ledger(env, "relay", "--once")

    expected = {
        cases["plain"][0]["id"]: (plain, state),
        cases["ce"][0]["id"]: (ce, None),
        cases["structured"][0]["id"]: (structured, None),
    }
    stored = {e["id"]: e for e in export(env)}
    assert set(stored) == set(expected)
    for event_id, (traceparent, tracestate) in expected.items():
        assert stored[event_id]["traceparent"] == traceparent
        assert stored[event_id].get("tracestate") == tracestate

    published = read_topic_confluent(kafka_bootstrap, names.events)
    assert len(published) == len(expected)
    for record in published:
        headers = dict(record["headers"])
        event = decode_independently(record)
        traceparent, tracestate = expected[event["id"]]
        assert event["traceparent"] == traceparent and event == stored[event["id"]]
        assert headers["traceparent"] == traceparent.encode()
        assert headers.get("tracestate") == (tracestate.encode() if tracestate else None)

    rejections = {
        dict(r["headers"])[H_CODE]: dict(r["headers"]) for r in read_topic_confluent(kafka_bootstrap, names.rejections)
    }
    assert set(rejections) == {b"schema_invalid", b"personal_data"}
    assert rejections[b"schema_invalid"]["traceparent"] == invalid.encode()
    assert rejections[b"schema_invalid"]["tracestate"] == state.encode()
    withheld = rejections[b"personal_data"]
    assert withheld[H_WITHHELD] == b"true" and withheld["traceparent"] == personal.encode()
    assert "tracestate" not in withheld
    assert BSN.encode() not in orjson.dumps({k: v.decode() for k, v in withheld.items()})
