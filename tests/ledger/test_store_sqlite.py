"""The event-store contract on SQLite (the embedded default)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.store_contract import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'events.sqlite'}"

    def overwrite_state(self, store_url: str, address: str, position: int, body: bytes) -> None:
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            db.execute(
                "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
                (body, address, position),
            )

    def delete_event(self, store_url: str, address: str, position: int) -> None:
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            db.execute("DELETE FROM stored_events WHERE originator_id=? AND originator_version=?", (address, position))


def _pragmas(ledger: object, names: list[str]) -> dict[str, int]:
    """The settings of the connection the ledger's recorder writes with."""
    recorder = ledger.app.recorder  # type: ignore[attr-defined]
    with recorder.datastore.transaction(commit=False) as c:
        conn = c.sqlite_cursor.connection
        return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}


def test_an_import_run_tunes_the_writing_connection_and_gives_its_settings_back(tmp_path: Path) -> None:
    from ledger.adapters.sqlite import IMPORT_PRAGMAS
    from tests.factories import claim_filed, subject
    from tests.homes import opened

    names = list(IMPORT_PRAGMAS)
    home = tmp_path / "home"
    for led in opened(home):
        own = _pragmas(led, names)
        assert own != IMPORT_PRAGMAS
        events = [{**claim_filed(subject(n), "C-1"), "recordedtime": "2021-03-01T09:00:00Z"} for n in range(1, 4)]
        with led.imports.run("initial", "alice", "test", led.service.clock):
            assert [r.result for r in led.service.append(events, None, importing=True)] == ["accepted"] * 3
            assert _pragmas(led, names) == IMPORT_PRAGMAS  # the run writes with the import's settings
        assert _pragmas(led, names) == own  # and the connection has its own back afterwards
        with sqlite3.connect(home / "events.sqlite") as db:
            busy, frames, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and frames == done  # the run's end put every logged page in the database
        # a live append after the run: the connection is not tuned again
        assert led.service.append([claim_filed(subject(9), "C-1")], "IMG")[0].result == "accepted"
        assert _pragmas(led, names) == own
