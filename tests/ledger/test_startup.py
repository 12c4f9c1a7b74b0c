"""Start-up: a command imports only what it uses (issue "Figures at any moment…", item 6).

`ledger --help` and the embedded SQLite commands must not import the PostgreSQL driver, Kafka
clients or the HTTP stack; each command runs in a fresh interpreter, which then reports the
modules it holds. Time targets are in benchmarks/startup.py (a test machine is too noisy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "0014200000000001"

# Run the console-script entry point, then print which of the watched modules were imported.
WRAPPER = """
import json, sys
watched = sys.argv[1].split(",")
sys.argv = ["ledger", *sys.argv[2:]]
from ledger.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\nIMPORTED " + json.dumps(sorted(m for m in watched if m in sys.modules)))
"""

NEVER_EMBEDDED = (
    "psycopg",
    "psycopg_pool",
    "eventsourcing.postgres",
    "projections.store.postgres",
    "kafka",
    "confluent_kafka",
    "consumers.clients",
    "fastapi",
    "starlette",
    "uvicorn",
    "jwt",
)
NEVER_FOR_HELP = (
    *NEVER_EMBEDDED,
    "eventsourcing",
    "cryptography",
    "domain.envelope",
    "projections.query",
    "replay.run",
    "rich",  # help is click's plain text: typer's rich renderer and rich cost ~100-200 ms
    "typer.rich_utils",
)
# `ledger --help` also runs no importlib.metadata (the ownership check lists the metadata folders
# itself; importlib.metadata imports the e-mail parser); a command's help does, as typer coerces its
# options with pydantic (typer._adapters), whose plugin loader imports it
NEVER_FOR_TOP_HELP = (*NEVER_FOR_HELP, "importlib.metadata", "email")


def imported(args: list[str], watched: tuple[str, ...], home: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, ",".join(watched), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("IMPORTED ")), None)
    assert line is not None, done.stdout + done.stderr
    names: list[str] = json.loads(line.removeprefix("IMPORTED "))
    return names


@pytest.mark.parametrize("args", [["--help"], ["case", "--help"], ["kafka", "--help"], ["serve", "--help"]])
def test_help_imports_no_store_kafka_or_http_modules(args: list[str], tmp_path: Path) -> None:
    assert imported(args, NEVER_FOR_TOP_HELP if args == ["--help"] else NEVER_FOR_HELP, tmp_path / "home") == []


@pytest.mark.parametrize(
    "args",
    [["verify"], ["append", "-"], ["import", "-"], ["case", ADDRESS], ["metrics"]],
    ids=["verify", "append", "import", "case", "metrics"],
)
def test_embedded_sqlite_commands_import_no_postgres_kafka_or_http(args: list[str], tmp_path: Path) -> None:
    """On an empty SQLite home; `-` reads stdin (empty here): the command runs, whatever it answers."""
    assert imported(args, NEVER_EMBEDDED, tmp_path / "home") == []


def test_recorder_topics_name_the_recorder_classes() -> None:
    """bootstrap names the recorders by topic string (no import); the strings must stay right."""
    from eventsourcing.utils import get_topic

    from ledger.adapters.postgres import LedgerPostgresRecorder
    from ledger.adapters.sqlite import LedgerSQLiteRecorder
    from ledger.bootstrap import POSTGRES_RECORDER_TOPIC, SQLITE_RECORDER_TOPIC

    assert get_topic(LedgerSQLiteRecorder) == SQLITE_RECORDER_TOPIC
    assert get_topic(LedgerPostgresRecorder) == POSTGRES_RECORDER_TOPIC


def test_schema_default_folder_is_the_contracts() -> None:
    from domain.schemas import SCHEMA_DIR
    from ledger.commands import schema

    assert schema.SCHEMA_DIR == SCHEMA_DIR


def test_read_option_defaults_are_the_projections() -> None:
    """`ledger.commands.read` spells two defaults as literals (no projections import for --help)."""
    from ledger.commands import read
    from projections import query, rebuild

    assert read.DEFAULT_PIVOT == query.DEFAULT_PIVOT
    assert read.REBUILD_CHUNK == rebuild.CHUNK


def test_top_help_lists_every_command_and_imports_no_command_module(tmp_path: Path) -> None:
    """`ledger --help` lists each command of `ledger.cli.COMMANDS` with its help line, from the table:
    no command module, store, Kafka, HTTP, rich or importlib.metadata is imported (the lazy group)."""
    from ledger.cli import COMMANDS

    modules = sorted({module for modules, _ in COMMANDS.values() for module in modules})
    watched = (*NEVER_FOR_TOP_HELP, *modules, "ledger.commands", "ledger.commands.common", "ledger.bootstrap")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, ",".join(watched), "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    listed = done.stdout.split("\nCommands:\n", 1)[1].split("\n\nIMPORTED ", 1)[0].splitlines()
    assert [line.split(None, 1)[0] for line in listed] == list(COMMANDS)
    for line, (_, text) in zip(listed, COMMANDS.values(), strict=True):
        shown = line.split(None, 1)[1]  # click shortens a help line to the terminal: a sentence, or with "..."
        assert text.startswith(shown.removesuffix("...")), line
    assert done.stdout.rsplit("IMPORTED ", 1)[1].strip() == "[]"


# The command line as it was built before the lazy group: every module registered into one typer app,
# which typer turns into a group of every command. Run in a fresh interpreter (registering twice in one
# process would add `keys trust` twice); prints, for each of `ledger`'s command paths, the help and
# exit code of the eager app and of `ledger.cli.app`, and the eager group's command names.
EAGER = """
import importlib, json, sys
import typer, typer.main
from typer.testing import CliRunner
from ledger import cli

eager = typer.Typer(
    name="ledger", help=cli.app.info.help, no_args_is_help=True, add_completion=True,
    pretty_exceptions_enable=False, rich_markup_mode=None,
)
eager.callback()(cli.app.registered_callback.callback)
modules = dict.fromkeys(m for ms, _ in cli.COMMANDS.values() for m in ms)
for name in modules:
    importlib.import_module(name).register(eager)
cli._readable(eager)
group = typer.main.get_command(eager)
paths = [[]]
for name, command in group.commands.items():
    paths.append([name])
    paths.extend([name, sub] for sub in getattr(command, "commands", {}))
runner = CliRunner()
shown = []
errors = [["metrix"], ["kafka", "nosuch"], ["case"], ["metrics", "--bogus"], ["keys"]]
for args in [*([*words, "--help"] for words in paths), *errors]:
    before, after = runner.invoke(eager, args), runner.invoke(cli.app, args)
    shown.append([args, before.output, before.exit_code, after.output, after.exit_code])
print(json.dumps({"names": list(group.commands), "shown": shown}))
"""


@pytest.mark.parametrize("columns", ["60", "200"])  # click wraps help at min(columns, 80)
def test_lazy_group_shows_what_the_eager_group_showed(columns: str, tmp_path: Path) -> None:
    """Every command (and `kafka`/`keys`/`token` subcommand) in the table, in typer's order, and every
    help, usage error and exit code the same as with every command built up front."""
    from ledger.cli import COMMANDS

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(LEDGER_HOME=str(tmp_path / "home"), COLUMNS=columns)
    done = subprocess.run(
        [sys.executable, "-c", EAGER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["names"] == list(COMMANDS)
    assert len(result["shown"]) > len(COMMANDS)
    for args, before, before_code, after, after_code in result["shown"]:
        assert (after, after_code) == (before, before_code), args


@pytest.mark.parametrize("command", ["metrics", "evaluation"])
def test_read_commands_with_json_import_no_pydantic_rich_or_write_side(command: str, tmp_path: Path) -> None:
    """`ledger metrics --json` (and evaluation) need neither typer's pydantic adapters (`_Coercion`),
    nor rich (tables only), nor the append service and the event models (`Ledger.service`)."""
    watched = ("pydantic", "rich", "domain.service", "domain.catalogue", "domain.envelope", "importlib.metadata")
    assert imported([command, "--json"], watched, tmp_path / "home") == []


def test_coercion_gives_what_typer_gives() -> None:
    """`ledger.cli._Coercion` (typer's coercion, its pydantic adapter built only when needed) answers
    every value as typer's own coercion does: the same value, or the same error."""
    import typer._click as click
    from typer._coercion import build_runtime_param
    from typer.core import _TyperParameter

    from ledger.cli import COMMANDS, _Coercion, build_command

    def outcome(coercion: Any, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return ("value", coercion.coerce(value, param=param, ctx=ctx))
        except click.exceptions.UsageError as exc:
            return ("error", type(exc), exc.format_message())

    checked = 0
    for name in COMMANDS:
        command = build_command(name)
        ctx = click.Context(command)
        for param in command.get_params(ctx):
            if not isinstance(param, _TyperParameter) or param.type_descriptor.is_file:
                continue
            assert isinstance(param._runtime_param, _Coercion), (name, param.name)
            typers = build_runtime_param(param.type_descriptor)
            for value in (None, "", "2", "x y", "2024-01-01", "-1", 3, 0, True, b"b"):
                assert outcome(param._runtime_param, value, param, ctx) == outcome(typers, value, param, ctx), (
                    name,
                    param.name,
                    value,
                )
                checked += 1
    assert checked > 100
