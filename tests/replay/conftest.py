"""Fixtures of the replay tests: a temporary LEDGER_HOME with the real SQLite store and CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.bootstrap import Ledger, open_ledger
from ledger.cli import app
from tests.replay.story import Story


@dataclass
class Run:
    """One CLI invocation's outcome."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Run]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty LEDGER_HOME for this test (the embedded SQLite store lives in it)."""
    monkeypatch.setenv("LEDGER_HOME", str(tmp_path))
    monkeypatch.delenv("LEDGER_STORE", raising=False)
    monkeypatch.delenv("LEDGER_KAFKA", raising=False)
    return tmp_path


@pytest.fixture
def ledger(home: Path) -> Iterator[Ledger]:
    """The ledger of `home`."""
    led = open_ledger()
    yield led
    led.close()


@pytest.fixture
def cli(home: Path) -> Cli:
    """Run `ledger ARGS…` in-process against `home`."""
    runner = CliRunner()

    def run(*args: str) -> Run:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def stored(ledger: Ledger) -> Callable[[Story], str]:
    """Store a story in the ledger; return its address."""

    def put(story: Story) -> str:
        story.store(ledger)
        return story.subject

    return put
