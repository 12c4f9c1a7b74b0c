"""The replay's one error type: a clear message and what kind of failure it is."""

from __future__ import annotations

from typing import Literal

Kind = Literal["not_found", "bad_input", "not_a_bundle"]


class ReplayError(Exception):
    """A request the replay cannot answer; `kind` maps to the exit code / HTTP status;
    `parameter` names the input at fault when it is one option (`at`, `--known-at`, …)."""

    def __init__(self, kind: Kind, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.parameter = parameter
