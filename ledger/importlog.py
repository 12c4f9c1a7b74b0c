"""The record of `ledger import` runs in the event store's own database (trust.md §1).

Three tables beside the events, written only by inserts (triggers refuse UPDATE and DELETE):

- `ledger_imports`: one row per run — `run`, `kind` (`initial` or `backfill`), `operator`,
  `source` (the file as given), `started_at` (the ledger's clock).
- `ledger_import_batches`: one row per batch the run stored — its first and last global
  position, how many events, the ledger's clock, and (backfills) the earliest `recordedtime`.
- `ledger_backfill_events`: one row per back-filled event — global position, address, stream
  position, `time`, `recordedtime`, whether it is a correction or retraction — so that the read
  side can tell exactly which answers include it (`projections.backfills`).

The batch and event rows are written by the recorders in the same transaction as the events
(`ledger.adapters`), so a stored import batch is never unrecorded, whatever kills the process.

An *initial* import is the history's origin: allowed into an empty store, or into a store that
holds nothing but what earlier initial imports stored (so an interrupted import can be resumed).
Each of its batches checks, inside its transaction, that the store's last event before it is
the last event an initial import stored; otherwise the batch is refused (`BackDating`) and
nothing of it is stored. A *backfill* has no such check and records every event it adds.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Unpack

import orjson

from projections.backfills import BackfillRun, Bounds

INITIAL = "initial"
BACKFILL = "backfill"
KINDS = (INITIAL, BACKFILL)

IMPORTS = "ledger_imports"
BATCHES = "ledger_import_batches"
BACKFILLED = "ledger_backfill_events"
_AMENDMENTS = ("EventCorrected", "EventRetracted")


class BackDating(Exception):
    """An initial import's batch would come after events that no initial import stored."""

    def __init__(self, expected: int, found: int) -> None:
        self.expected = expected
        self.found = found
        super().__init__(
            f"the store's last event before this batch is at position {found}, "
            f"not {expected} (the last one an initial import stored): others appended meanwhile"
        )


@dataclass(frozen=True, slots=True)
class ActiveRun:
    """The run a recorder records its inserts for (set by `ImportLog.run`)."""

    run: int
    kind: str
    clock: Callable[[], str]


def operator_name(given: str | None) -> str:
    """The operator: as given, else the OS user (`getpass.getuser`), else the numeric uid."""
    if given is not None:
        name = given.strip()
        if not name or len(name) > 128 or not name.isprintable():
            raise ValueError("--operator must be 1-128 printable characters")
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


# -- the tables -------------------------------------------------------------------------------
_TABLES = (
    "CREATE TABLE IF NOT EXISTS {imports} (run {serial} PRIMARY KEY, kind TEXT NOT NULL "
    "CHECK (kind IN ('initial', 'backfill')), operator TEXT NOT NULL, source TEXT NOT NULL, "
    "started_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {batches} (run BIGINT NOT NULL REFERENCES {imports} (run), "
    "first_position BIGINT NOT NULL, last_position BIGINT NOT NULL, events BIGINT NOT NULL, "
    "recorded_at TEXT NOT NULL, earliest_recordedtime TEXT, PRIMARY KEY (run, first_position))",
    "CREATE TABLE IF NOT EXISTS {backfilled} (position BIGINT PRIMARY KEY, "
    "run BIGINT NOT NULL REFERENCES {imports} (run), subject TEXT NOT NULL, "
    "streamposition BIGINT NOT NULL, time TEXT NOT NULL, recordedtime TEXT NOT NULL, amends SMALLINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {backfilled_index} ON {backfilled} (subject, streamposition)",
    "CREATE INDEX IF NOT EXISTS {batches_index} ON {batches} (last_position)",
)


def sqlite_statements() -> list[str]:
    """The tables and their append-only triggers, for SQLite."""
    names = _names(lambda name: name)
    statements = [t.format(serial="INTEGER", **names) for t in _TABLES]
    for table in (IMPORTS, BATCHES, BACKFILLED):
        statements += sqlite_append_only(table)
    return statements


def sqlite_append_only(table: str) -> list[str]:
    """The SQLite triggers that refuse every UPDATE and DELETE on `table`."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for action in ("UPDATE", "DELETE")
    ]


def postgres_statements(schema: str) -> list[str]:
    """The tables and their append-only triggers, for PostgreSQL (race-free when processes start together)."""
    names = _names(lambda name: f'"{schema}"."{name}"')
    # Processes that start together on a fresh database run these at once; concurrent CREATE
    # TRIGGERs fail ("tuple concurrently updated"). One at a time, the later ones find them made.
    statements = [f"SELECT pg_advisory_xact_lock(hashtext('{schema}.{IMPORTS}'))"]
    statements += [t.format(serial="BIGSERIAL", **names) for t in _TABLES]
    function = f'"{schema}"."ledger_append_only"'
    statements.append(
        "DO $do$ BEGIN "
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
        "$f$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $f$; "
        "EXCEPTION WHEN duplicate_function OR unique_violation THEN NULL; END $do$"
    )
    statements += [postgres_append_only(schema, table) for table in (IMPORTS, BATCHES, BACKFILLED)]
    return statements


def postgres_append_only(schema: str, table: str) -> str:
    """The PostgreSQL triggers that refuse every UPDATE, DELETE and TRUNCATE on `schema.table`,
    with the shared function `postgres_statements` creates (kept when they exist already)."""
    function = f'"{schema}"."ledger_append_only"'
    return (
        "DO $do$ BEGIN "
        f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{schema}"."{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION {function}(); "
        f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{schema}"."{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}(); "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $do$"
    )


def _names(qualify: Callable[[str], str]) -> dict[str, str]:
    return {
        "imports": qualify(IMPORTS),
        "batches": qualify(BATCHES),
        "backfilled": qualify(BACKFILLED),
        "backfilled_index": f"{BACKFILLED}_subject",
        "batches_index": f"{BATCHES}_last",
    }


# -- the recorders' hook (inside the transaction that stores the events) ----------------------
def expected_head_sql(batches: str, imports: str, mark: str) -> str:
    """The last global position an initial import stored (0 when none): from the top of the index,
    so each batch of a long import asks in constant time."""
    return (
        f"SELECT COALESCE((SELECT b.last_position FROM {batches} b JOIN {imports} r ON r.run = b.run "
        f"WHERE r.kind = {mark} ORDER BY b.last_position DESC LIMIT 1), 0) AS head"
    )


def batch_rows(
    active: ActiveRun, stored_events: Sequence[Any], positions: Sequence[int]
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """(the batch's row, the back-filled events' rows) for a stored batch."""
    rows: list[tuple[Any, ...]] = []
    earliest: str | None = None
    if active.kind == BACKFILL:
        for stored, position in zip(stored_events, positions, strict=True):
            event = orjson.loads(stored.state)
            recorded = event["recordedtime"]
            if earliest is None or recorded < earliest:
                earliest = recorded
            amends = 1 if event["type"][-17:-3] in _AMENDMENTS else 0
            rows.append(
                (position, active.run, event["subject"], event["streamposition"], event["time"], recorded, amends)
            )
    batch = (active.run, min(positions), max(positions), len(positions), active.clock(), earliest)
    return batch, rows


def record_sqlite(
    c: Any, events_table: str, active: ActiveRun, stored_events: Sequence[Any], positions: Sequence[int]
) -> None:
    """SQLite, after the batch's events were inserted (the write lock is held): check and record."""
    if active.kind == INITIAL:
        c.execute(expected_head_sql(BATCHES, IMPORTS, "?"), [INITIAL])
        expected = int(c.fetchone()[0])
        c.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {events_table} WHERE rowid < ?", [min(positions)])
        found = int(c.fetchone()[0])
        if found != expected:
            raise BackDating(expected, found)  # the transaction rolls back: nothing of the batch stays
    batch, rows = batch_rows(active, stored_events, positions)
    c.execute(f"INSERT INTO {BATCHES} VALUES (?,?,?,?,?,?)", batch)
    if rows:
        c.executemany(f"INSERT INTO {BACKFILLED} VALUES (?,?,?,?,?,?,?)", rows)


def check_postgres(curs: Any, schema: str, events_table: str) -> None:
    """PostgreSQL, before an initial batch's events are inserted, with the events table locked."""
    from psycopg.sql import SQL

    names = _names(lambda name: f'"{schema}"."{name}"')
    curs.execute(SQL(expected_head_sql(names["batches"], names["imports"], "%s")), [INITIAL])  # type: ignore[arg-type]
    expected = int(curs.fetchone()["head"])
    query = f'SELECT COALESCE(MAX(notification_id), 0) AS head FROM "{schema}"."{events_table}"'
    curs.execute(SQL(query))  # type: ignore[arg-type]
    found = int(curs.fetchone()["head"])
    if found != expected:
        raise BackDating(expected, found)  # raised before the insert: the transaction rolls back


def record_postgres(
    curs: Any, schema: str, active: ActiveRun, stored_events: Sequence[Any], positions: Sequence[int]
) -> None:
    """PostgreSQL, after the batch's events were inserted (same transaction): record."""
    from psycopg.sql import SQL

    names = _names(lambda name: f'"{schema}"."{name}"')
    batch, rows = batch_rows(active, stored_events, positions)
    curs.execute(SQL(f"INSERT INTO {names['batches']} VALUES (%s,%s,%s,%s,%s,%s)"), batch)  # type: ignore[arg-type]
    if rows:
        curs.executemany(SQL(f"INSERT INTO {names['backfilled']} VALUES (%s,%s,%s,%s,%s,%s,%s)"), rows)  # type: ignore[arg-type]


# -- reading and starting runs ----------------------------------------------------------------
_RUNS = (
    "SELECT r.run, r.operator, r.started_at, MAX(b.recorded_at), MIN(b.first_position), "
    "MAX(b.last_position), SUM(b.events), MIN(b.earliest_recordedtime) FROM {imports} r "
    "JOIN {batches} b ON b.run = r.run WHERE r.kind = 'backfill' GROUP BY r.run, r.operator, r.started_at "
    "ORDER BY r.run"
)


class ImportLog:
    """The import runs of one event store; `projections.backfills.BackfillRecords` for the read side."""

    def __init__(self, recorder: Any) -> None:
        from ledger.adapters import is_postgres

        self.recorder = recorder
        self.postgres = is_postgres(recorder)
        if self.postgres:
            schema = recorder.datastore.schema
            self._names = _names(lambda name: f'"{schema}"."{name}"')
        else:
            self._names = _names(lambda name: name)

    # -- SQL plumbing -----------------------------------------------------------------------
    def _sql(self, template: str) -> Any:
        text = template.format(**self._names)
        if self.postgres:
            from psycopg.sql import SQL

            return SQL(text.replace("?", "%s"))  # type: ignore[arg-type]
        return text

    def _rows(self, template: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        query = self._sql(template)
        if self.postgres:
            from psycopg.rows import tuple_row

            with self.recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                curs.execute(query, list(params))
                return list(curs.fetchall())
        with self.recorder.datastore.transaction(commit=False) as c:
            c.execute(query, list(params))
            return [tuple(row) for row in c.fetchall()]

    def _insert(self, template: str, params: Sequence[Any]) -> int:
        query = self._sql(template + " RETURNING run")
        if self.postgres:
            with self.recorder.datastore.transaction(commit=True) as curs:
                curs.execute(query, list(params))
                return int(curs.fetchone()["run"])
        with self.recorder.datastore.transaction(commit=True) as c:
            c.execute(query, list(params))
            return int(c.fetchone()[0])  # SQLite >= 3.35 has RETURNING

    # -- the write side -----------------------------------------------------------------------
    def initial_head(self) -> int:
        """The last global position an initial import stored (0 when none)."""
        return int(self._rows(expected_head_sql("{batches}", "{imports}", "?"), [INITIAL])[0][0])

    def holds_only_initial(self) -> bool:
        """Whether every event in the store was stored by an initial import (also: the store is empty).

        Every initial batch checks that the store's last event before it is an initial import's
        (see the module), so the store's last event being one means all before it are too.
        """
        head = self.recorder.max_notification_id() or 0
        return head == 0 or head == self.initial_head()

    @contextmanager
    def run(self, kind: str, operator: str, source: str, clock: Callable[[], str]) -> Iterator[int]:
        """Record a run, and have the recorder record every batch stored until the block ends."""
        if kind not in KINDS:
            raise ValueError(f"unknown import kind {kind!r}")
        run = self._insert(
            "INSERT INTO {imports} (kind, operator, source, started_at) VALUES (?, ?, ?, ?)",
            [kind, operator, source, clock()],
        )
        if not self.postgres:
            self.recorder.import_started()  # the writing connection tuned for bulk inserts
        self.recorder.import_run = ActiveRun(run, kind, clock)
        try:
            yield run
        finally:
            self.recorder.import_run = None
            if not self.postgres:
                self.recorder.import_ended()  # the writing connection's own settings back, the log on disk

    def runs(self) -> list[dict[str, Any]]:
        """Every import run with what it stored (for people and tests), in run order."""
        rows = self._rows(
            "SELECT r.run, r.kind, r.operator, r.source, r.started_at, MIN(b.first_position), "
            "MAX(b.last_position), COALESCE(SUM(b.events), 0), MIN(b.earliest_recordedtime), MAX(b.recorded_at) "
            "FROM {imports} r LEFT JOIN {batches} b ON b.run = r.run "
            "GROUP BY r.run, r.kind, r.operator, r.source, r.started_at ORDER BY r.run"
        )
        keys = (
            "run",
            "kind",
            "operator",
            "source",
            "started_at",
            "first_position",
            "last_position",
            "events",
            "earliest_recordedtime",
            "recorded_until",
        )
        out = [dict(zip(keys, row, strict=True)) for row in rows]
        for run in out:
            run["events"] = int(run["events"])  # PostgreSQL's SUM is numeric
        return out

    def batches(self, run: int) -> list[tuple[int, int, str]]:
        """(last position, events, recorded at) of each batch a run stored, in order (for the
        import benchmark's curve, and tests)."""
        rows = self._rows(
            "SELECT last_position, events, recorded_at FROM {batches} WHERE run = ? ORDER BY first_position", [run]
        )
        return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]

    # -- the read side (projections.backfills.BackfillRecords) ------------------------------
    def backfills(self) -> list[BackfillRun]:
        return [
            BackfillRun(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), r[7]) for r in self._rows(_RUNS)
        ]

    def subjects(self) -> set[str]:
        return {str(row[0]) for row in self._rows("SELECT DISTINCT subject FROM {backfilled}")}

    def counted(self, **bounds: Unpack[Bounds]) -> dict[int, int]:
        conditions = [
            ("subject = ?", bounds.get("subject")),
            ("streamposition <= ?", bounds.get("streamposition")),
            ("position <= ?", bounds.get("until")),
            ("recordedtime <= ?", bounds.get("known_at")),
            ("(time <= ? OR amends = 1)", bounds.get("at")),  # corrections and retractions: known_at alone
        ]
        where = [condition for condition, value in conditions if value is not None]
        params = [value for _, value in conditions if value is not None]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows("SELECT run, COUNT(*) FROM {backfilled}" + clause + " GROUP BY run", params)
        return {int(run): int(n) for run, n in rows}
