"""Bad input gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.replay.conftest import Cli
from tests.replay.story import Story

Put = Callable[[Story], str]
LEDGER = Path(sys.executable).with_name("ledger")


def _story() -> Story:
    s = Story(51)
    s.add("DamageClaimFiled", "2021-03-01T09:00", recorded="2021-03-02T09:00")
    s.add("ContactMade", "2021-03-05")
    return s


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("0014200000000999",), 1, "no events for address 0014200000000999"),
        (
            ("12345",),
            2,
            "'12345' is not a BAG nummeraanduiding id (16 digits, the 5th and 6th 20, e.g. 0014200000000001)",
        ),
        (
            ("0014010000000001",),
            2,
            "'0014010000000001' is not a BAG nummeraanduiding id "
            "(16 digits, the 5th and 6th 20, e.g. 0014200000000001)",
        ),
        (
            ("0014200000000051", "--at", "2021-02-28"),
            2,
            "the at cut-off 2021-02-28T23:59:59.999999Z is before the first event (2021-03-01T09:00:00.000000Z)",
        ),
        (
            ("0014200000000051", "--known-at", "2021-03-01"),
            2,
            "the known-at cut-off 2021-03-01T23:59:59.999999Z is before the first registration "
            "(2021-03-02T09:00:00.000000Z)",
        ),
        (
            ("0014200000000051", "--at", "2021-02-30"),
            2,
            "--at '2021-02-30' is not a date (YYYY-MM-DD) or an RFC 3339 timestamp",
        ),
        (
            ("0014200000000051", "--known-at", "gisteren"),
            2,
            "--known-at 'gisteren' is not a date (YYYY-MM-DD) or an RFC 3339 timestamp",
        ),
        (("0014200000000051", "--format", "pdf"), 2, "format 'pdf' is not one of text, json, html, md"),
    ],
)
def test_bad_input_gets_one_line(cli: Cli, stored: Put, args: tuple[str, ...], code: int, message: str) -> None:
    stored(_story())
    run = cli("replay", *args)
    assert (run.code, run.out, run.err) == (code, "", f"ledger: {message}\n")


def test_empty_store(cli: Cli) -> None:
    run = cli("replay", "0014200000000001")
    assert (run.code, run.err) == (1, "ledger: no events for address 0014200000000001\n")


def test_unwritable_out(cli: Cli, stored: Put, tmp_path: Path) -> None:
    subject = stored(_story())
    run = cli("replay", subject, "--out", str(tmp_path / "missing" / "report.html"), "--format", "html")
    assert run.code == 2 and run.err.startswith("ledger: cannot write ")


def test_out_file(cli: Cli, stored: Put, tmp_path: Path) -> None:
    subject = stored(_story())
    out = tmp_path / "report.md"
    run = cli("replay", subject, "--format", "md", "--out", str(out))
    assert run.code == 0 and run.out == f"report written: {out}\n"  # the confirmation; the report is in the file
    assert out.read_text().startswith(f"# Case history — address {subject}")


def test_console_script_never_prints_a_traceback(home: Path) -> None:
    env = {**os.environ, "LEDGER_HOME": str(home)}
    for args in (["0014200000000001"], ["x"], ["0014200000000001", "--at", "nonsense"]):
        done = subprocess.run([str(LEDGER), "replay", *args], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode in (1, 2)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    bogus = home / "bogus.json"
    bogus.write_text("hello")
    done = subprocess.run(
        [str(LEDGER), "verify", "--bundle", str(bogus)], capture_output=True, text=True, env=env, timeout=60
    )
    assert (done.returncode, done.stderr) == (1, f"ledger: {bogus}: not an evidence bundle: the file is not JSON\n")
