"""`GET /worklist` over HTTP (in process, a real SQLite ledger, responses held to the OpenAPI
document): each filter, the urgency order, pages, 422 naming the parameter, and who may ask.
And `ledger worklist` gives the same answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.http import create_app
from tests.factories import claim_filed, example, receipt, subject
from tests.homes import home_env
from tests.ledger.identity_support import Client, Keys, client_for, open_test_ledger

# Four addresses with one open point each, and one address with none; "now" is the real clock,
# years after every point arose.
CLAIM = subject(1)  # claim_over_term (IMG), since 2021-01-31, municipality 0014 (its BAG prefix)
AOS = subject(2, "1952")  # aos_open_48h (IMG), since 2022-05-03
STALLED = subject(3, "0003")  # stalled (NCG), since 2023-02-01; registered in gemeente 1979
APPROACH = subject(4)  # no_coordinator (IMG and NCG), since 2024-01-31
QUIET = subject(5)


def history() -> list[dict[str, Any]]:
    registered = {**example("AddressRegistered", STALLED)["data"], "gemeentecode": "1979"}
    return [
        claim_filed(CLAIM, "C-1", time="2021-01-01T09:00:00Z"),
        receipt(CLAIM, "C-1", days=30, time="2021-01-01T10:00:00Z"),
        example("AcuteUnsafeSituationReported", AOS, time="2022-05-01T09:00:00Z"),
        example("AddressRegistered", STALLED, registered, org="NCG", time="2022-12-01T09:00:00Z"),
        example("AddressAddedToProgramme", STALLED, time="2023-01-01T09:00:00Z"),
        example("TrajectoryStalled", STALLED, time="2023-02-01T09:00:00Z"),
        example("IntegratedApproachRequested", APPROACH, org="IMG", time="2024-01-01T09:00:00Z"),
        claim_filed(QUIET, "C-9", time="2024-01-01T09:00:00Z"),
    ]


ORDER = [AOS, CLAIM, APPROACH, STALLED]  # urgency: aos, claim over term, no coordinator, stalled


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("worklist") / "home"
    ledger = open_test_ledger(home)
    try:
        for e in history():
            assert ledger.service.append([e], e["org"])[0].result == "accepted"
    finally:
        ledger.close()
    return home


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def client(home: Path, keys: Keys) -> Iterator[Client]:
    ledger = open_test_ledger(home)
    yield from client_for(create_app(ledger, limit=1, verifier=keys.verifier()))
    ledger.close()


def ask(client: Client, keys: Keys, query: str = "", role: str = "NCG") -> Any:
    response = client.get(f"/worklist{query}", keys.token(role))
    assert response.status_code == 200, response.text
    return response.json()


def subjects(answer: Any) -> list[str]:
    return [i["subject"] for i in answer["items"]]


def test_every_open_point_in_urgency_order(client: Client, keys: Keys) -> None:
    answer = ask(client, keys)
    assert subjects(answer) == ORDER and answer["total"] == 4 and answer["pages"] == 1
    first = answer["items"][0]
    assert first == {
        "subject": AOS,
        "code": "aos_open_48h",
        "ref": "AOS-1",
        "since": "2022-05-03T09:00:00.000000Z",
        "age_days": first["age_days"],
        "urgency": 1,
        "organisations": ["IMG"],
        "municipality": "1952",
    }
    assert first["age_days"] > 365
    assert answer["provenance"]["source"] == "projection" and answer["provenance"]["events"] == len(history())
    assert answer["filters"] == {"code": None, "organisation": None, "municipality": None, "min_age_days": 0}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?code=stalled", [STALLED]),
        ("?code=no_coordinator,claim_over_term", [CLAIM, APPROACH]),
        ("?organisation=NCG", [APPROACH, STALLED]),
        ("?organisation=img", [AOS, CLAIM, APPROACH]),
        ("?municipality=1979", [STALLED]),  # the registered gemeentecode, not the BAG prefix 0003
        ("?municipality=0003", []),
        ("?municipality=0014,1952", [AOS, CLAIM, APPROACH]),
        ("?organisation=IMG&municipality=0014&code=claim_over_term", [CLAIM]),
        ("?page_size=3&page=2", [STALLED]),
        ("?page=3&page_size=3", []),
    ],
)
def test_filters_and_pages(client: Client, keys: Keys, query: str, expected: list[str]) -> None:
    assert subjects(ask(client, keys, query)) == expected


def test_min_age_days_counts_from_now(client: Client, keys: Keys) -> None:
    ages = {i["subject"]: i["age_days"] for i in ask(client, keys)["items"]}
    youngest = min(ages.values())
    kept = ask(client, keys, f"?min_age_days={int(youngest) + 1}")
    assert set(subjects(kept)) == {s for s, age in ages.items() if age >= int(youngest) + 1} and len(kept["items"]) == 3
    assert subjects(ask(client, keys, "?min_age_days=36500")) == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?code=open", "code"),
        ("?code=", "code"),
        ("?organisation=PORTAL", "organisation"),
        ("?municipality=Groningen", "municipality"),
        ("?min_age_days=-1", "min_age_days"),
        ("?min_age_days=1.5", "min_age_days"),
        ("?page=0", "page"),
        ("?page_size=501", "page_size"),
        ("?page_size=ten", "page_size"),
        ("?at=2024-01-01", "at"),
        ("?sort=age", "sort"),
    ],
)
def test_bad_input_is_422_naming_the_parameter(client: Client, keys: Keys, query: str, parameter: str) -> None:
    response = client.get(f"/worklist{query}", keys.token("IMG"))
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["invalid-params"][0]["name"] == parameter and parameter in body["detail"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("IMG", 200), ("NCG", 200), ("OMBUDSMAN", 200), ("EVALUATOR", 403), ("PORTAL", 403), ("OPERATOR", 403)],
)
def test_who_may_see_it(client: Client, keys: Keys, role: str, status: int) -> None:
    response = client.get("/worklist", keys.token(role))
    assert response.status_code == status
    if status == 403:  # refused before anything is looked up: no address in the answer
        assert CLAIM not in response.text and "items" not in response.json()
    assert client.get("/worklist").status_code == 401


def test_the_cli_gives_the_same_answer(home: Path, client: Client, keys: Keys) -> None:
    from typer.testing import CliRunner

    from ledger.cli import app

    env = home_env(home)
    result = CliRunner().invoke(app, ["worklist", "--organisation", "NCG", "--json"], env=env)
    assert result.exit_code == 0, result.output
    via_cli = orjson.loads(result.stdout)
    via_http = ask(client, keys, "?organisation=NCG")
    strip = ("age_days",)
    assert [{k: v for k, v in i.items() if k not in strip} for i in via_cli["items"]] == [
        {k: v for k, v in i.items() if k not in strip} for i in via_http["items"]
    ]
    table = CliRunner().invoke(app, ["worklist", "--code", "stalled"], env=env)
    assert table.exit_code == 0 and STALLED in table.stdout and "1979" in table.stdout
    assert re.search(r"· 1 open point\b(?!s)", table.stdout)
    bad = CliRunner().invoke(app, ["worklist", "--page-size", "0"], env=env)
    assert bad.exit_code == 2 and "--page-size" in bad.stderr
