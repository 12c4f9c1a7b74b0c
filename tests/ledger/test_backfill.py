"""Back-dating a store in use, on SQLite (the embedded default): `tests/backfill_contract.py`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.backfill_contract import BackfillContract


class TestSQLiteBackfill(BackfillContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'events.sqlite'}"

    def execute(self, store_url: str, statement: str) -> None:
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            db.execute(statement)
