"""The ledger's SQLite recorder passes the `eventsourcing` library's own recorder test cases.

`LedgerSQLiteRecorder` subclasses the library's recorder (id index, bulk reads, the import
record); these cases are what the library demands of any application recorder: ordering,
gap-free notification ids, conflicts, concurrent writers. The project's own store contract
(`tests/store_contract.py`) covers what the ledger adds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.adapters.sqlite import LedgerSQLiteRecorder


def any_state_leaf(state: bytes) -> bytes:
    """The library's cases store arbitrary bytes, not ledger events: their tree leaf is a hash."""
    return hashlib.sha256(b"\x00" + state).digest()


class LibraryCases:
    """What both backends' library cases share: text originator ids, and the ledger's recorder
    (`recorder_class`) on the case's `datastore()` with a tree leaf for any state."""

    recorder_class: type[Any]

    def datastore(self) -> Any:
        raise NotImplementedError

    def new_originator_id(self) -> str:
        return str(uuid4())  # the ledger's originator ids are text (BAG ids)

    def create_recorder(self) -> Any:
        any_state = type(
            f"Case{self.recorder_class.__name__}", (self.recorder_class,), {"leaf_of": staticmethod(any_state_leaf)}
        )
        recorder = any_state(self.datastore())
        recorder.create_table()
        return recorder


class TestLedgerSQLiteRecorder(LibraryCases, ApplicationRecorderTestCase[LedgerSQLiteRecorder]):
    recorder_class = LedgerSQLiteRecorder
    path: Path

    @pytest.fixture(autouse=True)
    def _database(self, tmp_path: Path) -> None:
        self.path = tmp_path / "events.sqlite"

    def datastore(self) -> SQLiteDatastore:
        return SQLiteDatastore(str(self.path), lock_timeout=30, originator_id_type="text")
