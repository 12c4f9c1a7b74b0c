"""Who read which address's data (trust.md §1): an append-only, hash-chained log in the event store.

One table beside the events, `ledger_access_log`, created by the store adapters
(`ledger.adapters`) with the same append-only triggers as the import record
(`ledger.importlog`: UPDATE, DELETE and TRUNCATE are refused). A row: `seq` (1, 2, ...),
`recorded_at` (UTC), `principal` (the token's `sub`, or the operator), `role`, `issuer`,
`address`, `what` (`case`, `replay`, `bundle`, with the query), `prev_hash` and `hash` =
SHA-256(prev_hash ‖ the row's canonical JSON). Rewriting, dropping or reordering rows breaks the
chain from there on, which `ledger access-log` checks every time it lists.

Reads are served without waiting for the insert: `record` queues the entry (a few µs on the
event loop) and one writer thread stores what is queued in batches, in order. Nothing is dropped
silently: a failed write is retried and reported on stderr; when more than `MAX_PENDING` entries
wait (the store is gone), `record` raises `AccessLogUnavailable` and the read is refused (503)
rather than served unlogged; `flush` (at shutdown and exit) writes what is left.
"""

from __future__ import annotations

import atexit
import hashlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ledger import importlog

TABLE = "ledger_access_log"
GENESIS = "0" * 64
MAX_PENDING = 100_000
BATCH = 10_000
# Group commit: the writer gathers what comes in this long into one transaction. Each commit to the
# store's file also tells the read model that something may have changed (SQLite's data_version),
# sending the requests in flight to the thread pool once; one commit a second keeps that rare.
COMMIT_INTERVAL = 1.0

_COLUMNS = "seq, recorded_at, principal, role, issuer, address, what, prev_hash, hash"
# No index beyond the key: inserts stay cheap (one per read), and listing an address reads the
# whole log anyway, since it verifies the chain first.
_CREATE = (
    "CREATE TABLE IF NOT EXISTS {table} (seq {key} PRIMARY KEY, recorded_at TEXT NOT NULL, "
    "principal TEXT NOT NULL, role TEXT NOT NULL, issuer TEXT NOT NULL, address TEXT NOT NULL, "
    "what TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
)


class AccessLogUnavailable(Exception):
    """Too many reads wait to be logged (the store does not take them): refuse the read."""


class ChainBroken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"access log broken at row {seq}: {reason}")
        self.seq = seq
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Entry:
    recorded_at: str
    principal: str
    role: str
    issuer: str
    address: str
    what: str


def row_hash(prev_hash: str, seq: int, entry: Entry) -> str:
    e = entry
    return _hash(prev_hash, seq, e.recorded_at, e.principal, e.role, e.issuer, e.address, e.what)


def _hash(prev_hash: str, seq: int, *fields: str) -> str:
    content = orjson.dumps([seq, *fields])
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + content).hexdigest()


def sqlite_statements() -> list[str]:
    statements = [s.format(table=TABLE, key="INTEGER") for s in _CREATE]  # INTEGER: the rowid itself
    return statements + importlog.sqlite_append_only(TABLE)


def postgres_statements(schema: str) -> list[str]:
    """Run after `importlog.postgres_statements` (which creates the shared append-only function)."""
    table = f'"{schema}"."{TABLE}"'
    statements = [f"SELECT pg_advisory_xact_lock(hashtext('{schema}.{TABLE}'))"]
    statements += [s.format(table=table, key="BIGINT") for s in _CREATE]
    return [*statements, importlog.postgres_append_only(schema, TABLE)]


def utc_text(seconds: float) -> str:
    """RFC 3339 UTC with microseconds, like the ledger's times (`2026-12-02T07:10:38.123456Z`)."""
    whole = int(seconds)
    micro = round((seconds - whole) * 1_000_000)
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micro:06d}Z"


Queued = tuple[float, str, str, str, str, str]  # (time.time(), principal, role, issuer, address, what)


class AccessLog:
    """The access log of one event store: queue reads, write them in order, list and verify."""

    def __init__(self, recorder: Any, clock: Callable[[], float] = time.time) -> None:
        from ledger.adapters import is_postgres

        self.recorder = recorder
        self.clock = clock
        self.postgres = is_postgres(recorder)
        self.table = f'"{recorder.datastore.schema}"."{TABLE}"' if self.postgres else TABLE
        self._pending: deque[Queued] = deque()
        self._wake = threading.Event()
        self._urgent = threading.Event()
        self._idle = threading.Condition()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self.failures = 0

    # -- recording --------------------------------------------------------------------------
    def record(self, principal: str, role: str, issuer: str, address: str, what: str) -> None:
        """Queue one read (never blocks on the store; a tuple and a flag on the request's path)."""
        if len(self._pending) >= MAX_PENDING:
            raise AccessLogUnavailable(f"{len(self._pending):,} reads wait to be written to the access log")
        self._pending.append((self.clock(), principal, role, issuer, address[:64], what[:512]))
        if self._writer is None:
            self._start()
        if not self._wake.is_set():
            self._wake.set()

    def record_now(self, principal: str, role: str, issuer: str, address: str, what: str) -> None:
        """Record one read and wait until it is stored (the command line's reads)."""
        self.record(principal, role, issuer, address, what)
        self.flush()

    def _start(self) -> None:
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="access-log", daemon=True)
                self._writer.start()
                atexit.register(self.flush)

    def _run(self) -> None:
        delay = 0.05
        while True:
            self._wake.wait()
            self._wake.clear()
            self._urgent.wait(COMMIT_INTERVAL)  # gather more, unless someone waits for a flush
            self._urgent.clear()
            while self._pending:
                batch = [self._pending[i] for i in range(min(BATCH, len(self._pending)))]
                try:
                    self._write(batch)
                except Exception as exc:  # noqa: BLE001 - keep the entries, say so, try again
                    self.failures += 1
                    print(f"ledger: the access log could not be written ({exc}); retrying", file=sys.stderr)
                    time.sleep(delay)  # back off before retrying the store, not a synchronisation
                    delay = min(delay * 2, 5.0)
                    continue
                delay = 0.05
                with self._idle:  # popped and announced under the lock: `flush` never misses it
                    for _ in batch:
                        self._pending.popleft()
                    self._idle.notify_all()
            if self._closed and not self._pending:
                return

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is stored; whether it was in time."""
        self._urgent.set()
        if self._writer is None or not self._writer.is_alive():
            if self._pending:  # no writer (or it ended): write here
                batch = list(self._pending)
                self._write(batch)
                for _ in batch:
                    self._pending.popleft()
            return True
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                self._urgent.set()
                self._wake.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._urgent.set()
        self._wake.set()

    # -- SQL ----------------------------------------------------------------------------------
    def _write(self, batch: Sequence[Queued]) -> None:
        for attempt in range(20):
            try:
                self._insert(batch)
                return
            except Exception as exc:  # another process took the next seq: read the head again
                if attempt == 19 or "UNIQUE" not in str(exc).upper() and "duplicate key" not in str(exc):
                    raise
        raise RuntimeError("not reached")

    def _insert(self, batch: Sequence[Queued]) -> None:
        head = f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1"
        if self.postgres:
            from psycopg.sql import SQL

            insert = SQL(f"INSERT INTO {self.table} ({_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)")  # type: ignore[arg-type]
            with self.recorder.datastore.transaction(commit=True) as curs:
                curs.execute(SQL(f"SELECT pg_advisory_xact_lock(hashtext('{TABLE}'))"))  # type: ignore[arg-type]
                curs.execute(SQL(head))  # type: ignore[arg-type]
                row = curs.fetchone()
                curs.executemany(insert, self._rows(batch, (row["seq"], row["hash"]) if row else None))
            return
        with self.recorder.datastore.transaction(commit=True) as c:
            # A write first, so the transaction takes SQLite's write lock now (waiting its turn behind
            # other processes) instead of upgrading a read lock later, which fails at once when busy.
            c.execute(f"UPDATE {self.table} SET seq = seq WHERE 0")
            c.execute(head)
            row = c.fetchone()
            c.executemany(
                f"INSERT INTO {self.table} ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                self._rows(batch, (row[0], row[1]) if row else None),
            )

    @staticmethod
    def _rows(batch: Sequence[Queued], head: tuple[int, str] | None) -> list[tuple[Any, ...]]:
        seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        rows = []
        for when, principal, role, issuer, address, what in batch:
            seq += 1
            recorded_at = utc_text(when)
            digest = _hash(prev, seq, recorded_at, principal, role, issuer, address, what)
            rows.append((seq, recorded_at, principal, role, issuer, address, what, prev, digest))
            prev = digest
        return rows

    def _select(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        query = f"SELECT {_COLUMNS} FROM {self.table}{where} ORDER BY seq"
        if self.postgres:
            from psycopg.rows import tuple_row
            from psycopg.sql import SQL

            with self.recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                curs.execute(SQL(query.replace("?", "%s")), list(params))  # type: ignore[arg-type]
                return list(curs.fetchall())
        with self.recorder.datastore.transaction(commit=False) as c:
            c.execute(query, list(params))
            return [tuple(r) for r in c.fetchall()]

    # -- reading ------------------------------------------------------------------------------
    def entries(self, address: str | None = None) -> list[dict[str, Any]]:
        rows = self._select(" WHERE address = ?", [address]) if address is not None else self._select()
        keys = ("seq", "recorded_at", "principal", "role", "issuer", "address", "what", "prev_hash", "hash")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def verify(self) -> int:
        """Check the whole chain; the number of rows, or ChainBroken naming the first bad row."""
        prev = GENESIS
        expected = 0
        for seq, recorded_at, principal, role, issuer, address, what, prev_hash, digest in self._select():
            expected += 1
            if int(seq) != expected:
                raise ChainBroken(int(seq), f"row {expected} is missing (rows out of sequence)")
            if prev_hash != prev:
                raise ChainBroken(int(seq), "its prev_hash is not the previous row's hash")
            if row_hash(prev, int(seq), Entry(recorded_at, principal, role, issuer, address, what)) != digest:
                raise ChainBroken(int(seq), "its content does not match its hash (the row was altered)")
            prev = digest
        return expected
