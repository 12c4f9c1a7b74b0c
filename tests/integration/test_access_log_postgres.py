"""The access log on a real PostgreSQL server: append-only (UPDATE, DELETE, TRUNCATE refused), one
chain when two server processes' writers log at once, a rewrite detected."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ledger.bootstrap import Ledger, Settings
from ledger.identity.accesslog import ChainBroken
from tests.ledger.identity_support import side_by_side

ADDRESS = "0014200000000011"


def open_pg(url: str, home: Path) -> Ledger:
    return Ledger(Settings(home=home, store_url=url))


def test_two_writers_one_chain_and_append_only(postgres_database: str, tmp_path: Path) -> None:
    first, second = open_pg(postgres_database, tmp_path / "a"), open_pg(postgres_database, tmp_path / "b")
    try:

        def log(ledger: Ledger, who: str) -> None:
            for i in range(300):
                ledger.access.record(f"{who}-{i}", "OMBUDSMAN", "test-issuer", ADDRESS, "cases")
            assert ledger.access.flush()

        side_by_side(log, first, second)
        assert first.access.verify() == 600
        rows = second.access.entries(ADDRESS)
        assert [r["seq"] for r in rows] == list(range(1, 601))
        assert {r["principal"].split("-")[0] for r in rows} == {"a", "b"}
        for writer in ("a", "b"):  # each writer's rows keep their order
            mine = [int(r["principal"].split("-")[1]) for r in rows if r["principal"].startswith(writer)]
            assert mine == list(range(300))
    finally:
        first.close()
        second.close()
    with psycopg.connect(postgres_database, autocommit=True) as db:
        for statement in (
            "UPDATE ledger_access_log SET principal = 'nobody'",
            "DELETE FROM ledger_access_log",
            "TRUNCATE ledger_access_log",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(statement)  # type: ignore[arg-type]
        db.execute("ALTER TABLE ledger_access_log DISABLE TRIGGER ALL")
        db.execute("UPDATE ledger_access_log SET what = 'metrics' WHERE seq = 17")
    again = open_pg(postgres_database, tmp_path / "c")
    try:
        with pytest.raises(ChainBroken, match="row 17"):
            again.access.verify()
    finally:
        again.close()
