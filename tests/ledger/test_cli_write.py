"""`ledger append`, `import`, `export`, `verify` and `schema` as a user runs them.

Most tests drive the typer app in-process (`CliRunner`) against a temporary LEDGER_HOME; those about
what a user sees when the store cannot be opened run the real console entry point in a subprocess.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from domain.catalogue import CATALOGUE
from domain.schemas import SCHEMA_DIR
from ledger.cli import app
from tests.factories import claim_filed, decided, example, receipt, subject

A, B = subject(1), subject(2)
RESULT_KEYS = ["line", "id", "result", "code", "message", "path", "streamposition", "recordedtime", "hash"]
REPO = Path(__file__).resolve().parents[2]


def jsonl(path: Path, *lines: dict[str, Any] | bytes) -> Path:
    path.write_bytes(b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines))
    return path


def results(output: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in output.splitlines()]


def history() -> list[dict[str, Any]]:
    return [
        claim_filed(A, "C-1", time="2021-03-01T09:00:00Z"),
        claim_filed(B, "C-1", time="2021-03-01T10:00:00Z"),
        receipt(A, "C-1", time="2021-03-02T09:00:00Z"),
        example("ContactMade", A, {"with_org": "IMG", "channel": "phone", "initiated_by": "resident"}),
        decided(B, "D-1", ["C-1"], time="2021-04-01T09:00:00Z"),
    ]


# append --------------------------------------------------------------------------------------
def test_append_prints_one_result_per_line_in_input_order(cli: Any, tmp_path: Path) -> None:
    events = history()
    source = jsonl(tmp_path / "in.jsonl", *events)
    run = cli("append", str(source), "--as", "IMG")
    assert run.exit_code == 0, run.stderr
    out = results(run.stdout)
    assert [list(r) for r in out] == [RESULT_KEYS] * len(events)
    assert [(r["line"], r["id"], r["result"]) for r in out] == [
        (n, e["id"], "accepted") for n, e in enumerate(events, 1)
    ]
    assert [r["streamposition"] for r in out] == [1, 1, 2, 3, 2]
    assert all(len(r["hash"]) == 64 and r["code"] is r["message"] is r["path"] is None for r in out)


def test_append_again_answers_duplicate_with_the_same_position_and_hash(cli: Any, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", *history())
    first = results(cli("append", str(source), "--as", "IMG").stdout)
    again = cli("append", str(source), "--as", "IMG")
    assert again.exit_code == 0
    assert [(r["result"], r["streamposition"], r["hash"]) for r in results(again.stdout)] == [
        ("duplicate", r["streamposition"], r["hash"]) for r in first
    ]


def test_a_malformed_line_is_rejected_on_its_own_and_the_rest_is_processed(cli: Any, tmp_path: Path) -> None:
    good_a, good_b = claim_filed(A, "C-1", time="2021-03-01T09:00:00Z"), claim_filed(B, "C-1")
    source = jsonl(tmp_path / "in.jsonl", good_a, b'{"specversion": "1.0", "id": ', b"", good_b, b"[]")
    run = cli("append", str(source), "--as", "IMG")
    assert run.exit_code == 1
    out = results(run.stdout)
    # blank lines carry no event and get no result; line numbers are the file's own
    assert [(r["line"], r["result"], r["code"], r["path"]) for r in out] == [
        (1, "accepted", None, None),
        (2, "rejected", "schema_invalid", None),
        (4, "accepted", None, None),
        (5, "rejected", "schema_invalid", "$"),
    ]
    assert "not valid JSON" in out[1]["message"]


def test_append_reports_each_rejection_with_code_message_and_path(cli: Any, tmp_path: Path) -> None:
    source = jsonl(
        tmp_path / "in.jsonl",
        claim_filed(A, "C-1", time="2021-03-01T09:00:00Z"),
        decided(B, "D-1", ["C-1", "C-9"]),
        example("ContactMade", B, org="NCG"),
        claim_filed(subject(3), "123456782"),
    )
    run = cli("append", str(source), "--as", "IMG")
    assert run.exit_code == 1
    out = results(run.stdout)
    assert [(r["result"], r["code"], r["path"]) for r in out] == [
        ("accepted", None, None),
        ("rejected", "not_authorized", None),  # B's batch-mate was refused: all or nothing per address
        ("rejected", "not_authorized", "$.org"),
        ("rejected", "personal_data", "$.data.claim_id"),
    ]
    assert out[2]["message"] == "R1: org NCG differs from the authenticated organisation IMG"
    assert "line 3" in out[1]["message"]


def test_append_reads_standard_input(cli: Any) -> None:
    run = cli("append", "-", "--as", "IMG", stdin=orjson.dumps(claim_filed(A, "C-1")) + b"\n")
    assert run.exit_code == 0
    assert results(run.stdout)[0]["result"] == "accepted"


@pytest.mark.parametrize(
    "args",
    [
        ("append", "{file}"),
        ("append", "{file}", "--as", "img"),
        ("append", "{file}", "--as", "GEMEENTE"),
        ("append", "{tmp}/missing.jsonl", "--as", "IMG"),
        ("append", "{tmp}", "--as", "IMG"),
    ],
    ids=["no --as", "lower-case --as", "unknown --as", "missing file", "a directory"],
)
def test_append_usage_errors_exit_2_with_one_line(cli: Any, tmp_path: Path, args: tuple[str, ...]) -> None:
    source = jsonl(tmp_path / "in.jsonl", claim_filed(A, "C-1"))
    run = cli(*(a.format(file=source, tmp=tmp_path) for a in args))
    assert run.exit_code == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and run.stderr.startswith("ledger: ")


def test_an_unknown_option_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    run = cli("append", str(jsonl(tmp_path / "in.jsonl", claim_filed(A, "C-1"))), "--as", "IMG", "--colour")
    assert run.exit_code == 2


# import --------------------------------------------------------------------------------------
def test_import_keeps_recordedtime_and_reports_only_problems(cli: Any, tmp_path: Path) -> None:
    events = [{**e, "recordedtime": e["time"]} for e in history()[:3]]
    backwards = {**receipt(A, "C-1", days=30, time="2021-03-02T09:00:00Z"), "recordedtime": "2021-03-02T08:00:00Z"}
    early = {**claim_filed(subject(3), "C-1", time="2021-03-03T09:00:00Z"), "recordedtime": "2021-03-03T08:00:00Z"}
    source = jsonl(tmp_path / "h.jsonl", *events, backwards, early)
    run = cli("import", str(source), "--quiet", "--batch-size", "1")
    assert run.exit_code == 1
    assert [(r["line"], r["code"], r["path"]) for r in results(run.stdout)] == [
        (4, "rule_violated", "$.recordedtime"),  # before the address's last recordedtime
        (5, "rule_violated", "$.recordedtime"),  # before the event's own time
    ]
    assert run.stderr.splitlines()[-1] == "imported: 3 accepted, 0 duplicate, 2 rejected"
    assert [e["recordedtime"] for e in results(cli("export").stdout)] == [
        "2021-03-01T09:00:00.000000Z",
        "2021-03-01T10:00:00.000000Z",
        "2021-03-02T09:00:00.000000Z",
    ]


def test_import_with_all_results(cli: Any, tmp_path: Path) -> None:
    events = [{**e, "recordedtime": e["time"]} for e in history()[:2]]
    run = cli("import", str(jsonl(tmp_path / "h.jsonl", *events)), "--quiet", "--all-results")
    assert run.exit_code == 0
    assert [(r["line"], r["result"]) for r in results(run.stdout)] == [(1, "accepted"), (2, "accepted")]


# export --------------------------------------------------------------------------------------
def test_export_round_trips(cli: Any, tmp_path: Path, home: Path) -> None:
    events = history()
    cli("append", str(jsonl(tmp_path / "in.jsonl", *events)), "--as", "IMG")
    run = cli("export")
    assert run.exit_code == 0
    exported = results(run.stdout)
    # every accepted event, in global order, exactly as submitted plus the ledger's attributes
    assert [e["id"] for e in exported] == [e["id"] for e in events]
    for event, stored in zip(events, exported, strict=True):
        assert {k: v for k, v in stored.items() if k not in ("recordedtime", "streamposition", "prevhash", "hash")} == {
            **event,
            "time": stored["time"],
        }
    assert all(
        line == orjson.dumps(orjson.loads(line), option=orjson.OPT_SORT_KEYS) for line in run.stdout_bytes.splitlines()
    )
    # --address: that stream only, in stream order, byte-identical to the lines of the full export
    only_a = cli("export", "--address", A)
    assert only_a.exit_code == 0
    assert only_a.stdout.splitlines() == [line for line in run.stdout.splitlines() if f'"subject":"{A}"' in line]
    # an export is enough to rebuild the same ledger: import it elsewhere, export again, same bytes
    backfill = [{k: v for k, v in e.items() if k not in ("streamposition", "prevhash", "hash")} for e in exported]
    source = jsonl(tmp_path / "backfill.jsonl", *backfill)
    other = tmp_path / "other"
    runner = CliRunner()
    env = {"LEDGER_HOME": str(other), "LEDGER_STORE": None}
    assert runner.invoke(app, ["import", str(source), "--quiet"], env=env).exit_code == 0
    assert runner.invoke(app, ["export"], env=env).stdout_bytes == run.stdout_bytes


def test_export_of_an_unknown_address_exits_1(cli: Any, tmp_path: Path) -> None:
    cli("append", str(jsonl(tmp_path / "in.jsonl", claim_filed(A, "C-1"))), "--as", "IMG")
    run = cli("export", "--address", B)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"ledger: no events for address {B}\n"


def test_export_of_an_empty_ledger_prints_nothing(cli: Any) -> None:
    run = cli("export")
    assert (run.exit_code, run.stdout) == (0, "")


# verify --------------------------------------------------------------------------------------
def _overwrite(home: Path, address: str, position: int, change: Any) -> None:
    with sqlite3.connect(home / "events.sqlite") as db:
        where = "WHERE originator_id=? AND originator_version=?"
        (state,) = db.execute(f"SELECT state FROM stored_events {where}", (address, position)).fetchone()
        event = orjson.loads(state)
        change(event)
        db.execute(f"UPDATE stored_events SET state=? {where}", (orjson.dumps(event), address, position))


def test_verify_an_intact_ledger(cli: Any, tmp_path: Path) -> None:
    cli("append", str(jsonl(tmp_path / "in.jsonl", *history())), "--as", "IMG")
    run = cli("verify")
    assert (run.exit_code, run.stdout) == (0, "verify: intact: 5 events in 2 addresses\n")
    assert cli("verify", "--address", A).exit_code == 0


def test_verify_names_the_address_and_first_bad_position(cli: Any, tmp_path: Path, home: Path) -> None:
    cli("append", str(jsonl(tmp_path / "in.jsonl", *history())), "--as", "IMG")
    _overwrite(home, A, 2, lambda e: e["data"].update(decision_term_days=1))
    run = cli("verify")
    assert run.exit_code == 1
    assert run.stdout.splitlines() == [  # the verdict on stdout, broken as intact
        f"broken: address {A} at position 2: hash does not match the event's content",
        "verify: 1 of 2 addresses broken (5 events read)",
    ]
    assert run.stderr == ""
    one = cli("verify", "--address", A)
    assert one.exit_code == 1 and f"address {A} at position 2" in one.stdout
    assert cli("verify", "--address", B).exit_code == 0


def test_verify_finds_a_removed_last_event_also_for_one_address(cli: Any, tmp_path: Path, home: Path) -> None:
    cli("append", str(jsonl(tmp_path / "in.jsonl", *history())), "--as", "IMG")
    with sqlite3.connect(home / "events.sqlite") as db:
        db.execute("DELETE FROM stored_events WHERE originator_id=? AND originator_version=3", (A,))
    for args in (("verify",), ("verify", "--address", A)):
        run = cli(*args)
        assert run.exit_code == 1, args
        assert run.stdout.startswith(f"broken: address {A} at position 3: "), args


def test_verify_finds_events_moved_between_addresses(cli: Any, tmp_path: Path, home: Path) -> None:
    cli("append", str(jsonl(tmp_path / "in.jsonl", *history())), "--as", "IMG")
    with sqlite3.connect(home / "events.sqlite") as db:
        rows = dict(db.execute("SELECT originator_id, state FROM stored_events WHERE originator_version=1"))
        for address, other in ((A, B), (B, A)):
            db.execute(
                "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=1",
                (rows[other], address),
            )
    run = cli("verify")
    assert run.exit_code == 1
    *lines, verdict = run.stdout.splitlines()
    assert len(lines) == 2 and verdict == "verify: 2 of 2 addresses broken (5 events read)"
    for line, (address, other) in zip(lines, ((A, B), (B, A)), strict=True):
        reason = f"the event's subject '{other}' is not the address it is stored under"
        assert line == f"broken: address {address} at position 1: {reason}"


def test_verify_finds_a_stored_event_that_is_no_json(cli: Any, tmp_path: Path, home: Path) -> None:
    cli("append", str(jsonl(tmp_path / "in.jsonl", *history())), "--as", "IMG")
    with sqlite3.connect(home / "events.sqlite") as db:
        db.execute("UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=2", (b"{garbage", B))
    for args in (("verify",), ("verify", "--address", B)):
        run = cli(*args)
        assert run.exit_code == 1, args
        assert run.stdout.startswith(f"broken: address {B} at position 2: the stored bytes are not a JSON event")
    # export writes the stored bytes as they are (for one address as for all); verify says what is wrong
    for args in (("export",), ("export", "--address", B)):
        run = cli(*args)
        assert run.exit_code == 0, args
        assert b"{garbage" in run.stdout_bytes.splitlines()


# a store that cannot be opened ---------------------------------------------------------------
def _ledger(*args: str, home: Path, store: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEDGER_HOME": str(home), "LEDGER_STORE": store}
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "store",
    [
        "sqlite:///{tmp}/a-file/events.sqlite",
        "sqlite:///{tmp}",
        "postgresql://nobody@127.0.0.1:1/x",
        "mysql://localhost/ledger",
        "sqlite://",
    ],
    ids=["below a file", "a directory", "postgres refused", "unknown scheme", "no path"],
)
def test_a_store_that_cannot_be_opened_gives_one_line_and_exit_1(tmp_path: Path, store: str) -> None:
    (tmp_path / "a-file").write_text("not a directory\n")
    source = jsonl(tmp_path / "in.jsonl", claim_filed(A, "C-1"))
    commands = [("append", str(source), "--as", "IMG"), ("export",), ("verify",)]
    if store.startswith("postgresql"):
        commands = commands[-1:]  # the driver waits out its connect timeout (10 s): once is enough
    for args in commands:
        run = _ledger(*args, home=tmp_path / "home", store=store.format(tmp=tmp_path))
        assert run.returncode == 1, (args, run.stderr)
        assert "Traceback" not in run.stderr
        assert len(run.stderr.splitlines()) == 1, run.stderr
        assert run.stderr.startswith("ledger: ") and "store" in run.stderr.lower(), run.stderr
        assert run.stdout == ""


def test_the_console_entry_point_appends(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", claim_filed(A, "C-1"), b"nope")
    run = _ledger("append", str(source), "--as", "IMG", home=tmp_path / "home", store="")
    assert run.returncode == 1
    assert [r["result"] for r in results(run.stdout)] == ["accepted", "rejected"]
    assert (tmp_path / "home" / "events.sqlite").is_file()


# schema --------------------------------------------------------------------------------------
def test_schema_writes_one_schema_per_type_identical_to_the_committed_ones(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    run = cli("schema", "--out", str(out))
    assert run.exit_code == 0
    written = {p.name for p in out.iterdir()}
    assert {f"{t}.json" for t in CATALOGUE} | {"stored-event.v1.json", "index.json"} <= written
    assert len([n for n in written if n.startswith("nl.groningen.")]) == len(CATALOGUE) == 43
    drifted = [n for n in sorted(written) if (SCHEMA_DIR / n).read_bytes() != (out / n).read_bytes()]
    assert drifted == [], "the committed schemas drifted from the models: run `ledger schema` and commit"
