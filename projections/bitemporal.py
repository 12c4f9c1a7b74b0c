"""The bitemporal index of one address: what its summary adds to the figures at every (`at`, `known_at`).

Under the cut-offs an event stands by two comparisons only (`domain.history.standing`): its
`time` with `at` and its `recordedtime` with `known_at`. So on the plane of cut-off pairs an
address's history, and with it its summary and what the summary adds to the aggregate
(`projections.figures.contribute`), is constant on the cells of the grid its events' times
(one axis) and recorded times (the other) draw. Let F(i, j) be that contribution on cell
(i, j), zero left of the first time or below the first recorded time (nothing within the
cut-offs). Then, with D(i, j) = F(i, j) - F(i-1, j) - F(i, j-1) + F(i-1, j-1),

    F(cell of (at, known_at)) = sum of D(i, j) over the corners with time_i <= at and recorded_j <= known_at,

so the aggregate at any cut-off pair is the sum of every address's corners below and left of
it: a two-dimensional dominance sum (`projections.asof` answers it). D(i, j) can only differ
from zero where crossing time line i changes something at recorded line j (an event with that
`time` recorded by then) and crossing recorded line j changes something at time line i (an
event recorded then that had happened by time i, or an amendment, which governs whatever its
own time); those are the corners computed. For an address whose events were recorded in the
order they happened, that is one corner per event; each late registration and each amendment
adds corners where it crosses the others. The contributions are the figures' own
(`summarize`, `contribute`), so the index equals the fold by construction, and
`tests/projections/test_bitemporal.py` checks it against refolding at random cut-off pairs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import orjson

from domain.history import AMENDMENTS, TYPE_NAMES, name_of, order_key
from projections.figures import PARTS, contribute
from projections.fold import HANDLERS, AddressState, fold
from projections.history import History, is_late, prepare
from projections.summary import summarize

EVENTS = "~events"  # the count of stored events within the cut-offs (the answers' provenance)

# one corner: (time line, recorded line, signed counts, signed multiset items [bag, item, n])
Corner = tuple[str, str, dict[str, int], list[list[Any]]]
Contribution = tuple[dict[str, int], dict[tuple[str, Hashable], int]]
Cell = tuple[int, int]
_EMPTY: Contribution = ({}, {})
_SIGNS = ((0, 0, 1), (-1, 0, -1), (0, -1, -1), (-1, -1, 1))  # D(i, j) from its four cells


def corners(subject: str, events: Sequence[dict[str, Any]]) -> list[Corner]:
    """The nonzero corners D(i, j) of one address's stored events (any order)."""
    if not events:
        return []
    times = sorted({e["time"] for e in events})
    recorded = sorted({e["recordedtime"] for e in events})
    amendment = [name_of(e["type"]) in AMENDMENTS for e in events]
    prefixes = None if any(amendment) else _prefix_summaries(subject, events)
    if prefixes is not None:
        return _prefix_corners(subject, times, recorded, *prefixes, _candidates(events, amendment, times, recorded))
    return _folded_corners(subject, events, amendment, times, recorded)


def _candidates(
    events: Sequence[dict[str, Any]], amendment: list[bool], times: list[str], recorded: list[str]
) -> Iterator[Cell]:
    """The cells (i, j) where D(i, j) can differ from zero (see the module's docstring)."""
    # the earliest time among the events recorded on each recorded line (None: an amendment,
    # which counts at every time line), and the earliest recorded time on each time line
    row_from: dict[str, str | None] = {}
    for e, amends in zip(events, amendment, strict=True):
        r = e["recordedtime"]
        first = row_from.get(r, "~")
        if amends:
            row_from[r] = None
        elif first is not None and e["time"] < first:
            row_from[r] = e["time"]
    column_from: dict[str, str] = {}
    for e in events:
        t = e["time"]
        if t not in column_from or e["recordedtime"] < column_from[t]:
            column_from[t] = e["recordedtime"]
    # the earliest recorded time on each time line and every later one: where a row's search stops
    later_from = [column_from[t] for t in times]
    for i in range(len(times) - 2, -1, -1):
        if later_from[i + 1] < later_from[i]:
            later_from[i] = later_from[i + 1]
    for j, r in enumerate(recorded):
        first = row_from[r]
        for i in range(0 if first is None else bisect_left(times, first), len(times)):
            if later_from[i] > r:
                break  # no time line from here on has an event recorded by `r`
            if column_from[times[i]] <= r:
                yield i, j


def _corner(t: str, r: str, counts: dict[str, int], items: dict[tuple[str, Hashable], int]) -> Corner | None:
    kept = {name: n for name, n in counts.items() if n}
    bags = [[name, item, n] for (name, item), n in items.items() if n]
    return (t, r, kept, bags) if kept or bags else None


def _folded_corners(
    subject: str, events: Sequence[dict[str, Any]], amendment: list[bool], times: list[str], recorded: list[str]
) -> list[Corner]:
    """The corners of any history: each cell's contribution from a fold at its cut-offs (one per
    distinct set of standings)."""
    memo: dict[Cell, Contribution] = {}
    by_standing: dict[bytes, Contribution] = {}

    def at_cell(i: int, j: int) -> Contribution:
        if i < 0 or j < 0:
            return _EMPTY  # before every time or every recorded time: nothing stands within
        hit = memo.get((i, j))
        if hit is None:
            a, k = times[i], recorded[j]
            key = bytes(
                0 if e["recordedtime"] > k else (2 if e["time"] <= a else 1 if amends else 0)
                for e, amends in zip(events, amendment, strict=True)
            )
            hit = by_standing.get(key)
            if hit is None:
                history = prepare(events, subject, a, k)
                hit = _EMPTY if not history.stored else _summed(subject, summarize(fold(history)), history.stored)
                by_standing[key] = hit
            memo[(i, j)] = hit
        return hit

    out: list[Corner] = []
    for i, j in _candidates(events, amendment, times, recorded):
        signs: dict[int, list[Any]] = {}  # equal cells cancel before their sums are combined
        for di, dj, sign in _SIGNS:
            cell = at_cell(i + di, j + dj)
            entry = signs.get(id(cell))
            if entry is None:
                signs[id(cell)] = [cell, sign]
            else:
                entry[1] += sign
        counts: dict[str, int] = {}
        items: dict[tuple[str, Hashable], int] = {}
        for (c, b), sign in signs.values():
            if sign:
                for name, n in c.items():
                    counts[name] = counts.get(name, 0) + sign * n
                for item, n in b.items():
                    items[item] = items.get(item, 0) + sign * n
        corner = _corner(times[i], recorded[j], counts, items)
        if corner is not None:
            out.append(corner)
    return out


def _summed(subject: str, summary: dict[str, Any], stored: int) -> Contribution:
    """What a summary of `stored` events adds to the aggregate."""
    counts: dict[str, int] = {EVENTS: stored}
    items: dict[tuple[str, Hashable], int] = {}

    def count(key: str, n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    def bag(name: str, item: Hashable, n: int) -> None:
        items[(name, item)] = items.get((name, item), 0) + n

    contribute(subject, summary, 1, count, bag)
    return {k: n for k, n in counts.items() if n}, items


def _prefix_summaries(
    subject: str, events: Sequence[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], int]], list[str]] | None:
    """When no event was recorded before one that happened earlier (and the events of each
    moment together), every cell holds the events of the first m moments: (the summary and
    stored events after each moment, the moments' recorded times), from one fold that stops at
    every moment. None for any other history."""
    ordered = sorted(events, key=order_key)
    moments: list[tuple[int, str]] = []  # (end in `ordered`, recorded time)
    for n, e in enumerate(ordered):
        t, r = e["time"], e["recordedtime"]
        if moments and ordered[n - 1]["time"] == t:
            if r != moments[-1][1]:
                return None
            moments[-1] = (n + 1, r)
        else:
            if moments and r < moments[-1][1]:
                return None
            moments.append((n + 1, r))
    history = History(subject)
    state = AddressState(history)
    by_org = history.by_org
    handlers = HANDLERS
    names = TYPE_NAMES
    out: list[tuple[dict[str, Any], int]] = []
    start = 0
    first = ordered[0]["time"]
    for end, _ in moments:
        for e in ordered[start:end]:
            counts = by_org.get(e["org"])
            if counts is None:
                counts = by_org[e["org"]] = [0, 0]
            counts[0] += 1
            if is_late(e["time"], e["recordedtime"]):
                counts[1] += 1
            handler = handlers.get(names.get(e["type"]) or name_of(e["type"]))
            if handler is not None:
                handler(state, e["time"], e["data"])
        start = end
        state.first_time, state.last_time = first, ordered[end - 1]["time"]
        summary = summarize(state)
        summary["orgs"] = {org: [n, late] for org, (n, late) in by_org.items()}  # not the dict folding goes on in
        out.append((summary, end))
    return out, [r for _, r in moments]


def _prefix_corners(
    subject: str,
    times: list[str],
    recorded: list[str],
    summaries: list[tuple[dict[str, Any], int]],
    moment_recorded: list[str],
    cells: Iterator[Cell],
) -> list[Corner]:
    """The corners of a history whose cells hold prefixes of its moments: a corner adds again
    only the parts of `contribute` whose inputs differ between its cells' prefixes."""
    recorded_by = [bisect_right(moment_recorded, r) for r in recorded]  # moments recorded by each line
    # per part, the prefix (moments, 0: none) whose inputs each prefix shares, and the parts
    # whose inputs change at each moment
    same: list[list[int]] = []
    changed: list[list[int]] = [[] for _ in range(len(summaries) + 1)]
    for g, (keys, _) in enumerate(PARTS):
        versions = [0]
        previous: Any = None
        for m, (summary, _) in enumerate(summaries, start=1):
            inputs = [summary.get(key) for key in keys]
            if m > 1 and inputs == previous:
                versions.append(versions[-1])
            else:
                versions.append(m)
                changed[m].append(g)
            previous = inputs
        same.append(versions)
    added: dict[tuple[int, int], Contribution] = {}
    out: list[Corner] = []
    for i, j in cells:
        prefixes: dict[int, int] = {}  # prefix -> its sign in D(i, j)
        for di, dj, sign in _SIGNS:
            ci, cj = i + di, j + dj
            m = 0 if ci < 0 or cj < 0 else min(ci + 1, recorded_by[cj])
            prefixes[m] = prefixes.get(m, 0) + sign
        signed = [(m, sign) for m, sign in prefixes.items() if sign]
        if not signed:
            continue
        counts: dict[str, int] = {}
        items: dict[tuple[str, Hashable], int] = {}
        events = sum(sign * summaries[m - 1][1] for m, sign in signed if m)
        if events:
            counts[EVENTS] = events
        low, high = min(m for m, _ in signed), max(m for m, _ in signed)
        touched = (
            changed[high] if high == low + 1 else sorted({g for m in range(low + 1, high + 1) for g in changed[m]})
        )
        for g in touched:
            versions = same[g]
            net: dict[int, int] = {}
            for m, sign in signed:
                v = versions[m]
                net[v] = net.get(v, 0) + sign
            for v, sign in net.items():
                if sign and v:
                    hit = added.get((g, v))
                    if hit is None:
                        hit = added[(g, v)] = _part(g, subject, summaries[v - 1][0])
                    for name, n in hit[0].items():
                        counts[name] = counts.get(name, 0) + sign * n
                    for item, n in hit[1].items():
                        items[item] = items.get(item, 0) + sign * n
        corner = _corner(times[i], recorded[j], counts, items)
        if corner is not None:
            out.append(corner)
    return out


def _part(g: int, subject: str, summary: dict[str, Any]) -> Contribution:
    """What part `g` of `contribute` adds for `summary`."""
    counts: dict[str, int] = {}
    items: dict[tuple[str, Hashable], int] = {}

    def count(key: str, n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    def bag(name: str, item: Hashable, n: int) -> None:
        items[(name, item)] = items.get((name, item), 0) + n

    PARTS[g][1](subject, summary, 1, count, bag)
    return counts, items


def encode(found: list[Corner]) -> bytes:
    """The corners as stored with the address's row (JSON; tuples become lists)."""
    return orjson.dumps(found)
