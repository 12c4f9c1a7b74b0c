"""On a real broker and PostgreSQL: `ledger serve` reads the projections `ledger consume` fills
from Kafka, never writes them, and says their lag in provenance (issue 15, item 6).

The production topology: `intake` appends what the publishers send, `relay` publishes the store
to `ledger.events`, `consume` folds it into the Kafka-fed schema, and `serve` runs with
`LEDGER_PROJECTIONS_SOURCE=kafka`. Before `consume` ran, reads answer 503 and liveness holds;
once it caught up, the answers equal the embedded read side's; with `consume` stopped, new events
show as `behind` (no position, no head hash: the rows are no prefix of the log) and serving
writes nothing to the schema; restarted, `consume` takes the lag back to 0.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from consumers.clients import KafkaEndpoint
from consumers.topics import TopicNames
from ledger.adapters.urls import conninfo
from projections.store.postgres import PostgresProjectionStore
from tests.consumers.chaos import LedgerProcess, wait_for
from tests.consumers.history import address_history
from tests.consumers.kafka_support import delete_topics, ledger_env, publish_inbound, run_ledger
from tests.serving import ledger_serve

KAFKA_SCHEMA = "projections_kafka"  # the Kafka-fed store beside the embedded schema `projections`


@pytest.fixture
def names(kafka_bootstrap: KafkaEndpoint) -> Iterator[TopicNames]:
    names = TopicNames(f"s{uuid.uuid4().hex[:8]}.")
    yield names
    delete_topics(kafka_bootstrap, names)


def _schemas(url: str) -> set[str]:
    with psycopg.connect(conninfo(url)) as conn:
        return {r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata")}


def _version(url: str) -> str:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(f"SELECT value FROM {KAFKA_SCHEMA}.proj_meta WHERE key = 'version'").fetchone()
    return str(row[0])


def _figures(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "provenance"}


def test_serve_reads_the_kafka_fed_projections_and_reports_their_lag(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, postgres_database: str, tmp_path: Path
) -> None:
    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix, store=postgres_database)
    run_ledger(env, "kafka", "init", "--partitions", "2", "--inbound-partitions", "1")
    roles = {name: LedgerProcess(name, [name], env, tmp_path) for name in ("intake", "relay", "consume")}
    first = [e for n in range(1, 5) for e in address_history(n)]
    more = [e for n in range(5, 7) for e in address_history(n)]
    serving = {**env, "LEDGER_PROJECTIONS_SOURCE": "kafka", "LEDGER_READY_MAX_LAG": "0"}
    with ledger_serve(serving) as base, httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/metrics").status_code == 503  # nothing filled the Kafka-fed store yet
        try:
            roles["intake"].start()
            roles["relay"].start()
            publish_inbound(kafka_bootstrap, names, first)

            def stored(total: int) -> bool:
                roles["intake"].check()
                health = http.get("/healthz").json()
                return bool(health["store_position"] == total)

            wait_for(lambda: stored(len(first)), 120, "the intake appended every event")
            assert http.get("/healthz").json()["behind"] == len(first)
            assert http.get("/readyz").status_code == 503

            roles["consume"].start()

            def caught_up() -> bool:
                roles["consume"].check()
                return bool(http.get("/readyz").status_code == 200)

            wait_for(caught_up, 120, "consume folded every event and serve reads it")
            prov = http.get("/metrics").json()["provenance"]
            assert prov["behind"] == 0 and prov["projections"]["fed_by"] == "kafka"
            assert prov["projections"]["events"] == len(first) and prov["position"] == len(first)
            subject = first[0]["subject"]
            assert "projections" not in _schemas(postgres_database)  # serving created no embedded store

            # consume stopped: new events are the lag, and serving writes nothing meanwhile
            roles["consume"].stop()
            publish_inbound(kafka_bootstrap, names, more)
            total = len(first) + len(more)
            wait_for(lambda: stored(total), 120, "the intake appended the new events")
            version = _version(postgres_database)
            prov = http.get("/metrics").json()["provenance"]
            assert prov["behind"] == len(more) and prov["position"] is None and prov["head_hash"] is None
            assert http.get(f"/cases/{subject}").json()["provenance"]["behind"] == len(more)
            assert http.get("/readyz").status_code == 503
            http.get("/evaluation", params={"at": "2023-01-01"}).raise_for_status()
            assert _version(postgres_database) == version
            reader = PostgresProjectionStore(conninfo(postgres_database), KAFKA_SCHEMA, readonly=True)
            try:
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    reader.write([], {"log": 1})
            finally:
                reader.close()

            roles["consume"].start()
            wait_for(caught_up, 120, "consume took the lag back to 0")
            served = {path: http.get(path).json() for path in ("/metrics", "/evaluation", f"/cases/{subject}")}
            assert served["/metrics"]["provenance"]["position"] == total
            for process in roles.values():
                process.check()
        finally:
            for process in roles.values():
                process.stop()

    # the same answers as the embedded read side over the same store
    for path, args in (
        ("/metrics", ["metrics"]),
        ("/evaluation", ["evaluation"]),
        (f"/cases/{subject}", ["case", subject]),
    ):
        reference = orjson.loads(run_ledger(env, *args, "--json").stdout)
        assert reference["provenance"]["source"] == "projection" and "projections" not in reference["provenance"]
        assert _figures(served[path]) == _figures(reference), path
        assert served[path]["provenance"]["projections"]["fed_by"] == "kafka"
