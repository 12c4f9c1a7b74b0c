"""The log's Merkle tree in the event store: perfect nodes, kept in the append's own transaction.

Tables (SQLite and PostgreSQL alike, in the store's database):

- `ledger_tree_tiles (level, idx, hashes)`: the complete subtrees' hashes as *tiles* of height
  4: tile (t, j) holds the up-to-16 hashes of the perfect nodes (4t, 16j … 16j+15) concatenated
  (tile level 0: the leaves); a node of level 4t+r (r < 4) is folded from 2^r entries of one
  tile. So a batch writes ~1/15 row per event, a proof is O(log n) reads and at most 7 hashes
  per node, and a checkpoint never recomputes the tree;
- `ledger_tree_head (one, size, last_position)`: how many leaves the tree holds and the global
  position of the last one;
- `ledger_tree_gaps (position, shift)`: where notification ids skip (PostgreSQL sequences skip a
  number when an insert rolls back): leaf index = position - 1 - shift of the last gap at or
  before the position (no row in a gap-free store: leaf index = position - 1);
- `ledger_checkpoints (size, note, made_at)`: the published checkpoints, cosigned.

The recorders (`ledger.adapters`) call `sqlite_append` / `postgres_append` inside the insert's
transaction, with the events table locked, so leaf `i` is exactly the `i`-th accepted event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from domain import merkle
from domain.merkle import CompactRange, Node

TREE = "ledger_tree_tiles"
TILE_HEIGHT = 4
TILE_WIDTH = 1 << TILE_HEIGHT
HEAD = "ledger_tree_head"
GAPS = "ledger_tree_gaps"
CHECKPOINTS = "ledger_checkpoints"


def leaf_of(state: bytes) -> bytes:
    """The leaf hash of a stored event: SHA-256(0x00 ‖ bytes.fromhex(event["hash"]))."""
    return merkle.leaf_hash(bytes.fromhex(orjson.loads(state)["hash"]))


def sqlite_statements() -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {TREE} (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, "
        "PRIMARY KEY (level, idx)) WITHOUT ROWID",
        f"CREATE TABLE IF NOT EXISTS {HEAD} (one INTEGER PRIMARY KEY CHECK (one = 1), size INTEGER NOT NULL, "
        "last_position INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {GAPS} (position INTEGER PRIMARY KEY, shift INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (size INTEGER PRIMARY KEY, note TEXT NOT NULL, "
        "made_at TEXT NOT NULL)",
    ]


def postgres_statements(schema: str) -> list[str]:
    s = f'"{schema}"'
    return [
        f"CREATE TABLE IF NOT EXISTS {s}.{TREE} (level smallint NOT NULL, idx bigint NOT NULL, hashes bytea NOT NULL, "
        "PRIMARY KEY (level, idx))",
        f"CREATE TABLE IF NOT EXISTS {s}.{HEAD} (one smallint PRIMARY KEY CHECK (one = 1), size bigint NOT NULL, "
        "last_position bigint NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.{GAPS} (position bigint PRIMARY KEY, shift bigint NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.{CHECKPOINTS} (size bigint PRIMARY KEY, note text NOT NULL, "
        "made_at text NOT NULL)",
    ]


@dataclass(frozen=True, slots=True)
class Growth:
    """What one batch adds: the new perfect nodes, the new head, gap rows."""

    nodes: list[tuple[int, int, bytes]]
    size: int
    last_position: int
    gaps: list[tuple[int, int]]


def grow(
    size: int, last_position: int, edge: Mapping[Node, bytes], leaves: Sequence[bytes], positions: Sequence[int]
) -> Growth:
    """The tree after appending `leaves` at `positions` to a tree of `size` (pure)."""
    cr = CompactRange.from_nodes(size, edge)
    gaps: list[tuple[int, int]] = []
    prev = last_position
    for i, position in enumerate(positions):
        if position != prev + 1:
            gaps.append((position, position - 1 - (size + i)))
        prev = position
    return Growth(cr.extend(leaves), size + len(leaves), prev, gaps)


Tile = tuple[int, int]  # (tile level, tile index)


def tile_of(node: Node) -> tuple[Tile, int, int]:
    """The tile holding a perfect node's subtree entries, the first entry and how many."""
    level, idx = node
    t, r = divmod(level, TILE_HEIGHT)
    start = idx << r
    return (t, start >> TILE_HEIGHT), start & (TILE_WIDTH - 1), 1 << r


def tiles_for(need: Iterable[Node]) -> set[Tile]:
    return {tile_of(node)[0] for node in need}


def node_from_tiles(node: Node, tiles: Mapping[Tile, bytes]) -> bytes:
    tile, first, count = tile_of(node)
    blob = tiles.get(tile, b"")
    if len(blob) < 32 * (first + count):
        raise LookupError(f"the tree lacks node {node}")
    hashes = [blob[32 * k : 32 * k + 32] for k in range(first, first + count)]
    while len(hashes) > 1:
        hashes = [merkle.node_hash(hashes[k], hashes[k + 1]) for k in range(0, len(hashes), 2)]
    return hashes[0]


def tile_rows(nodes: Sequence[tuple[int, int, bytes]], tiles: Mapping[Tile, bytes]) -> list[tuple[int, int, bytes]]:
    """The tiles new perfect nodes change, as whole rows (existing entries + the new ones)."""
    grown: dict[Tile, bytearray] = {}
    for level, idx, h in nodes:
        if level % TILE_HEIGHT:
            continue
        tile = (level // TILE_HEIGHT, idx >> TILE_HEIGHT)
        blob = grown.get(tile)
        if blob is None:
            blob = grown[tile] = bytearray(tiles.get(tile, b""))
        if len(blob) != 32 * (idx & (TILE_WIDTH - 1)):
            raise ValueError(f"tile {tile}: entry {idx} does not follow the stored ones")
        blob += h
    return [(t, j, bytes(blob)) for (t, j), blob in grown.items()]


# -- inside the append's transaction ---------------------------------------------------------------


def sqlite_append(
    c: Any, stored_events: Sequence[Any], positions: Sequence[int], leaf: Callable[[bytes], bytes] = leaf_of
) -> None:
    c.execute(f"SELECT size, last_position FROM {HEAD} WHERE one = 1")
    row = c.fetchone()
    size, last = (row[0], row[1]) if row else (0, 0)
    need = merkle.edge_nodes(size)
    tiles = _sqlite_tiles(c, tiles_for(need))
    edge = {node: node_from_tiles(node, tiles) for node in need}
    g = grow(size, last, edge, [leaf(s.state) for s in stored_events], positions)
    c.executemany(f"INSERT OR REPLACE INTO {TREE} VALUES (?,?,?)", tile_rows(g.nodes, tiles))
    if g.gaps:
        c.executemany(f"INSERT INTO {GAPS} VALUES (?,?)", g.gaps)
    c.execute(f"INSERT OR REPLACE INTO {HEAD} VALUES (1, ?, ?)", (g.size, g.last_position))


def _sqlite_tiles(c: Any, need: Iterable[Tile]) -> dict[Tile, bytes]:
    need = list(need)
    out: dict[Tile, bytes] = {}
    for start in range(0, len(need), 200):
        chunk = need[start : start + 200]
        where = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)  # a primary-key search each
        c.execute(f"SELECT level, idx, hashes FROM {TREE} WHERE {where}", [v for tile in chunk for v in tile])
        out.update(((r[0], r[1]), bytes(r[2])) for r in c.fetchall())
    return out


def postgres_append(
    curs: Any,
    schema: str,
    stored_events: Sequence[Any],
    positions: Sequence[int],
    leaf: Callable[[bytes], bytes] = leaf_of,
) -> None:
    from psycopg.sql import SQL

    s = f'"{schema}"'
    from psycopg.rows import tuple_row

    with curs.connection.cursor(row_factory=tuple_row) as cur:
        cur.execute(SQL(f"SELECT size, last_position FROM {s}.{HEAD} WHERE one = 1"))  # type: ignore[arg-type]
        row = cur.fetchone()
        size, last = (int(row[0]), int(row[1])) if row else (0, 0)
        need = merkle.edge_nodes(size)
        tiles = _postgres_tiles(cur, schema, tiles_for(need))
        edge = {node: node_from_tiles(node, tiles) for node in need}
        g = grow(size, last, edge, [leaf(bytes(e.state)) for e in stored_events], positions)
        cur.executemany(
            SQL(  # type: ignore[arg-type]
                f"INSERT INTO {s}.{TREE} VALUES (%s,%s,%s) "
                "ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes"
            ),
            tile_rows(g.nodes, tiles),
        )
        if g.gaps:
            cur.executemany(SQL(f"INSERT INTO {s}.{GAPS} VALUES (%s,%s)"), g.gaps)  # type: ignore[arg-type]
        cur.execute(
            SQL(  # type: ignore[arg-type]
                f"INSERT INTO {s}.{HEAD} VALUES (1, %s, %s) ON CONFLICT (one) DO UPDATE "
                "SET size = EXCLUDED.size, last_position = EXCLUDED.last_position"
            ),
            (g.size, g.last_position),
        )


def _postgres_tiles(cur: Any, schema: str, need: Iterable[Tile]) -> dict[Tile, bytes]:
    from psycopg.sql import SQL

    need = list(need)
    out: dict[Tile, bytes] = {}
    for start in range(0, len(need), 200):
        chunk = need[start : start + 200]
        where = " OR ".join("(level = %s AND idx = %s)" for _ in chunk)  # index scans, never a scan of the table
        cur.execute(
            SQL(f'SELECT level, idx, hashes FROM "{schema}".{TREE} WHERE {where}'),  # type: ignore[arg-type]
            [v for tile in chunk for v in tile],
        )
        out.update(((int(r[0]), int(r[1])), bytes(r[2])) for r in cur.fetchall())
    return out


# -- reading: proofs, checkpoints, catching up -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    note: str
    made_at: str


class LogTree:
    """`domain.ports.LogTree` over a ledger recorder's tables (SQLite or PostgreSQL)."""

    def __init__(self, recorder: Any) -> None:
        from ledger.adapters import is_postgres

        self.recorder = recorder
        self.postgres = is_postgres(recorder)
        self.schema = recorder.datastore.schema if self.postgres else ""

    # plumbing
    def _t(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.postgres else name

    def _run(self, sql: str, params: Sequence[Any] = (), *, write: bool = False) -> list[tuple[Any, ...]]:
        if self.postgres:
            from psycopg.sql import SQL

            sql = sql.replace("?", "%s")
            with self.recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cur:
                cur.execute(SQL(sql), params)  # type: ignore[arg-type]
                rows = cur.fetchall() if cur.description else []
                return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]
        with self.recorder.datastore.transaction(commit=write) as c:
            c.execute(sql, list(params))
            return [tuple(r) for r in c.fetchall()]

    def nodes(self, need: set[Node]) -> dict[Node, bytes]:
        if not need:
            return {}
        if self.postgres:
            from psycopg.rows import tuple_row

            with self.recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
                tiles = _postgres_tiles(cur, self.schema, tiles_for(need))
        else:
            with self.recorder.datastore.transaction(commit=False) as c:
                tiles = _sqlite_tiles(c, tiles_for(need))
        return {node: node_from_tiles(node, tiles) for node in need}

    # the tree
    def head(self) -> tuple[int, int]:
        """(size, last position) of the stored tree."""
        rows = self._run(f"SELECT size, last_position FROM {self._t(HEAD)} WHERE one = 1")
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    def size(self) -> int:
        return self.head()[0]

    def root(self, size: int) -> bytes:
        return merkle.root_at(size, self.nodes)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(index, size, self.nodes)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(old, new, self.nodes)

    def leaf(self, index: int) -> bytes:
        return self.nodes({(0, index)})[(0, index)]

    def leaves(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """(index, leaf hash) of up to `limit` leaves with index > `after`."""
        first = after + 1
        rows = self._run(
            f"SELECT idx, hashes FROM {self._t(TREE)} WHERE level = 0 AND idx >= ? ORDER BY idx LIMIT ?",
            (first >> TILE_HEIGHT, limit // TILE_WIDTH + 2),
        )
        out: list[tuple[int, bytes]] = []
        for j, blob in rows:
            for k in range(len(blob) // 32):
                index = (int(j) << TILE_HEIGHT) + k
                if index >= first and len(out) < limit:
                    out.append((index, bytes(blob[32 * k : 32 * k + 32])))
        return out

    def index_of(self, position: int) -> int:
        """The leaf index (0-based) of a global position."""
        rows = self._run(
            f"SELECT shift FROM {self._t(GAPS)} WHERE position <= ? ORDER BY position DESC LIMIT 1", (position,)
        )
        return position - 1 - (int(rows[0][0]) if rows else 0)

    def indices_of(self, positions: Sequence[int]) -> list[int]:
        rows = self._run(f"SELECT position, shift FROM {self._t(GAPS)} ORDER BY position")
        if not rows:
            return [p - 1 for p in positions]
        import bisect

        starts = [int(r[0]) for r in rows]
        shifts = [int(r[1]) for r in rows]
        out = []
        for p in positions:
            at = bisect.bisect_right(starts, p) - 1
            out.append(p - 1 - (shifts[at] if at >= 0 else 0))
        return out

    def stream_positions(self, subject: str) -> list[int]:
        """The global positions of one address's events, in stream order."""
        table = self._t(self.recorder.events_table_name) if self.postgres else self.recorder.events_table_name
        column = "notification_id" if self.postgres else "rowid"
        rows = self._run(
            f"SELECT {column} FROM {table} WHERE originator_id = ? ORDER BY originator_version", (subject,)
        )
        return [int(r[0]) for r in rows]

    # checkpoints
    def save_checkpoint(self, size: int, note: str, made_at: str) -> None:
        if self.postgres:
            sql = (
                f"INSERT INTO {self._t(CHECKPOINTS)} VALUES (?, ?, ?) ON CONFLICT (size) DO UPDATE "
                "SET note = EXCLUDED.note, made_at = EXCLUDED.made_at"
            )
        else:
            sql = f"INSERT OR REPLACE INTO {CHECKPOINTS} VALUES (?, ?, ?)"
        self._run(sql, (size, note, made_at), write=True)

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        """The checkpoint of that size, or the latest."""
        if size is None:
            rows = self._run(f"SELECT size, note, made_at FROM {self._t(CHECKPOINTS)} ORDER BY size DESC LIMIT 1")
        else:
            rows = self._run(f"SELECT size, note, made_at FROM {self._t(CHECKPOINTS)} WHERE size = ?", (size,))
        return StoredCheckpoint(int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._run(f"SELECT size, note, made_at FROM {self._t(CHECKPOINTS)} ORDER BY size")
        return [StoredCheckpoint(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    # catching up a store written before the tree existed
    def catch_up(self, page: int = 5000) -> int:
        """Add the events the tree lacks (a store from before the tree); the number added."""
        size, last = self.head()
        top = self.recorder.max_notification_id() or 0
        if last >= top:
            return 0
        if self.postgres:
            return self._catch_up_postgres(page)
        with self.recorder.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT size, last_position FROM {HEAD} WHERE one = 1")
            row = c.fetchone()
            last = row[1] if row else 0
            added = 0
            for batch in _pages(lambda after: _sqlite_rows(c, self.recorder.events_table_name, after, page), last):
                sqlite_append(c, [_State(b) for _, b in batch], [p for p, _ in batch])
                added += len(batch)
            return added

    def _catch_up_postgres(self, page: int) -> int:
        from psycopg.sql import SQL

        table = f'"{self.schema}"."{self.recorder.events_table_name}"'
        added = 0
        with self.recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(SQL(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))  # type: ignore[arg-type]
            cur.execute(SQL(f'SELECT last_position FROM "{self.schema}".{HEAD} WHERE one = 1'))  # type: ignore[arg-type]
            row = cur.fetchone()
            last = int(row["last_position"]) if row else 0

            def rows(after: int) -> list[tuple[int, bytes]]:
                cur.execute(
                    SQL(  # type: ignore[arg-type]
                        f"SELECT notification_id, state FROM {table} WHERE notification_id > %s "
                        "ORDER BY notification_id LIMIT %s"
                    ),
                    (after, page),
                )
                return [(int(r["notification_id"]), bytes(r["state"])) for r in cur.fetchall()]

            for batch in _pages(rows, last):
                postgres_append(cur, self.schema, [_State(b) for _, b in batch], [p for p, _ in batch])
                added += len(batch)
        return added


@dataclass(frozen=True, slots=True)
class _State:
    state: bytes


def _sqlite_rows(c: Any, table: str, after: int, limit: int) -> list[tuple[int, bytes]]:
    c.execute(f"SELECT rowid, state FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, limit))
    return [(int(r[0]), bytes(r[1])) for r in c.fetchall()]


def _pages(read: Callable[[int], list[tuple[int, bytes]]], after: int) -> Iterator[list[tuple[int, bytes]]]:
    while True:
        batch = read(after)
        if not batch:
            return
        yield batch
        after = batch[-1][0]
