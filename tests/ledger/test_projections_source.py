"""`LEDGER_PROJECTIONS_SOURCE=kafka`: the read side serves the store `ledger consume` fills (issue 15, item 6).

The Kafka-fed store is filled here by the consumer's own sink (`ProjectionStoreSink`, what
`ledger consume` hands each poll to) from the stored events, without a broker; the test on a real
broker and PostgreSQL is `tests/integration/test_kafka_serving.py`. The read side opens the store
read-only, never catches it up, never creates the embedded store, and says in provenance how far
the Kafka-fed rows are behind the event store.
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from consumers.sink import ProjectionStoreSink
from ledger.bootstrap import ConfigError, Ledger, Settings, kafka_location, open_ledger, open_read_model
from ledger.cli import app
from ledger.config import projections_source
from ledger.http import create_app
from tests.homes import home_env, imported_home, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

TOPIC = "ledger.events"
AT, KNOWN_AT = "2022-06-30T00:00:00.000000Z", "2023-01-01T00:00:00.000000Z"


def settings_of(home: Path, source: str = "kafka") -> Settings:
    return Settings(home=home, store_url=f"sqlite:///{(home / 'events.sqlite').absolute()}", projections_source=source)


def stored_events(home: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in run_cli(home, "export").stdout.splitlines()]


def consume(ledger: Ledger, events: list[dict[str, Any]], offset: int) -> None:
    """What `ledger consume` does with one poll of partition 0 that ends before `offset`."""
    sink = ProjectionStoreSink(kafka_location(ledger), ledger.app.index.load_streams)
    try:
        sink.apply_kafka_batch(events, {(TOPIC, 0): offset})
    finally:
        sink.close()


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "provenance"}


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_home(tmp_path_factory, "kafka-fed", 12, 4)


@pytest.fixture
def ledger(home: Path) -> Iterator[Ledger]:
    led = open_ledger(settings_of(home))
    yield led
    led.close()


def test_the_read_side_serves_the_kafka_fed_rows_and_says_how_far_behind_they_are(home: Path, ledger: Ledger) -> None:
    events = stored_events(home)
    half = len(events) // 2
    consume(ledger, events[:half], half)
    model = open_read_model(ledger)
    try:
        model.refresh()
        prov = model.metrics()["provenance"]
        assert prov["projections"]["fed_by"] == "kafka"
        assert prov["projections"]["events"] == half
        assert prov["projections"]["offsets"] == {f"{TOPIC}:0": half}
        assert prov["behind"] == len(events) - half
        assert prov["position"] is None and prov["head_hash"] is None  # no prefix of the log
        assert model.health() == {
            "position": len(events) - (len(events) - half),
            "store_position": len(events),
            "behind": len(events) - half,
        }
        some = events[0]["subject"]
        assert model.case(some)["provenance"]["behind"] == len(events) - half

        consume(ledger, events[half:], len(events))
        model.refresh()
        prov = model.metrics()["provenance"]
        assert prov["behind"] == 0 and prov["projections"]["events"] == len(events)
        assert prov["position"] == ledger.log.max_position()
        assert prov["head_hash"] == ledger.log.head_hash(ledger.log.max_position())
        served = {"metrics": model.metrics(), "evaluation": model.evaluation(), "case": model.case(some)}
        at_cutoff = model.metrics(at=AT, known_at=KNOWN_AT)
    finally:
        model.close()
    assert not (home / "projections").exists()  # the embedded store was never created

    embedded = open_ledger(settings_of(home, "store"))
    try:
        reference = open_read_model(embedded)
        reference.refresh()
        assert figures(served["metrics"]) == figures(reference.metrics())
        assert figures(served["evaluation"]) == figures(reference.evaluation())
        assert figures(served["case"]) == figures(reference.case(some))
        assert figures(at_cutoff) == figures(reference.metrics(at=AT, known_at=KNOWN_AT))
        reference.close()
    finally:
        embedded.close()


def test_the_read_side_never_writes_the_kafka_fed_store(home: Path, ledger: Ledger) -> None:
    events = stored_events(home)
    consume(ledger, events[:5], 5)
    location = kafka_location(ledger)
    store_file = location.folder / str(location.active_id())
    before = store_file.read_bytes()
    model = open_read_model(ledger)
    try:
        for _ in range(3):
            model.refresh()
            model.metrics()
            model.evaluation(at="2023-01-01T00:00:00.000000Z")
            model.case(events[0]["subject"])
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            model.store.write([], {"log": 1})
        assert model.catch_up() == 0
    finally:
        model.close()
    assert store_file.read_bytes() == before
    assert not (home / "projections").exists()


def test_before_anything_filled_the_store_reads_say_so_and_liveness_holds(home: Path, ledger: Ledger) -> None:
    total = ledger.log.max_position()
    with TestClient(create_app(ledger), raise_server_exceptions=False) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["behind"] == total
        ready = client.get("/readyz")
        assert ready.status_code == (503 if total > 1000 else 200)
        answer = client.get("/metrics")
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "ledger consume" in answer.json()["detail"] and answer.headers["Retry-After"] == "5"
    env = {**home_env(home), "LEDGER_PROJECTIONS_SOURCE": "kafka"}
    result = CliRunner().invoke(app, ["metrics"], env=env)
    assert result.exit_code == 1
    assert "no projection store" in result.output and "ledger consume" in result.output
    assert not (home / "projections").exists() and not kafka_location(ledger).folder.exists()


def test_ready_only_when_the_kafka_fed_store_is_within_the_lag(home: Path, ledger: Ledger) -> None:
    events = stored_events(home)
    consume(ledger, events[:-3], len(events) - 3)
    strict = Ledger(replace(ledger.settings, ready_max_lag=2))
    try:
        with TestClient(create_app(strict), raise_server_exceptions=False) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and "3 events behind" in ready.json()["detail"]
            consume(strict, events[-3:], len(events))
            assert client.get("/readyz").json()["behind"] == 0
    finally:
        strict.close()


def test_the_embedded_rebuild_refuses_to_touch_the_kafka_fed_store(home: Path) -> None:
    env = {**home_env(home), "LEDGER_PROJECTIONS_SOURCE": "kafka"}
    result = CliRunner().invoke(app, ["rebuild"], env=env)
    assert result.exit_code == 2
    assert "ledger rebuild --from kafka" in result.output


def test_the_setting_is_checked() -> None:
    assert projections_source(None) == projections_source("") == "store"
    assert projections_source(" Kafka ") == "kafka"
    with pytest.raises(ConfigError, match="LEDGER_PROJECTIONS_SOURCE must be store or kafka, not 'kafak'"):
        projections_source("kafak")
