"""The HTTP API through a real `ledger serve` process on a free loopback port.

The server is started as the console script would be, polled on /healthz until a deadline, and
stopped by its PID. Its answers must equal the CLI's for the same options.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.homes import imported_home
from tests.homes import run_cli as cli
from tests.serving import ledger_serve, serve_env

FUTURE = "2099-01-01"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_home(tmp_path_factory, "http", 80, 11)


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-processes"])
def server(home: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    with ledger_serve(serve_env(home), workers=request.param) as base:
        yield base


@pytest.fixture(scope="module")
def subject(home: Path) -> str:
    doc = orjson.loads(cli(home, "export").stdout.splitlines()[0])
    return str(doc["subject"])


def test_healthz(server: str) -> None:
    body = httpx.get(f"{server}/healthz").json()
    assert body["status"] == "ok" and body["behind"] == 0 and body["position"] > 0


def test_case_equals_the_cli(server: str, home: Path, subject: str) -> None:
    params = {"at": FUTURE, "known_at": FUTURE}
    response = httpx.get(f"{server}/cases/{subject}", params=params)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    over_http = response.json()
    on_cli = orjson.loads(cli(home, "case", subject, "--at", FUTURE, "--known-at", FUTURE, "--json").stdout)
    assert over_http == on_cli
    latest = httpx.get(f"{server}/cases/{subject}").json()
    assert latest["provenance"]["source"] == "projection" and latest["provenance"]["behind"] == 0
    assert {k: v for k, v in latest.items() if k not in ("attention", "provenance")} == {
        k: v for k, v in over_http.items() if k not in ("attention", "provenance")
    }


def test_metrics_and_evaluation_equal_the_cli(server: str, home: Path) -> None:
    metrics = httpx.get(f"{server}/metrics", params={"at": FUTURE}).json()
    assert metrics == orjson.loads(cli(home, "metrics", "--at", FUTURE, "--json").stdout)
    params = {"at": FUTURE, "pivot": "2022-01-01"}
    evaluation = httpx.get(f"{server}/evaluation", params=params).json()
    assert evaluation == orjson.loads(cli(home, "evaluation", "--at", FUTURE, "--pivot", "2022-01-01", "--json").stdout)
    latest = httpx.get(f"{server}/metrics").json()
    assert latest["G1"] == metrics["G1"] and latest["provenance"]["source"] == "projection"


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("/cases/0014200000009999", {}, 404, "address 0014200000009999 is not in the ledger"),
        ("/metrics", {"at": "2021-02-30"}, 422, ("at", "at '2021-02-30' is not a date")),
        ("/metrics", {"known_at": "soon"}, 422, ("known_at", "known_at 'soon' is not a date")),
        ("/evaluation", {"pivot": "1-7-2023"}, 422, ("pivot", "pivot '1-7-2023' is not a date")),
        ("/metrics", {"as_of": "2022-01-01"}, 422, ("as_of", "unknown parameter 'as_of'")),
        ("/evaluation", {"at": "2099-01-01", "pivots": "x"}, 422, ("pivots", "unknown parameter 'pivots'")),
    ],
)
def test_bad_input(server: str, path: str, params: dict[str, str], status: int, detail: Any) -> None:
    response = httpx.get(f"{server}{path}", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"  # RFC 9457
    body = response.json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    if status == 404:
        assert body["detail"] == detail and "invalid-params" not in body
    else:
        assert body["detail"].startswith(detail[1])
        assert body["invalid-params"] == [{"name": detail[0], "reason": body["detail"]}]


def test_future_cutoffs_are_valid(server: str, subject: str) -> None:
    assert httpx.get(f"{server}/cases/{subject}", params={"at": "2150-01-01T00:00:00+01:00"}).status_code == 200
    assert httpx.get(f"{server}/metrics", params={"known_at": "2150-01-01"}).status_code == 200


def test_contract_schemas_and_docs(server: str) -> None:
    index = httpx.get(f"{server}/contract").json()
    assert len(index["types"]) == 43
    first = index["types"][0]["schema"]
    schema = httpx.get(f"{server}/contract/{first}")
    assert schema.status_code == 200 and schema.json()["$schema"].startswith("https://json-schema.org/")
    assert httpx.get(f"{server}/contract/nothing-here").status_code == 404
    assert httpx.get(f"{server}/docs").status_code == 200
    paths = httpx.get(f"{server}/openapi.json").json()["paths"]
    assert {"/cases/{subject}", "/metrics", "/evaluation", "/healthz", "/contract"} <= set(paths)


def test_an_append_shows_in_the_next_answer(server: str, home: Path, subject: str) -> None:
    before = httpx.get(f"{server}/cases/{subject}").json()
    complaint_id = f"K-http-{before['ledger']['events']}"
    complaint = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),  # a new event for each server variant on the shared store
        "source": "urn:nl:portal:bewoners",
        "type": "nl.groningen.resident.ComplaintLodged.v1",
        "subject": subject,
        "time": "2025-01-03T10:00:00Z",
        "org": "PORTAL",
        "data": {"complaint_id": complaint_id, "against": "both", "forum": "organisation"},
    }
    result = cli(home, "append", "--as", "PORTAL", stdin=orjson.dumps(complaint) + b"\n")
    assert result.exit_code == 0, result.output
    after = httpx.get(f"{server}/cases/{subject}").json()
    assert after["ledger"]["events"] == before["ledger"]["events"] + 1
    assert after["resident"]["complaints"][-1]["complaint_id"] == complaint_id
    assert after["provenance"]["behind"] == 0
