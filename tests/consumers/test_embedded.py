"""Embedded mode is untouched: without LEDGER_KAFKA no command loads the Kafka client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.consumers.kafka_support import ledger_env

PROBE = """
import sys
from typer.testing import CliRunner
from ledger.cli import app
runner = CliRunner()
for args in (["--help"], ["export"], ["verify"], ["schema", "--out", sys.argv[1]], ["relay", "--once"]):
    result = runner.invoke(app, args)
    if args[0] == "relay":
        assert result.exit_code == 2, result.output
loaded = sorted(m for m in sys.modules if m == "kafka" or m.startswith(("kafka.", "confluent_kafka")))
print(",".join(loaded) or "none")
"""


def test_no_command_imports_kafka_without_ledger_kafka(tmp_path: Path) -> None:
    env = ledger_env(tmp_path / "home", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "schemas")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "none"
