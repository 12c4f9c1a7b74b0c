"""`ledger generate`: a realistic, deterministic Groningen history ready for `ledger import`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer

from ledger.commands.common import history_until


def generate(
    addresses: Annotated[int, typer.Option("--addresses", help="Number of addresses in the area.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives byte-identical output.")] = 1,
    until: Annotated[str, typer.Option("--until", help="Last day of the history (YYYY-MM-DD).")] = "2024-12-31",
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: standard output).")] = None,
    json: Annotated[bool, typer.Option("--json", help="The summary (and errors) as JSON.")] = False,
) -> None:
    """Write a history from 2018 up to --until as JSON Lines in recorded order.

    The summary is on stdout with --out; without it stdout is the history and the summary goes to stderr.
    """
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
    on_stderr = out is None  # stdout is the history itself
    if json:
        summary = {"events": count, "addresses": addresses, "seed": seed, "until": last_day.isoformat()}
        summary |= {"out": None if out is None else str(out), "seconds": round(seconds, 3)}
        typer.echo(orjson.dumps(summary).decode(), err=on_stderr)
    else:
        typer.echo(f"generated {count:,} events for {addresses:,} addresses in {seconds:.1f} s", err=on_stderr)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
