"""The figures' `Aggregate` kept in the projection store, so a new process need not sum every summary.

Every (non-bulk) write of rows also stores, under the version it gives the rows, the *delta* its
rows make to the aggregate: the new summaries added, the summaries they replace taken out. A
reader that holds the aggregate at version V (or a stored *base*, the whole aggregate at some
version) applies the deltas of V+1 … W to have it at W, without reading a summary. Where a
version has no delta (a bulk write: the rebuild), the chain is broken and the reader sums the
rows once, as before, and stores a new base.

Encoded with orjson, each multiset in two columns: `{"counts": {key: n}, "bags": {name: [[item, …],
[n, …]]}[, "ordered": [name, …]]}`; tuple items (G8's decisions, E3, E4) are lists in JSON and
tuples again when read. A base stores its multisets' items in ascending order where they have one
(`ordered` names them), so its reader has the sorted views the medians need without sorting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from operator import itemgetter
from typing import Any

import orjson

from projections.figures import Aggregate, contribute
from projections.store import Row

__all__ = ["aggregate_of", "apply", "decode", "delta", "encode", "encode_aggregate", "rows_delta"]


def encode(counts: dict[str, int], bags: dict[str, Counter[Hashable]], ordered: bool = False) -> bytes:
    """Counters and multisets (an aggregate's, or a delta's with signed counts) as JSON bytes;
    `ordered`: each multiset's items in ascending order (a base: its reader need not sort them)."""
    columns: dict[str, list[list[Any]]] = {}
    sorted_names: list[str] = []
    for name, bag in bags.items():
        pairs = [(item, n) for item, n in bag.items() if n]
        if not pairs:
            continue
        if ordered:
            try:
                pairs.sort(key=itemgetter(0))
                sorted_names.append(name)
            except TypeError:  # items of no common order (never sorted for a figure): kept as they are
                pass
        columns[name] = [[item for item, _ in pairs], [n for _, n in pairs]]
    doc: dict[str, Any] = {"counts": {k: n for k, n in counts.items() if n}, "bags": columns}
    if sorted_names:
        doc["ordered"] = sorted_names
    return orjson.dumps(doc)


def decode(body: bytes) -> tuple[dict[str, int], dict[str, dict[Hashable, int]]]:
    """(counts, bags as {item: n}) of `encode`'s bytes."""
    counts, bags, _ = _decoded(body)
    return counts, bags


def _decoded(body: bytes) -> tuple[dict[str, int], dict[str, dict[Hashable, int]], set[str]]:
    doc = orjson.loads(body)
    bags: dict[str, dict[Hashable, int]] = {}
    for name, (items, counts) in doc["bags"].items():
        keys = map(tuple, items) if items and isinstance(items[0], list) else items
        bags[name] = dict(zip(keys, counts, strict=True))
    return doc["counts"], bags, set(doc.get("ordered", ()))


def aggregate_of(body: bytes) -> Aggregate:
    """An `Aggregate` from a stored base, with the sorted views of the multisets stored in order."""
    counts, bags, ordered = _decoded(body)
    agg = Aggregate()
    agg.counts.update(counts)
    for name, items in bags.items():
        if name in ordered:
            agg.load_sorted(name, items)
        else:  # stored unordered (or by a base from before bases were): its sorted view is built when asked
            agg.bags[name] = Counter(items)
    return agg


def encode_aggregate(agg: Aggregate) -> bytes:
    return encode(agg.counts, agg.bags, ordered=True)


def delta(old: Iterable[tuple[str, bytes]], new: Iterable[tuple[str, bytes]]) -> bytes:
    """What replacing the `old` summaries (subject, JSON) by the `new` ones changes in the aggregate.

    Items are collected into lists and counted at C speed (`Counter.update`/`subtract`), as
    `Aggregate.add_all` does: this runs in every write of the incremental path."""
    counts: dict[str, int] = {}

    def count(key: str, n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    lists: tuple[dict[str, list[Hashable]], dict[str, list[Hashable]]] = ({}, {})  # taken out, put in
    for side, summaries in ((0, old), (1, new)):
        target = lists[side]

        def bag(name: str, item: Hashable, _n: int, target: dict[str, list[Hashable]] = target) -> None:
            values = target.get(name)
            if values is None:
                values = target[name] = []
            values.append(item)

        for subject, summary in summaries:
            contribute(subject, orjson.loads(summary), 1 if side else -1, count, bag)
    bags: dict[str, Counter[Hashable]] = {}
    for name in lists[0].keys() | lists[1].keys():
        bag_ = bags[name] = Counter(lists[1].get(name, ()))
        bag_.subtract(lists[0].get(name, ()))
    return encode(counts, bags)


def rows_delta(old: dict[str, bytes], rows: Sequence[Row]) -> bytes:
    """The delta of writing `rows` over the stored summaries `old` (by subject; absent: a new row)."""
    changed = [r for r in rows if old.get(r.subject) != r.summary]
    return delta(
        ((r.subject, old[r.subject]) for r in changed if r.subject in old), ((r.subject, r.summary) for r in changed)
    )


def apply(agg: Aggregate, body: bytes) -> None:
    """Add a stored delta to `agg` in place (its sorted views follow, as for `Aggregate.add`)."""
    counts, bags = decode(body)
    agg.apply_changes(counts, bags)
