"""The projection store: per-address rows and consumed positions, on SQLite or PostgreSQL.

One row per address holds what serving needs without a fold: the now-independent case view,
the attention candidates (finished against "now" at query time) and the summary the global
figures are added up from, each as JSON bytes. Its attention points are also entries of the
worklist index (`projections.worklist`), replaced with the row in the same transaction.
Positions (how far the store has consumed the event log, or each Kafka partition) are written
in the same transaction as the rows.

A store is opened from a `StoreSpec` (see `open_store`). `rebuild_store` opens a fresh store
beside the active one; `swap` makes it the active one atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from projections.worklist import Entry, Point, Query

LOG = "log"  # the position name of the event store's global order
KAFKA_PREFIX = "kafka:"  # the Kafka consumers' position names: "kafka:<topic>:<partition>"


@dataclass(frozen=True, slots=True)
class Row:
    """One address's projection as of some position."""

    subject: str
    streamposition: int  # the last stream position folded in
    events: int  # stored events of the address folded in
    view: bytes
    attention: bytes
    summary: bytes
    points: tuple[Point, ...] = ()  # its open attention points: the worklist index's entries
    # its bitemporal index (`projections.bitemporal`): what it adds at any cut-offs; None when a
    # bulk write leaves it to `projections.rebuild.fill_index` (any older corners are dropped)
    corners: bytes | None = None


@dataclass(frozen=True, slots=True)
class CaseRow:
    subject: str
    streamposition: int
    events: int
    view: bytes
    attention: bytes


class NoStore(Exception):
    """A read-only reader found no projection store at the location (nothing has filled it yet)."""


class StaleWrite(Exception):
    """The store's position moved on since the batch was read: another writer got there first."""


class ProjectionStore(Protocol):
    """What the projector, the rebuild and the queries need from a store."""

    generation: str  # changes when a rebuilt store is swapped in

    def positions(self) -> dict[str, int]:
        """Every consumed position by name."""
        ...

    def position(self, name: str = LOG) -> int:
        """One consumed position (0 when none)."""
        ...

    def write(
        self,
        rows: Sequence[Row],
        positions: dict[str, int],
        expected: dict[str, int] | None = None,
        meta: dict[str, str] | None = None,
    ) -> None:
        """In one transaction: upsert `rows`, set `positions` (and `meta`).

        With `expected`, raise `StaleWrite` (and write nothing) unless each named position still
        has that value.
        """
        ...

    def case(self, subject: str) -> CaseRow | None: ...

    def worklist(self, query: Query) -> tuple[int, list[Entry]]:
        """(total, one page) of the open attention points that match `query`, in urgency order,
        from the worklist index."""
        ...

    def points(self) -> Iterator[tuple[str, Point]]:
        """Every entry of the worklist index (for checks; not a query path)."""

    def find(self, postcode: str, huisnummer: int) -> list[tuple[str, bytes]]:
        """(subject, view) of the addresses registered at this postcode and house number."""
        ...

    def streampositions(self, subjects: Sequence[str]) -> dict[str, int]:
        """The last folded stream position of those subjects that have a row."""
        ...

    def corners(self, changed_after: int = -1) -> tuple[int, int, list[tuple[str, bytes]]]:
        """(version, rows without corners, [(subject, corners)] of the rows written after version
        `changed_after`) in one snapshot: the bitemporal index (`projections.asof`). Rows without
        corners were written before the index existed (`ledger rebuild` adds them)."""
        ...

    def missing_corners(self) -> dict[str, int]:
        """The addresses whose row has no corners: subject -> the row's stream position."""
        ...

    def fill_corners(self, corners: Sequence[tuple[str, int, bytes]]) -> int:
        """Store (subject, stream position, corners) where the row is still at that stream
        position and has none (a later write brings its own); how many were stored."""
        ...

    def summaries(self, changed_after: int = -1) -> Iterator[tuple[str, bytes, int]]:
        """(subject, summary, row version) of rows written after version `changed_after`."""
        ...

    def snapshot(self, changed_after: int) -> tuple[dict[str, int], int, list[tuple[str, bytes, int]]]:
        """Positions, version and the summaries written after `changed_after`, read consistently."""
        ...

    def figures_since(self, after: int) -> tuple[dict[str, int], int, list[tuple[int, bool, bytes]]]:
        """Positions, version and the stored figures (bases and deltas) after version `after`."""
        ...

    def save_figures(self, version: int, body: bytes) -> None:
        """Store the whole aggregate at `version` as a base (`projections.persisted`)."""
        ...

    def data_version(self) -> int | None:
        """A number that changes whenever any connection committed to the store (None: the store
        cannot tell cheaply, as on PostgreSQL; then every look reads the store)."""
        ...

    def version(self) -> int:
        """A counter that grows with every write (rows carry the version that wrote them)."""
        ...

    def subjects(self) -> set[str]: ...

    def meta(self) -> dict[str, str]: ...

    def count(self) -> int: ...

    def events_total(self) -> int:
        """Stored events folded into the rows (the sum of their `events`)."""
        ...

    def finish_bulk(self) -> None:
        """Make a bulk-written (rebuilt) store durable and ready to serve."""
        ...

    def close(self) -> None: ...


def chunks(rows: Sequence[Row], size: int) -> Iterable[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
