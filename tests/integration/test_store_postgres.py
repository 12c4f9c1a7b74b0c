"""The event-store contract on a real PostgreSQL server started by deploy/postgres.sh."""

from __future__ import annotations

import psycopg
import pytest

from tests.store_contract import StoreContract


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store_url(self, postgres_database: str) -> str:
        return postgres_database

    def _table(self, db: psycopg.Connection) -> str:
        row = db.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE '%events'").fetchone()
        assert row is not None
        return str(row[0])

    def delete_event(self, store_url: str, address: str, position: int) -> None:
        with psycopg.connect(store_url, autocommit=True) as db:
            table = self._table(db)
            db.execute(f'DELETE FROM "{table}" WHERE originator_id=%s AND originator_version=%s', (address, position))

    def overwrite_state(self, store_url: str, address: str, position: int, body: bytes) -> None:
        with psycopg.connect(store_url, autocommit=True) as db:
            table = db.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE '%events'").fetchone()
            assert table is not None
            db.execute(
                f'UPDATE "{table[0]}" SET state=%s WHERE originator_id=%s AND originator_version=%s',
                (body, address, position),
            )
