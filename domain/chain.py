"""Canonical form and the per-address SHA-256 hash chain (contract §5)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = "0" * 64
LEDGER_ATTRIBUTES = ("recordedtime", "streamposition", "prevhash", "hash")
_SORT = orjson.OPT_SORT_KEYS


def canonical(obj: dict[str, Any]) -> bytes:
    """Sorted keys, no white space, UTF-8 (orjson with OPT_SORT_KEYS)."""
    return orjson.dumps(obj, option=_SORT)


def event_hash(stored_without_hash: dict[str, Any]) -> str:
    """Lower-case hex SHA-256 of the canonical form of a stored event without `hash`."""
    return hashlib.sha256(canonical(stored_without_hash)).hexdigest()


def content_digest(publisher_form: dict[str, Any]) -> str:
    """Digest of the publisher-set attributes: equal digests mean "identical content".

    128 bits of SHA-256 keep the id index small; a collision needs a second preimage.
    """
    return hashlib.sha256(canonical(publisher_form)).hexdigest()[:32]


def publisher_form(stored: dict[str, Any]) -> dict[str, Any]:
    """The attributes a publisher sets: the stored event without the ledger's four."""
    return {k: v for k, v in stored.items() if k not in LEDGER_ATTRIBUTES}


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where a stream's chain first fails, and why."""

    subject: str
    position: int
    reason: str


def verify_stream(subject: str, events: Iterable[dict[str, Any]]) -> ChainBreak | None:
    """Recompute one address's chain; return the first bad position, or None when intact.

    `events` are the stored events in storage order; position N must be the N-th event.
    """
    prev = GENESIS
    expected_position = 0
    for event in events:
        expected_position += 1
        position = event.get("streamposition")
        if position != expected_position:
            return ChainBreak(
                subject, expected_position, f"streamposition is {position!r}, expected {expected_position}"
            )
        if event.get("subject") != subject:
            return ChainBreak(subject, expected_position, "subject does not match the stream")
        if event.get("prevhash") != prev:
            return ChainBreak(subject, expected_position, "prevhash does not match the previous hash")
        body = {k: v for k, v in event.items() if k != "hash"}
        recomputed = event_hash(body)
        if event.get("hash") != recomputed:
            return ChainBreak(subject, expected_position, "hash does not match the event's content")
        prev = recomputed
    return None
