"""`make lint` installs its pinned linters first (`make demo` alone does not install them)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_make_lint_installs_the_pinned_linters_first() -> None:
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "lint"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    steps = [line.strip() for line in plan.splitlines() if line.strip()]
    assert steps[0] == "bash scripts/install.sh --lint", steps
    assert any(".venv/bin/ruff check ." in step for step in steps[1:])


def test_the_lint_pins_are_the_test_extras() -> None:
    test = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    expected = sorted(p for p in test if p.startswith(("ruff==", "mypy==")))
    printed = subprocess.run(
        [sys.executable, "scripts/lint_pins.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(printed) == expected and len(expected) == 2
