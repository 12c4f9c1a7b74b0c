"""Back-dating a store in use, on a real PostgreSQL server: `tests/backfill_contract.py`."""

from __future__ import annotations

import psycopg
import pytest

from tests.backfill_contract import BackfillContract


class TestPostgresBackfill(BackfillContract):
    @pytest.fixture
    def store_url(self, postgres_database: str) -> str:
        return postgres_database

    def execute(self, store_url: str, statement: str) -> None:
        with psycopg.connect(store_url, autocommit=True) as db:
            db.execute(statement)  # type: ignore[arg-type]
