"""Ledger homes for the tests: the environment of a CLI run on one, and one with a generated
history already imported (the embedded SQLite store, nothing from the caller's LEDGER_*)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ledger.bootstrap import Ledger, Settings, open_ledger
from ledger.cli import app
from ledger.generator import generate

END = date(2024, 12, 31)


def home_env(home: Path, store: str | None = None) -> dict[str, Any]:
    """LEDGER_HOME=home and no store (unless `store`), projection store or Kafka override."""
    return {"LEDGER_HOME": str(home), "LEDGER_STORE": store, "LEDGER_PROJECTIONS": None, "LEDGER_KAFKA": None}


def run_cli(home: Path, *args: str, stdin: bytes | None = None, catch_exceptions: bool = False) -> Result:
    """`ledger ARGS…` in-process on `home`."""
    return CliRunner().invoke(app, list(args), input=stdin, env=home_env(home), catch_exceptions=catch_exceptions)


def cli_in(home: Path) -> Callable[..., Result]:
    """`run(*args, stdin=None, at=None, store=None)`: `ledger ARGS…` in-process on `home` (or the
    home `at`), with `store` as LEDGER_STORE when given; what the `cli` fixtures yield."""
    runner = CliRunner()

    def run(*args: str, stdin: bytes | None = None, at: Path | None = None, store: str | None = None) -> Result:
        env = home_env(at or home, store)
        return runner.invoke(app, list(args), input=stdin, env=env, catch_exceptions=False)

    return run


def opened(home: Path, store_url: str | None = None) -> Iterator[Ledger]:
    """The ledger of `home` on `store_url` (default: the home's SQLite file), closed afterwards: what
    the `ledger` fixtures yield from."""
    led = open_ledger(Settings(home=home, store_url=store_url or f"sqlite:///{home / 'events.sqlite'}"))
    yield led
    led.close()


def history(addresses: int, seed: int) -> bytes:
    """A generated history of `addresses` addresses up to 2024-12-31, as JSON Lines."""
    out = io.BytesIO()
    generate(addresses, seed, END, out, workers=1)
    return out.getvalue()


def imported_home(tmp_path_factory: pytest.TempPathFactory, name: str, addresses: int, seed: int) -> Path:
    """A fresh home into which `ledger import` stored a generated history (`history`)."""
    home = tmp_path_factory.mktemp(name) / "home"
    path = home.parent / "history.jsonl"
    path.write_bytes(history(addresses, seed))
    result = run_cli(home, "import", str(path), "--quiet")
    assert result.exit_code == 0, result.output
    return home
