"""What the domain needs from storage, as protocols the adapters in `ledger/` implement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# (public key, message, signature) -> valid? The Ed25519 primitive that the pure trust code
# (`domain.note`, `replay.bundle`) is given; implemented in `ledger.keys` with `cryptography`.
Ed25519Verify = Callable[[bytes, bytes, bytes], bool]


@dataclass(frozen=True, slots=True)
class IdEntry:
    """Where an accepted event id lives, and what its content was."""

    subject: str
    position: int
    digest: str


class StreamIndex(Protocol):
    """The recorder's extra look-ups beyond the library's: streams in bulk, and the id index."""

    def load_streams(self, subjects: Sequence[str]) -> dict[str, list[bytes]]:
        """Stored bodies of each address's events in stream order (absent when none)."""
        ...

    def lookup_ids(self, ids: Sequence[str]) -> dict[str, IdEntry]:
        """Index entries of those ids that were accepted before."""
        ...

    def stream_heads(self, subjects: Sequence[str]) -> dict[str, int]:
        """The stored stream position of each address's last event (absent when none)."""
        ...

    def index_heads(self) -> dict[str, int]:
        """The highest stream position the id index records per address (for truncation checks)."""
        ...


class EventLog(Protocol):
    """The read side of the event store, in the ledger's global (notification) order."""

    def read_raw(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` stored events with global position > `after`, ascending."""
        ...

    def read(self, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """As `read_raw`, decoded."""
        ...

    def read_stream(self, subject: str) -> list[dict[str, Any]]:
        """One address's stored events in stream order."""
        ...

    def max_position(self) -> int:
        """The last global position, 0 when empty."""
        ...

    def head_hash(self, position: int) -> str | None:
        """The `hash` of the event at a global position."""
        ...
