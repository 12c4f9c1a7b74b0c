"""`GET /metrics/series` and `ledger metrics --series` (projections §5): the same series, each point
equal to `/metrics` at its cut-offs; bad requests are 422 naming the parameter / exit 2 naming the option."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.bootstrap import Settings, open_ledger
from ledger.http import create_app
from tests.homes import imported_home, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

YEARLY = {"from": "2018-01-01", "to": "2024-12-31", "step": "year", "ids": "G1,G3,G7"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_home(tmp_path_factory, "series", 30, 3)


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    settings = Settings(home=home, store_url=f"sqlite:///{(home / 'events.sqlite').absolute()}")
    with open_ledger(settings) as ledger, TestClient(create_app(ledger), raise_server_exceptions=False) as served:
        yield served


def test_every_point_equals_metrics_at_its_cutoffs(client: TestClient) -> None:
    response = client.get("/metrics/series", params=YEARLY)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["ids"] == ["G1", "G3", "G7"]
    assert [p["at"] for p in doc["points"]] == [f"{y}-12-31T23:59:59.999999Z" for y in range(2018, 2025)]
    assert doc["provenance"]["from"] == "2018-01-01T23:59:59.999999Z" and doc["provenance"]["step"] == "year"
    revised = 0
    for point in doc["points"]:
        then = client.get("/metrics", params={"at": point["at"], "known_at": point["at"]}).json()
        now = client.get("/metrics", params={"at": point["at"]}).json()
        assert point["known_then"] == {k: then[k] for k in doc["ids"]}
        assert point["known_now"] == {k: now[k] for k in doc["ids"]}
        assert point["events"] == {"known_then": then["provenance"]["events"], "known_now": now["provenance"]["events"]}
        assert then["provenance"]["position"] == now["provenance"]["position"] == doc["provenance"]["position"]
        revised += point["events"]["known_then"] != point["events"]["known_now"]
    assert revised  # late registrations: some point was known differently then


def test_the_command_gives_the_same_series(client: TestClient, home: Path) -> None:
    served = client.get("/metrics/series", params=YEARLY).json()
    args = ["--from", "2018-01-01", "--to", "2024-12-31", "--step", "year", "--ids", "G1,G3,G7"]
    result = run_cli(home, "metrics", "--series", *args, "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["points"] == served["points"] and doc["ids"] == served["ids"]
    assert doc["provenance"] == served["provenance"]
    table = run_cli(home, "metrics", "--series", *args)
    assert table.exit_code == 0 and "2024-12-31" in table.stdout and "G7" in table.stdout


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"from": "2025-01-01"}, "from"),
        ({"step": "week"}, "step"),
        ({"ids": "G1,G16"}, "ids"),
        ({"ids": "E1"}, "ids"),
        ({"from": "1900-01-01", "step": "month"}, "to"),
        ({"to": "2024-13-01"}, "to"),
        ({"step": None}, "step"),
        ({"from": None}, "from"),
        ({"at": "2020-01-01"}, "at"),
    ],
)
def test_bad_requests_are_422_naming_the_parameter(client: TestClient, change: dict[str, Any], parameter: str) -> None:
    params = {k: v for k, v in {**YEARLY, **change}.items() if v is not None}
    response = client.get("/metrics/series", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert [p["name"] for p in body["invalid-params"]] == [parameter], body


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--series", "--from", "2025-01-01", "--to", "2024-12-31", "--step", "year"], "--from"),
        (["--series", "--from", "2018-01-01", "--to", "2024-12-31", "--step", "week"], "--step"),
        (["--series", "--from", "2018-01-01", "--to", "2024-12-31", "--step", "year", "--ids", "G0"], "--ids"),
        (["--series", "--from", "1900-01-01", "--to", "2024-12-31", "--step", "month"], "--to"),
        (["--series", "--from", "2018-01-01", "--step", "year"], "--to"),
        (["--from", "2018-01-01", "--to", "2024-12-31", "--step", "year"], "--from"),
        (["--series", "--at", "2020-01-01", "--from", "2018-01-01", "--to", "2024-12-31", "--step", "year"], "--at"),
    ],
)
def test_bad_series_options_exit_2_naming_the_option(home: Path, args: list[str], option: str) -> None:
    result = run_cli(home, "metrics", *args, "--json", catch_exceptions=True)
    assert result.exit_code == 2, result.output
    error = orjson.loads(result.stderr)
    assert error["exit"] == 2 and error["error"].startswith(option), error
