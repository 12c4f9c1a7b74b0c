"""Crash points for the fault tests (research-reliability §3.3).

`LEDGER_FAILPOINTS="relay.after_ack_before_save:0.05,intake.after_append_before_commit:0.05"`
(points: relay.*, intake.*, consume.* in this package; rebuild.after_chunk in `ledger rebuild`)
makes `hit(name)` end the process at once (`os._exit(137)`, as kill -9 would: no cleanup, no
flush) with the given probability each time the point is passed. Random kills find unknown
windows; these make sure the known dangerous ones are hit on every run. Unset (production),
`hit` is one dictionary lookup.
"""

from __future__ import annotations

import os
import random
import sys

ENV = "LEDGER_FAILPOINTS"


def _parse(spec: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in spec.split(","):
        name, _, probability = item.strip().partition(":")
        if name:
            points[name] = float(probability or "1")
    return points


_POINTS = _parse(os.environ.get(ENV, ""))


def hit(name: str) -> None:
    """Crash here with the configured probability of failpoint `name`."""
    probability = _POINTS.get(name)
    if probability and random.random() < probability:
        sys.stderr.write(f'{{"event": "failpoint {name}: exiting as if killed", "level": "warning"}}\n')
        sys.stderr.flush()
        os._exit(137)
