"""Checking an import's next batch in another process while the writer stores this one.

The stateless checks of a submitted event (JSON, envelope, type, payload, R1, personal data,
content digest: `domain.service.check_item`) take about a third of an import's time and need
nothing from the store, so `CheckAhead` runs them in one worker process, a batch ahead of the
writer. The verdicts come back in a compact wire form (the normalised event as JSON bytes, not
a pickled object: unpickling costs the writer more than parsing), and the writer appends with
them exactly as with its own (`LedgerService.append(checked=...)`). Whatever goes wrong in the
worker, the writer checks that batch itself: the results are the same either way.

The worker is spawned (`multiprocessing`), so a program that calls `ledger.cli.main()` from a
script must guard the call with `if __name__ == "__main__":`, as with any spawned process: the
worker imports the program's main module (`ledger` is guarded; `python -m ledger` is not
imported again: multiprocessing skips `__main__` modules).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import orjson

from domain.envelope import Oversized, Submission
from domain.results import Rejection
from domain.service import Checked, check_item

Item = bytes | str | dict[str, Any] | Oversized
# (event JSON, event name, recordedtime, digest) | (None, code, message, path, event id, address)
# | None: "check it yourself" (an event orjson cannot carry across unchanged).
Wire = tuple[Any, ...] | None

# Types orjson would turn into strings without a word: they raise instead, and the item is then
# checked by the writer (none occur in events parsed from JSON; the guard keeps the round trip exact).
_EXACT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def check_batch(items: Sequence[Item], principal: str | None, importing: bool) -> list[Wire]:
    """The worker's side: every item's verdict in wire form."""
    out: list[Wire] = []
    for item in items:
        verdict = check_item(item, principal, importing)
        rej = verdict.refusal
        if rej is not None:
            out.append((None, rej.code, rej.message, rej.path, verdict.event_id, verdict.address))
            continue
        sub = verdict.sub
        assert sub is not None
        try:
            out.append((orjson.dumps(sub.event, option=_EXACT), sub.name, sub.recordedtime, verdict.digest))
        except (orjson.JSONEncodeError, TypeError):
            out.append(None)
    return out


def from_wire(wire: Sequence[Wire], items: Sequence[Item], principal: str | None, importing: bool) -> list[Checked]:
    """The writer's side: the verdicts back as `Checked` (items the worker passed on: checked here)."""
    out: list[Checked] = []
    for w, item in zip(wire, items, strict=True):
        if w is None:
            out.append(check_item(item, principal, importing))
        elif w[0] is None:
            out.append(Checked(refusal=Rejection(w[1], w[2], w[3]), event_id=w[4], address=w[5]))
        else:
            out.append(Checked(Submission(orjson.loads(w[0]), w[1], w[2]), w[3]))
    return out


def _leave_interrupts() -> None:
    """The worker ignores Ctrl-C: the writer gets it too, stops, and shuts the worker down (else
    the worker's own traceback would land on the user's terminal beside the writer's message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class CheckAhead:
    """One worker process that checks submitted batches while the caller stores earlier ones.

    `submit` hands a batch over and returns at once; `verdicts` waits for that batch's verdicts.
    The worker starts with the second batch (an input of one batch never waits for a process to
    start: its batch is checked by the caller). A worker that cannot start or dies makes the
    caller check its batches itself from then on (`broken`).
    """

    def __init__(self, principal: str | None, importing: bool) -> None:
        self.principal = principal
        self.importing = importing
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0
        self.broken = False

    def submit(self, items: Sequence[Item]) -> Future[list[Wire]] | None:
        """Start checking `items` in the worker (None: the caller checks them)."""
        self._submitted += 1
        if self._submitted == 1 or self.broken:
            return None
        try:
            if self._pool is None:
                # spawn: the worker starts from a clean interpreter (fork would copy the writer's
                # open store connections and threads into it).
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_leave_interrupts
                )
            return self._pool.submit(check_batch, list(items), self.principal, self.importing)
        except Exception:  # noqa: BLE001 - no worker: the caller checks from now on
            self._give_up()
            return None

    def verdicts(self, ahead: Future[list[Wire]] | None, items: Sequence[Item]) -> list[Checked]:
        """The verdicts of a submitted batch; checked here when the worker did not."""
        if ahead is not None:
            try:
                return from_wire(ahead.result(), items, self.principal, self.importing)
            except Exception:  # noqa: BLE001 - the worker died or could not send: check here
                self._give_up()
        return [check_item(item, self.principal, self.importing) for item in items]

    def close(self) -> None:
        """Stop the worker (batches still queued are dropped: their verdicts are not needed)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _give_up(self) -> None:
        self.broken = True
        self.close()

    def __enter__(self) -> CheckAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
