"""The `ledger` command: one typer app; each command group lives in `ledger.commands.*`."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="ledger",
    help="Groningen coordination ledger: IMG and NCG events per address, verified and replayable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app: typer.Typer) -> None`. Listed here, in help order.
COMMAND_MODULES = (
    "ledger.commands.write",  # append, import, export, verify
    "ledger.commands.schema",  # schema
    "ledger.commands.generate",  # generate
    "ledger.commands.read",  # case, metrics, evaluation, rebuild
    "ledger.commands.serve",  # serve
    "ledger.commands.demo",  # demo
    "ledger.commands.replay",  # replay
    "ledger.commands.kafka",  # kafka init, relay, intake, consume
    "ledger.commands.trust",  # keys init|trust, checkpoint, witness
    "ledger.commands.keys",  # keys init (--issuer: the local token issuer)
    "ledger.commands.token",  # token issue
    "ledger.commands.accesslog",  # access-log
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    app()
