"""Fixtures of the ledger's CLI tests: an empty home and `ledger …` run in-process on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.homes import cli_in


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home that does not exist yet (the first command makes it)."""
    return tmp_path / "home"


@pytest.fixture
def cli(home: Path) -> Callable[..., Result]:
    """Run `ledger …` in-process with LEDGER_HOME=home (no LEDGER_STORE, projection store or Kafka
    from outside); `store=` sets LEDGER_STORE, `at=` another home (`tests.homes.cli_in`)."""
    return cli_in(home)
