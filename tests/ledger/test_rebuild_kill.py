"""kill -9 during `ledger rebuild`: the next run resumes where the killed one stopped.

The rebuild process is ended without cleanup (`os._exit(137)`, as kill -9 would) after a random
written chunk by the `rebuild.after_chunk` failpoint, several times; meanwhile the old store
keeps serving. The run that finally completes must say it resumed, and its projections must
equal those of an uninterrupted rebuild of the same store.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ledger.bootstrap import Settings, open_ledger, read_ports
from ledger.cli import app
from ledger.generator import generate
from tests.projections.store_suite import rows_of

REPO = Path(__file__).resolve().parents[2]


def _env(home: Path, failpoints: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA")}
    env["LEDGER_HOME"] = str(home)
    env.pop("LEDGER_FAILPOINTS", None)
    if failpoints:
        env["LEDGER_FAILPOINTS"] = failpoints
    return env


def _rebuild(home: Path, failpoints: str | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "ledger", "rebuild", "--no-progress", "--workers", "1", "--chunk", "10"]
    return subprocess.run(command, cwd=REPO, env=_env(home, failpoints), capture_output=True, timeout=300)


def _rows(home: Path) -> dict[str, tuple[Any, ...]]:
    ledger = open_ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}", kafka=None))
    try:
        return rows_of(read_ports(ledger).location)
    finally:
        ledger.close()


def test_a_killed_rebuild_resumes_and_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    history = tmp_path / "history.jsonl"
    out = io.BytesIO()
    generate(600, 7, date(2024, 12, 31), out, workers=1)
    history.write_bytes(out.getvalue())
    result = CliRunner().invoke(app, ["import", str(history), "--quiet"], env=_env(home), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["metrics", "--json"], env=_env(home), catch_exceptions=False)
    assert result.exit_code == 0, result.output  # the projections have caught up: the store that serves meanwhile
    before = _rows(home)
    assert len(before) > 400

    clean = tmp_path / "clean"
    shutil.copytree(home, clean)
    assert _rebuild(clean).returncode == 0
    expected = _rows(clean)
    assert expected == before  # a rebuild of a caught-up store changes nothing

    kills = 0
    while kills < 3:  # ~48 chunks, each the last with probability 0.2: the first run survives with p ≈ 2e-5
        run = _rebuild(home, "rebuild.after_chunk:0.2")
        if run.returncode == 0:
            break  # a later run got through its remaining chunks
        assert run.returncode == 137, run.stderr.decode()
        assert b"failpoint rebuild.after_chunk" in run.stderr
        assert (home / "projections" / "rebuilding").exists()
        assert _rows(home) == before  # the old store still serves, untouched
        kills += 1
    else:
        run = _rebuild(home)
        assert run.returncode == 0, run.stderr.decode()
    assert kills >= 1
    assert b"resumed:" in run.stdout, run.stdout.decode() + run.stderr.decode()  # the summary is a result: stdout
    assert not (home / "projections" / "rebuilding").exists()
    assert _rows(home) == expected
    print(f"survived {kills} kills")
