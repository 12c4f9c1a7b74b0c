"""Every endpoint × every role × every kind of token gives the answer of trust.md §1's role table.

In process (ASGI) on a real SQLite store with a few events. 401 and 403 are decided before any
look-up, so their answers are the same for an address the ledger knows and one it does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.http import create_app
from ledger.identity.access import ACCESS
from tests.factories import claim_filed, subject
from tests.ledger.identity_support import Client, Keys, client_for, open_test_ledger, structured

KNOWN = subject(101)
UNKNOWN = subject(9_999_999)
ROLES = ("IMG", "NCG", "PORTAL", "OMBUDSMAN", "EVALUATOR", "OPERATOR")
READERS = {"IMG", "NCG", "OMBUDSMAN"}
FIGURES = READERS | {"EVALUATOR"}
PUBLISHERS = {"IMG", "NCG", "PORTAL"}
BAD_TOKENS = (
    "expired",
    "wrong-audience",
    "wrong-issuer",
    "wrong-algorithm-none",
    "wrong-algorithm-hs256",
    "foreign-key",
    "no-exp",
    "malformed",
)


def append_request() -> dict[str, Any]:
    return structured(claim_filed(subject(200), "c-roles"))


# endpoint: (method, url, roles that may, status when allowed, whether anonymous)
ENDPOINTS: dict[str, tuple[str, str, set[str] | None, int]] = {
    "healthz": ("GET", "/healthz", None, 200),
    "contract": ("GET", "/contract", None, 200),
    "contract-schema": ("GET", "/contract/index", None, 200),
    "openapi": ("GET", "/openapi.json", None, 200),
    "docs": ("GET", "/docs", None, 200),
    "case-known": ("GET", f"/cases/{KNOWN}", READERS, 200),
    "case-unknown": ("GET", f"/cases/{UNKNOWN}", READERS, 404),
    "history-known": ("GET", f"/cases/{KNOWN}/history", READERS, 200),
    "history-unknown": ("GET", f"/cases/{UNKNOWN}/history", READERS, 404),
    "worklist": ("GET", "/worklist?code=claim_over_term", READERS, 200),
    "metrics": ("GET", "/metrics", FIGURES, 200),
    "evaluation": ("GET", "/evaluation", FIGURES, 200),
    "metrics-at": ("GET", "/metrics?at=2025-01-01", FIGURES, 200),
    "events": ("POST", "/events", PUBLISHERS, 200),
    "addresses": ("GET", "/addresses?postcode=9712AB&huisnummer=12", READERS, 200),
    # the web app's pages take the roles of the API routes they show (ledger/web/pages.py)
    "page-find": ("GET", "/?postcode=9712AB&huisnummer=12", READERS, 200),
    "page-case": ("GET", f"/adres/{KNOWN}", READERS, 200),
    "page-history": ("GET", f"/adres/{KNOWN}/geschiedenis", READERS, 200),
    "page-dashboard": ("GET", "/dashboard", FIGURES, 200),
    "page-over-time": ("GET", "/dashboard/verloop", FIGURES, 200),
    "page-status": ("GET", "/status", None, 200),
    "page-worklist": ("GET", "/werklijst", READERS, 200),
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[Client]:
    ledger = open_test_ledger(tmp_path_factory.mktemp("roles"))
    assert ledger.service.append([claim_filed(KNOWN, "c-1")], "IMG")[0].result == "accepted"
    app = create_app(ledger, limit=1, verifier=keys.verifier())
    yield from client_for(app)
    ledger.close()


@pytest.fixture(scope="module")
def dev_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    ledger = open_test_ledger(tmp_path_factory.mktemp("dev"))
    ledger.service.append([claim_filed(KNOWN, "c-1")], "IMG")
    app = create_app(ledger, limit=1, verifier=None)
    yield from client_for(app)
    ledger.close()


def call(client: Client, endpoint: str, token: str | None) -> Any:
    method, url, _, _ = ENDPOINTS[endpoint]
    kw = append_request() if method == "POST" else {}
    return client.request(method, url, token, **kw)


def expected(endpoint: str, role: str, variant: str) -> int:
    _, _, allowed, ok = ENDPOINTS[endpoint]
    if allowed is None:
        return ok  # anonymous: whatever the token
    if variant != "valid":
        return 401
    return ok if role in allowed else 403


CASES = [(e, r, v) for e in ENDPOINTS for r in ROLES for v in ("valid", "none", *BAD_TOKENS)]


@pytest.mark.parametrize(("endpoint", "role", "variant"), CASES, ids=["-".join(c) for c in CASES])
def test_role_table(client: Client, keys: Keys, endpoint: str, role: str, variant: str) -> None:
    token = keys.variants(role)[variant]
    response = call(client, endpoint, token)
    want = expected(endpoint, role, variant)
    assert response.status_code == want, response.text
    if want in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == want and body["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer realm=")
        assert KNOWN not in response.text and UNKNOWN not in response.text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("variant", ("valid", "none", *BAD_TOKENS))
def test_refusals_do_not_tell_whether_an_address_exists(client: Client, keys: Keys, role: str, variant: str) -> None:
    token = keys.variants(role)[variant]
    for known, unknown in (("case-known", "case-unknown"), ("history-known", "history-unknown")):
        a, b = call(client, known, token), call(client, unknown, token)
        if a.status_code in (401, 403):
            assert (a.status_code, a.content, a.headers["www-authenticate"]) == (
                b.status_code,
                b.content,
                b.headers["www-authenticate"],
            )


def test_scope_is_needed_besides_the_role(client: Client, keys: Keys) -> None:
    read_only = keys.token("IMG", scope="ledger:read")
    append_only = keys.token("IMG", scope="ledger:append")
    refused = client.post("/events", read_only, **append_request())
    assert refused.status_code == 403 and "ledger:append" in refused.json()["detail"]
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert client.get(f"/cases/{KNOWN}", append_only).status_code == 403
    assert client.post("/events", append_only, **append_request()).status_code == 200


def test_es256_is_accepted_only_when_configured(tmp_path: Path, keys: Keys) -> None:
    ledger = open_test_ledger(tmp_path / "es")
    try:
        for algorithms, status in ((("EdDSA", "ES256"), 200), (("EdDSA",), 401)):
            for c in client_for(create_app(ledger, limit=1, verifier=keys.verifier(algorithms))):
                response = c.get("/metrics", keys.es256("EVALUATOR"))
                assert response.status_code == status, response.text
                if status == 401:
                    assert "ES256" in response.json()["detail"] and "not accepted" in response.json()["detail"]
    finally:
        ledger.close()


def test_the_body_never_names_the_principal(client: Client, keys: Keys) -> None:
    """NCG sends an IMG event claiming org IMG: refused as not_authorized; the token decides."""
    event = claim_filed(subject(300), "c-spoof")
    results = client.post("/events", keys.token("NCG"), **structured(event)).json()
    assert results[0]["result"] == "rejected" and results[0]["code"] == "not_authorized"
    assert client.get(f"/cases/{subject(300)}", keys.token("IMG")).status_code == 404


def test_malformed_authorization_headers(client: Client) -> None:
    for header in ("Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "bearer", "Token abc", "Bearer " + "x" * 9000):
        response = client.get("/metrics", headers={"authorization": header})
        assert response.status_code == 401, header
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


def test_development_mode(dev_client: Client, keys: Keys) -> None:
    """No issuer keys: reads without a token are the local principal; appends and any token are refused."""
    assert dev_client.get(f"/cases/{KNOWN}").status_code == 200
    assert dev_client.get(f"/cases/{KNOWN}/history").status_code == 200
    assert dev_client.get("/metrics").status_code == 200
    refused = dev_client.post("/events", **append_request())
    assert refused.status_code == 401 and "development mode" in refused.json()["detail"]
    with_token = dev_client.get("/metrics", keys.token("IMG"))
    assert with_token.status_code == 401 and "no issuer keys" in with_token.json()["detail"]


def test_openapi_declares_the_bearer_scheme_per_route(client: Client) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    paths = schema["paths"]
    assert paths["/healthz"]["get"]["security"] == []
    assert paths["/contract"]["get"]["security"] == []
    assert paths["/cases/{subject}"]["get"]["security"] == [{"bearer": ["ledger:read"]}]
    assert paths["/cases/{subject}/history"]["get"]["security"] == [{"bearer": ["ledger:read"]}]
    assert paths["/metrics"]["get"]["x-ledger-roles"] == sorted(FIGURES)
    assert paths["/events"]["post"]["security"] == [{"bearer": ["ledger:append"]}]
    assert "401" in paths["/events"]["post"]["responses"] and "403" in paths["/events"]["post"]["responses"]


def test_an_undeclared_route_is_closed_to_all_but_the_operator(tmp_path: Path, keys: Keys) -> None:
    from fastapi import APIRouter
    from fastapi.responses import Response

    ledger = open_test_ledger(tmp_path / "closed")
    app = create_app(ledger, limit=1, verifier=keys.verifier())
    extra = APIRouter()

    @extra.get("/something-new", response_model=None)  # the local Response: no model for the document
    def something_new() -> Response:
        return Response(orjson.dumps({"ok": True}), media_type="application/json")

    app.include_router(extra)
    try:
        for c in client_for(app):
            assert c.get("/something-new").status_code == 401
            assert c.get("/something-new", keys.token("OMBUDSMAN")).status_code == 403
            assert c.get("/something-new", keys.token("OPERATOR")).status_code == 200
    finally:
        ledger.close()
    assert set(ACCESS) >= {"anonymous", "cases", "replay", "bundle", "figures", "append", "operator"}


@pytest.mark.parametrize("variant", ("valid", "none", *BAD_TOKENS))
def test_checkpoints_and_proofs_are_open_to_everyone(client: Client, keys: Keys, variant: str) -> None:
    token = keys.variants("EVALUATOR")[variant]
    for url in (
        "/checkpoint",
        "/checkpoints/1",
        "/proofs/inclusion?position=1&size=1",
        "/proofs/consistency?from=1&to=1",
    ):
        response = client.get(url, token)
        assert response.status_code not in (401, 403), (url, response.text)
        assert response.status_code < 500, (url, response.text)
