"""What a newcomer trips over on the HTTP API: the schemas' media type, HEAD on the health endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.http import create_app
from tests.ledger.identity_support import Client, client_for, open_test_ledger


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    ledger = open_test_ledger(tmp_path / "home")
    yield from client_for(create_app(ledger, limit=1, verifier=None))


def test_a_contract_schema_is_application_schema_json_and_documented_so(client: Client) -> None:
    name = client.get("/contract").json()["types"][0]["schema"]
    served = client.get(f"/contract/{name}")
    assert served.status_code == 200 and served.headers["content-type"] == "application/schema+json"
    documented = client.get("/openapi.json").json()["paths"]["/contract/{name}"]["get"]["responses"]["200"]
    assert list(documented["content"]) == ["application/schema+json"]


def test_head_on_healthz(client: Client) -> None:
    got = client.get("/healthz")
    head = client.request("HEAD", "/healthz")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == got.headers["content-type"]
