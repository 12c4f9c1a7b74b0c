"""The pages under identity (trust.md §1, docs/identity.md): a browser signs in with a bearer
token (kept in an HttpOnly cookie), the same roles decide as on the API, and an evaluator never
sees an address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from ledger.config import TOKEN_ISSUER
from ledger.identity.issuer import init_issuer, issue_token, load_private_key
from tests.serving import ledger_serve, serve_env
from tests.web.conftest import Site

SUBJECT = "0014200000000501"


@pytest.fixture(scope="module")
def guarded(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A second `ledger serve` over the same store, with issuer keys: tokens are verified."""
    keys = tmp_path_factory.mktemp("issuer")
    init_issuer(keys / "issuer.key", keys / "issuer.jwks.json")
    env = serve_env(site.home, LEDGER_ISSUER_JWKS=str(keys / "issuer.jwks.json"))
    with ledger_serve(env) as base:
        yield base, keys / "issuer.key"


def _token(key: Path, role: str) -> str:
    return issue_token(load_private_key(key), role=role, issuer=TOKEN_ISSUER, ttl=600)


def test_roles_decide_what_the_pages_show(browser: Browser, guarded: tuple[str, Path]) -> None:
    base, key = guarded
    context = browser.new_context()
    page = context.new_page()
    refused = page.goto(f"{base}/adres/{SUBJECT}")
    assert refused is not None and refused.status == 401
    assert page.locator("#token").count() == 1  # the sign-in form, with the reason
    assert "bearer token" in page.locator("#problem").inner_text()

    page.fill("#token", "not-a-token")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "invalid token" in page.locator("#problem").inner_text()

    page.goto(f"{base}/aanmelden")
    page.fill("#token", _token(key, "OMBUDSMAN"))
    with page.expect_navigation():
        page.click("button[type=submit]")
    shown = page.goto(f"{base}/adres/{SUBJECT}")
    assert shown is not None and shown.status == 200
    assert page.locator("h1").inner_text() == "Dossier 9712AB 12a-2"
    cookie = next(c for c in context.cookies() if c["name"] == "ledger_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # the cookie is a credential for reads only: an append with it alone is refused
    append = httpx.post(f"{base}/events", cookies={"ledger_token": cookie["value"]}, content=b"[]")
    assert append.status_code == 401
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert httpx.post(f"{base}/aanmelden", content=b"token=" + b"a" * 20_000, headers=form).status_code == 413
    context.close()

    evaluator = browser.new_context()
    page = evaluator.new_page()
    page.goto(f"{base}/aanmelden")
    page.fill("#token", _token(key, "EVALUATOR"))
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")  # signed in, an evaluator lands on the figures
    assert page.goto(f"{base}/adres/{SUBJECT}").status == 403  # type: ignore[union-attr]
    assert page.goto(f"{base}/?postcode=9712AB&huisnummer=12").status == 403  # type: ignore[union-attr]
    assert page.goto(f"{base}/adres/{SUBJECT}/geschiedenis").status == 403  # type: ignore[union-attr]
    assert page.goto(f"{base}/werklijst").status == 403  # type: ignore[union-attr]
    dashboard = page.goto(f"{base}/dashboard")
    assert dashboard is not None and dashboard.status == 200
    assert page.locator("nav a", has_text="Adres zoeken").count() == 0
    assert "Aangemeld als EVALUATOR" in page.locator("header").inner_text()
    html = page.content()
    assert not re.search(r"\b\d{16}\b", html)  # no BAG id anywhere on the evaluator's page
    assert "9712AB" not in html
    evaluator.close()
