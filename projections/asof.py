"""Figures at any (`at`, `known_at`) from the bitemporal index, in milliseconds.

Every address's corners (`projections.bitemporal`) are held as columns: the corner's time and
recorded time in microseconds, and what it adds, a signed count of a counter or a signed item of
a multiset. The aggregate at a cut-off pair is the sum of the corners at or below it on both
axes (a dominance sum): one vectorised mask and `bincount` per counter table and multiset,
with the multisets' items kept in their sort order so that a figure reads its sorted view
without sorting (`SortedView`). The figures are then the ones `projections.figures` computes
from any aggregate (`metrics`, `evaluation`), so they equal a fold at the cut-offs.

An `AsOfIndex` never changes once made: rows written later are applied by `updated`, which
returns a new index sharing the columns and holding the changed addresses apart (their old
corners taken out, the new ones added, in Python), until so many have changed that the columns
are built again. A reader can so use an index outside any lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import orjson
from numpy.typing import NDArray

from projections.bitemporal import EVENTS
from projections.figures import Aggregate

OPEN = np.iinfo(np.int64).max  # no cut-off on that axis
REBUILD_AFTER = 2000  # addresses changed since the columns were built: then they are built again
BLOCKS = 64  # the counters' grid of prefix sums: BLOCKS x BLOCKS blocks

_loads = orjson.loads
Ints = NDArray[np.int64]


def micros(texts: Sequence[str]) -> Ints:
    """Microseconds since the epoch of the ledger's fixed-width UTC texts (the `Z` cut off)."""
    return np.array(texts, dtype="U26").astype("datetime64[us]").view(np.int64)


def cutoff(text: str | None) -> int:
    return OPEN if text is None else int(micros([text])[0])


def _item(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, list) else value  # JSON gave a list for a tuple


class _Columns:
    """One table of signed entries: corner times, what they add to (a counter's number or a
    multiset item's rank), and by how much; in the order of the corners' times (`x`)."""

    __slots__ = ("x", "y", "what", "n", "_orders", "_blocks")

    def __init__(self, x: list[str], y: list[str], what: list[int], n: list[int], blocks: int = 0) -> None:
        xs = micros(x)
        order = np.argsort(xs, kind="stable")
        self.x, self.y = xs[order], micros(y)[order]
        self.what = np.array(what, dtype=np.int64)[order]
        self.n = np.array(n, dtype=np.int64)[order]
        self._orders: dict[bool, tuple[Ints, Ints, Ints]] = {}
        self._blocks = _Blocks(self, blocks) if blocks and len(self.x) else None

    def ordered(self, known_then: bool) -> tuple[Ints, Ints, Ints]:
        """(when each entry counts on a series' axis, ascending; its counter or item; its number):
        at `at = p` as known now, at `at = known_at = p` as known then (the later of its two times)."""
        found = self._orders.get(known_then)
        if found is None:
            if not known_then:
                return self.x, self.what, self.n
            when = np.maximum(self.x, self.y)
            order = np.argsort(when, kind="stable")
            found = self._orders[known_then] = (when[order], self.what[order], self.n[order])
        return found

    def sums(self, at: int, known_at: int, size: int) -> Ints:
        """The signed sum per counter or item of the entries at or below (`at`, `known_at`)."""
        if self._blocks is not None:
            return self._blocks.sums(at, known_at)
        end = int(np.searchsorted(self.x, at, side="right"))
        what, n = self.what[:end], self.n[:end]
        if known_at != OPEN:
            mask = self.y[:end] <= known_at
            what, n = what[mask], n[mask]
        return _summed(what, n, size)


def _summed(what: Ints, n: Ints, size: int) -> Ints:
    return np.bincount(what, weights=n, minlength=size).astype(np.int64)


class _Blocks:
    """Two-dimensional prefix sums of a table with few counters over a grid of blocks (by
    quantiles of both times): an answer adds the blocks wholly below the cut-offs and scans the
    entries of the two partial strips, about 2/`blocks` of the table."""

    __slots__ = ("size", "x_start", "y_start", "x_from", "y_from", "prefix", "by_y")

    def __init__(self, columns: _Columns, blocks: int) -> None:
        self.size = size = int(columns.what.max()) + 1
        x, y = columns.x, columns.y
        picks = np.linspace(0, len(x) - 1, blocks).astype(np.int64)
        self.x_start = np.unique(x[picks])
        by_y = np.argsort(y, kind="stable")
        y_sorted = y[by_y]
        self.y_start = np.unique(y_sorted[picks])
        x_block = np.searchsorted(self.x_start, x, side="right") - 1
        y_block = np.searchsorted(self.y_start, y, side="right") - 1
        bx, by = len(self.x_start), len(self.y_start)
        cells = np.bincount(
            (x_block * by + y_block) * size + columns.what, weights=columns.n, minlength=bx * by * size
        ).astype(np.int64)
        prefix = np.zeros((bx + 1, by + 1, size), dtype=np.int64)
        prefix[1:, 1:] = cells.reshape(bx, by, size).cumsum(axis=0).cumsum(axis=1)
        self.prefix = prefix  # [i, j]: the sums of the blocks before x block i and y block j
        self.x_from = np.searchsorted(x, self.x_start, side="left")  # each x block's first entry
        self.y_from = np.searchsorted(y_sorted, self.y_start, side="left")
        self.by_y = (y_sorted, x_block[by_y], columns.what[by_y], columns.n[by_y], x, y, columns.what, columns.n)

    def sums(self, at: int, known_at: int) -> Ints:
        i = int(np.searchsorted(self.x_start, at, side="right"))  # x blocks starting at or before `at`
        j = int(np.searchsorted(self.y_start, known_at, side="right"))
        if i == 0 or j == 0:
            return np.zeros(self.size, dtype=np.int64)
        y_sorted, x_block_y, what_y, n_y, x, y, what, n = self.by_y
        total = self.prefix[i - 1, j - 1].copy()
        # the last x block reached (partial in x), at any y block up to the last reached
        lo, hi = self.x_from[i - 1], (self.x_from[i] if i < len(self.x_from) else len(x))
        keep = (x[lo:hi] <= at) & (y[lo:hi] <= known_at)
        total += _summed(what[lo:hi][keep], n[lo:hi][keep], self.size)
        # the last y block reached (partial in y), at the x blocks before the last reached
        lo, hi = self.y_from[j - 1], (self.y_from[j] if j < len(self.y_from) else len(y_sorted))
        keep = (x_block_y[lo:hi] < i - 1) & (y_sorted[lo:hi] <= known_at)
        total += _summed(what_y[lo:hi][keep], n_y[lo:hi][keep], self.size)
        return total


class _Running:
    """The sums of one table along a series' axis, brought forward point by point."""

    __slots__ = ("when", "what", "n", "sums", "done")

    def __init__(self, columns: _Columns, known_then: bool, size: int) -> None:
        self.when, self.what, self.n = columns.ordered(known_then)
        self.sums = np.zeros(size, dtype=np.int64)
        self.done = 0

    def at(self, point: int) -> Ints:
        end = int(np.searchsorted(self.when, point, side="right"))
        if end > self.done:
            self.sums += np.bincount(
                self.what[self.done : end], weights=self.n[self.done : end], minlength=len(self.sums)
            ).astype(np.int64)
            self.done = end
        return self.sums


class _Bag:
    """One multiset's entries, with its distinct items in ascending order."""

    __slots__ = ("columns", "items", "rank")

    def __init__(self, x: list[str], y: list[str], items: list[Hashable], n: list[int]) -> None:
        self.items: list[Any] = sorted(set(items))  # type: ignore[type-var]  # one bag's items compare
        self.rank = {item: i for i, item in enumerate(self.items)}
        rank = self.rank
        self.columns = _Columns(x, y, [rank[item] for item in items], n)


class SortedView(Sequence[Any]):
    """A multiset as an ascending sequence, read on lookup from its items and the ranks it holds."""

    def __init__(self, items: list[Any], ranks: Ints) -> None:
        self._items = items
        self._ranks = ranks

    def __len__(self) -> int:
        return len(self._ranks)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            items = self._items
            return [items[i] for i in self._ranks[index].tolist()]
        return self._items[self._ranks[index]]

    def __iter__(self) -> Iterator[Any]:
        items = self._items
        return (items[i] for i in self._ranks.tolist())


class AsOfIndex:
    """The aggregate of every address's corners at any cut-off pair (immutable; see `updated`)."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies  # subject -> corners as the columns hold them
        self.changed: dict[str, list[Any]] = {}  # subject -> its corners since (decoded)
        keys: dict[str, int] = {}
        cx: list[str] = []
        cy: list[str] = []
        ck: list[int] = []
        cn: list[int] = []
        bags: dict[str, tuple[list[str], list[str], list[Hashable], list[int]]] = {}
        for body in bodies.values():
            for t, r, counts, items in _loads(body):
                for key, n in counts.items():
                    k = keys.get(key)
                    if k is None:
                        k = keys[key] = len(keys)
                    cx.append(t)
                    cy.append(r)
                    ck.append(k)
                    cn.append(n)
                for name, item, n in items:
                    bag = bags.get(name)
                    if bag is None:
                        bag = bags[name] = ([], [], [], [])
                    bag[0].append(t)
                    bag[1].append(r)
                    bag[2].append(_item(item))
                    bag[3].append(n)
        self.keys = list(keys)
        self.counts = _Columns(cx, cy, ck, cn, blocks=BLOCKS)
        self.bags = {name: _Bag(*entries) for name, entries in bags.items()}
        self._changed_items: dict[str, dict[Hashable, int]] | None = None

    def updated(self, rows: Iterable[tuple[str, bytes]]) -> AsOfIndex:
        """An index that also holds `rows` (subject, corners), written since this one was made."""
        changed = dict(self.changed)
        for subject, body in rows:
            changed[subject] = _loads(body)
        if len(changed) > REBUILD_AFTER:
            bodies = dict(self.bodies)
            for subject, found in changed.items():
                bodies[subject] = orjson.dumps(found)
            return AsOfIndex(bodies)
        index = AsOfIndex.__new__(AsOfIndex)
        index.bodies, index.keys, index.counts, index.bags = self.bodies, self.keys, self.counts, self.bags
        index.changed = changed
        index._changed_items = None
        return index

    def aggregate(self, at: str | None, known_at: str | None) -> tuple[Aggregate, int]:
        """(the aggregate at the cut-offs, stored events within them)."""
        a, k = cutoff(at), cutoff(known_at)

        def net(name: str) -> Ints | None:
            bag = self.bags.get(name)
            return None if bag is None else bag.columns.sums(a, k, len(bag.items))

        return self._finish(self.counts.sums(a, k, len(self.keys)), at, known_at, a, k, net)

    def _finish(
        self,
        sums: Ints,
        at: str | None,
        known_at: str | None,
        a: int,
        k: int,
        net: Callable[[str], Ints | None],
    ) -> tuple[Aggregate, int]:
        """The aggregate of the counters' `sums` and the multisets `net` gives, with the changed addresses."""
        counts: Counter[str] = Counter({self.keys[i]: int(sums[i]) for i in np.flatnonzero(sums).tolist()})
        bag_changes: dict[str, dict[Hashable, int]] = {}
        for sign, found in self._changes():
            for t, r, entries, items in found:
                if (at is not None and t > at) or (known_at is not None and r > known_at):
                    continue  # fixed-width UTC texts compare as the times they name
                for key, n in entries.items():
                    counts[key] += sign * n
                for name, item, n in items:
                    changes = bag_changes.setdefault(name, {})
                    item = _item(item)
                    changes[item] = changes.get(item, 0) + sign * n
        counts = +counts  # drop what summed to zero
        events = counts.pop(EVENTS, 0)
        return _AsOf(self, net, counts, bag_changes), events

    def series(self, points: Sequence[str], known_then: bool) -> Iterator[tuple[str, Aggregate, int]]:
        """(point, aggregate, events) at each of `points` (ascending): as known then at
        `at = known_at = point`, else at `at = point`; each table summed once along the axis.
        An aggregate is read from sums that change at the next point: read it before then."""
        counts = _Running(self.counts, known_then, len(self.keys))
        bags: dict[str, _Running] = {}
        for point in points:
            p = cutoff(point)
            sums = counts.at(p)

            def net(name: str, p: int = p) -> Ints | None:
                """The multiset `name` at this point (brought forward when a figure asks for it)."""
                bag = self.bags.get(name)
                if bag is None:
                    return None
                running = bags.get(name)
                if running is None:
                    running = bags[name] = _Running(bag.columns, known_then, len(bag.items))
                return running.at(p)  # changed in place at the next point: read before then

            agg, events = self._finish(sums, point, point if known_then else None, p, p if known_then else OPEN, net)
            yield point, agg, events

    def _changes(self) -> Iterator[tuple[int, list[Any]]]:
        """(sign, corners): the changed addresses' corners taken out (as the columns hold them) and put back."""
        for subject, found in self.changed.items():
            old = self.bodies.get(subject)
            if old is not None:
                yield -1, _loads(old)
            yield 1, found

    def view(self, name: str, summed: Ints | None, changes: dict[Hashable, int] | None) -> Sequence[Any]:
        """The multiset `name`, ascending, from its items' sums at the cut-offs (None: no entries)."""
        bag = self.bags.get(name)
        if bag is None or summed is None:
            net = np.zeros(0, dtype=np.int64)
            items: list[Any] = []
        else:
            net = summed
            items = bag.items
        extra: list[Any] = []
        if changes:
            net = net.copy()
            rank = bag.rank if bag is not None else {}
            for item, n in changes.items():
                i = rank.get(item)
                if i is not None:
                    net[i] += n
                elif n > 0:
                    extra.extend([item] * n)
        ranks = np.repeat(np.arange(len(items), dtype=np.int64), net)
        if not extra:
            return SortedView(items, ranks)
        values = [items[i] for i in ranks.tolist()] + extra
        values.sort()
        return values


class _AsOf(Aggregate):
    """An aggregate at one cut-off pair whose multisets' sorted views are read from the index
    when a figure asks for them."""

    def __init__(
        self,
        index: AsOfIndex,
        net: Callable[[str], Ints | None],
        counts: Counter[str],
        changes: dict[str, dict[Hashable, int]],
    ) -> None:
        super().__init__()
        self.counts = counts
        self._index, self._net, self._changes = index, net, changes
        present: dict[str, Counter[Hashable]] = {name: Counter() for name in index.bags}
        present.update({name: Counter() for name in changes})
        self.bags = present  # names only: which multisets there are (`evaluation` lists E1's)

    def sorted(self, name: str) -> list[Any]:
        values = self._sorted.get(name)
        if values is None:
            view: Any = self._index.view(name, self._net(name), self._changes.get(name))
            values = self._sorted[name] = view  # a Sequence, read as the figures read lists
        return values
