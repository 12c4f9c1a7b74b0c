"""Helpers for ledger tests: a store with a fixed clock, appending, asserting results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.results import AppendResult
from domain.service import LedgerService
from ledger.bootstrap import Ledger, Settings, open_ledger

CLOCK = "2025-01-01T12:00:00.000000Z"


def open_test_ledger(home: Path, clock: str = CLOCK) -> Ledger:
    """A ledger in `home` whose service reads a fixed clock."""
    ledger = open_ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}"))
    ledger.service = LedgerService(ledger.app, clock=lambda: clock)
    return ledger


def append(ledger: Ledger, *events: dict[str, Any], principal: str | None = None, **kw: Any) -> list[AppendResult]:
    """Append one batch as the first event's org (or `principal`)."""
    return ledger.service.append(list(events), principal or events[0]["org"], **kw)


def accept(ledger: Ledger, *events: dict[str, Any]) -> list[AppendResult]:
    """Append events one batch per org run; assert every one was accepted."""
    results: list[AppendResult] = []
    run: list[dict[str, Any]] = []
    for event in [*events, None]:
        if run and (event is None or event["org"] != run[0]["org"]):
            results += append(ledger, *run)
            run = []
        if event is not None:
            run.append(event)
    assert [(r.result, r.code, r.message) for r in results] == [("accepted", None, None)] * len(events)
    return results


def reject(ledger: Ledger, event: dict[str, Any], principal: str | None = None, **kw: Any) -> AppendResult:
    """Append one event; assert it was rejected and that nothing was stored; return its result."""
    before = ledger.log.max_position()
    (result,) = append(ledger, event, principal=principal, **kw)
    assert result.result == "rejected", result
    assert ledger.log.max_position() == before
    return result


def outcome(result: AppendResult) -> tuple[str | None, str | None]:
    """(code, path) of a result."""
    return result.code, result.path
