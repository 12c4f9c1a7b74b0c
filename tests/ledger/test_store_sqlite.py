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
