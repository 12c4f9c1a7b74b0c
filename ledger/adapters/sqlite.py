"""The SQLite recorder: the library's application recorder plus the ledger's id index and import record."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.ports import IdEntry
from ledger import importlog, tree
from ledger.adapters import ID_TABLE, chunks
from ledger.identity import accesslog


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
        rows = kwargs.get("id_index")
        if rows:
            c.executemany(f"INSERT INTO {ID_TABLE} VALUES (?,?,?,?)", rows)
        positions = super()._insert_events(c, stored_events, **kwargs)
        if positions:
            tree.sqlite_append(c, stored_events, positions, self.leaf_of)  # the log's Merkle tree, same transaction
        if self.import_run is not None and positions:
            importlog.record_sqlite(c, self.events_table_name, self.import_run, stored_events, positions)
        return positions

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
