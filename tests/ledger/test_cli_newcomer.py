"""What a newcomer trips over on the command line: refusals, --version, help texts, start-up checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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
