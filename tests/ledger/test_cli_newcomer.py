"""What a newcomer trips over on the command line: refusals, --version, help texts, start-up checks."""

from __future__ import annotations

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
