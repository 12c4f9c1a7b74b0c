"""The ledger's PostgreSQL recorder passes the `eventsourcing` library's own recorder test cases.

As `tests/ledger/test_recorder_library_cases.py` for SQLite: a fresh database per case on the
real server started by `deploy/postgres.sh`.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.adapters.postgres import LedgerPostgresRecorder
from tests.ledger.test_recorder_library_cases import LibraryCases


class TestLedgerPostgresRecorder(LibraryCases, ApplicationRecorderTestCase[LedgerPostgresRecorder]):
    recorder_class = LedgerPostgresRecorder
    url: str

    @pytest.fixture(autouse=True)
    def _database(self, postgres_database: str) -> None:
        self.url = postgres_database

    def datastore(self) -> PostgresDatastore:
        parsed = urlparse(self.url)
        return PostgresDatastore(
            unquote(parsed.path.lstrip("/")),
            parsed.hostname or "127.0.0.1",
            parsed.port or 5432,
            unquote(parsed.username or "postgres"),
            unquote(parsed.password or ""),
            pool_size=4,
            max_overflow=4,
            originator_id_type="text",
        )
