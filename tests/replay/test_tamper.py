"""A store tampered at a known position: the replay names that position and still shows the
history before it (real SQLite store of a temporary LEDGER_HOME, real CLI)."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger.bootstrap import Settings, open_ledger
from ledger.cli import app
from tests.replay.conftest import Cli
from tests.replay.story import Story


def _story(n: int = 31) -> Story:
    s = Story(n)
    s.add("AddressAddedToProgramme", "2022-01-10")
    s.add("DamageClaimFiled", "2022-02-01", claim_id="C-1")
    s.add("ClaimReceiptConfirmed", "2022-02-02", claim_id="C-1", decision_term_days=56)
    s.add("StructuralInspectionCompleted", "2022-03-01", visit_id="V-2", joint_with_img=False)
    s.add("DamageInspectionCompleted", "2022-03-05", claim_id="C-1", visit_id="V-1")
    s.add("ContactMade", "2022-03-06")
    s.add("ClaimDecided", "2022-06-01", claim_ids=["C-1"])
    s.add("CompensationPaid", "2022-06-15")
    return s


def _state(db: Path, subject: str, position: int) -> bytes:
    with sqlite3.connect(db) as con:
        row = con.execute(
            "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?", (subject, position)
        ).fetchone()
    return bytes(row[0])


def _put(db: Path, subject: str, position: int, body: bytes) -> None:
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?", (body, subject, position)
        )


def _edit(db: Path, subject: str, position: int) -> None:
    event = orjson.loads(_state(db, subject, position))
    event["time"] = event["time"].replace("2022", "2021", 1)  # back-date it
    _put(db, subject, position, orjson.dumps(event, option=orjson.OPT_SORT_KEYS))


def _garble(db: Path, subject: str, position: int) -> None:
    _put(db, subject, position, _state(db, subject, position)[:-7])


def _delete(db: Path, subject: str, position: int) -> None:
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM stored_events WHERE originator_id=? AND originator_version=?", (subject, position))


def _swap(db: Path, subject: str, position: int) -> None:
    other = position + 1
    first, second = _state(db, subject, position), _state(db, subject, other)
    _put(db, subject, position, second)
    _put(db, subject, other, first)


TAMPER: dict[str, Callable[[Path, str, int], None]] = {
    "edit": _edit,
    "garble": _garble,
    "delete": _delete,
    "swap": _swap,
}


def test_edited_event_is_named_and_history_stops_before_it(
    cli: Cli, home: Path, stored: Callable[[Story], str]
) -> None:
    subject = stored(_story())
    _edit(home / "events.sqlite", subject, 5)
    run = cli("replay", subject, "--format", "json")
    assert run.code == 1
    assert [orjson.loads(line) for line in run.err.strip().splitlines()] == [  # JSON asked: the error is JSON
        {
            "error": f"hash chain BROKEN at stream position 5 of address {subject}: "
            "hash does not match the event's content; the history below stops at position 4",
            "exit": 1,
        }
    ]
    report = run.json()
    assert report["chain"]["break"] == {"position": 5, "reason": "hash does not match the event's content"}
    assert sorted(e["streamposition"] for e in report["timeline"]) == [1, 2, 3, 4]
    assert report["chain"]["head"]["streamposition"] == 4
    assert report["view"]["ledger"]["events"] == 4
    text = cli("replay", subject)
    assert text.code == 1 and "BROKEN at stream position 5" in text.out


@settings(max_examples=24, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(TAMPER)), position=st.integers(1, 7))
def test_any_tampering_is_named_at_its_position(kind: str, position: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        home = Path(tmp)
        mp.setenv("LEDGER_HOME", str(home))
        mp.delenv("LEDGER_STORE", raising=False)
        story = _story()
        with open_ledger(Settings.from_env()) as ledger:
            story.store(ledger)
        TAMPER[kind](home / "events.sqlite", story.subject, position)
        result = CliRunner().invoke(app, ["replay", story.subject, "--format", "json"], catch_exceptions=False)
        assert result.exit_code == 1
        assert f"BROKEN at stream position {position} " in result.stderr
        report = orjson.loads(result.stdout)
        assert report["chain"]["break"]["position"] == position
        assert [e["streamposition"] for e in report["timeline"]] == sorted(range(1, position))
