"""`ledger verify --since CHECKPOINT`: does the store extend an earlier published checkpoint?

The tree is rebuilt from the stored events themselves (never from the stored tree, which whoever
rewrote the events may have rewritten too), in global order, in one pass of bounded memory. The
store extends the checkpoint when the rebuilt tree of its first M leaves has the checkpoint's
root. When it does not, the first differing position is where the rebuilt leaves part from the
stored tree's leaves, provided the stored tree still has the checkpoint's root (the usual case:
events changed and chains recomputed underneath the ledger); when the stored tree was rewritten
as well, it is narrowed down with the store's older checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from domain import merkle
from domain.merkle import CompactRange
from domain.note import Checkpoint
from ledger.bootstrap import Ledger
from ledger.tree import leaf_of

PAGE = 5000


@dataclass
class SinceResult:
    checkpoint: Checkpoint
    events: int
    ok: bool
    lines: list[str] = field(default_factory=list)
    first_bad: int | None = None
    subject: str | None = None


def _scan(ledger: Ledger, size: int) -> tuple[CompactRange, bytes | None, int | None, str | None, int, dict[str, Any]]:
    """(rebuilt range over all events, its root at `size`, first position whose leaf differs from
    the stored tree, that event's address, events read, that event)."""
    cr = CompactRange()
    at_size: bytes | None = merkle.EMPTY_ROOT if size == 0 else None
    first_bad: int | None = None
    subject: str | None = None
    bad_event: dict[str, Any] = {}
    stored: dict[int, bytes] = {}
    after = 0
    while rows := ledger.log.read_raw(after, PAGE):
        after = rows[-1][0]
        start = cr.size
        if first_bad is None:
            stored = dict(ledger.tree.leaves(start - 1, len(rows)))
        for _, body in rows:
            index = cr.size
            try:
                leaf = leaf_of(body)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                leaf = merkle.leaf_hash(b"")  # undecodable bytes: a leaf no honest event has
            cr.append(leaf)
            if first_bad is None and stored.get(index) != leaf:
                first_bad = index + 1
                try:
                    bad_event = orjson.loads(body)
                    subject = str(bad_event.get("subject"))
                except orjson.JSONDecodeError:
                    bad_event = {}
            if cr.size == size:
                at_size = cr.root()
    return cr, at_size, first_bad, subject, cr.size, bad_event


def verify_since(ledger: Ledger, checkpoint: Checkpoint) -> SinceResult:
    size = checkpoint.size
    cr, at_size, first_bad, subject, events, bad_event = _scan(ledger, size)
    result = SinceResult(checkpoint, events, ok=False)
    if events < size:
        result.lines.append(
            f"the store holds {events} events, fewer than the checkpoint's {size}: events were removed"
        )
        result.first_bad = first_bad if first_bad is not None and first_bad <= events else events + 1
        return result
    if at_size == checkpoint.root:
        result.ok = True
        stored_root = ledger.tree.root(events) if ledger.tree.size() == events else None
        proof = ledger.tree.consistency(size, events) if stored_root == cr.root() else None
        if proof is not None:
            merkle.verify_consistency(size, events, checkpoint.root, cr.root(), proof)
        result.lines.append(
            f"the store extends checkpoint {size}: {events} events, the first {size} hash to its root"
            + (f"; consistency proof {size}→{events} verified ({len(proof)} hashes)" if proof is not None else "")
        )
        return result
    stored_ok = ledger.tree.size() >= size and ledger.tree.root(size) == checkpoint.root
    if stored_ok and first_bad is not None and first_bad <= size:
        result.first_bad, result.subject = first_bad, subject
        where = ""
        if bad_event:
            where = f" (address {bad_event.get('subject')}, stream position {bad_event.get('streamposition')})"
        result.lines.append(
            f"the store does not extend checkpoint {size}: position {first_bad} differs{where}; "
            "history was rewritten after the checkpoint"
        )
        return result
    # The stored tree was rewritten too: narrow down with the checkpoints the store still has.
    low, high = 1, size
    for stored in ledger.tree.checkpoints():
        if stored.size >= size:
            break
        try:
            older = Checkpoint.parse(stored.note[: stored.note.rfind("\n\n") + 1])
        except ValueError:
            continue
        if _root_at(ledger, older.size) == older.root:
            low = older.size + 1
        else:
            high = min(high, older.size)
            break
    result.first_bad = low
    result.lines.append(
        f"the store does not extend checkpoint {size}: the first differing position lies in {low}..{high} "
        "(the stored tree was rewritten too, so it cannot say which)"
    )
    return result


def _root_at(ledger: Ledger, size: int) -> bytes:
    cr = CompactRange()
    after = 0
    while cr.size < size and (rows := ledger.log.read_raw(after, min(PAGE, size - cr.size))):
        after = rows[-1][0]
        for _, body in rows:
            try:
                cr.append(leaf_of(body))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                cr.append(merkle.leaf_hash(b""))
    return cr.root()
