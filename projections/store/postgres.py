"""The projection store on PostgreSQL: its own schema (default `projections`) in any database.

The tables are the SQLite store's. A rebuild writes into `<schema>_rebuild`; swapping renames
the schemas in one transaction, so readers see the old tables or the new ones. Large writes
go through COPY into a temporary table and one upsert.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from projections import persisted, worklist
from projections.store import LOG, CaseRow, NoStore, Row, StaleWrite
from projections.worklist import Entry, Point, Query

COPY_FROM = 200  # rows; smaller writes use executemany


class PostgresProjectionStore:
    """One projection store: the tables of one schema."""

    def __init__(self, conninfo: str, schema: str, *, bulk: bool = False, readonly: bool = False) -> None:
        """`readonly`: a session whose transactions cannot write, on an existing schema (a reader
        of the store another process fills: `LEDGER_PROJECTIONS_SOURCE=kafka`)."""
        self.schema = schema
        self.bulk = bulk  # a bulk write stores no figures delta (a reader then sums the rows once)
        self._lock = threading.Lock()
        if readonly:
            conninfo = psycopg.conninfo.make_conninfo(conninfo, options="-c default_transaction_read_only=on")
        self._conn = psycopg.connect(conninfo, autocommit=True)
        if bulk:
            self._conn.execute("SET synchronous_commit = off")
        s = sql.Identifier(schema)
        self._t = {
            name: sql.SQL("{}.{}").format(s, sql.Identifier(name))
            for name in ("proj_address", "proj_position", "proj_meta", "proj_worklist", "proj_figures", "proj_corners")
        }
        if readonly:
            self.generation = self.meta()["generation"]
            return
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"projections:{schema}",))
            self._conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s))
            self._conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (subject text PRIMARY KEY, streamposition bigint NOT NULL, "
                    "events bigint NOT NULL, version bigint NOT NULL, view bytea NOT NULL, attention bytea NOT NULL, "
                    "summary bytea NOT NULL)"
                ).format(self._t["proj_address"])
            )
            self._conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (version)").format(
                    sql.Identifier("proj_address_version"), self._t["proj_address"]
                )
            )
            self._conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, position bigint NOT NULL)").format(
                    self._t["proj_position"]
                )
            )
            self._conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, value text NOT NULL)").format(
                    self._t["proj_meta"]
                )
            )
            self._conn.execute(
                sql.SQL(
                    # byte order ("C"), as Python sorts: the urgency order's ties are broken the same way
                    'CREATE TABLE IF NOT EXISTS {} (subject text COLLATE "C" NOT NULL, scope text COLLATE "C" '
                    'NOT NULL, code text COLLATE "C" NOT NULL, ref text COLLATE "C" NOT NULL, '
                    'since text COLLATE "C" NOT NULL, strict smallint NOT NULL, urgency smallint NOT NULL, '
                    'municipality text COLLATE "C" NOT NULL, PRIMARY KEY (subject, scope, code, ref))'
                ).format(self._t["proj_worklist"])
            )
            for name, columns in worklist.INDEXES:
                self._conn.execute(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (" + columns + ")").format(
                        sql.Identifier(name), self._t["proj_worklist"]
                    )
                )
            self._conn.execute(  # the figures' aggregate: a delta per written version, and bases
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (version bigint PRIMARY KEY, base boolean NOT NULL, "
                    "body bytea NOT NULL)"
                ).format(self._t["proj_figures"])
            )
            self._conn.execute(  # the bitemporal index: each address's corners, written with its row
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (subject text PRIMARY KEY, version bigint NOT NULL, "
                    "body bytea NOT NULL)"
                ).format(self._t["proj_corners"])
            )
            self._conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (version)").format(
                    sql.Identifier("proj_corners_version"), self._t["proj_corners"]
                )
            )
            meta = self._t["proj_meta"]
            self._conn.execute(
                sql.SQL("INSERT INTO {} VALUES ('generation', %s), ('version', '0') ON CONFLICT DO NOTHING").format(
                    meta
                ),
                (uuid.uuid4().hex,),
            )
            self._index_existing_rows()
        self.generation = self.meta()["generation"]

    def _index_existing_rows(self) -> None:
        """Once per store (in the opening transaction): worklist entries for rows written before
        the worklist existed."""
        conn = self._conn
        if conn.execute(self._q("SELECT 1 FROM {} WHERE key = %s", "proj_meta"), (worklist.MIGRATED,)).fetchone():
            return
        after = ""
        select = self._q(
            "SELECT subject, view, attention FROM {} WHERE subject > %s ORDER BY subject LIMIT %s", "proj_address"
        )
        while True:
            chunk = [
                (s, bytes(v), bytes(a)) for s, v, a in conn.execute(select, (after, worklist.MIGRATE_CHUNK)).fetchall()
            ]
            if not chunk:
                break
            conn.execute(
                self._q("DELETE FROM {} WHERE subject = ANY(%s)", "proj_worklist"), ([s for s, _, _ in chunk],)
            )
            values = worklist.stored_index_rows(chunk)
            if values:
                with conn.cursor() as cur:
                    cur.executemany(self._insert_point(), values)
            after = chunk[-1][0]
        conn.execute(self._q("INSERT INTO {} VALUES (%s, '1')", "proj_meta"), (worklist.MIGRATED,))

    def _insert_point(self) -> sql.Composed:
        return sql.SQL("INSERT INTO {} ({}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)").format(
            self._t["proj_worklist"], sql.SQL(worklist.COLUMNS)
        )

    def _q(self, text: str, *tables: str) -> sql.Composed:
        return sql.SQL(text).format(*(self._t[t] for t in tables))

    def _all(self, query: sql.Composed, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(query, params).fetchall()

    # -- reads ------------------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        return {n: int(p) for n, p in self._all(self._q("SELECT name, position FROM {}", "proj_position"))}

    def position(self, name: str = LOG) -> int:
        rows = self._all(self._q("SELECT position FROM {} WHERE name = %s", "proj_position"), (name,))
        return int(rows[0][0]) if rows else 0

    def meta(self) -> dict[str, str]:
        return dict(self._all(self._q("SELECT key, value FROM {}", "proj_meta")))

    def version(self) -> int:
        return int(self._all(self._q("SELECT value FROM {} WHERE key = 'version'", "proj_meta"))[0][0])

    def case(self, subject: str) -> CaseRow | None:
        rows = self._all(
            self._q(
                "SELECT subject, streamposition, events, view, attention FROM {} WHERE subject = %s", "proj_address"
            ),
            (subject,),
        )
        if not rows:
            return None
        s, sp, n, view, att = rows[0]
        return CaseRow(s, int(sp), int(n), bytes(view), bytes(att))

    def worklist(self, query: Query) -> tuple[int, list[Entry]]:
        table = self._t["proj_worklist"].as_string(self._conn)
        count, count_params = worklist.count_sql(table, query, "%s")
        page, page_params = worklist.page_sql(table, query, "%s")
        with self._lock, self._conn.transaction():
            conn = self._conn
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")  # count and page agree
            found = conn.execute(count, count_params).fetchone()
            rows = conn.execute(page, page_params).fetchall()
        return int(found[0]) if found else 0, worklist.entries(rows)

    def points(self) -> Iterator[tuple[str, Point]]:
        query = self._q(
            "SELECT subject, code, ref, since, strict, municipality FROM {} WHERE scope = %s "
            "ORDER BY subject, code, ref",
            "proj_worklist",
        )
        rows = self._all(query, (worklist.ALL,))
        return iter([(s, Point(c, r, since, bool(strict), m)) for s, c, r, since, strict, m in rows])

    def find(self, postcode: str, huisnummer: int) -> list[tuple[str, bytes]]:
        """(subject, view) of the addresses registered at this postcode and house number (a scan)."""
        rows = self._all(
            self._q(
                "SELECT subject, view FROM {} WHERE "
                "convert_from(view, 'UTF8')::jsonb #>> '{{address,registered,postcode}}' = %s AND "
                "convert_from(view, 'UTF8')::jsonb #>> '{{address,registered,huisnummer}}' = %s ORDER BY subject",
                "proj_address",
            ),
            (postcode, str(huisnummer)),
        )
        return [(s, bytes(v)) for s, v in rows]

    def streampositions(self, subjects: Sequence[str]) -> dict[str, int]:
        query = self._q("SELECT subject, streamposition FROM {} WHERE subject = ANY(%s)", "proj_address")
        return {s: int(p) for s, p in self._all(query, (list(subjects),))}

    def summaries(self, changed_after: int = -1) -> Iterator[tuple[str, bytes, int]]:
        query = self._q("SELECT subject, summary, version FROM {} WHERE version > %s", "proj_address")
        return iter([(s, bytes(b), int(v)) for s, b, v in self._all(query, (changed_after,))])

    def _snapshot_start(self, conn: psycopg.Connection[Any]) -> tuple[dict[str, int], int]:
        """Begin a read-only snapshot in the open transaction: its positions and version."""
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        positions = {n: int(p) for n, p in conn.execute(self._q("SELECT name, position FROM {}", "proj_position"))}
        found = conn.execute(self._q("SELECT value FROM {} WHERE key = 'version'", "proj_meta")).fetchone()
        return positions, int(found[0]) if found else 0

    def snapshot(self, changed_after: int) -> tuple[dict[str, int], int, list[tuple[str, bytes, int]]]:
        """Positions, version and changed summaries from one consistent snapshot."""
        with self._lock, self._conn.transaction():
            conn = self._conn
            positions, version = self._snapshot_start(conn)
            rows = [
                (s, bytes(b), int(v))
                for s, b, v in conn.execute(
                    self._q("SELECT subject, summary, version FROM {} WHERE version > %s", "proj_address"),
                    (changed_after,),
                )
            ]
        return positions, version, rows

    def corners(self, changed_after: int = -1) -> tuple[int, int, list[tuple[str, bytes]]]:
        """Version, rows without corners and the corners written after `changed_after`, in one snapshot."""
        with self._lock, self._conn.transaction():
            conn = self._conn
            _, version = self._snapshot_start(conn)
            found = conn.execute(
                sql.SQL("SELECT (SELECT count(*) FROM {}) - (SELECT count(*) FROM {})").format(
                    self._t["proj_address"], self._t["proj_corners"]
                )
            ).fetchone()
            rows = [
                (s, bytes(b))
                for s, b in conn.execute(
                    self._q("SELECT subject, body FROM {} WHERE version > %s", "proj_corners"), (changed_after,)
                )
            ]
        return version, int(found[0]) if found else 0, rows

    def figures_since(self, after: int) -> tuple[dict[str, int], int, list[tuple[int, bool, bytes]]]:
        """Positions, version and the stored figures after version `after` (the latest base at or
        before the version when it is newer than `after`, then the deltas above), in one snapshot."""
        with self._lock, self._conn.transaction():
            conn = self._conn
            positions, version = self._snapshot_start(conn)
            row = conn.execute(
                self._q("SELECT max(version) FROM {} WHERE base AND version > %s AND version <= %s", "proj_figures"),
                (after, version),
            ).fetchone()
            start = after if row is None or row[0] is None else int(row[0])
            entries = conn.execute(
                self._q(
                    "SELECT version, base, body FROM {} WHERE version >= %s AND version <= %s "
                    "AND (NOT base OR version = %s) ORDER BY version",
                    "proj_figures",
                ),
                (start, version, start),
            ).fetchall()
        return positions, version, [(int(v), bool(b), bytes(body)) for v, b, body in entries if v > after]

    def save_figures(self, version: int, body: bytes) -> None:
        """Store the whole aggregate at `version` as a base; older figures are dropped."""
        with self._lock, self._conn.transaction():
            self._conn.execute(
                self._q(
                    "INSERT INTO {} VALUES (%s, true, %s) ON CONFLICT (version) DO UPDATE SET base = true, "
                    "body = EXCLUDED.body",
                    "proj_figures",
                ),
                (version, body),
            )
            self._conn.execute(self._q("DELETE FROM {} WHERE version < %s", "proj_figures"), (version,))

    def _delta(self, rows: Sequence[Row]) -> bytes:
        """The figures delta of `rows` against the summaries they replace (inside the write)."""
        query = self._q("SELECT subject, summary FROM {} WHERE subject = ANY(%s)", "proj_address")
        old = {s: bytes(b) for s, b in self._conn.execute(query, ([r.subject for r in rows],))}
        return persisted.rows_delta(old, rows)

    def subjects(self) -> set[str]:
        return {r[0] for r in self._all(self._q("SELECT subject FROM {}", "proj_address"))}

    def count(self) -> int:
        return int(self._all(self._q("SELECT count(*) FROM {}", "proj_address"))[0][0])

    def data_version(self) -> None:
        """PostgreSQL has no cheap "anything committed?" number: None (every look reads the store)."""
        return None

    def events_total(self) -> int:
        return int(self._all(self._q("SELECT coalesce(sum(events), 0) FROM {}", "proj_address"))[0][0])

    # -- writes -----------------------------------------------------------------------------
    def write(
        self,
        rows: Sequence[Row],
        positions: dict[str, int],
        expected: dict[str, int] | None = None,
        meta: dict[str, str] | None = None,
    ) -> None:
        with self._lock, self._conn.transaction():
            conn = self._conn
            # the version row serialises writers of this store
            row = conn.execute(self._q("SELECT value FROM {} WHERE key = 'version' FOR UPDATE", "proj_meta")).fetchone()
            version = int(row[0]) + 1  # type: ignore[index]
            if expected:
                current = {
                    n: int(p) for n, p in conn.execute(self._q("SELECT name, position FROM {}", "proj_position"))
                }
                for name, value in expected.items():
                    if current.get(name, 0) != value:
                        raise StaleWrite(f"position {name} is {current.get(name, 0)}, expected {value}")
            if not self.bulk:
                conn.execute(
                    self._q("INSERT INTO {} VALUES (%s, false, %s) ON CONFLICT (version) DO NOTHING", "proj_figures"),
                    (version, self._delta(rows)),
                )
            values = [(r.subject, r.streamposition, r.events, version, r.view, r.attention, r.summary) for r in rows]
            if len(values) >= COPY_FROM:
                self._copy_upsert(values)
            elif values:
                with conn.cursor() as cur:
                    cur.executemany(
                        self._q(
                            "INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (subject) DO UPDATE SET "
                            "streamposition = EXCLUDED.streamposition, events = EXCLUDED.events, "
                            "version = EXCLUDED.version, view = EXCLUDED.view, attention = EXCLUDED.attention, "
                            "summary = EXCLUDED.summary",
                            "proj_address",
                        ),
                        values,
                    )
            self._write_points(rows)
            self._write_corners(rows, version)
            with conn.cursor() as cur:
                if positions:
                    cur.executemany(
                        self._q(
                            "INSERT INTO {} VALUES (%s, %s) "
                            "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                            "proj_position",
                        ),
                        list(positions.items()),
                    )
                extra = dict(meta or {})
                extra["version"] = str(version)
                cur.executemany(
                    self._q(
                        "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        "proj_meta",
                    ),
                    list(extra.items()),
                )

    def _write_points(self, rows: Sequence[Row]) -> None:
        """Replace the worklist entries of the rows' addresses (in the rows' transaction)."""
        if not rows:
            return
        conn = self._conn
        conn.execute(self._q("DELETE FROM {} WHERE subject = ANY(%s)", "proj_worklist"), ([r.subject for r in rows],))
        values = [p for r in rows for p in worklist.index_rows(r.subject, r.points)]
        if len(values) >= COPY_FROM:
            columns = sql.SQL(worklist.COLUMNS)
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(self._t["proj_worklist"], columns)
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for value in values:
                    copy.write_row(value)
        elif values:
            with conn.cursor() as cur:
                cur.executemany(self._insert_point(), values)

    def _write_corners(self, rows: Sequence[Row], version: int) -> None:
        """Replace the bitemporal index entries of the rows' addresses (in the rows' transaction)."""
        if not rows:
            return
        conn = self._conn
        conn.execute(self._q("DELETE FROM {} WHERE subject = ANY(%s)", "proj_corners"), ([r.subject for r in rows],))
        values = [(r.subject, version, r.corners) for r in rows if r.corners is not None]
        if len(values) >= COPY_FROM:
            copy_sql = sql.SQL("COPY {} (subject, version, body) FROM STDIN").format(self._t["proj_corners"])
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for value in values:
                    copy.write_row(value)
        elif values:
            with conn.cursor() as cur:
                cur.executemany(self._q("INSERT INTO {} VALUES (%s, %s, %s)", "proj_corners"), values)

    def missing_corners(self) -> dict[str, int]:
        query = self._q(
            "SELECT a.subject, a.streamposition FROM {} a WHERE NOT EXISTS "
            "(SELECT 1 FROM {} c WHERE c.subject = a.subject)",
            "proj_address",
            "proj_corners",
        )
        return {s: int(p) for s, p in self._all(query)}

    def fill_corners(self, corners: Sequence[tuple[str, int, bytes]]) -> int:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cur:
            stored = 0
            query = self._q(
                "INSERT INTO {} SELECT subject, version, %s FROM {} WHERE subject = %s AND streamposition = %s "
                "ON CONFLICT (subject) DO NOTHING",
                "proj_corners",
                "proj_address",
            )
            for subject, position, body in corners:
                cur.execute(query, (body, subject, position))
                stored += cur.rowcount
        return stored

    def _copy_upsert(self, values: list[tuple[Any, ...]]) -> None:
        conn = self._conn
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS proj_incoming (subject text, streamposition bigint, events bigint, "
            "version bigint, view bytea, attention bytea, summary bytea) ON COMMIT DELETE ROWS"
        )
        with conn.cursor() as cur, cur.copy("COPY proj_incoming FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        conn.execute(
            self._q(
                "INSERT INTO {} SELECT * FROM proj_incoming ON CONFLICT (subject) DO UPDATE SET "
                "streamposition = EXCLUDED.streamposition, events = EXCLUDED.events, version = EXCLUDED.version, "
                "view = EXCLUDED.view, attention = EXCLUDED.attention, summary = EXCLUDED.summary",
                "proj_address",
            )
        )

    def finish_bulk(self) -> None:
        """Nothing to do: PostgreSQL writes a rebuilt schema durably as it goes."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresLocation:
    """The serving schema and the rebuild schema of a PostgreSQL projection store."""

    def __init__(self, conninfo: str, schema: str = "projections") -> None:
        self.conninfo = conninfo
        self.schema = schema
        self.rebuild_schema = f"{schema}_rebuild"
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"PostgreSQL schema {self.schema}"

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
        return self._conn

    def active_id(self) -> str | None:
        """The serving store's generation (a swap changes it)."""
        query = sql.SQL("SELECT value FROM {}.proj_meta WHERE key = 'generation'").format(sql.Identifier(self.schema))
        with self._lock:
            try:
                row = self._connection().execute(query).fetchone()
            except psycopg.errors.UndefinedTable:
                return None
        return str(row[0]) if row else None

    def open_active(self, readonly: bool = False) -> PostgresProjectionStore:
        """The serving store (created when there is none, unless `readonly`: then `NoStore`)."""
        if readonly:
            if self.active_id() is None:
                raise NoStore(f"no projection store in {self.describe()} yet (`ledger consume` fills it)")
            return PostgresProjectionStore(self.conninfo, self.schema, readonly=True)
        return PostgresProjectionStore(self.conninfo, self.schema)

    def _schema_exists(self, name: str) -> bool:
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
                .fetchone()
            )
        return row is not None

    def rebuild_exists(self) -> bool:
        return self._schema_exists(self.rebuild_schema)

    def open_rebuild(self) -> PostgresProjectionStore:
        return PostgresProjectionStore(self.conninfo, self.rebuild_schema, bulk=True)

    def swap(self) -> None:
        old = sql.Identifier(f"{self.schema}_old")
        with self._lock, self._connection().transaction():
            conn = self._connection()
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(old))
            if self._exists_in(conn, self.schema):
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(self.schema), old))
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(self.rebuild_schema), sql.Identifier(self.schema)
                )
            )
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(old))

    @staticmethod
    def _exists_in(conn: psycopg.Connection[Any], name: str) -> bool:
        row = conn.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,)).fetchone()
        return row is not None

    def discard_rebuild(self) -> None:
        with self._lock:
            self._connection().execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.rebuild_schema))
            )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
