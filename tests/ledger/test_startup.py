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
