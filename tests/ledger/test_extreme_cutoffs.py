"""Extreme cut-offs (`at`, `known_at`, `pivot`) on every read endpoint and CLI command.

An instant is representable when, converted to UTC, it lies within 0001-01-01T00:00:00Z …
9999-12-31T23:59:59.999999Z (Python's datetime range; docs/decisions.md). An unrepresentable one is
HTTP 422 as RFC 9457 problem details naming the parameter, exit 2 naming the option on the CLI;
a representable one is a valid answer however far before or after the events it lies (the
replay alone refuses cut-offs before an address's first event, docs/replay.md). Never a 500,
never a traceback.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.bootstrap import Ledger
from ledger.http import create_app
from tests.homes import imported_home, opened, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

# after conversion to UTC: 0000-12-31T10:00Z, 10000-01-01T13:59:59Z, and one microsecond outside
UNREPRESENTABLE = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00.000000+00:01",
    "9999-12-31T23:59:59.999999-00:01",
]
EARLY = ["0001-01-01", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00-14:00", "0001-01-02", "0002-12-31"]
LATE = ["9999-12-31", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59+14:00"]
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_home(tmp_path_factory, "extreme", 30, 3)


def cli(home: Path, *args: str) -> Any:
    return run_cli(home, *args, catch_exceptions=True)


@pytest.fixture(scope="module")
def ledger(home: Path) -> Iterator[Ledger]:
    yield from opened(home.absolute())


@pytest.fixture(scope="module")
def client(ledger: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def subject(client: TestClient, home: Path) -> str:
    doc = orjson.loads(cli(home, "export").stdout.splitlines()[0])
    return str(doc["subject"])


def endpoints(subject: str) -> list[tuple[str, str]]:
    cases = f"/cases/{subject}"
    return [
        ("/metrics", "at"),
        ("/metrics", "known_at"),
        ("/evaluation", "at"),
        ("/evaluation", "known_at"),
        ("/evaluation", "pivot"),
        (cases, "at"),
        (cases, "known_at"),
        (f"{cases}/history", "at"),
        (f"{cases}/history", "known_at"),
    ]


def assert_names(response: Any, parameter: str, value: str) -> None:
    """422 problem details naming the parameter and the value."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422 and body["title"]
    assert body["detail"].startswith(f"{parameter} {value!r} is out of range"), body
    assert [p["name"] for p in body["invalid-params"]] == [parameter]


@pytest.mark.parametrize("value", UNREPRESENTABLE)
def test_unrepresentable_instants_are_422_naming_the_parameter(client: TestClient, subject: str, value: str) -> None:
    for path, parameter in endpoints(subject):
        assert_names(client.get(path, params={parameter: value}), parameter, value)


@pytest.mark.parametrize("value", EARLY)
def test_representable_instants_before_every_event_are_empty_answers(
    client: TestClient, subject: str, value: str
) -> None:
    for parameter in ("at", "known_at"):
        metrics = client.get("/metrics", params={parameter: value})
        assert metrics.status_code == 200, metrics.text
        doc = metrics.json()
        assert doc["G1"] == {"programme_addresses": 0} and doc["provenance"]["events"] == 0
        assert doc["G7"] == {"pending_claims": 0, "pending_claims_over_730d": 0}
        evaluation = client.get("/evaluation", params={parameter: value})
        assert evaluation.status_code == 200, evaluation.text
        assert evaluation.json()["provenance"]["events"] == 0
        case = client.get(f"/cases/{subject}", params={parameter: value})
        assert case.status_code == 200, case.text
        assert case.json()["ledger"]["events"] == 0 and case.json()["attention"] == []
        # the replay's documented refusal of a report about nothing (docs/replay.md), not a crash
        history = client.get(f"/cases/{subject}/history", params={parameter: value})
        assert history.status_code == 422 and "before the first" in history.json()["detail"]
    assert client.get("/evaluation", params={"pivot": value}).status_code == 200


@pytest.mark.parametrize("value", LATE)
def test_representable_instants_far_in_the_future_are_valid(client: TestClient, subject: str, value: str) -> None:
    latest = client.get("/metrics").json()
    for path, parameter in endpoints(subject):
        response = client.get(path, params={parameter: value})
        assert response.status_code == 200, (path, parameter, response.text)
    at_end = client.get("/metrics", params={"at": value}).json()
    assert at_end["G1"] == latest["G1"] and at_end["provenance"]["at"].startswith("9999-12-31T")
    assert at_end["G7"]["pending_claims_over_730d"] == at_end["G7"]["pending_claims"]  # all filed > 730 days before


def _offset_moment(day: datetime, minutes: int) -> str:
    return day.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


def _representable(text: str) -> bool:
    moment = datetime.fromisoformat(text)
    if len(text) == 10 or moment.tzinfo is None:
        return True
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


moments = st.one_of(
    st.builds(
        _offset_moment,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 2, 23, 59, 59, 999999)),
        st.integers(-(24 * 60 - 1), 24 * 60 - 1),
    ),
    st.builds(
        _offset_moment,
        st.datetimes(min_value=datetime(9999, 12, 30), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)),
        st.integers(-(24 * 60 - 1), 24 * 60 - 1),
    ),
    st.dates(min_value=date(1, 1, 1), max_value=date(1, 1, 3)).map(date.isoformat),
    st.dates(min_value=date(9999, 12, 29), max_value=date(9999, 12, 31)).map(date.isoformat),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=moments, pick=st.integers(0, 8))
def test_any_extreme_instant_is_an_answer_or_a_422(client: TestClient, subject: str, moment: str, pick: int) -> None:
    path, parameter = endpoints(subject)[pick]
    response = client.get(path, params={parameter: moment})
    if not _representable(moment):
        assert_names(response, parameter, moment)
    elif path.endswith("/history") and response.status_code == 422:
        assert "before the first" in response.json()["detail"]
    else:
        assert response.status_code == 200, (path, parameter, moment, response.text)


COMMANDS = [
    ("metrics", "--at"),
    ("metrics", "--known-at"),
    ("evaluation", "--at"),
    ("evaluation", "--known-at"),
    ("evaluation", "--pivot"),
    ("case", "--at"),
    ("case", "--known-at"),
    ("replay", "--at"),
    ("replay", "--known-at"),
]


def run(home: Path, subject: str, command: str, option: str, value: str) -> Any:
    args = [command, *([subject] if command in ("case", "replay") else []), option, value]
    return cli(home, *args, *(["--format", "json"] if command == "replay" else ["--json"]))


@pytest.mark.parametrize(("command", "option"), COMMANDS)
def test_cli_extreme_cutoffs(home: Path, subject: str, command: str, option: str) -> None:
    for value in UNREPRESENTABLE:
        result = run(home, subject, command, option, value)
        assert result.exit_code == 2, (value, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception
        error = orjson.loads(result.stderr)  # asked for JSON: the error is JSON too (decisions.md, Command line 1)
        assert error["exit"] == 2 and error["error"].startswith(f"{option} {value!r} is out of range")
    for value in [*EARLY, *LATE]:
        result = run(home, subject, command, option, value)
        assert isinstance(result.exception, SystemExit | None), (value, result.exception)
        if command == "replay" and value in EARLY:
            assert result.exit_code == 2 and "before the first" in result.stderr  # docs/replay.md
        else:
            assert result.exit_code == 0, (value, result.output)
            orjson.loads(result.stdout)
