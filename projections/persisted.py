"""The figures' `Aggregate` kept in the projection store, so a new process need not sum every summary.

Every (non-bulk) write of rows also stores, under the version it gives the rows, the *delta* its
rows make to the aggregate: the new summaries added, the summaries they replace taken out. A
reader that holds the aggregate at version V (or a stored *base*, the whole aggregate at some
version) applies the deltas of V+1 … W to have it at W, without reading a summary. Where a
version has no delta (a bulk write: the rebuild), the chain is broken and the reader sums the
rows once, as before, and stores a new base.

A delta is encoded with orjson, each multiset in two columns: `{"counts": {key: n}, "bags": {name:
[[item, …], [n, …]]}}`; tuple items (G8's decisions, E3, E4) are lists in JSON and tuples again
when read.

A base (`encode_aggregate`) is one JSON document, `{"counts": …, "bags": {name: [[item, …], [n,
…]]}, "ordered": [name, …]}` as bases always were (so a reader from before reads it whole), laid
out so that it can be read in parts: it begins with `BASE_PREFIX`, the size of `head` in ten
digits and `head` itself — the counters, each multiset's place in `bags` (name, offset, size,
whether in order) and the figures of `figures.static_metrics` — then `bags`. Its reader decodes
`head` only, and a multiset when it is first used (`Aggregate.encoded`): at 220,000 addresses the
base is ~50 MB, of which `ledger metrics` needs the counters and two small multisets (G7's,
G11's), as the figures that need the large ones (G8's 340,000 decisions) come stored. Those
stored figures are used only while the aggregate is the base's (any delta changes it) and only by
the code that computed them (`figures_code`: a fingerprint of `projections/figures.py` and
`projections/stats.py`). A base stores its multisets' items in ascending order where they have
one, so its reader has the sorted views the medians need without sorting. Bases without `head`
(and those from before `ordered`) are read whole, as before.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from projections import figures, stats
from projections.figures import Aggregate, contribute, static_metrics
from projections.store import Row

BASE_PREFIX = b'{"base":"parts","head_size":"'
_HEAD = b'","head":'
_BAGS = b',"bags":{'

__all__ = ["aggregate_of", "apply", "decode", "delta", "encode", "encode_aggregate", "rows_delta"]


def encode(counts: dict[str, int], bags: dict[str, Counter[Hashable]], ordered: bool = False) -> bytes:
    """Counters and multisets (a delta's with signed counts) as JSON bytes; `ordered`: each
    multiset's items in ascending order (as the earlier JSON form of a base)."""
    columns: dict[str, list[list[Any]]] = {}
    sorted_names: list[str] = []
    for name, bag in bags.items():
        pairs, in_order = _columns(bag, ordered)
        if pairs is None:
            continue
        if in_order:
            sorted_names.append(name)
        columns[name] = pairs
    doc: dict[str, Any] = {"counts": {k: n for k, n in counts.items() if n}, "bags": columns}
    if sorted_names:
        doc["ordered"] = sorted_names
    return orjson.dumps(doc)


def _columns(bag: Counter[Hashable], ordered: bool) -> tuple[list[list[Any]] | None, bool]:
    """A multiset's (items, counts) columns, None when empty; in ascending order when `ordered` and
    the items have one (the bool says whether they were put in order)."""
    pairs = [(item, n) for item, n in bag.items() if n]
    if not pairs:
        return None, False
    in_order = False
    if ordered:
        try:
            pairs.sort(key=itemgetter(0))
            in_order = True
        except TypeError:  # items of no common order (never sorted for a figure): kept as they are
            pass
    return [[item for item, _ in pairs], [n for _, n in pairs]], in_order


@cache
def figures_code() -> str:
    """A fingerprint of the code that computes the figures a base stores (`projections/figures.py`,
    `projections/stats.py`): a base's stored figures are used only by the code that computed them."""
    digest = hashlib.sha256()
    for module in (figures, stats):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:32]


def decode(body: bytes) -> tuple[dict[str, int], dict[str, dict[Hashable, int]]]:
    """(counts, bags as {item: n}) of `encode`'s bytes."""
    counts, bags, _ = _decoded(body)
    return counts, bags


def _decoded(body: bytes) -> tuple[dict[str, int], dict[str, dict[Hashable, int]], set[str]]:
    doc = orjson.loads(body)
    bags = {name: _items(columns) for name, columns in doc["bags"].items()}
    return doc["counts"], bags, set(doc.get("ordered", ()))


def _items(columns: list[list[Any]]) -> dict[Hashable, int]:
    items, counts = columns
    keys = map(tuple, items) if items and isinstance(items[0], list) else items
    return dict(zip(keys, counts, strict=True))


def aggregate_of(body: bytes) -> Aggregate:
    """An `Aggregate` from a stored base, with the sorted views of the multisets stored in order;
    a base of `encode_aggregate` decodes each multiset when it is first used."""
    if body.startswith(BASE_PREFIX):
        return _base_in_parts(body)
    return _base_whole(body)


def _base_whole(body: bytes) -> Aggregate:
    """A base decoded all at once (as every base was read before bases had a `head`)."""
    counts, bags, ordered = _decoded(body)
    agg = Aggregate()
    agg.counts.update(counts)
    for name, items in bags.items():
        if name in ordered:
            agg.load_sorted(name, items)
        else:  # stored unordered (or by a base from before bases were): its sorted view is built when asked
            agg.bags[name] = Counter(items)
    return agg


def _base_in_parts(body: bytes) -> Aggregate:
    view = memoryview(body)
    start = len(BASE_PREFIX) + 10 + len(_HEAD)
    size = int(body[len(BASE_PREFIX) : len(BASE_PREFIX) + 10])
    bags = start + size + len(_BAGS)
    if body[start - len(_HEAD) : start] != _HEAD or body[start + size : bags] != _BAGS:
        raise ValueError("a figures base whose head is not where it says")
    head = orjson.loads(view[start : start + size])
    agg = Aggregate()
    agg.counts.update(head["counts"])
    for name, offset, length, ascending in head["bags"]:
        part = view[bags + offset : bags + offset + length]

        def decode(part: memoryview = part, ascending: bool = ascending) -> tuple[dict[Hashable, int], bool]:
            return _items(orjson.loads(part)), ascending

        agg.encoded(name, decode)
    if head.get("code") == figures_code():
        agg.seed("metrics", head["metrics"])
    return agg


def encode_aggregate(agg: Aggregate) -> bytes:
    """A base: the whole aggregate, its multisets each in ascending order where they have one, and the
    figures that do not depend on "now" (`figures.static_metrics`), so a reader need neither sort nor
    decode the large multisets for them."""
    placed: list[list[Any]] = []
    ordered: list[str] = []
    parts: list[bytes] = []
    offset = 0
    for name, bag in agg.bags.items():
        columns, in_order = _columns(bag, ordered=True)
        if columns is None:
            continue
        key = (b"," if parts else b"") + orjson.dumps(name) + b":"
        value = orjson.dumps(columns)
        placed.append([name, offset + len(key), len(value), in_order])
        parts += (key, value)
        offset += len(key) + len(value)
        if in_order:
            ordered.append(name)
    counts = {k: n for k, n in agg.counts.items() if n}
    head = orjson.dumps({"counts": counts, "bags": placed, "code": figures_code(), "metrics": static_metrics(agg)})
    return b"".join(
        (
            BASE_PREFIX,
            b"%010d" % len(head),
            _HEAD,
            head,
            _BAGS,
            *parts,
            b'},"counts":',
            orjson.dumps(counts),
            b',"ordered":',
            orjson.dumps(ordered),
            b"}",
        )
    )


def is_in_parts(body: bytes) -> bool:
    """Whether a base is of the form `encode_aggregate` writes now (one from before is stored again)."""
    return body.startswith(BASE_PREFIX)


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
