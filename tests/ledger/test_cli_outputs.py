"""What a newcomer trips over, continued (issue 16, items 2, 3, 5 and 7): a second demo of another
size, the demo's figures as of its history's end, re-run imports, and one rule for exits and outputs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.envelope import not_a_subject
from ledger.generator import generate
from ledger.http import create_app
from ledger.tables import fmt
from tests.factories import claim_filed, subject
from tests.ledger.identity_support import Client, client_for, open_test_ledger

A, B = subject(1), subject(2)
UNKNOWN = "0014200000009999"  # well-formed, not in the ledger
MALFORMED = "1234"  # not a BAG id


def _lines(*events: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def _history(tmp_path: Path, addresses: int = 40) -> Path:
    out = io.BytesIO()
    generate(addresses, 5, date(2024, 12, 31), out, workers=1)
    path = tmp_path / "history.jsonl"
    path.write_bytes(out.getvalue())
    return path


# item 2: a second demo of another size in the same home -----------------------------------------
def test_a_second_demo_of_another_size_stops_and_names_a_home_of_its_own(cli: Any, home: Path) -> None:
    first = cli("demo", "--addresses", "60", "--seed", "3")
    assert first.exit_code == 0, first.output
    with_first = cli("export").stdout
    other = cli("demo", "--addresses", "40", "--seed", "3")  # shares its first events with the first
    assert other.exit_code == 2, other.output
    assert other.stdout == "" or "What the ledger shows" not in other.stdout  # no old figures shown
    message = " ".join(other.stderr.split())
    assert message.startswith(f"ledger: {home} already holds another history (")
    assert "demo-60-3-2024-12-31.jsonl" in message
    rerun = f"LEDGER_HOME={home}-40-3-2024-12-31 ledger demo --addresses 40 --seed 3 --until 2024-12-31"
    assert rerun in message
    assert cli("export").stdout == with_first  # nothing of the other history stored
    # the home it names works, and the first home still shows its own demo
    fresh = cli("demo", "--addresses", "40", "--seed", "3", at=Path(f"{home}-40-3-2024-12-31"))
    assert fresh.exit_code == 0, fresh.output
    again = cli("demo", "--addresses", "60", "--seed", "3")
    assert again.exit_code == 0 and "imported 0 (+" in again.stdout


def test_a_demo_into_a_store_with_other_events_stops(cli: Any, home: Path) -> None:
    assert cli("append", "--as", "IMG", stdin=_lines(claim_filed(A, "C-1"))).exit_code == 0
    run = cli("demo", "--addresses", "20")
    assert run.exit_code == 2
    assert "already holds another history (1 events: events that no import of the demo stored)" in run.stderr


# item 3: the demo's figures as of the history's end ---------------------------------------------
def test_the_demo_shows_its_figures_as_of_the_historys_last_day(cli: Any) -> None:
    run = cli("demo", "--addresses", "60", "--seed", "3", "--until", "2023-06-30")
    assert run.exit_code == 0, run.output
    assert "What the ledger shows on 2023-06-30, the history's last day" in run.stdout
    assert "as of 2023-06-30: open periods are measured to it, not to today" in " ".join(run.stdout.split())
    samenloop = next(line for line in run.stdout.splitlines() if "samenloop on 2023-06-30 (G3)" in line)
    at_end = orjson.loads(cli("metrics", "--at", "2023-06-30", "--json").stdout)
    assert samenloop.split()[-2].strip("│ ") == f"{at_end['G3']['samenloop_addresses']:,}"
    assert f"median {fmt(at_end['G8']['realised_lead_time']['median_days'])} days" in run.stdout
    # the sample address is shown as `ledger case --at` the last day shows it, not as of today
    step = next(line for line in run.stdout.splitlines() if "ledger case " in line)
    assert " --at 2023-06-30 " in step and "ledger metrics --at 2023-06-30" in run.stdout
    sample = step.split()[step.split().index("case") + 1]
    then = cli("case", sample, "--at", "2023-06-30").stdout.splitlines()
    today = cli("case", sample).stdout.splitlines()
    assert then != today, "the sample's view depends on the moment (open periods)"
    assert all(line in run.stdout for line in then)


# item 5: re-running an import ---------------------------------------------------------------------
def test_a_rerun_import_prints_a_summary_and_no_line_per_duplicate(cli: Any, tmp_path: Path) -> None:
    history = _history(tmp_path)
    total = len(history.read_bytes().splitlines())
    first = cli("import", str(history), "--quiet")
    assert (first.exit_code, first.stdout) == (0, "")
    again = cli("import", str(history), "--quiet")
    assert again.exit_code == 0, again.output
    assert again.stdout == ""  # duplicates are a success: no line each
    assert (
        again.stderr.splitlines()[-1]
        == f"imported: 0 accepted, {total:,} duplicate (already in the ledger), 0 rejected"
    )
    every = cli("import", str(history), "--quiet", "--all-results")
    assert [orjson.loads(line)["result"] for line in every.stdout.splitlines()] == ["duplicate"] * total


def test_import_prints_lines_for_rejections_only(cli: Any, tmp_path: Path) -> None:
    event = {**claim_filed(A, "C-1", time="2021-03-01T09:00:00Z"), "recordedtime": "2021-03-01T09:00:00Z"}
    bad = {**claim_filed(B, "C-1", time="2021-03-01T10:00:00Z"), "recordedtime": "2021-03-01T08:00:00Z"}
    path = tmp_path / "h.jsonl"
    path.write_bytes(_lines(event))
    assert cli("import", str(path), "--quiet").exit_code == 0
    path.write_bytes(_lines(event, bad))
    run = cli("import", str(path), "--quiet")
    assert run.exit_code == 1
    assert [(r["line"], r["result"]) for r in map(orjson.loads, run.stdout.splitlines())] == [(2, "rejected")]
    assert run.stderr.splitlines()[-1] == "imported: 0 accepted, 1 duplicate (already in the ledger), 1 rejected"
    summary = cli("import", str(path), "--quiet", "--json")
    assert orjson.loads(summary.stderr.splitlines()[-1]) == {
        "imported": {"accepted": 0, "duplicate": 1, "rejected": 1},
        "stopped": False,
    }


def test_append_acknowledges_every_line_and_counts_like_import(cli: Any) -> None:
    """`ledger append` answers what POST /events answers: a line per event, a duplicate's too."""
    lines = _lines(claim_filed(A, "C-1"), claim_filed(B, "C-1"))
    assert cli("append", "--as", "IMG", stdin=lines).exit_code == 0
    again = cli("append", "--as", "IMG", stdin=lines)
    assert again.exit_code == 0  # a duplicate is a success
    assert [orjson.loads(line)["result"] for line in again.stdout.splitlines()] == ["duplicate", "duplicate"]
    assert again.stderr == "appended: 0 accepted, 2 duplicate (already in the ledger), 0 rejected\n"


# item 7: one rule for exits and outputs -----------------------------------------------------------
@pytest.fixture
def stored(cli: Any) -> None:
    assert cli("append", "--as", "IMG", stdin=_lines(claim_filed(A, "C-1"))).exit_code == 0


@pytest.mark.parametrize(
    "command",
    [("case",), ("replay",), ("export", "--address"), ("verify", "--address")],
    ids=["case", "replay", "export", "verify"],
)
def test_malformed_address_exits_2_unknown_address_exits_1(cli: Any, stored: None, command: tuple[str, ...]) -> None:
    malformed = cli(*command, MALFORMED)
    assert (malformed.exit_code, malformed.stdout) == (2, ""), malformed.output
    assert malformed.stderr == f"ledger: {not_a_subject(MALFORMED)}\n"
    unknown = cli(*command, UNKNOWN)
    assert (unknown.exit_code, unknown.stdout) == (1, ""), unknown.output
    assert unknown.stderr.startswith("ledger: ") and UNKNOWN in unknown.stderr
    assert len(unknown.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "command",
    [("case", "--json"), ("replay", "--json"), ("replay", "--format", "json"), ("verify", "--json", "--address")],
    ids=["case", "replay", "replay-format", "verify"],
)
def test_with_json_errors_are_json(cli: Any, stored: None, command: tuple[str, ...]) -> None:
    for address, code in ((MALFORMED, 2), (UNKNOWN, 1)):
        run = cli(*command, address)
        assert (run.exit_code, run.stdout) == (code, "")
        error = orjson.loads(run.stderr)
        assert error["exit"] == code and address in error["error"]


def test_verify_puts_its_verdict_on_stdout_intact_or_broken(cli: Any, stored: None, home: Path) -> None:
    import sqlite3

    intact = cli("verify")
    assert (intact.exit_code, intact.stdout, intact.stderr) == (0, "verify: intact: 1 events in 1 addresses\n", "")
    assert orjson.loads(cli("verify", "--json").stdout) == {"intact": True, "events": 1, "addresses": 1, "broken": []}
    with sqlite3.connect(home / "events.sqlite") as db:
        (state,) = db.execute("SELECT state FROM stored_events WHERE originator_id=?", (A,)).fetchone()
        event = orjson.loads(state)
        event["data"]["claim_id"] = "C-2"
        db.execute("UPDATE stored_events SET state=? WHERE originator_id=?", (orjson.dumps(event), A))
    broken = cli("verify")
    assert (broken.exit_code, broken.stderr) == (1, "")
    assert broken.stdout.splitlines() == [
        f"broken: address {A} at position 1: hash does not match the event's content",
        "verify: 1 of 1 addresses broken (1 events read)",
    ]
    doc = orjson.loads(cli("verify", "--json").stdout)
    assert doc["intact"] is False
    assert doc["broken"] == [{"address": A, "position": 1, "reason": "hash does not match the event's content"}]
    refused = cli("verify", "--json", "--since", "1")
    assert refused.exit_code == 2 and orjson.loads(refused.stderr)["exit"] == 2


def test_rebuild_and_generate_report_on_stdout_and_as_json(cli: Any, stored: None, tmp_path: Path) -> None:
    rebuilt = cli("rebuild", "--no-progress")
    assert rebuilt.exit_code == 0
    assert rebuilt.stdout.startswith("rebuilt the projections of 1 addresses from 1 events ")
    doc = orjson.loads(cli("rebuild", "--no-progress", "--json").stdout)
    assert (doc["addresses"], doc["events"]) == (1, 1)
    out = tmp_path / "h.jsonl"
    made = cli("generate", "--addresses", "3", "--out", str(out), "--json")
    assert made.exit_code == 0
    summary = orjson.loads(made.stdout)
    assert summary["events"] == len(out.read_bytes().splitlines()) and summary["addresses"] == 3
    streamed = cli("generate", "--addresses", "3", "--json")  # stdout is the history: the summary on stderr
    assert streamed.stdout_bytes == out.read_bytes()
    assert orjson.loads(streamed.stderr)["events"] == summary["events"]
    bad = cli("generate", "--until", "someday", "--json")
    assert bad.exit_code == 2 and orjson.loads(bad.stderr) == {
        "error": "--until 'someday' is not a date (YYYY-MM-DD)",
        "exit": 2,
    }


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    ledger = open_test_ledger(tmp_path / "http")
    yield from client_for(create_app(ledger, limit=1, verifier=None))


@pytest.mark.parametrize("path", ["/cases/{}", "/cases/{}/history"], ids=["case", "replay"])
def test_http_malformed_address_is_422_unknown_is_404(client: Client, path: str) -> None:
    malformed = client.get(path.format(MALFORMED))
    assert malformed.status_code == 422
    assert malformed.json()["detail"].startswith(f"'{MALFORMED}' is not a BAG nummeraanduiding id")
    assert malformed.headers["content-type"] == "application/problem+json"
    assert client.get(path.format(UNKNOWN)).status_code == 404


def test_replay_and_bundle_confirm_their_files_on_stdout(cli: Any, stored: None, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    written = cli("replay", A, "--format", "html", "--out", str(report))
    assert written.exit_code == 0, written.output
    assert written.stdout == f"report written: {report}\n" and report.read_text().startswith("<!")
    bundle = tmp_path / "a.bundle"
    sealed = cli("replay", A, "--bundle", str(bundle))
    assert sealed.exit_code == 0, sealed.output
    assert sealed.stdout.startswith(f"bundle written: {bundle}") and bundle.exists()
