"""The SQLite recorder: the library's application recorder plus the ledger's id index and import record."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.ports import IdEntry
from ledger import importlog, tree
from ledger.adapters import ID_TABLE, chunks
from ledger.identity import accesslog

# What a connection that writes an import's batches is set to, until the run ends (then the
# connection gets its own settings back and the log is checkpointed, so that what the run
# stored is on disk when the import reports; docs/decisions.md, "Import at national scale"):
# a page cache that holds the id index and the stream index of a national history (their random
# inserts otherwise read pages from the OS for every event), a write-ahead log that is folded
# into the database every ~400 MB instead of every 4 MB (each fold writes every page a batch
# touched once more, and syncs), and no sync per commit (a crash of the process loses nothing;
# a power cut may lose the run's last batches, never a part of one: the import is re-run).
IMPORT_PRAGMAS = {"cache_size": -1_048_576, "wal_autocheckpoint": 100_000, "synchronous": 1}


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite: the library's application recorder plus the ledger's id index and import record."""

    import_run: importlog.ActiveRun | None = None  # set by `ImportLog.run`: its batches are recorded
    # A stored event's leaf in the log's tree (its `hash`); the library's own recorder test cases,
    # which store arbitrary bytes, put a hash of those bytes here.
    leaf_of: Callable[[bytes], bytes] = staticmethod(tree.leaf_of)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {ID_TABLE} (event_id TEXT PRIMARY KEY, subject TEXT NOT NULL, "
            "position INTEGER NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID"
        )
        statements.extend(importlog.sqlite_statements())
        statements.extend(accesslog.sqlite_statements())
        statements.extend(tree.sqlite_statements())
        return statements

    def _insert_events(self, c: Any, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        if self.import_run is not None:
            self._tune_for_import(c.sqlite_cursor.connection)
        rows = kwargs.get("id_index")
        if rows:
            c.executemany(f"INSERT INTO {ID_TABLE} VALUES (?,?,?,?)", rows)
        positions = super()._insert_events(c, stored_events, **kwargs)
        if positions:
            tree.sqlite_append(c, stored_events, positions, self.leaf_of)  # the log's Merkle tree, same transaction
        if self.import_run is not None and positions:
            importlog.record_sqlite(c, self.events_table_name, self.import_run, stored_events, positions)
        return positions

    def import_started(self) -> None:
        """Tune the connection the run will write with (outside a transaction: the sync level
        cannot change inside one)."""
        with self.datastore.get_connection(commit=True) as conn:
            self._tune_for_import(conn.cursor().sqlite_cursor.connection, in_transaction=False)

    def _tune_for_import(self, conn: sqlite3.Connection, *, in_transaction: bool = True) -> None:
        tuned = self.__dict__.setdefault("_tuned", {})
        if id(conn) in tuned:
            return
        # A connection first met inside a transaction keeps its sync level (the safe side).
        names = [n for n in IMPORT_PRAGMAS if not (in_transaction and n == "synchronous")]
        own = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}
        for name in names:
            conn.execute(f"PRAGMA {name}={int(IMPORT_PRAGMAS[name])}")
        tuned[id(conn)] = (conn, own)

    def import_ended(self) -> None:
        """Give the connections an import run tuned their own settings back; checkpoint the log.

        The checkpoint syncs the write-ahead log and the database: what the run stored is on disk.
        """
        tuned: dict[int, tuple[sqlite3.Connection, dict[str, int]]] = self.__dict__.pop("_tuned", {})
        for conn, own in tuned.values():
            try:
                for name, value in own.items():
                    conn.execute(f"PRAGMA {name}={int(value)}")
                conn.execute("PRAGMA wal_checkpoint(FULL)")
            except sqlite3.ProgrammingError:  # the pool closed it meanwhile: nothing to give back
                continue

    def _in_chunks(self, select: str, keys: Sequence[str]) -> Iterator[Any]:
        """The rows of `select` for `keys`, asked a chunk at a time (`{marks}`: the chunk's `?`s)."""
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunks(keys):
                c.execute(select.format(marks=",".join("?" * len(chunk))), list(chunk))
                yield from c.fetchall()

    def load_streams(self, subjects: Sequence[str]) -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        select = (
            f"SELECT originator_id, state FROM {self.events_table_name} "
            "WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version"
        )
        for subject, state in self._in_chunks(select, subjects):
            out.setdefault(subject, []).append(state)
        return out

    def stream_heads(self, subjects: Sequence[str]) -> dict[str, int]:
        select = (
            f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name} "
            "WHERE originator_id IN ({marks}) GROUP BY originator_id"
        )
        return {row[0]: row[1] for row in self._in_chunks(select, subjects)}

    def index_heads(self) -> dict[str, int]:
        """The highest position the id index records per address (for truncation checks)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subject, MAX(position) FROM {ID_TABLE} GROUP BY subject")
            return {row[0]: row[1] for row in c.fetchall()}

    def lookup_ids(self, ids: Sequence[str]) -> dict[str, IdEntry]:
        select = f"SELECT * FROM {ID_TABLE} WHERE event_id IN ({{marks}})"
        return {row[0]: IdEntry(row[1], row[2], row[3]) for row in self._in_chunks(select, ids)}
