"""`ledger generate`: a realistic, deterministic Groningen history ready for `ledger import`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ledger.commands.common import history_until


def generate(
    addresses: Annotated[int, typer.Option("--addresses", help="Number of addresses in the area.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives byte-identical output.")] = 1,
    until: Annotated[str, typer.Option("--until", help="Last day of the history (YYYY-MM-DD).")] = "2024-12-31",
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: standard output).")] = None,
) -> None:
    """Write a history from 2018 up to --until as JSON Lines in recorded order."""
    from ledger.generator import generate as run

    last_day = history_until(until)
    started = datetime.now()
    if out is None:
        count = run(addresses, seed, last_day, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with out.open("wb") as handle:
            count = run(addresses, seed, last_day, handle)
    seconds = (datetime.now() - started).total_seconds()
    typer.echo(f"generated {count:,} events for {addresses:,} addresses in {seconds:.1f} s", err=True)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
