"""Chain verification over the whole store or one address."""

from __future__ import annotations

from typing import Any

import orjson

from domain.chain import GENESIS, ChainBreak, event_hash, verify_stream
from domain.ports import EventLog


def verify_one(subject: str, events: list[dict[str, Any]]) -> ChainBreak | None:
    """The first break in one address's stream, or None."""
    return verify_stream(subject, events)


def verify_all(
    log: EventLog, page: int = 5000, index_heads: dict[str, int] | None = None
) -> tuple[list[ChainBreak], int, int]:
    """Scan the store in global order; return (first break per broken address, events, addresses)."""
    heads: dict[str, tuple[int, str]] = {}
    broken: dict[str, ChainBreak] = {}
    after = 0
    count = 0
    while True:
        rows = log.read_raw(after, page)
        if not rows:
            break
        after = rows[-1][0]
        for _, body in rows:
            count += 1
            try:
                event = orjson.loads(body)
                subject = event["subject"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
            if subject in broken:
                continue
            position, prev = heads.get(subject, (0, GENESIS))
            expected = position + 1
            reason = None
            if event.get("streamposition") != expected:
                reason = f"streamposition is {event.get('streamposition')!r}, expected {expected}"
            elif event.get("prevhash") != prev:
                reason = "prevhash does not match the previous hash"
            else:
                recomputed = event_hash({k: v for k, v in event.items() if k != "hash"})
                if event.get("hash") != recomputed:
                    reason = "hash does not match the event's content"
            if reason:
                broken[subject] = ChainBreak(subject, expected, reason)
            else:
                heads[subject] = (expected, event["hash"])
    for subject, head in (index_heads or {}).items():
        # The id index is written with the events: a stream shorter than it lost its tail.
        if subject in broken:
            continue
        position = heads.get(subject, (0, GENESIS))[0]
        if position < head:
            broken[subject] = ChainBreak(
                subject, position + 1, f"events missing: the stream ends at {position}, the id index records {head}"
            )
    return sorted(broken.values(), key=lambda b: b.subject), count, len(heads.keys() | broken.keys())
