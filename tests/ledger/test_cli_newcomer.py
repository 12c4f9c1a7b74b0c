"""What a newcomer trips over on the command line: refusals, --version, help texts, start-up checks."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from ledger.cli import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_generate_refuses_an_until_after_today(runner: CliRunner, tmp_path: Path) -> None:
    """A history past today would be rejected by `ledger import` (R7: later than the ledger's clock)."""
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    out = tmp_path / "h.jsonl"
    for until in ("2030-01-01", tomorrow):
        result = runner.invoke(app, ["generate", "--addresses", "1", "--until", until, "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"ledger: --until {until} ") and "today" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not out.exists()
        demo = runner.invoke(app, ["demo", "--until", until], env={"LEDGER_HOME": str(tmp_path / "home")})
        assert demo.exit_code == 2 and demo.stderr.startswith(f"ledger: --until {until} ")
        assert not (tmp_path / "home").exists()


def _commands() -> list[tuple[list[str], Any]]:
    """Every command and group of `ledger`, with the words that reach it."""
    found: list[tuple[list[str], Any]] = []

    def walk(words: list[str], command: Any) -> None:
        found.append((words, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*words, name], sub)

    walk([], typer.main.get_command(app))
    return found


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"ledger {metadata.version('groningen-ledger')}\n"


def test_shell_completion_is_offered(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in shown and "--show-completion" in shown and "--version" in shown


def test_help_texts_are_paragraphs_without_hard_line_breaks(runner: CliRunner) -> None:
    for words, command in _commands():
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.splitlines()
            if not any(line.lstrip().startswith(("- ", "* ", "\b")) for line in lines):
                assert len(lines) <= 1, (words, paragraph)
        shown = runner.invoke(app, [*words, "--help"])
        assert shown.exit_code == 0, (words, shown.output)
        assert "<bool>" not in shown.stdout, words


def _ledger(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "LEDGER_HOME": str(tmp_path / "home")}
    code = "import sys; sys.argv[0] = 'ledger'; from ledger.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def _foreign_distribution(folder: Path, name: str) -> None:
    info = folder / f"{name}-9.9.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n")


def test_a_shadowing_distribution_stops_the_ledger_naming_it(tmp_path: Path) -> None:
    assert _ledger(tmp_path, "--version").returncode == 0
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "__init__.py").write_text("raise ImportError('an unrelated domain package')\n")
    _foreign_distribution(tmp_path, "domain")
    run = _ledger(tmp_path, "--help")
    assert run.returncode == 2, run.stderr
    first, advice = run.stderr.strip().splitlines()
    assert first.startswith("ledger: the package 'domain' is imported from ") and "(distribution domain 9.9)" in first
    assert "own environment" in advice and "Traceback" not in run.stderr


def test_an_overwriting_distribution_stops_the_ledger_naming_it(tmp_path: Path) -> None:
    _foreign_distribution(tmp_path, "replay")
    run = _ledger(tmp_path, "--help")
    assert run.returncode == 2
    assert "the distribution replay 9.9 is installed too and overwrites the ledger's package 'replay'" in run.stderr


def test_relay_once_without_a_broker_says_so_and_gives_up(tmp_path: Path) -> None:
    """No broker at LEDGER_KAFKA: no "connected" line, a warning that names the unreachable brokers,
    and with --once exit 1 after the bounded wait, saying nothing was lost."""
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(LEDGER_HOME=str(tmp_path / "home"), LEDGER_KAFKA=f"127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    ledger = str(Path(sys.executable).parent / "ledger")
    proc = subprocess.run(
        [ledger, "relay", "--once", "--give-up-after", "1", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert "relay connected to kafka" not in proc.stderr
    assert "relay cannot reach the Kafka brokers, will retry" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ledger: relay --once gave up after 1 s: the Kafka brokers at 127.0.0.1:"), last
    assert "nothing was lost, the next run resumes from position 0" in last
