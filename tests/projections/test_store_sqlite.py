"""The projection-store contract on SQLite (the embedded default)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from projections.store.sqlite import use_wal
from tests.projections.store_suite import ProjectionStoreContract


class TestSQLiteProjections(ProjectionStoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'events.sqlite'}"


def _held(path: Path) -> sqlite3.Connection:
    """A second connection holding a write lock on a fresh (rollback-journal) database."""
    other = sqlite3.connect(path, isolation_level=None, timeout=60)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_journal_mode_change_fails_at_once_while_another_connection_writes(tmp_path: Path) -> None:
    other = _held(tmp_path / "s.sqlite")
    db = sqlite3.connect(tmp_path / "s.sqlite", isolation_level=None, timeout=60)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(db, wait=0)  # no retry: SQLite's own busy timeout does not apply
    other.close()
    db.close()


def test_use_wal_waits_for_the_other_connection(tmp_path: Path) -> None:
    other = _held(tmp_path / "s.sqlite")
    db = sqlite3.connect(tmp_path / "s.sqlite", isolation_level=None, timeout=60)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:  # the other connection commits while we back off
        pauses.append(seconds)
        other.execute("COMMIT")

    use_wal(db, sleep=sleep)
    assert len(pauses) == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()
    db.close()


def test_use_wal_does_not_retry_other_errors(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "s.sqlite", isolation_level=None)
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        use_wal(db, sleep=lambda _: pytest.fail("retried a closed connection"))
