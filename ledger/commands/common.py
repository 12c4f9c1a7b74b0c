"""Helpers every command shares: opening the ledger, one-line errors, exit codes.

One rule for every command (docs/decisions.md, Command line 1): malformed input (an option, a
file, an address that is not a BAG id) exits 2; a well-formed address the ledger does not know
exits 1, as does a check that fails; results go to stdout, diagnostics (progress, errors) to
stderr; with `--json` (or `replay --format json`) an error is one JSON object on stderr too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import orjson
import typer

from ledger.bootstrap import ConfigError, Ledger, Settings, open_ledger

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

OPS_PORT_HELP = (
    "Serve the operators' Prometheus metrics on this port, path /metrics (default: LEDGER_OPS_PORT; unset: none)."
)
Host = typer.Option("--host", help="Interface to listen on.")


def ops_port_option(note: str = "") -> Any:
    """The `--ops-port` option of every long-running role (`note` is added to its help)."""
    return typer.Option("--ops-port", help=OPS_PORT_HELP + note, min=1, max=65535)


def wants_json() -> bool:
    """Whether the running command was given `--json` (or `--format json`): its errors are JSON too."""
    from typer._click.globals import get_current_context  # typer (pinned) carries its own click

    ctx = get_current_context(silent=True)
    if ctx is None:
        return False
    return bool(ctx.params.get("json")) or ctx.params.get("fmt") == "json"


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one clear line on stderr and exit; with `--json`, that line is `{"error": …, "exit": …}`."""
    if wants_json():
        typer.echo(orjson.dumps({"error": message, "exit": code}).decode(), err=True)
    else:
        typer.echo(f"ledger: {message}", err=True)
    raise typer.Exit(code)


def emit_json(doc: Any) -> None:
    """One JSON document on stdout (indented: read by people too)."""
    sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.buffer.flush()


def check_address(address: str) -> None:
    """A malformed address is a usage error (exit 2), before anything is opened or logged; the
    message is the replay's (`replay.report.check_subject`), and HTTP answers it with 422."""
    from domain.envelope import SUBJECT_PATTERN, not_a_subject

    if not SUBJECT_PATTERN.match(address):
        fail(not_a_subject(address), EXIT_USAGE)


def history_until(until: str) -> date:
    """`--until` of `generate` and `demo`: a date, and not after today (usage error otherwise).

    A history past today would be rejected line by line by `ledger import` (R7: later than the
    ledger's clock), dropping whole addresses; it is refused before anything is written.
    """
    try:
        last_day = date.fromisoformat(until)
    except ValueError:
        fail(f"--until {until!r} is not a date (YYYY-MM-DD)", EXIT_USAGE)
    today = datetime.now(UTC).date()
    if last_day > today:
        fail(f"--until {until} is after today ({today}): the ledger accepts no events from the future", EXIT_USAGE)
    return last_day


@contextmanager
def opened_ledger(settings: Settings | None = None) -> Iterator[Ledger]:
    """Open the configured ledger; turn store failures into one line and exit 1."""
    from eventsourcing.persistence import PersistenceError  # here: `ledger --help` opens no store

    try:
        ledger = open_ledger(settings)
    except ConfigError as exc:
        fail(str(exc))
    try:
        yield ledger
    except PersistenceError as exc:
        fail(f"the event store failed: {exc}")
    finally:
        try:
            ledger.close()
        except Exception:  # noqa: BLE001 - closing after a failure must not mask it
            pass


def log_operator_read(ledger: Ledger, address: str, what: str) -> None:
    """Record a command-line read of one address's data in the access log: the operator's (trust.md §1)."""
    from ledger.importlog import operator_name

    ledger.access.record_now(operator_name(None), "OPERATOR", "command line", address, what)


def default_workers() -> int:
    """Processes for the commands that work in parallel (serve, rebuild, relay): one per core, at most 2."""
    return max(1, min(2, os.cpu_count() or 1))


def is_tty() -> bool:
    return sys.stderr.isatty()
