"""The access log (trust.md §1): every read of one address's data, by whom, append-only and chained."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli import app as cli_app
from ledger.http import create_app
from ledger.identity.accesslog import GENESIS, AccessLog, ChainBroken, Entry, row_hash
from tests.factories import claim_filed, subject
from tests.ledger.identity_support import ISSUER, Client, Keys, client_for, open_test_ledger, side_by_side

A, B = subject(11), subject(12)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def served(tmp_path: Path, keys: Keys) -> Iterator[tuple[Any, Client]]:
    ledger = open_test_ledger(tmp_path / "home")
    ledger.service.append([claim_filed(A, "a1"), claim_filed(B, "b1")], "IMG")
    for client in client_for(create_app(ledger, limit=1, verifier=keys.verifier())):
        yield ledger, client
    ledger.close()


def test_http_reads_of_an_address_are_logged_with_the_token_principal(served: tuple[Any, Client], keys: Keys) -> None:
    ledger, client = served
    assert client.get(f"/cases/{A}", keys.token("IMG", subject="case-worker-7")).status_code == 200
    assert (
        client.get(f"/cases/{A}/history?format=md", keys.token("OMBUDSMAN", subject="nat-ombudsman")).status_code == 200
    )
    assert client.get(f"/cases/{subject(99)}", keys.token("NCG")).status_code == 404  # a look is a look
    # refused or not address-level: not logged
    assert client.get(f"/cases/{A}", keys.token("EVALUATOR")).status_code == 403
    assert client.get(f"/cases/{A}").status_code == 401
    assert client.get("/metrics", keys.token("EVALUATOR")).status_code == 200
    assert ledger.access.flush()
    rows = ledger.access.entries(A)
    assert [(r["principal"], r["role"], r["issuer"], r["what"]) for r in rows] == [
        ("case-worker-7", "IMG", ISSUER, "cases"),
        ("nat-ombudsman", "OMBUDSMAN", ISSUER, "replay?format=md"),
    ]
    assert all(r["recorded_at"].endswith("Z") for r in rows)
    assert [r["address"] for r in ledger.access.entries(subject(99))] == [subject(99)]
    assert ledger.access.entries(B) == []
    assert ledger.access.verify() == 3


def test_nothing_queued_is_lost_at_close(tmp_path: Path) -> None:
    ledger = open_test_ledger(tmp_path / "h")
    for i in range(2_500):
        ledger.access.record(f"p{i}", "IMG", ISSUER, A, "cases")
    ledger.close()  # writes what is still queued
    again = open_test_ledger(tmp_path / "h")
    try:
        assert len(again.access.entries(A)) == 2_500
        assert again.access.verify() == 2_500
        assert [r["principal"] for r in again.access.entries(A)][:3] == ["p0", "p1", "p2"]
    finally:
        again.close()


def test_rows_cannot_be_changed_and_a_rewrite_is_detected(tmp_path: Path) -> None:
    ledger = open_test_ledger(tmp_path / "h")
    for who in ("x", "y", "z"):
        ledger.access.record_now(who, "OMBUDSMAN", ISSUER, A, "cases")
    ledger.close()
    db = sqlite3.connect(tmp_path / "h" / "events.sqlite")
    for statement in ("UPDATE ledger_access_log SET principal = 'nobody'", "DELETE FROM ledger_access_log"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(statement)
    # whoever drops the triggers can rewrite rows, but not unnoticed: first an edit, then a deletion
    for trigger, statement, broken in (
        (
            "no_update",
            "UPDATE ledger_access_log SET principal = 'nobody' WHERE seq = 2",
            "row 2: its content does not match",
        ),
        ("no_delete", "DELETE FROM ledger_access_log WHERE seq = 2", "row 3: row 2 is missing"),
    ):
        db.execute(f"DROP TRIGGER ledger_access_log_{trigger}")
        db.execute(statement)
        db.commit()
        ledger = open_test_ledger(tmp_path / "h")
        with pytest.raises(ChainBroken, match=broken):
            ledger.access.verify()
        ledger.close()
    db.close()


def test_the_chain_is_sha256_of_the_previous_hash_and_the_row() -> None:
    entry = Entry("2026-01-01T00:00:00.000000Z", "p", "IMG", ISSUER, A, "cases")
    first = row_hash(GENESIS, 1, entry)
    assert len(first) == 64 and first != row_hash(GENESIS, 2, entry)
    assert row_hash(first, 2, entry) != row_hash(GENESIS, 2, entry)
    queued = (0.0, "p", "IMG", ISSUER, A, "cases")
    rows = AccessLog._rows([queued, queued], None)
    assert rows[0][1] == "1970-01-01T00:00:00.000000Z"
    assert rows[1][7] == rows[0][8] == row_hash(GENESIS, 1, Entry(rows[0][1], "p", "IMG", ISSUER, A, "cases"))


def test_cli_access_log_lists_who_read_an_address(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ledger = open_test_ledger(home)
    ledger.service.append([claim_filed(A, "a1")], "IMG")
    ledger.access.record_now("case-worker-7", "IMG", ISSUER, A, "cases")
    ledger.close()
    runner = CliRunner()
    env = {"LEDGER_HOME": str(home), "LEDGER_STORE": f"sqlite:///{home / 'events.sqlite'}", "COLUMNS": "200"}
    assert runner.invoke(cli_app, ["case", A], env=env).exit_code == 0  # the operator's read, logged too
    assert runner.invoke(cli_app, ["replay", A], env=env).exit_code == 0
    listed = runner.invoke(cli_app, ["access-log", "--address", A, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    import orjson

    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["principal"], r["role"]) for r in rows][0] == ("case-worker-7", "IMG")
    assert [r["role"] for r in rows[1:]] == ["OPERATOR", "OPERATOR"]
    assert [r["what"] for r in rows[1:]] == ["case (ledger case)", "replay (ledger replay)"]
    assert "access log intact: 3 reads recorded, 3 of address" in listed.stderr
    table = runner.invoke(cli_app, ["access-log", "--address", A], env=env)
    assert table.exit_code == 0 and "case-worker-7" in table.stdout
    malformed = runner.invoke(cli_app, ["access-log", "--address", "1234"], env=env)
    assert malformed.exit_code == 2 and "'1234' is not a BAG nummeraanduiding id" in malformed.stderr
    db = sqlite3.connect(home / "events.sqlite")
    db.execute("DROP TRIGGER ledger_access_log_no_update")
    db.execute("UPDATE ledger_access_log SET what = 'nothing' WHERE seq = 1")
    db.commit()
    db.close()
    broken = runner.invoke(cli_app, ["access-log", "--address", A], env=env)
    assert broken.exit_code == 1 and "access log broken at row 1" in broken.stderr


def test_two_writers_on_one_sqlite_file_share_one_chain(tmp_path: Path) -> None:
    """Two server processes (here: two ledgers, two connections) logging at once wait their turn."""

    first, second = open_test_ledger(tmp_path / "h"), open_test_ledger(tmp_path / "h")
    try:

        def log(ledger: Any, who: str) -> None:
            for i in range(400):
                ledger.access.record(f"{who}-{i}", "IMG", ISSUER, A, "cases")
                if i % 50 == 0:
                    assert ledger.access.flush()
            assert ledger.access.flush()

        side_by_side(log, first, second)
        assert first.access.failures == 0 and second.access.failures == 0  # no "database is locked" retries
        assert first.access.verify() == 800
    finally:
        first.close()
        second.close()
