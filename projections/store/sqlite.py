"""The projection store on SQLite: the embedded default, a file beside the event store.

Files live in a folder (default `<LEDGER_HOME>/projections/`): `store-<n>.sqlite` files and two
pointer files, `current` (the store that serves) and `rebuilding` (a rebuild in progress).
Swapping writes `current` atomically (`os.replace`), so a reader either sees the old store or
the new one; readers notice the change through `SQLiteLocation.active_id()` and reopen. A
store file is never renamed while in use: SQLite's `-wal` file belongs to its database name.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from projections import persisted, worklist
from projections.store import LOG, CaseRow, NoStore, Row, StaleWrite
from projections.worklist import Entry, Point, Query

# The registration's postcode and house number in the stored view: indexed for the address search.
POSTCODE = "json_extract(CAST(view AS TEXT), '$.address.registered.postcode')"
NUMBER = "json_extract(CAST(view AS TEXT), '$.address.registered.huisnummer')"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS proj_address (subject TEXT PRIMARY KEY, streamposition INTEGER NOT NULL, "
    "events INTEGER NOT NULL, version INTEGER NOT NULL, view BLOB NOT NULL, attention BLOB NOT NULL, "
    "summary BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS proj_address_version ON proj_address(version)",
    f"CREATE INDEX IF NOT EXISTS proj_address_postcode ON proj_address({POSTCODE}, {NUMBER})",
    "CREATE TABLE IF NOT EXISTS proj_position (name TEXT PRIMARY KEY, position INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS proj_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS proj_worklist (subject TEXT NOT NULL, scope TEXT NOT NULL, code TEXT NOT NULL, "
    "ref TEXT NOT NULL, since TEXT NOT NULL, strict INTEGER NOT NULL, urgency INTEGER NOT NULL, "
    "municipality TEXT NOT NULL, PRIMARY KEY (subject, scope, code, ref)) WITHOUT ROWID",
    *(f"CREATE INDEX IF NOT EXISTS {name} ON proj_worklist ({columns})" for name, columns in worklist.INDEXES),
    # the figures' aggregate: a delta per written version, and bases (projections.persisted)
    "CREATE TABLE IF NOT EXISTS proj_figures (version INTEGER PRIMARY KEY, base INTEGER NOT NULL, body BLOB NOT NULL)",
    # the bitemporal index: each address's corners (projections.bitemporal), written with its row
    "CREATE TABLE IF NOT EXISTS proj_corners (subject TEXT PRIMARY KEY, version INTEGER NOT NULL, body BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS proj_corners_version ON proj_corners(version)",
)
INSERT_POINT = f"INSERT INTO proj_worklist ({worklist.COLUMNS}) VALUES (?,?,?,?,?,?,?,?)"
UPSERT = (
    "INSERT INTO proj_address VALUES (?,?,?,?,?,?,?) ON CONFLICT(subject) DO UPDATE SET "
    "streamposition=excluded.streamposition, events=excluded.events, version=excluded.version, "
    "view=excluded.view, attention=excluded.attention, summary=excluded.summary"
)


def use_wal(db: sqlite3.Connection, wait: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
    """Switch `db` to WAL, retrying while another connection holds the file.

    SQLite answers a journal-mode change with "database is locked" at once, without its busy
    handler, while another connection holds a lock: two followers that create the same fresh
    store at the same moment meet exactly that.
    """
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() >= deadline:
                raise
        sleep(pause)
        pause = min(pause * 2, 0.25)


class SQLiteProjectionStore:
    """One SQLite projection store file."""

    def __init__(self, path: Path, *, bulk: bool = False, readonly: bool = False) -> None:
        """`readonly`: open an existing store with a connection that cannot write (a reader of
        the store another process fills: `LEDGER_PROJECTIONS_SOURCE=kafka`)."""
        self.path = path
        self.bulk = bulk  # a bulk write stores no figures delta (a reader then sums the rows once)
        self._lock = threading.Lock()
        if readonly:
            uri = f"{path.absolute().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=60)
            self._db.execute("PRAGMA cache_size=-65536")
            self.generation = self.meta()["generation"]
            return
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        if bulk:
            # a rebuild appends hundreds of MB once: bigger pages, a rollback journal (new pages are
            # not journalled, where WAL writes everything twice), no fsync until it is finished
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=OFF")
        else:
            use_wal(self._db)
            self._db.execute("PRAGMA synchronous=NORMAL")  # rows and positions are lost together or not
        self._db.execute("PRAGMA cache_size=-65536")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA:
                self._db.execute(statement)
            self._db.execute(
                "INSERT INTO proj_meta VALUES ('generation', ?) ON CONFLICT(key) DO NOTHING", (uuid.uuid4().hex,)
            )
            self._db.execute("INSERT INTO proj_meta VALUES ('version', '0') ON CONFLICT(key) DO NOTHING")
            self._index_existing_rows()
            self._db.execute("COMMIT")
        self.generation = self.meta()["generation"]

    def _index_existing_rows(self) -> None:
        """Once per store (in the opening transaction): worklist entries for rows written before
        the worklist existed."""
        db = self._db
        if db.execute("SELECT 1 FROM proj_meta WHERE key = ?", (worklist.MIGRATED,)).fetchone():
            return
        after = ""
        while True:
            chunk = db.execute(
                "SELECT subject, view, attention FROM proj_address WHERE subject > ? ORDER BY subject LIMIT ?",
                (after, worklist.MIGRATE_CHUNK),
            ).fetchall()
            if not chunk:
                break
            db.execute("DELETE FROM proj_worklist WHERE subject > ? AND subject <= ?", (after, chunk[-1][0]))
            db.executemany(INSERT_POINT, worklist.stored_index_rows(chunk))
            after = chunk[-1][0]
        db.execute("INSERT INTO proj_meta VALUES (?, '1')", (worklist.MIGRATED,))

    # -- reads ------------------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT name, position FROM proj_position").fetchall())

    def position(self, name: str = LOG) -> int:
        with self._lock:
            row = self._db.execute("SELECT position FROM proj_position WHERE name=?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def meta(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM proj_meta").fetchall())

    def version(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM proj_meta WHERE key='version'").fetchone()
        return int(row[0])

    def case(self, subject: str) -> CaseRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT subject, streamposition, events, view, attention FROM proj_address WHERE subject=?",
                (subject,),
            ).fetchone()
        return CaseRow(*row) if row else None

    def worklist(self, query: Query) -> tuple[int, list[Entry]]:
        count, count_params = worklist.count_sql("proj_worklist", query, "?")
        page, page_params = worklist.page_sql("proj_worklist", query, "?")
        with self._lock:
            self._db.execute("BEGIN")  # the count and the page from one snapshot
            try:
                total = int(self._db.execute(count, count_params).fetchone()[0])
                rows = self._db.execute(page, page_params).fetchall()
            finally:
                self._db.execute("COMMIT")
        return total, worklist.entries(rows)

    def points(self) -> Iterator[tuple[str, Point]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT subject, code, ref, since, strict, municipality FROM proj_worklist WHERE scope = ? "
                "ORDER BY subject, code, ref",
                (worklist.ALL,),
            ).fetchall()
        return iter([(s, Point(c, r, since, bool(strict), m)) for s, c, r, since, strict, m in rows])

    def find(self, postcode: str, huisnummer: int) -> list[tuple[str, bytes]]:
        """(subject, view) of the addresses registered at this postcode and house number."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT subject, view FROM proj_address WHERE {POSTCODE}=? AND {NUMBER}=? ORDER BY subject",
                (postcode, huisnummer),
            ).fetchall()
        return [(s, bytes(v)) for s, v in rows]

    def streampositions(self, subjects: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._lock:
            for start in range(0, len(subjects), 500):
                chunk = list(subjects[start : start + 500])
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT subject, streamposition FROM proj_address WHERE subject IN ({marks})"
                out.update(self._db.execute(sql, chunk).fetchall())
        return out

    def summaries(self, changed_after: int = -1) -> Iterator[tuple[str, bytes, int]]:
        with self._lock:
            if changed_after < 0:
                rows = self._db.execute("SELECT subject, summary, version FROM proj_address").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT subject, summary, version FROM proj_address WHERE version > ?", (changed_after,)
                ).fetchall()
        return iter(rows)

    def corners(self, changed_after: int = -1) -> tuple[int, int, list[tuple[str, bytes]]]:
        """Version, rows without corners and the corners written after `changed_after`, in one transaction."""
        with self._lock:
            _, version = self._snapshot_start()
            try:
                missing = int(
                    self._db.execute(
                        "SELECT (SELECT count(*) FROM proj_address) - (SELECT count(*) FROM proj_corners)"
                    ).fetchone()[0]
                )
                rows = self._db.execute(
                    "SELECT subject, body FROM proj_corners WHERE version > ?", (changed_after,)
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        return version, missing, [(s, bytes(b)) for s, b in rows]

    def missing_corners(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT a.subject, a.streamposition FROM proj_address a "
                "WHERE NOT EXISTS (SELECT 1 FROM proj_corners c WHERE c.subject = a.subject)"
            ).fetchall()
        return {s: int(p) for s, p in rows}

    def fill_corners(self, corners: Sequence[tuple[str, int, bytes]]) -> int:
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                before = db.total_changes
                db.executemany(
                    "INSERT INTO proj_corners SELECT subject, version, ? FROM proj_address "
                    "WHERE subject = ? AND streamposition = ? ON CONFLICT(subject) DO NOTHING",
                    [(body, subject, position) for subject, position, body in corners],
                )
                stored = db.total_changes - before
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return stored

    def _snapshot_start(self) -> tuple[dict[str, int], int]:
        """Begin a read transaction (a consistent view until COMMIT): its positions and version."""
        self._db.execute("BEGIN")
        try:
            positions = dict(self._db.execute("SELECT name, position FROM proj_position").fetchall())
            version = int(self._db.execute("SELECT value FROM proj_meta WHERE key='version'").fetchone()[0])
        except BaseException:
            self._db.execute("COMMIT")
            raise
        return positions, version

    def snapshot(self, changed_after: int) -> tuple[dict[str, int], int, list[tuple[str, bytes, int]]]:
        """Positions, version and changed summaries read in one transaction (a consistent view)."""
        with self._lock:
            positions, version = self._snapshot_start()
            try:
                rows = self._db.execute(
                    "SELECT subject, summary, version FROM proj_address WHERE version > ?", (changed_after,)
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        return positions, version, rows

    def figures_since(self, after: int) -> tuple[dict[str, int], int, list[tuple[int, bool, bytes]]]:
        """Positions, version and the stored figures after version `after` (the latest base at or
        before the version when it is newer than `after`, then the deltas above), in one transaction."""
        with self._lock:
            positions, version = self._snapshot_start()
            try:
                base = self._db.execute(
                    "SELECT max(version) FROM proj_figures WHERE base=1 AND version>? AND version<=?", (after, version)
                ).fetchone()[0]
                start = after if base is None else base
                entries = self._db.execute(
                    "SELECT version, base, body FROM proj_figures WHERE version>=? AND version<=? "
                    "AND (base=0 OR version=?) ORDER BY version",
                    (start, version, start),
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        return positions, version, [(int(v), bool(b), bytes(body)) for v, b, body in entries if v > after]

    def save_figures(self, version: int, body: bytes) -> None:
        """Store the whole aggregate at `version` as a base; older figures are dropped."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT OR REPLACE INTO proj_figures VALUES (?, 1, ?)", (version, body))
                self._db.execute("DELETE FROM proj_figures WHERE version<?", (version,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def data_version(self) -> int:
        """Changes whenever another connection (or process) committed to this store."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def subjects(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT subject FROM proj_address")}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM proj_address").fetchone()[0])

    def events_total(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT coalesce(sum(events), 0) FROM proj_address").fetchone()[0])

    # -- writes -----------------------------------------------------------------------------
    def write(
        self,
        rows: Sequence[Row],
        positions: dict[str, int],
        expected: dict[str, int] | None = None,
        meta: dict[str, str] | None = None,
    ) -> None:
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                if expected:
                    current = dict(db.execute("SELECT name, position FROM proj_position").fetchall())
                    for name, value in expected.items():
                        if current.get(name, 0) != value:
                            raise StaleWrite(f"position {name} is {current.get(name, 0)}, expected {value}")
                version = int(db.execute("SELECT value FROM proj_meta WHERE key='version'").fetchone()[0]) + 1
                if not self.bulk:
                    db.execute("INSERT OR REPLACE INTO proj_figures VALUES (?, 0, ?)", (version, self._delta(rows)))
                db.executemany(
                    UPSERT,
                    [(r.subject, r.streamposition, r.events, version, r.view, r.attention, r.summary) for r in rows],
                )
                db.executemany(
                    "INSERT INTO proj_corners VALUES (?,?,?) ON CONFLICT(subject) DO UPDATE SET "
                    "version=excluded.version, body=excluded.body",
                    [(r.subject, version, r.corners) for r in rows if r.corners is not None],
                )
                db.executemany(
                    "DELETE FROM proj_corners WHERE subject = ?", [(r.subject,) for r in rows if r.corners is None]
                )
                db.executemany("DELETE FROM proj_worklist WHERE subject = ?", [(r.subject,) for r in rows])
                db.executemany(INSERT_POINT, [p for r in rows for p in worklist.index_rows(r.subject, r.points)])
                db.executemany(
                    "INSERT INTO proj_position VALUES (?,?) ON CONFLICT(name) DO UPDATE SET position=excluded.position",
                    list(positions.items()),
                )
                extra = dict(meta or {})
                extra["version"] = str(version)
                db.executemany(
                    "INSERT INTO proj_meta VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    list(extra.items()),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _delta(self, rows: Sequence[Row]) -> bytes:
        """The figures delta of `rows` against the summaries they replace (inside the write)."""
        old: dict[str, bytes] = {}
        for start in range(0, len(rows), 500):
            chunk = [r.subject for r in rows[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT subject, summary FROM proj_address WHERE subject IN ({marks})"
            old.update(self._db.execute(sql, chunk).fetchall())
        return persisted.rows_delta(old, rows)

    def finish_bulk(self) -> None:
        """Make a bulk-written store durable and ready to serve (WAL: readers never wait)."""
        with self._lock:
            use_wal(self._db)
            self._db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        with self._lock:
            self._db.close()


class SQLiteLocation:
    """The folder of SQLite projection stores, with its `current` and `rebuilding` pointers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: tuple[int, int, int] | None = None
        self._active: str | None = None

    def _read(self, pointer: str) -> str | None:
        try:
            return (self.folder / pointer).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _pointer_draft(self, pointer: str, name: str) -> Path:
        tmp = self.folder / f".{pointer}.{os.getpid()}.{threading.get_ident()}.tmp"  # one per thread
        tmp.write_text(name + "\n")
        return tmp

    def _point(self, pointer: str, name: str) -> None:
        os.replace(self._pointer_draft(pointer, name), self.folder / pointer)

    def _point_if_absent(self, pointer: str, name: str) -> bool:
        """Create `pointer` unless another process or thread already did (atomically); whether we did."""
        tmp = self._pointer_draft(pointer, name)
        try:
            os.link(tmp, self.folder / pointer)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def _fresh_name(self) -> str:
        stems = [p.stem.split("-")[1] for p in self.folder.glob("store-*.sqlite")]
        taken = [int(n) for n in stems if n.isdigit()]
        return f"store-{max(taken, default=0) + 1}.sqlite"

    def describe(self) -> str:
        return str(self.folder)

    def active_id(self) -> str | None:
        """The name of the serving store (cheap: a `stat` before each query notices a swap)."""
        try:
            st = os.stat(self.folder / "current")
        except FileNotFoundError:
            return None
        seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        if seen != self._seen:
            self._seen, self._active = seen, self._read("current")
        return self._active

    def open_active(self, readonly: bool = False) -> SQLiteProjectionStore:
        """The serving store (created when there is none, unless `readonly`: then `NoStore`)."""
        if readonly:
            name = self._read("current")
            if name is None or not (self.folder / name).exists():
                raise NoStore(f"no projection store in {self.folder} yet (`ledger consume` fills it)")
            return SQLiteProjectionStore(self.folder / name, readonly=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._read("current")
        if name is None:
            fresh = self._fresh_name()
            SQLiteProjectionStore(self.folder / fresh).close()
            name = fresh if self._point_if_absent("current", fresh) else (self._read("current") or fresh)
            if name != fresh:  # another follower started at the same moment: serve its store, drop ours
                for suffix in ("", "-wal", "-shm"):
                    (self.folder / f"{fresh}{suffix}").unlink(missing_ok=True)
        return SQLiteProjectionStore(self.folder / name)

    def rebuild_exists(self) -> bool:
        name = self._read("rebuilding")
        return name is not None and (self.folder / name).exists()

    def open_rebuild(self) -> SQLiteProjectionStore:
        """The store a rebuild writes into: the unfinished one, or a fresh file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._read("rebuilding")
        if name is None or not (self.folder / name).exists():
            name = self._fresh_name()
            self._point("rebuilding", name)
        return SQLiteProjectionStore(self.folder / name, bulk=True)

    def swap(self) -> None:
        """Make the rebuilt store the serving one and delete the old file."""
        new = self._read("rebuilding")
        if new is None:
            raise RuntimeError("no rebuild to swap in")
        old = self._read("current")
        self._point("current", new)
        (self.folder / "rebuilding").unlink(missing_ok=True)
        if old and old != new:
            _remove(self.folder / old)

    def discard_rebuild(self) -> None:
        name = self._read("rebuilding")
        (self.folder / "rebuilding").unlink(missing_ok=True)
        if name:
            _remove(self.folder / name)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
