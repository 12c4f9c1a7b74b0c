"""Back-dating a store in use (trust.md §1, "Command line"): one suite for SQLite and PostgreSQL.

`ledger import` into a store that already holds events is refused unless `--backfill` is
given; a backfill is recorded (when, by whom, which positions) in the store's own database; and
every as-of answer whose cut-offs include back-filled events names the backfill in its
provenance, on the command line (`--json`, tables) and over HTTP. A backend's test class
subclasses `BackfillContract` and provides `store_url` and `execute`.
"""

from __future__ import annotations

import getpass
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from domain.timeutil import now_utc
from ledger.bootstrap import Ledger, Settings, open_ledger
from ledger.cli import app
from tests.factories import claim_filed, example, receipt, subject
from tests.homes import opened

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

LIVE, OLD, OTHER = subject(901), subject(902), subject(903)


def history_2014() -> list[dict[str, Any]]:
    """Three events of one address the ledger is told it recorded in 2014 (a claim, its receipt,
    a correction of the receipt): what a backfill puts at the end of the global order."""
    claim = claim_filed(OLD, "C-1", time="2014-02-01T09:00:00Z", recordedtime="2014-03-01T00:00:00Z")
    confirmed = receipt(OLD, "C-1", time="2014-05-01T09:00:00Z", recordedtime="2014-06-01T00:00:00Z")
    correction = example(
        "EventCorrected",
        OLD,
        {
            "corrects": confirmed["id"],
            "data": {"claim_id": "C-1", "decision_term_days": 56},
            "reason": "termijn verkeerd overgenomen",
        },
        org="IMG",
        time="2014-07-01T09:00:00Z",
        recordedtime="2014-07-02T00:00:00Z",
    )
    return [claim, confirmed, correction]


def initial_history() -> list[dict[str, Any]]:
    """A small history for an initial import (an empty store), in two addresses."""
    return [
        claim_filed(OTHER, "C-1", time="2013-01-01T09:00:00Z", recordedtime="2013-01-02T00:00:00Z"),
        receipt(OTHER, "C-1", time="2013-01-03T09:00:00Z", recordedtime="2013-01-04T00:00:00Z"),
        claim_filed(subject(904), "C-1", time="2013-02-01T09:00:00Z", recordedtime="2013-02-02T00:00:00Z"),
        receipt(subject(904), "C-1", time="2013-02-03T09:00:00Z", recordedtime="2013-02-04T00:00:00Z"),
    ]


def jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


class BackfillContract:
    """What a store in use must do when history is imported into it."""

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def execute(self, store_url: str, statement: str) -> None:  # pragma: no cover - overridden
        """Run one SQL statement directly on the store's database (as someone with access could)."""
        raise NotImplementedError

    @pytest.fixture
    def home(self, tmp_path: Path) -> Path:
        return tmp_path / "home"

    @pytest.fixture
    def cli(self, home: Path, store_url: str) -> Any:
        runner = CliRunner()

        def run(*args: str, stdin: bytes | None = None) -> Result:
            env = {
                "LEDGER_HOME": str(home),
                "LEDGER_STORE": store_url,
                "LEDGER_PROJECTIONS": None,
                "LEDGER_KAFKA": None,
            }
            return runner.invoke(app, list(args), input=stdin, env=env, catch_exceptions=False)

        return run

    @pytest.fixture
    def ledger(self, store_url: str, home: Path) -> Iterator[Ledger]:
        yield from opened(home, store_url)

    def _in_use(self, cli: Any) -> None:
        """A store in use: one event appended live (recorded now)."""
        appended = cli("append", "--as", "IMG", stdin=orjson.dumps(claim_filed(LIVE, "C-1")) + b"\n")
        assert appended.exit_code == 0, appended.output

    @pytest.fixture
    def backfilled(self, cli: Any, tmp_path: Path) -> dict[str, Any]:
        """The store in use, then the 2014 history imported into it with --backfill by alice."""
        self._in_use(cli)
        before = now_utc()
        run = cli(
            "import",
            str(jsonl(tmp_path / "2014.jsonl", history_2014())),
            "--quiet",
            "--backfill",
            "--operator",
            "alice",
        )
        assert run.exit_code == 0, run.output
        return {"before": before, "after": now_utc(), "stderr": run.stderr}

    # -- refusing and recording -----------------------------------------------------------------
    def test_import_into_a_store_in_use_is_refused_without_backfill(
        self, cli: Any, ledger: Ledger, tmp_path: Path
    ) -> None:
        self._in_use(cli)
        positions = ledger.log.max_position()
        exported = cli("export").stdout
        run = cli("import", str(jsonl(tmp_path / "2014.jsonl", history_2014())), "--quiet")
        assert run.exit_code == 2
        assert "--backfill" in run.stderr and "Nothing was imported" in run.stderr
        assert run.stdout == ""
        assert ledger.log.max_position() == positions == 1  # nothing stored
        assert cli("export").stdout == exported
        assert ledger.imports.runs() == []  # and no run recorded

    def test_a_backfill_is_accepted_and_recorded(self, cli: Any, ledger: Ledger, backfilled: dict[str, Any]) -> None:
        assert "backfill 1 recorded: by alice, 3 events, positions 2–4" in backfilled["stderr"]
        stored = [orjson.loads(line) for line in cli("export").stdout.splitlines()]
        assert [e["recordedtime"][:10] for e in stored] == [
            backfilled["before"][:10],
            "2014-03-01",
            "2014-06-01",
            "2014-07-02",
        ]
        [run] = ledger.imports.runs()
        assert {k: run[k] for k in ("run", "kind", "operator", "first_position", "last_position", "events")} == {
            "run": 1,
            "kind": "backfill",
            "operator": "alice",
            "first_position": 2,
            "last_position": 4,
            "events": 3,
        }
        assert run["earliest_recordedtime"] == "2014-03-01T00:00:00.000000Z"
        assert backfilled["before"] <= run["started_at"] <= run["recorded_until"] <= backfilled["after"]
        assert run["source"].endswith("2014.jsonl")

    def test_the_operator_defaults_to_the_os_user(self, cli: Any, ledger: Ledger, tmp_path: Path) -> None:
        self._in_use(cli)
        run = cli("import", str(jsonl(tmp_path / "2014.jsonl", history_2014()[:1])), "--quiet", "--backfill")
        assert run.exit_code == 0, run.output
        assert [r["operator"] for r in ledger.imports.runs()] == [getpass.getuser()]

    def test_the_record_is_append_only(self, store_url: str, ledger: Ledger, backfilled: dict[str, Any]) -> None:
        for statement in (
            "UPDATE ledger_imports SET operator = 'mallory'",
            "DELETE FROM ledger_import_batches",
            "UPDATE ledger_backfill_events SET recordedtime = '2020-01-01T00:00:00.000000Z'",
            "DELETE FROM ledger_backfill_events",
        ):
            with pytest.raises(Exception, match="append-only"):
                self.execute(store_url, statement)
        assert [r["operator"] for r in ledger.imports.runs()] == ["alice"]
        assert ledger.imports.counted() == {1: 3}

    def test_an_initial_import_can_be_resumed_and_rerun_but_not_after_live_events(
        self, cli: Any, ledger: Ledger, tmp_path: Path
    ) -> None:
        events = initial_history()
        half = cli("import", str(jsonl(tmp_path / "half.jsonl", events[:2])), "--quiet")  # "interrupted"
        assert half.exit_code == 0, half.output
        full = jsonl(tmp_path / "full.jsonl", events)
        resumed = cli("import", str(full), "--quiet")
        assert resumed.exit_code == 0, resumed.output
        assert (
            resumed.stderr.splitlines()[-1] == "imported: 2 accepted, 2 duplicate (already in the ledger), 0 rejected"
        )
        again = cli("import", str(full), "--quiet")
        assert (
            again.exit_code == 0
            and again.stderr.splitlines()[-1] == "imported: 0 accepted, 4 duplicate (already in the ledger), 0 rejected"
        )
        assert [(r["kind"], r["events"]) for r in ledger.imports.runs()] == [
            ("initial", 2),
            ("initial", 2),
            ("initial", 0),
        ]
        # the history's origin is not a backfill: no answer names it
        assert (
            "backfills" not in orjson.loads(cli("metrics", "--known-at", "2013-12-31", "--json").stdout)["provenance"]
        )
        assert "backfills" not in orjson.loads(cli("case", OTHER, "--json").stdout)["provenance"]
        self._in_use(cli)
        refused = cli("import", str(full), "--quiet")
        assert refused.exit_code == 2 and "--backfill" in refused.stderr
        assert ledger.log.max_position() == 5

    def test_an_initial_batch_after_someone_elses_append_stores_nothing(
        self, ledger: Ledger, store_url: str, home: Path
    ) -> None:
        from ledger.importlog import BackDating

        events = initial_history()
        with ledger.imports.run("initial", "alice", "test", ledger.service.clock):
            first = ledger.service.append(events[:2], None, importing=True)
            assert [r.result for r in first] == ["accepted", "accepted"]
            with open_ledger(Settings(home=home, store_url=store_url)) as other:  # a live append meanwhile
                assert other.service.append([claim_filed(LIVE, "C-1")], "IMG")[0].result == "accepted"
            with pytest.raises(BackDating):
                ledger.service.append(events[2:], None, importing=True)
        assert ledger.log.max_position() == 3
        assert [e["subject"] for _, e in ledger.log.read(0, 10)] == [OTHER, OTHER, LIVE]
        assert [(r["kind"], r["events"]) for r in ledger.imports.runs()] == [("initial", 2)]
        assert not ledger.imports.holds_only_initial()

    # -- provenance -------------------------------------------------------------------------
    def _prov(self, cli: Any, *args: str) -> dict[str, Any]:
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.output
        return orjson.loads(result.stdout)["provenance"]  # type: ignore[no-any-return]

    def test_metrics_as_known_in_2014_name_the_backfill(self, cli: Any, backfilled: dict[str, Any]) -> None:
        prov = self._prov(cli, "metrics", "--known-at", "2014-12-31")
        [named] = prov["backfills"]
        assert {k: v for k, v in named.items() if k not in ("recorded_at", "recorded_until")} == {
            "backfill": 1,
            "operator": "alice",
            "positions": [2, 4],
            "events": 3,
            "earliest_recordedtime": "2014-03-01T00:00:00.000000Z",
            "counted": 3,
        }
        assert backfilled["before"] <= named["recorded_at"] <= named["recorded_until"] <= backfilled["after"]
        assert prov["events"] == 3  # the back-filled events are what "known in 2014" now shows
        assert self._prov(cli, "metrics", "--known-at", "2014-04-01")["backfills"][0]["counted"] == 1
        assert self._prov(cli, "metrics")["backfills"][0]["counted"] == 3  # the latest answer includes them too
        assert self._prov(cli, "evaluation", "--known-at", "2014-12-31")["backfills"][0]["counted"] == 3
        # a correction is governed by known_at alone: it counts whatever `at` says
        assert self._prov(cli, "metrics", "--at", "2014-03-15")["backfills"][0]["counted"] == 2
        assert self._prov(cli, "metrics", "--at", "2014-01-31")["backfills"][0]["counted"] == 1
        shown = cli("metrics", "--known-at", "2014-12-31")
        assert "back-filled by alice" in shown.stdout and "recordedtime says from 2014-03-01" in shown.stdout

    def test_answers_whose_cutoffs_exclude_every_backfilled_event_do_not(
        self, cli: Any, backfilled: dict[str, Any]
    ) -> None:
        assert "backfills" not in self._prov(cli, "metrics", "--known-at", "2014-02-28")
        # before every back-filled `time`, and before the correction was (said to be) recorded
        assert "backfills" not in self._prov(cli, "metrics", "--at", "2014-01-31", "--known-at", "2014-07-01")
        assert "backfills" not in self._prov(cli, "evaluation", "--known-at", "2014-02-28")
        assert "backfills" not in self._prov(cli, "case", OLD, "--known-at", "2014-02-28")
        assert "backfills" not in self._prov(cli, "case", LIVE)  # another address: none of its events is back-filled
        assert "backfills" not in self._prov(cli, "case", LIVE, "--known-at", "2099-01-01")
        live = cli("replay", LIVE, "--format", "json")
        assert "backfills" not in orjson.loads(live.stdout)["provenance"]
        assert "back-filled" not in cli("metrics", "--known-at", "2014-02-28").stdout

    def test_case_views_and_replays_of_the_address_name_it(self, cli: Any, backfilled: dict[str, Any]) -> None:
        assert self._prov(cli, "case", OLD)["backfills"][0]["counted"] == 3  # from the projection
        assert self._prov(cli, "case", OLD, "--known-at", "2014-06-30")["backfills"][0]["counted"] == 2
        report = orjson.loads(cli("replay", OLD, "--known-at", "2014-12-31", "--format", "json").stdout)
        assert report["provenance"]["backfills"][0]["counted"] == 3
        assert report["provenance"]["backfills"][0]["operator"] == "alice"
        text = cli("replay", OLD).stdout
        assert "BACKFILL: includes 3 of the 3 events back-filled by alice" in text
        assert "back-filled by alice" in cli("case", OLD).stdout

    def test_http_answers_name_it(self, ledger: Ledger, backfilled: dict[str, Any]) -> None:
        from ledger.http import create_app

        with TestClient(create_app(ledger)) as client:
            metrics = client.get("/metrics", params={"known_at": "2014-12-31"}).json()
            assert metrics["provenance"]["backfills"][0]["counted"] == 3
            early = client.get("/metrics", params={"known_at": "2014-02-28"}).json()
            assert "backfills" not in early["provenance"]
            assert client.get(f"/cases/{OLD}").json()["provenance"]["backfills"][0]["operator"] == "alice"
            assert "backfills" not in client.get(f"/cases/{LIVE}").json()["provenance"]
            history = client.get(f"/cases/{OLD}/history").json()
            assert history["provenance"]["backfills"][0]["positions"] == [2, 4]
