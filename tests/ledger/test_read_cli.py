"""`ledger case`, `metrics`, `evaluation` and `rebuild` as a user runs them (in-process typer runner).

The ledger is real (SQLite in a temporary LEDGER_HOME); events go in with `ledger import` and
`ledger append`, and the read commands must show them at once.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.generator import generate
from tests.projections.builder import ts

FUTURE = "2099-01-01"


@pytest.fixture
def imported(cli: Any, tmp_path: Path) -> list[dict[str, Any]]:
    out = io.BytesIO()
    generate(60, 5, date(2024, 12, 31), out, workers=1)
    path = tmp_path / "history.jsonl"
    path.write_bytes(out.getvalue())
    result = cli("import", str(path), "--quiet")
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_case_json_shows_what_append_just_accepted(cli: Any, imported: list[dict[str, Any]]) -> None:
    subject = imported[0]["subject"]
    before = orjson.loads(cli("case", subject, "--json").stdout)
    assert before["address"]["subject"] == subject and before["provenance"]["behind"] == 0
    contact = {
        "specversion": "1.0",
        "id": "6a0c1c2e-0000-4000-8000-000000000001",
        "source": "urn:nl:portal:bewoners",
        "type": "nl.groningen.resident.ContactMade.v1",
        "subject": subject,
        "time": "2025-01-02T10:00:00Z",
        "org": "PORTAL",
        "data": {"with_org": "NCG", "channel": "portal", "initiated_by": "resident"},
    }
    appended = cli("append", "--as", "PORTAL", stdin=orjson.dumps(contact) + b"\n")
    assert appended.exit_code == 0, appended.output
    after = orjson.loads(cli("case", subject, "--json").stdout)
    assert after["ledger"]["events"] == before["ledger"]["events"] + 1
    assert (
        after["resident"]["contacts"]["NCG"]["count"]
        == before["resident"]["contacts"].get("NCG", {}).get("count", 0) + 1
    )
    assert after["provenance"]["position"] == before["provenance"]["position"] + 1


def test_case_tables_and_cutoffs(cli: Any, imported: list[dict[str, Any]]) -> None:
    subject = imported[0]["subject"]
    shown = cli("case", subject)
    assert shown.exit_code == 0 and subject in shown.stdout and "Attention" in shown.stdout
    early = orjson.loads(cli("case", subject, "--at", "2018-01-01", "--json").stdout)
    late = orjson.loads(cli("case", subject, "--known-at", FUTURE, "--at", FUTURE, "--json").stdout)
    assert early["provenance"]["at"] == ts("2018-01-01T23:59:59")[:-8] + ".999999Z"
    assert early["ledger"]["events"] <= late["ledger"]["events"]
    assert late["provenance"]["source"] == "event log"


def test_unknown_address_is_one_line_and_exit_1(cli: Any, imported: list[dict[str, Any]]) -> None:
    result = cli("case", "0014200000009999")
    assert result.exit_code == 1
    assert result.stderr.strip() == "ledger: address 0014200000009999 is not in the ledger"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("metrics", "--at", "2021-13-01"), "--at"),
        (("metrics", "--known-at", "yesterday"), "--known-at"),
        (("evaluation", "--pivot", "2023-02-30"), "--pivot"),
        (("case", "0014200000000001", "--at", "01-02-2021"), "--at"),
    ],
)
def test_malformed_dates_are_usage_errors_naming_the_option(cli: Any, args: tuple[str, ...], option: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"ledger: {option} ") and len(result.stderr.strip().splitlines()) == 1


def test_metrics_and_evaluation(cli: Any, imported: list[dict[str, Any]]) -> None:
    doc = orjson.loads(cli("metrics", "--json").stdout)
    assert [k for k in doc if k != "provenance"] == [f"G{n}" for n in range(1, 16)]
    assert doc["provenance"]["events"] == len(imported) and doc["provenance"]["head_hash"]
    assert "Governance metrics" in cli("metrics").stdout
    future = orjson.loads(cli("metrics", "--at", FUTURE, "--json").stdout)
    assert future["G1"] == doc["G1"] and future["G6"] == doc["G6"]
    evaluation = orjson.loads(cli("evaluation", "--pivot", "2022-01-01", "--json").stdout)
    assert [k for k in evaluation if k != "provenance"] == [f"E{n}" for n in range(1, 7)]
    assert evaluation["provenance"]["pivot"] == "2022-01-01T00:00:00.000000Z"
    assert "E1 claim lead time" in cli("evaluation").stdout


def test_rebuild_gives_the_same_figures(cli: Any, imported: list[dict[str, Any]], home: Path) -> None:
    before = orjson.loads(cli("metrics", "--at", FUTURE, "--json").stdout)
    result = cli("rebuild", "--no-progress")
    assert result.exit_code == 0, result.output
    addresses = len({e["subject"] for e in imported})
    assert f"rebuilt the projections of {addresses} addresses from {len(imported)} events" in result.stdout
    after = orjson.loads(cli("metrics", "--at", FUTURE, "--json").stdout)
    before.pop("provenance")
    after.pop("provenance")
    assert after == before
    assert sorted(p.name for p in (home / "projections").glob("store-*.sqlite")) == ["store-2.sqlite"]


def test_demo_on_a_fresh_home_then_again(cli: Any, home: Path) -> None:
    first = cli("demo", "--addresses", "300", "--seed", "3")
    assert first.exit_code == 0, first.output
    for text in ("programme addresses (G1)", "without any damage claim (G2)", "samenloop", "phase 1–6", "Next"):
        assert text in first.stdout
    assert "ledger case 00" in first.stdout or "ledger case 1" in first.stdout
    again = cli("demo", "--addresses", "300", "--seed", "3")  # nothing new to import: same figures
    assert again.exit_code == 0 and "imported 0 (+" in again.stdout
    figures = [line for line in first.stdout.splitlines() if "(G" in line]
    assert figures == [line for line in again.stdout.splitlines() if "(G" in line]


def test_tables_to_a_pipe_are_never_cut(cli: Any, imported: list[dict[str, Any]]) -> None:
    """Without a terminal (CliRunner's stdout is a pipe) every value is printed whole, never `physi…`."""
    views = [orjson.loads(cli("case", s, "--json").stdout) for s in dict.fromkeys(e["subject"] for e in imported)]
    view = max(views, key=lambda v: len(v["damage"]["claims"]))
    assert view["damage"]["claims"], "the generated history has claims"
    shown = cli("case", view["address"]["subject"]).stdout
    assert "…" not in shown
    for claim in view["damage"]["claims"]:
        assert claim["claim_id"] in shown
        for value in (claim["claim_type"], claim["outcome"]):
            if value:
                assert value in shown, value
        if claim["amount_cents"] is not None:
            assert f"€ {claim['amount_cents'] / 100:,.2f}" in shown
    for command in ("metrics", "evaluation"):
        assert "…" not in cli(command).stdout


def test_counts_for_people_have_thousands_separators(cli: Any, tmp_path: Path) -> None:
    out = io.BytesIO()
    generate(120, 5, date(2024, 12, 31), out, workers=1)
    events = len(out.getvalue().splitlines())
    assert events >= 1_000, "enough events to need a separator"
    path = tmp_path / "history.jsonl"
    path.write_bytes(out.getvalue())
    run = cli("import", str(path), "--quiet")
    assert run.stderr.splitlines()[-1] == f"imported: {events:,} accepted, 0 duplicate, 0 rejected"
    assert cli("verify").stdout.startswith(f"verify: intact: {events:,} events in ")
    subject = orjson.loads(out.getvalue().splitlines()[0])["subject"]
    view = orjson.loads(cli("case", subject, "--json").stdout)
    assert (
        f"ledger: {view['ledger']['events']:,} events, last #{view['ledger']['streamposition']:,}"
        in cli("case", subject).stdout
    )
