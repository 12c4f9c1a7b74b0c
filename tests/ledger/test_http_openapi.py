"""The OpenAPI document describes every response, and the check every HTTP test runs
(`tests/openapi_contract.py`) holds the API to it.

The document: every 200 has a schema (models for case, metrics, evaluation, history, contract,
proofs, results), `/cases/{id}/history` its four forms, every error is RFC 9457 problem details
(one schema), and no error is documented that cannot happen (FastAPI's validation error). The
check: a drifted answer, an undocumented status, a non-problem error all fail a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from openapi_core import OpenAPI

from ledger.http import create_app
from projections.query import ReadModel
from tests.factories import claim_filed, subject
from tests.ledger.identity_support import Client, Keys, client_for, open_test_ledger, structured
from tests.openapi_contract import ContractViolation, check

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
def document() -> dict[str, Any]:
    return create_app(limit=1, verifier=None).openapi()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    yield from client_for(create_app(open_test_ledger(tmp_path / "home"), limit=1, verifier=None))


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    OpenAPI.from_dict(document)  # validates the document (openapi-spec-validator, OpenAPI 3.1)


def test_every_success_has_a_schema(document: dict[str, Any]) -> None:
    empty = [
        f"{method.upper()} {path} {media}"
        for method, path, operation in _operations(document)
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media, content in response.get("content", {}).items()
        if not content.get("schema")
    ]
    assert not empty, f"documented without a schema: {empty}"
    responses = {
        path: item["get"]["responses"]["200"]["content"] for path, item in document["paths"].items() if "get" in item
    }
    models = {
        "/cases/{subject}": "CaseView",
        "/metrics": "Metrics",
        "/evaluation": "Evaluation",
        "/worklist": "Worklist",
        "/cases/{subject}/history": "Report",
        "/contract": "ContractIndex",
        "/healthz": "Health",
        "/proofs/inclusion": "InclusionProof",
        "/proofs/consistency": "ConsistencyProof",
    }
    for path, model in models.items():
        assert responses[path]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}, path
    events = document["paths"]["/events"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert events["items"] == {"$ref": "#/components/schemas/AppendResult"}


def test_the_history_documents_its_four_forms(document: dict[str, Any]) -> None:
    ok = document["paths"]["/cases/{subject}/history"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/html", "text/markdown", "text/plain"}
    assert "X-Ledger-Chain" in ok["headers"]


def test_every_error_is_problem_details_and_none_cannot_happen(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (method, path, status)
    assert "HTTPValidationError" not in orjson.dumps(document).decode()
    errors = {
        (method, path): sorted(s for s in operation["responses"] if s[0] in "45")
        for method, path, operation in _operations(document)
    }
    assert errors[("get", "/contract")] == []
    assert errors[("get", "/contract/{name}")] == ["404"]
    assert errors[("get", "/healthz")] == [] and errors[("head", "/healthz")] == []
    assert errors[("get", "/metrics")] == ["401", "403", "422", "503"]
    assert errors[("get", "/worklist")] == ["401", "403", "422"]
    assert errors[("get", "/cases/{subject}")] == ["401", "403", "404", "422", "503"]
    assert errors[("post", "/events")] == ["400", "401", "403", "413", "415"]
    assert errors[("get", "/proofs/inclusion")] == ["422"]


def test_paths_and_methods_outside_the_api_are_problem_details(client: Client) -> None:
    for method, url, status in (("GET", "/no-such-path", 404), ("POST", "/metrics", 405), ("PUT", "/healthz", 405)):
        got = client.request(method, url)
        assert got.status_code == status and got.headers["content-type"] == "application/problem+json"
        assert got.json()["status"] == status and got.json()["detail"]


def _exchange(method: str, url: str, status: int, body: Any, media: str = "application/json") -> tuple[Any, Any]:
    request = httpx.Request(method, f"http://ledger.test{url}")
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return request, httpx.Response(status, content=content, headers={"content-type": media}, request=request)


def test_the_check_refuses_what_the_document_does_not_describe(client: Client) -> None:
    document = orjson.dumps(client.get("/openapi.json").json()).decode()
    metrics = client.get("/metrics").json()
    check(document, *_exchange("GET", "/metrics", 200, metrics))  # the real answer passes
    drifted = {k: v for k, v in metrics.items() if k != "G15"}
    renamed = {**metrics, "G1": {"programme_addresses_count": 0}}
    problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "x"}
    for bad in (
        _exchange("GET", "/metrics", 200, drifted),  # a figure missing
        _exchange("GET", "/metrics", 200, renamed),  # a name changed
        _exchange("GET", "/metrics", 200, b"G1 1", "text/plain"),  # another media type
        _exchange("GET", "/metrics", 500, problem, "application/problem+json"),  # a status not documented
        _exchange("GET", "/contract", 404, problem, "application/problem+json"),  # an error that cannot happen
        _exchange("GET", "/cases/0014200000000001", 404, {"detail": "Not Found"}),  # not problem details
        _exchange("GET", "/no-such-path", 404, {"detail": "Not Found"}),  # outside the API, not a problem
    ):
        with pytest.raises(ContractViolation):
            check(document, *bad)


def test_every_http_test_runs_the_check(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture of tests/conftest.py checks the responses of the tests' clients: a read model
    answering without G15 fails the request that got it."""
    real = ReadModel.metrics

    def without_g15(self: ReadModel, *args: Any, **kw: Any) -> Any:
        return {k: v for k, v in real(self, *args, **kw).items() if k != "G15"}

    monkeypatch.setattr(ReadModel, "metrics", without_g15)
    with pytest.raises(ContractViolation, match="G15"):
        client.get("/metrics?at=2024-01-01")


def test_an_address_read_every_way_is_what_the_document_says(tmp_path: Path) -> None:
    """Appended over HTTP, then read as the case view and as the history in all four forms, at and
    without cut-offs: each answer passes the check (the fixture raises otherwise)."""
    keys = Keys(tmp_path / "keys")
    address = subject(1)
    for c in client_for(create_app(open_test_ledger(tmp_path / "home"), limit=1, verifier=keys.verifier())):
        token = keys.token("IMG")
        got = c.post("/events", token, **structured(claim_filed(address, "c-1", time="2024-01-02T10:00:00Z")))
        assert got.status_code == 200 and got.json()[0]["result"] == "accepted"
        assert c.get(f"/cases/{address}", token).json()["damage"]["pending_claims"] == 1
        assert c.get(f"/cases/{address}?at=2024-01-01", token).json()["damage"]["claims"] == []
        for fmt in ("json", "html", "md", "text"):
            assert c.get(f"/cases/{address}/history?format={fmt}", token).status_code == 200
        assert c.get(f"/cases/{subject(2)}", token).status_code == 404
        assert c.get("/metrics?at=2024-12-31", token).json()["G6"]["claims_filed_by_year"] == {"2024": 1}
        assert c.get("/evaluation?pivot=2024-01-01", token).status_code == 200
