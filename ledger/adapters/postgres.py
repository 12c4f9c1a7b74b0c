"""The PostgreSQL recorder: the library's application recorder plus the ledger's id index and import record."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Composed, Identifier

from domain.ports import IdEntry
from ledger import importlog, tree
from ledger.adapters import ID_TABLE, chunks
from ledger.identity import accesslog


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL: the library's application recorder plus the ledger's id index and import record."""

    import_run: importlog.ActiveRun | None = None  # set by `ImportLog.run`: its batches are recorded
    # A stored event's leaf in the log's tree (its `hash`); the library's own recorder test cases,
    # which store arbitrary bytes, put a hash of those bytes here.
    leaf_of: Callable[[bytes], bytes] = staticmethod(tree.leaf_of)

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = Identifier(self.datastore.schema)
        self._id_table = SQL("{}.{}").format(schema, Identifier(ID_TABLE))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (event_id text PRIMARY KEY, subject text NOT NULL, "
                "position bigint NOT NULL, digest text NOT NULL)"
            ).format(self._id_table)
        )
        self._insert_ids = SQL("INSERT INTO {} VALUES (%s,%s,%s,%s)").format(self._id_table)
        self._events = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        for statement in importlog.postgres_statements(self.datastore.schema):
            self.sql_create_statements.append(Composed([SQL(statement)]))  # type: ignore[arg-type]
        for statement in accesslog.postgres_statements(self.datastore.schema):
            self.sql_create_statements.append(Composed([SQL(statement)]))  # type: ignore[arg-type]
        for statement in tree.postgres_statements(self.datastore.schema):
            self.sql_create_statements.append(Composed([SQL(statement)]))  # type: ignore[arg-type]

    def _insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> None:
        active = self.import_run
        if active is not None and active.kind == importlog.INITIAL:
            self._lock_table(curs)  # the lock the library takes for the insert, taken first
            importlog.check_postgres(curs, self.datastore.schema, self.events_table_name)
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if positions:
            # the log's Merkle tree, same transaction
            tree.postgres_append(curs, self.datastore.schema, stored_events, positions, self.leaf_of)
        if self.import_run is not None and positions:
            importlog.record_postgres(curs, self.datastore.schema, self.import_run, stored_events, positions)
        return positions

    def _create_table(self, curs: Any) -> None:
        # Processes that open a fresh (or the same) database at once each run the library's
        # CREATE ... IF NOT EXISTS and CREATE OR REPLACE FUNCTION statements; run concurrently,
        # PostgreSQL fails one with "tuple concurrently updated". One at a time, per database.
        curs.execute("SELECT pg_advisory_xact_lock(hashtext('groningen-ledger:create-tables'))")
        super()._create_table(curs)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> None:
        # After the events, inside the library's table lock and in the part of its pipeline whose
        # errors it raises as they are: a taken id is then an IntegrityError, as a taken position
        # is. (Written before the events, in the pipeline's first part, a taken id aborted the
        # pipeline and surfaced as an OperationalError, "pipeline aborted".) Another cursor, so
        # that the library still reads the new notification ids from `curs`.
        super()._insert_stored_events(curs, stored_events, **kwargs)
        rows = kwargs.get("id_index")
        if rows:
            with curs.connection.cursor() as ids:
                ids.executemany(self._insert_ids, rows)

    def _in_chunks(self, query: Composed, keys: Sequence[str]) -> Iterator[Any]:
        """The rows of `query` (one `ANY(%s)` parameter) for `keys`, asked a chunk at a time."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for chunk in chunks(keys, 5000):
                curs.execute(query, (list(chunk),))
                yield from curs.fetchall()

    def load_streams(self, subjects: Sequence[str]) -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        query = SQL(
            "SELECT originator_id, state FROM {} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version"
        ).format(self._events)
        for row in self._in_chunks(query, subjects):
            out.setdefault(row["originator_id"], []).append(bytes(row["state"]))
        return out

    def stream_heads(self, subjects: Sequence[str]) -> dict[str, int]:
        query = SQL(
            "SELECT originator_id, MAX(originator_version) AS head FROM {} WHERE originator_id = ANY(%s) "
            "GROUP BY originator_id"
        ).format(self._events)
        return {r["originator_id"]: r["head"] for r in self._in_chunks(query, subjects)}

    def index_heads(self) -> dict[str, int]:
        """The highest position the id index records per address (for truncation checks)."""
        query = SQL("SELECT subject, MAX(position) AS head FROM {} GROUP BY subject").format(self._id_table)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query)
            return {r["subject"]: r["head"] for r in curs.fetchall()}

    def lookup_ids(self, ids: Sequence[str]) -> dict[str, IdEntry]:
        query = SQL("SELECT * FROM {} WHERE event_id = ANY(%s)").format(self._id_table)
        return {r["event_id"]: IdEntry(r["subject"], r["position"], r["digest"]) for r in self._in_chunks(query, ids)}
