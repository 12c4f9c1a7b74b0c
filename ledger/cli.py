"""The `ledger` command: one typer app; each command group lives in `ledger.commands.*`."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

app = typer.Typer(
    name="ledger",
    help="Groningen coordination ledger: IMG and NCG events per address, verified and replayable.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for the user's shell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: typer's rich help renderer cost ~100-200 ms per `--help`
)


def reflow(text: str) -> str:
    """A docstring as help: each paragraph one line (the terminal wraps it), lists and indented lines kept."""
    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        lines = [line.strip() for line in paragraph.strip().splitlines()]
        if any(line.startswith(("- ", "* ", "\b")) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line for line in lines if line))
    return "\n\n".join(paragraphs)


class _ReadableHelp:
    """Help without the docstrings' hard line breaks, and no `<bool>` type shown for flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("help"):
            kwargs["help"] = reflow(kwargs["help"])
        super().__init__(*args, **kwargs)

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # a flag takes no value: show no type
        return params


class LedgerCommand(_ReadableHelp, TyperCommand):
    pass


class LedgerGroup(_ReadableHelp, TyperGroup):
    pass


def _readable(typer_app: typer.Typer) -> None:
    """Every command and group of `typer_app` (recursively) gets the readable help classes."""
    if not isinstance(typer_app.info.cls, type) or typer_app.info.cls is TyperGroup:
        typer_app.info.cls = LedgerGroup
    for command in typer_app.registered_commands:
        if not isinstance(command.cls, type) or command.cls is TyperCommand:
            command.cls = LedgerCommand
    for group in typer_app.registered_groups:
        if not isinstance(group.cls, type) or group.cls is TyperGroup:
            group.cls = LedgerGroup
        if group.typer_instance is not None:
            _readable(group.typer_instance)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # only when asked: start-up stays fast

        typer.echo(f"ledger {version('groningen-ledger')}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the ledger's version and exit."),
    ] = False,
) -> None:
    pass


# Each module defines `register(app: typer.Typer) -> None`. Listed here, in help order.
COMMAND_MODULES = (
    "ledger.commands.write",  # append, import, export, verify
    "ledger.commands.schema",  # schema
    "ledger.commands.generate",  # generate
    "ledger.commands.read",  # case, metrics, evaluation, rebuild
    "ledger.commands.worklist",  # worklist
    "ledger.commands.serve",  # serve
    "ledger.commands.demo",  # demo
    "ledger.commands.replay",  # replay
    "ledger.commands.kafka",  # kafka init, relay, intake, consume
    "ledger.commands.trust",  # keys init|trust, checkpoint, witness
    "ledger.commands.keys",  # keys init (--issuer: the local token issuer)
    "ledger.commands.token",  # token issue
    "ledger.commands.accesslog",  # access-log
)


def _check_own_packages() -> None:
    """Stop (exit 2) when another distribution shadows one of the ledger's packages (ledger.ownership)."""
    from ledger.ownership import foreign_packages

    problems = foreign_packages()
    if problems:
        for problem in problems:
            typer.echo(f"ledger: {problem}", err=True)
        typer.echo(
            "ledger: install the ledger in its own environment (a virtual environment of its own; see the README)",
            err=True,
        )
        raise SystemExit(2)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            raise
        module.register(app)


_check_own_packages()  # before any command module imports those packages
_register_all()
_readable(app)


def main() -> None:
    """Console-script entry point."""
    app()
