"""Checkpoints every N events or T minutes while the ledger runs: in a thread, and in `ledger serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

from ledger.bootstrap import Settings
from ledger.checkpoints import Checkpointer
from tests.domain.support import open_test_ledger
from tests.trust.support import REPO, cli_env, history
from tests.trust.witnessing import Keys, WitnessProcess, free_port, wait_listening


def _settings(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess], **kw: object) -> Settings:
    return replace(
        Settings(home=tmp_path, store_url=f"sqlite:///{tmp_path / 'events.sqlite'}"),
        signing_key=keys.path("groningen-ledger"),
        witnesses=tuple(w.url for w in witnesses),
        trust_file=keys.trust_file,
        **kw,  # type: ignore[arg-type]
    )


def _until(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)  # polling a condition until its deadline
    raise AssertionError("condition not met before the deadline")


def test_every_n_events_and_every_t_minutes(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    ledger = open_test_ledger(tmp_path)
    worker = Checkpointer(_settings(tmp_path, keys, witnesses, checkpoint_every=6, checkpoint_minutes=60.0), poll=0.05)
    worker.start()
    try:
        history(ledger, 1)  # 3 events: fewer than N, and T is an hour: no checkpoint
        history(ledger, 1, start=1)  # 6 events: N reached
        _until(lambda: (cp := ledger.tree.checkpoint()) is not None and cp.size == 6)
        history(ledger, 1, start=2)
        assert ledger.tree.checkpoint().size == 6  # type: ignore[union-attr]
    finally:
        worker.stopping.set()
        worker.join(10)
    timed = Checkpointer(
        _settings(tmp_path, keys, witnesses, checkpoint_every=1000, checkpoint_minutes=0.002), poll=0.05
    )
    timed.start()
    try:
        _until(lambda: ledger.tree.checkpoint().size == 9)  # type: ignore[union-attr]  # T passed: the 3 new events
    finally:
        timed.stopping.set()
        timed.join(10)
        ledger.close()


def test_serve_makes_checkpoints(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    ledger = open_test_ledger(tmp_path)
    subjects = history(ledger, 2)
    ledger.close()
    port = free_port()
    env = {
        **os.environ,
        **cli_env(tmp_path),
        "LEDGER_SIGNING_KEY": str(keys.path("groningen-ledger")),
        "LEDGER_WITNESSES": ",".join(w.url for w in witnesses),
        "LEDGER_TRUST": str(keys.trust_file),
        "LEDGER_CHECKPOINT_EVERY": "3",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--workers", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port, proc, 60)  # type: ignore[arg-type]

        def published() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/checkpoint", timeout=5) as r:
                    return b"\n6\n" in r.read()
            except OSError:
                return False

        _until(published, 60)
        assert subjects
    finally:
        proc.terminate()
        proc.wait(20)
        if proc.stderr:
            proc.stderr.close()
