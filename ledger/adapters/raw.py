"""Stored events read straight from the event store's table: the read side's fast raw reader.

The library's `select_notifications` builds an object per event; a rebuild or the relay reads
millions, so this reads (position, body) rows directly: the same rows, the same order as
`domain.ports.EventLog.read_raw`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.adapters import is_postgres
from ledger.adapters.urls import conninfo, sqlite_path

if TYPE_CHECKING:
    from ledger.bootstrap import Ledger


class RawReader:
    """Stored events in global order straight from the event store's table (one query per page).

    The library's `select_notifications` builds an object per event; a rebuild reads millions,
    so this reads (position, body) rows directly — the same rows, the same order.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._lock = threading.Lock()
        recorder = ledger.app.recorder
        self._sqlite: sqlite3.Connection | None = None
        self._version: sqlite3.Connection | None = None  # its own: a long scan must not delay the check
        self._version_lock = threading.Lock()
        self._pg: Any = None
        self._fallback = ledger.log.read_raw
        if isinstance(recorder, SQLiteApplicationRecorder):
            uri = sqlite_path(ledger.settings.store_url).as_uri() + "?mode=ro"
            self._sqlite = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=60)
            self._version = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=60)
            table = recorder.events_table_name
            self._query = f"SELECT rowid, state FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
            self._part_query = (
                f"SELECT rowid, originator_id, state FROM {table} WHERE rowid > ? AND rowid <= ? "
                "AND CAST(substr(originator_id, -2) AS INTEGER) % ? = ? ORDER BY rowid LIMIT ?"
            )
        elif is_postgres(recorder):
            import psycopg
            from psycopg import sql

            pg_recorder: Any = recorder  # an eventsourcing.postgres recorder

            self._pg = psycopg.connect(conninfo(ledger.settings.store_url), autocommit=True)
            table_id = sql.SQL("{}.{}").format(
                sql.Identifier(pg_recorder.datastore.schema), sql.Identifier(pg_recorder.events_table_name)
            )
            self._pg_query = sql.SQL(
                "SELECT notification_id, state FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            ).format(table_id)
            self._pg_part_query = sql.SQL(
                "SELECT notification_id, originator_id, state FROM {} WHERE notification_id > %s "
                "AND notification_id <= %s AND right(originator_id, 2)::int %% %s = %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(table_id)

    def __call__(self, after: int, limit: int) -> Sequence[tuple[int, bytes]]:
        with self._lock:
            if self._sqlite is not None:
                return self._sqlite.execute(self._query, (after, limit)).fetchall()
            if self._pg is not None:
                return [(n, bytes(b)) for n, b in self._pg.execute(self._pg_query, (after, limit)).fetchall()]
        return self._fallback(after, limit)

    read_raw = __call__  # as `consumers.relay.RawLog` and `domain.ports.EventLog` name it

    def read_part(self, after: int, until: int, limit: int, part: int, parts: int) -> Sequence[tuple[int, str, bytes]]:
        """(position, address, body) of the events in (after, until] of one share of the addresses.

        The share is `projections.projector.part` (the address's last two digits modulo `parts`),
        filtered by the database, so a rebuild worker handles only its own rows.
        """
        with self._lock:
            if self._sqlite is not None:
                return self._sqlite.execute(self._part_query, (after, until, parts, part, limit)).fetchall()
            if self._pg is not None:
                rows = self._pg.execute(self._pg_part_query, (after, until, parts, part, limit)).fetchall()
                return [(n, s, bytes(b)) for n, s, b in rows]
        raise NotImplementedError("read_part needs the SQLite or PostgreSQL event store")

    def data_version(self) -> int | None:
        """For SQLite, a number that changes when anything was committed to the event store.

        On a connection of its own, so that it answers at once while `read_raw` pages through
        the log for a computation at cut-offs (the HTTP server's fast path asks it).
        """
        if self._version is None:
            return None
        with self._version_lock:
            return int(self._version.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._version_lock:
            if self._version is not None:
                self._version.close()
        with self._lock:
            if self._sqlite is not None:
                self._sqlite.close()
            if self._pg is not None:
                self._pg.close()
