"""The `ledger` command: one typer app; each command group lives in `ledger.commands.*`."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import cached_property
from gettext import gettext
from typing import Annotated, Any

import typer
import typer.main
from typer import _click as click  # typer (pinned) carries its own click
from typer._click.utils import make_default_short_help
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer.core import TyperCommand, TyperGroup, _TyperParameter


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


@dataclass(frozen=True)
class _Coercion(RuntimeParam):
    """typer's coercion of one parameter's value, with its pydantic TypeAdapter built only for a value
    that needs one. typer builds an adapter for every parameter of the command that runs, even one
    whose value is None (which it returns as is, `RuntimeParam.coerce`) or a str given to a plain
    `str` parameter (which the adapter returns unchanged): importing pydantic and building them cost
    ~130 ms of `ledger metrics`. Every other value goes to what typer would have built."""

    descriptor: TypeDescriptor

    @cached_property
    def typer_coercion(self) -> RuntimeParam:
        return build_runtime_param(self.descriptor)

    def _coerce_value(self, value: Any, param: Any, ctx: click.Context) -> Any:
        if type(value) is str and self.annotation is str and self.parameter_info.parser is None:
            return value
        return self.typer_coercion._coerce_value(value, param=param, ctx=ctx)


class _ReadableHelp:
    """Help without the docstrings' hard line breaks, and no `<bool>` type shown for flags; values
    coerced as typer does, building its pydantic adapters only when needed (`_Coercion`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("help"):
            kwargs["help"] = reflow(kwargs["help"])
        super().__init__(*args, **kwargs)

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # a flag takes no value: show no type
            if isinstance(param, _TyperParameter) and param._runtime_param is None:
                descriptor = param.type_descriptor
                param._runtime_param = _Coercion(descriptor.parameter_info, descriptor.annotation, descriptor)
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


# Every command: the modules whose `register(app: typer.Typer) -> None` define it, and the first
# paragraph of its help (what `ledger --help` lists). Listed here in help order: commands, then
# groups, as typer lists them. `ledger --help` imports none of these modules; a command's module is
# imported when that command runs (or shows its own help). tests/ledger/test_startup.py checks the
# table against the commands the modules define.
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "append": (
        ("ledger.commands.write",),
        "Append events as the given organisation; print one JSON result line per input line.",
    ),
    "import": (
        ("ledger.commands.write",),
        "Import history: events keep their original `recordedtime` (non-decreasing per address).",
    ),
    "export": (
        ("ledger.commands.write",),
        "Print accepted events with all ledger attributes as JSON Lines, in the ledger's global order.",
    ),
    "verify": (
        ("ledger.commands.write",),
        "Recompute every hash chain. Exit 0 when intact; else 1, naming each broken address.",
    ),
    "schema": (
        ("ledger.commands.schema",),
        "Generate JSON Schema for every event type (and the stored-event form) from the models.",
    ),
    "generate": (
        ("ledger.commands.generate",),
        "Write a history from 2018 up to --until as JSON Lines in recorded order.",
    ),
    "case": (
        ("ledger.commands.read",),
        "The joint case view of one address: damage, strengthening, coordination, what needs attention.",
    ),
    "metrics": (("ledger.commands.read",), "Governance metrics G1–G15 of the whole ledger."),
    "evaluation": (("ledger.commands.read",), "Evaluation figures E1–E6 of the IMG–NCG cooperation."),
    "rebuild": (
        ("ledger.commands.read",),
        "Rebuild every projection from the event store into a fresh store, then swap it in.",
    ),
    "worklist": (
        ("ledger.commands.worklist",),
        "Every open attention point across addresses, most urgent first, one page at a time.",
    ),
    "serve": (
        ("ledger.commands.serve",),
        "Serve the joint case view, metrics, evaluation and the event contract over HTTP (docs at /docs).",
    ),
    "demo": (
        ("ledger.commands.demo",),
        "Generate a Groningen-like history, import it, build the projections and show what they say as of "
        "the history's last day.",
    ),
    "replay": (
        ("ledger.commands.replay",),
        "Replay one address: verify its hash chain, then every event in valid-time order with both times and "
        "the change of the joint case view at each step, the view at the cut-offs, the findings (coordination "
        "norms not met) and the provenance.",
    ),
    "relay": (
        ("ledger.commands.kafka",),
        "Publish every accepted event to ledger.events (CloudEvents binary mode, key = address).",
    ),
    "intake": (
        ("ledger.commands.kafka",),
        "Append what IMG, NCG and the portal publish on their inbound topics; rejections go to ledger.rejections.",
    ),
    "consume": (
        ("ledger.commands.kafka",),
        "Keep the Kafka-fed projection store up to date from ledger.events (run several to share partitions).",
    ),
    "checkpoint": (
        ("ledger.commands.trust",),
        "Sign a checkpoint of the log's tree, have the configured witnesses cosign it, publish it.",
    ),
    "witness": (("ledger.commands.trust",), "Run a C2SP tlog-witness (POST /add-checkpoint) for the ledger's log."),
    "access-log": (
        ("ledger.commands.accesslog",),
        "List every recorded read of one address's data (case view, replay, bundle): who, as what, when.",
    ),
    "kafka": (("ledger.commands.kafka",), "Kafka topics (needs LEDGER_KAFKA)."),
    # `keys trust` joins the group from ledger.commands.trust
    "keys": (("ledger.commands.keys", "ledger.commands.trust"), "Key management (the operator's)."),
    "token": (("ledger.commands.token",), "Bearer tokens from the local issuer (development and the demo)."),
}

# The typer app the command modules register into, each module once per process, when one of its
# commands is first needed; the root group builds only the click command that runs.
_registry = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)
_registered: set[str] = set()


def register(module: str) -> None:
    """Import a command module and register its commands into the registry (once)."""
    if module not in _registered:
        importlib.import_module(module).register(_registry)
        _registered.add(module)
        _readable(_registry)


def build_command(name: str) -> click.Command:
    """The click command (or group) `name` of COMMANDS, built as typer builds it in a full group."""
    for module in COMMANDS[name][0]:
        register(module)
    for info in _registry.registered_commands:
        if info.name == name:
            return typer.main.get_command_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode
            )
    for group in _registry.registered_groups:
        if group.name == name:
            return typer.main.get_group_from_info(
                group,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
                suggest_commands=app.suggest_commands,
            )
    raise LookupError(f"{name}: not defined by {', '.join(COMMANDS[name][0])}")


class _LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name: the names of COMMANDS (in order), each built when first looked up."""

    def __init__(self, extra: Mapping[str, click.Command]) -> None:
        self._built: dict[str, click.Command] = dict(extra)

    def __getitem__(self, name: str) -> click.Command:
        command = self._built.get(name)
        if command is None:
            if name not in COMMANDS:
                raise KeyError(name)
            command = self._built[name] = build_command(name)
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for name in self._built if name not in COMMANDS)


class LazyGroup(LedgerGroup):
    """The `ledger` group: lists its commands from COMMANDS and builds (imports) only the one that runs.

    Typer builds every command's click object (signatures, type hints) and the command modules'
    imports before `ledger --help` can print: most of its start-up (docs/benchmarks.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """TyperGroup.format_commands, with each short help from COMMANDS instead of the built command."""
        rows = [(name, COMMANDS[name][1]) for name in COMMANDS]
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section(gettext("Commands")):
            formatter.write_dl([(name, make_default_short_help(text, limit).strip()) for name, text in rows])


app = typer.Typer(
    name="ledger",
    help="Groningen coordination ledger: IMG and NCG events per address, verified and replayable.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for the user's shell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: typer's rich help renderer cost ~100-200 ms per `--help`
    cls=LazyGroup,
)


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


_check_own_packages()  # before any command module imports those packages


def main() -> None:
    """Console-script entry point."""
    app()
