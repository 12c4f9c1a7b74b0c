"""`/metrics` is the contract's governance figures, not Prometheus: said in the OpenAPI document
(the app's description, which `/docs` shows, and `GET /metrics` itself) and in docs/, each
pointing operators to their own port (`LEDGER_OPS_PORT`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.http import create_app
from tests.ledger.identity_support import Client, client_for, open_test_ledger

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    yield from client_for(create_app(open_test_ledger(tmp_path / "home"), limit=1, verifier=None))


def _says_not_prometheus(text: str) -> None:
    assert "Not Prometheus" in text or "not Prometheus" in text, text
    assert "LEDGER_OPS_PORT" in text, text
    assert "governance figures" in text, text


def test_the_api_description_says_metrics_is_not_the_operators_endpoint(client: Client) -> None:
    document = client.get("/openapi.json").json()
    _says_not_prometheus(document["info"]["description"])
    metrics = document["paths"]["/metrics"]["get"]
    _says_not_prometheus(metrics["summary"] + " " + metrics["description"])
    assert "docs/operations.md" in metrics["description"]
    assert "/openapi.json" in client.get("/docs").text  # /docs renders that document


def test_docs_say_where_the_operators_metrics_are() -> None:
    page = (REPO / "docs" / "read-side.md").read_text(encoding="utf-8")
    heading = "## `/metrics` is the governance figures, not Prometheus"
    assert heading in page, "docs/read-side.md lacks its section on /metrics"
    section = heading + page.split(heading, 1)[1].split("\n## ", 1)[0]
    _says_not_prometheus(section)
    assert "docs/operations.md" in section and (REPO / "docs" / "operations.md").is_file()
