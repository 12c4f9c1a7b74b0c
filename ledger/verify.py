"""Chain verification over the whole store or one address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from domain.chain import GENESIS, ChainBreak, event_hash, verify_stream
from domain.ports import EventLog

UNDECODABLE = "the stored bytes are not a JSON event"


def verify_one(subject: str, events: list[dict[str, Any]], index_head: int = 0) -> ChainBreak | None:
    """The first break in one address's stream, or None.

    `index_head` is the last position the id index records for the address: a stream shorter
    than that lost its tail, which the chain alone cannot show.
    """
    return verify_stream(subject, events) or _cut(subject, len(events), index_head)


def verify_address(log: EventLog, subject: str, index_head: int = 0) -> tuple[ChainBreak | None, int]:
    """Verify one address from its stored bytes (an undecodable row is a break, not a crash)."""
    read_raw = getattr(log, "read_stream_raw", None)
    if read_raw is None:
        events = log.read_stream(subject)
        return verify_one(subject, events, index_head), len(events)
    bodies: list[bytes] = read_raw(subject)
    prev = GENESIS
    for position, body in enumerate(bodies, start=1):
        event = _decode(body)
        reason = _problem(subject, position, prev, event)
        if reason or event is None:
            return ChainBreak(subject, position, reason or UNDECODABLE), len(bodies)
        prev = event["hash"]
    return _cut(subject, len(bodies), index_head), len(bodies)


def verify_all(
    log: EventLog, page: int = 5000, index_heads: dict[str, int] | None = None
) -> tuple[list[ChainBreak], int, int]:
    """Scan the store in global order; return (first break per broken address, events, addresses).

    When the log tells each row's address (`read_located`), a row is checked against the stream it
    is stored in, so an event moved to another address or bytes that are no event are found too.
    """
    heads: dict[str, tuple[int, str]] = {}
    broken: dict[str, ChainBreak] = {}
    count = 0
    for address, body in _rows(log, page):
        count += 1
        event = _decode(body)
        subject = address or (event or {}).get("subject")
        if not isinstance(subject, str) or subject in broken:
            continue  # without the row's address, undecodable bytes cannot be placed
        position, prev = heads.get(subject, (0, GENESIS))
        reason = _problem(subject, position + 1, prev, event)
        if reason or event is None:
            broken[subject] = ChainBreak(subject, position + 1, reason or UNDECODABLE)
        else:
            heads[subject] = (position + 1, event["hash"])
    for subject, head in (index_heads or {}).items():
        # The id index is written with the events: a stream shorter than it lost its tail.
        if subject not in broken:
            cut = _cut(subject, heads.get(subject, (0, GENESIS))[0], head)
            if cut:
                broken[subject] = cut
    return sorted(broken.values(), key=lambda b: b.subject), count, len(heads.keys() | broken.keys())


def _rows(log: EventLog, page: int) -> Iterator[tuple[str | None, bytes]]:
    """(address the row is stored under, or None when the log cannot tell; stored bytes), in global order."""
    located = getattr(log, "read_located", None)
    after = 0
    while True:
        rows = located(after, page) if located else [(pos, None, body) for pos, body in log.read_raw(after, page)]
        if not rows:
            return
        after = rows[-1][0]
        for _, address, body in rows:
            yield address, body


def _decode(body: bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _problem(subject: str, expected: int, prev: str, event: dict[str, Any] | None) -> str | None:
    """Why `event` cannot be the `expected`-th event of `subject`'s chain after `prev`, or None."""
    if event is None:
        return UNDECODABLE
    if event.get("subject") != subject:
        return f"the event's subject {event.get('subject')!r} is not the address it is stored under"
    if event.get("streamposition") != expected:
        return f"streamposition is {event.get('streamposition')!r}, expected {expected}"
    if event.get("prevhash") != prev:
        return "prevhash does not match the previous hash"
    if event.get("hash") != event_hash({k: v for k, v in event.items() if k != "hash"}):
        return "hash does not match the event's content"
    return None


def _cut(subject: str, length: int, index_head: int) -> ChainBreak | None:
    if length >= index_head:
        return None
    return ChainBreak(
        subject, length + 1, f"events missing: the stream ends at {length:,}, the id index records {index_head:,}"
    )
