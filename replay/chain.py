"""Chain verification for the replay: `domain.chain.verify_stream` plus undecodable rows."""

from __future__ import annotations

from typing import Any

import orjson

from domain.chain import ChainBreak, verify_stream
from replay.history import Event

UNDECODABLE = "_undecodable"


def decode_rows(bodies: list[bytes]) -> list[Event]:
    """Decode stored bodies; a body that is not a JSON object becomes a marked placeholder."""
    events: list[Event] = []
    for body in bodies:
        try:
            event: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            event = None
        events.append(event if isinstance(event, dict) else {UNDECODABLE: True})
    return events


def check_chain(subject: str, events: list[Event]) -> ChainBreak | None:
    """The first bad position of an address's stream (stream order), or None when intact."""
    for position, event in enumerate(events, start=1):
        if UNDECODABLE in event:
            earlier = verify_stream(subject, events[: position - 1])
            return earlier or ChainBreak(subject, position, "the stored event is not a JSON object")
    return verify_stream(subject, events)


def verified_prefix(events: list[Event], brk: ChainBreak | None) -> list[Event]:
    """The events before the first break (all of them when the chain is intact)."""
    return events if brk is None else events[: brk.position - 1]
