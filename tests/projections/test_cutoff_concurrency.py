"""Figures at cut-offs computed in one thread never hold up the read model's other answers.

The event store's ports are wrapped so that a computation at cut-offs stops inside them until
the test lets it go (the only injected part: the store, the read model and the figures are
real). Meanwhile "now" answers, the case view, the health look and cached cut-offs answer at
once, and a computation beyond `cutoff_limit` is refused with `Busy`.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.bootstrap import Ledger, Settings, open_ledger, open_read_model
from ledger.generator import generate
from projections.projector import RawReader
from projections.query import Busy, ReadModel
from tests.projections.store_suite import import_lines

WAIT_S = 30.0  # a bound for a test that hangs, never a pace


class Gate:
    """Stops the calls of a computation thread at the ports until `open`."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.entered = threading.Event()
        self.released = threading.Event()

    def wrap(self, port: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any) -> Any:
            if self.armed.is_set() and threading.current_thread().name.startswith("cutoff"):
                self.entered.set()
                assert self.released.wait(WAIT_S), "the test never released the computation"
            return port(*args)

        return gated

    def wrap_reader(self, reader: RawReader) -> RawReader:
        """The raw reader with its page reads gated (`scan` pages with `read_part`)."""
        gate = self

        class Gated:
            __call__ = staticmethod(gate.wrap(reader))
            read_part = staticmethod(gate.wrap(reader.read_part))
            close = staticmethod(reader.close)

        return Gated()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    led = open_ledger(Settings(home=tmp_path, store_url=f"sqlite:///{tmp_path / 'events.sqlite'}"))
    out = io.BytesIO()
    generate(40, 5, date(2024, 12, 31), out, workers=1)
    import_lines(led, out.getvalue().splitlines())
    yield led
    led.close()


@pytest.fixture
def gated(ledger: Ledger) -> Iterator[tuple[ReadModel, Gate]]:
    model = open_read_model(ledger)
    model.cutoff_limit = 1
    model.use_index = False  # the computation folded again from the log (a store without the bitemporal index)
    model.refresh()  # catches up
    model.refresh()  # notes the stores' versions after the catch-up: from here on `current()`
    model.metrics()
    gate = Gate()
    model.ports.read_raw = gate.wrap_reader(model.ports.read_raw)
    model.ports.load_streams = gate.wrap(model.ports.load_streams)
    model.ports.read_stream = gate.wrap(model.ports.read_stream)
    yield model, gate
    gate.released.set()
    model.close()


def in_thread(name: str, call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, out


def answered(call: Callable[[], Any]) -> Any:
    """`call`'s result, failing (not hanging) when it waits for the computation in progress."""
    thread, out = in_thread("probe", call)
    thread.join(WAIT_S)
    assert not thread.is_alive(), "the answer waited for the computation at cut-offs"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_computation_at_cut_offs_holds_up_nothing_else(gated: tuple[ReadModel, Gate], ledger: Ledger) -> None:
    model, gate = gated
    subject = next(iter(dict(model.summaries())))
    first = "2020-06-30T23:59:59.999999Z"
    gate.armed.set()
    worker, result = in_thread("cutoff-1", lambda: model.metrics(at=first))
    assert gate.entered.wait(WAIT_S)  # the computation is under way, stopped inside the event store

    now = answered(model.metrics)
    assert now["provenance"]["source"] == "projection"
    assert answered(lambda: model.evaluation())["provenance"]["source"] == "projection"
    assert answered(lambda: model.case(subject))["address"]["subject"] == subject
    assert answered(model.health) == {
        "position": now["provenance"]["position"],
        "store_position": ledger.log.max_position(),
        "behind": 0,
    }
    assert answered(model.current) is True
    with pytest.raises(Busy) as busy:
        answered(lambda: model.metrics(known_at="2021-01-01T00:00:00.000000Z"))
    assert busy.value.retry_after >= 1 and busy.value.running == 1
    assert not model.cached(first, None)

    gate.released.set()
    worker.join(WAIT_S)
    assert "error" not in result, result
    assert result["value"]["provenance"]["source"] == "event log" and model.cached(first, None)

    # a cached cut-off answers even while the limit is taken by another computation
    gate.released.clear()
    gate.entered.clear()
    other, _ = in_thread("cutoff-2", lambda: model.metrics(at="2019-06-30T23:59:59.999999Z"))
    assert gate.entered.wait(WAIT_S)
    again = answered(lambda: model.metrics(at=first))
    assert again == result["value"]
    gate.released.set()
    other.join(WAIT_S)
