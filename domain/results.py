"""What an append gets back (contract §2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

ResultKind = Literal["accepted", "duplicate", "rejected"]
ACCEPTED: Final = "accepted"
DUPLICATE: Final = "duplicate"
REJECTED: Final = "rejected"

SCHEMA_INVALID = "schema_invalid"
UNKNOWN_TYPE = "unknown_type"
NOT_AUTHORIZED = "not_authorized"
RULE_VIOLATED = "rule_violated"
ID_CONFLICT = "id_conflict"
VERSION_CONFLICT = "version_conflict"
PERSONAL_DATA = "personal_data"
TOO_LARGE = "too_large"

CODES = (
    SCHEMA_INVALID,
    UNKNOWN_TYPE,
    NOT_AUTHORIZED,
    RULE_VIOLATED,
    ID_CONFLICT,
    VERSION_CONFLICT,
    PERSONAL_DATA,
    TOO_LARGE,
)

MAX_EVENT_BYTES = 64 * 1024
MAX_BATCH_EVENTS = 10_000


class Rejection(Exception):
    """A submitted event is refused: one contract code, a message and the field's JSON path."""

    def __init__(self, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


@dataclass(slots=True)
class AppendResult:
    """The one result each submitted event gets."""

    line: int
    id: str | None
    result: ResultKind
    code: str | None = None
    message: str | None = None
    path: str | None = None
    streamposition: int | None = None
    recordedtime: str | None = None
    hash: str | None = None
    subject: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON result line of `ledger append` (subject is internal and left out)."""
        return {
            "line": self.line,
            "id": self.id,
            "result": self.result,
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "streamposition": self.streamposition,
            "recordedtime": self.recordedtime,
            "hash": self.hash,
        }
