"""`GET /cases/{id}/history` over HTTP: the CLI's report, formats, and its errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

from ledger.bootstrap import Ledger
from ledger.ports import replay_store
from ledger.problems import problem
from replay.http import make_router
from tests.replay.conftest import Cli
from tests.replay.story import Story

Put = Callable[[Story], str]


@pytest.fixture
def client(ledger: Ledger) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(make_router(lambda _request: replay_store(ledger), problem))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def subject(stored: Put) -> str:
    s = Story(61)
    s.add("AddressAddedToProgramme", "2022-01-10")
    s.add("DamageClaimFiled", "2022-02-01T10:00")
    s.add("ClaimDecided", "2022-05-01T10:00")
    return stored(s)


def test_json_report_equals_the_cli(client: TestClient, cli: Cli, subject: str) -> None:
    response = client.get(f"/cases/{subject}/history", params={"at": "2022-04-30", "known_at": "2022-12-31"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["x-ledger-chain"] == "intact"
    over_http = response.json()
    on_cli = cli("replay", subject, "--format", "json", "--at", "2022-04-30", "--known-at", "2022-12-31").json()
    for report in (over_http, on_cli):
        report.pop("provenance")
    assert over_http == on_cli
    assert [f["code"] for f in over_http["findings"]] == [
        "information_not_shared",
        "information_not_shared",
        "samenloop_without_offer_30d",
    ]


@pytest.mark.parametrize(
    ("fmt", "media", "start"),
    [
        ("html", "text/html; charset=utf-8", "<!DOCTYPE html>"),
        ("md", "text/markdown; charset=utf-8", "# Case history — address 0014200000000061"),
        ("text", "text/plain; charset=utf-8", "LEDGER REPLAY — address 0014200000000061"),
    ],
)
def test_text_formats(client: TestClient, subject: str, fmt: str, media: str, start: str) -> None:
    response = client.get(f"/cases/{subject}/history", params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.text.startswith(start)


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("/cases/0014200000000999/history", {}, 404, "no events for address 0014200000000999"),
        ("/cases/0014200000000061/history", {"at": "2022-02-30"}, 422, "at '2022-02-30' is not a date"),
        ("/cases/0014200000000061/history", {"known_at": "soon"}, 422, "known_at 'soon' is not a date"),
        ("/cases/0014200000000061/history", {"format": "pdf"}, 422, "format 'pdf' is not one of"),
        ("/cases/0014200000000061/history", {"as_of": "2022-01-01"}, 422, "unknown parameter 'as_of'"),
        ("/cases/0014200000000061/history", {"at": "2021-01-01"}, 422, "the at cut-off 2021-01-01T23:59:59.999999Z"),
        ("/cases/12/history", {}, 422, "'12' is not a BAG nummeraanduiding id"),
    ],
)
def test_errors(client: TestClient, subject: str, path: str, params: dict[str, str], status: int, detail: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"  # RFC 9457
    body = response.json()
    assert body["status"] == status and body["detail"].startswith(detail)
    named = [p["name"] for p in body.get("invalid-params", [])]
    assert named == ([] if status == 404 or "cut-off" in detail or not params else list(params))


def test_broken_chain_is_named_in_a_header(client: TestClient, subject: str, home: Path) -> None:
    import sqlite3

    with sqlite3.connect(home / "events.sqlite") as con:
        con.execute(
            "UPDATE stored_events SET state=replace(state, '2022-02-01', '2022-02-02') "
            "WHERE originator_id=? AND originator_version=2",
            (subject,),
        )
    response = client.get(f"/cases/{subject}/history")
    assert response.status_code == 200
    assert response.headers["x-ledger-chain"] == "broken at 2"
    assert response.json()["chain"]["break"]["position"] == 2
