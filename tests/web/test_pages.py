"""Each page in a real browser: the expected content for hand-built histories (the numbers equal
the API's JSON), no WCAG 2.1 AA violation found by axe-core, no request to another host, and a
screenshot at 1,400 and 400 px under docs/screenshots/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest

from domain.timeutil import parse_utc
from ledger.web.format import euros, number, share
from tests.web.conftest import AT, REPO, SCREENSHOTS, WIDTHS, Site, Visit, axe_violations

PAGES = {
    "find": "/?postcode=9712AB&huisnummer=12",
    "case": "/adres/0014200000000501?at=" + AT,
    "history": "/adres/0014200000000501/geschiedenis?at=" + AT + "&known_at=" + AT,
    "dashboard": "/dashboard?at=" + AT,
    "over-time": "/dashboard/verloop?from=2020-01-01&to=2024-12-31&step=year",
    "status": "/status",
    "docs": "/docs",
    "worklist": "/werklijst",
}


def _same_origin(site: Site, urls: list[str]) -> list[str]:
    origin = urlsplit(site.base)
    return [u for u in urls if not u.startswith("data:") and urlsplit(u)[:2] != origin[:2]]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_self_served_and_photographed(
    visit: Callable[..., Visit], site: Site, name: str, width: int
) -> None:
    seen = visit(PAGES[name], width)
    assert len(seen.requests) >= 1
    assert _same_origin(site, seen.requests) == [], "requests to another host"
    if name == "docs":  # Swagger UI drew the API from the app's own /openapi.json
        seen.page.wait_for_selector(".opblock", timeout=20_000)
        assert any(u.endswith("/openapi.json") for u in seen.requests)
    violations = axe_violations(seen.page) if name != "docs" else []  # Swagger UI is a third party's page
    assert violations == [], violations
    if width == 400:  # nothing wider than the phone's screen but the scrolling tables
        overflow = seen.page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 400, f"{name} is {overflow} px wide at 400 px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen.page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def test_find_by_postcode_number_addition_and_bag_id(visit: Callable[..., Visit], site: Site) -> None:
    page = visit("/").page
    page.fill("#postcode", "9712 ab")
    page.fill("#huisnummer", "12")
    with page.expect_navigation():
        page.click("button[type=submit]")
    links = page.locator("#results a")
    api = site.json("/addresses?postcode=9712AB&huisnummer=12")["addresses"]
    assert [link.get_attribute("href") for link in links.all()] == [f"/adres/{a['subject']}" for a in api]
    assert links.count() == 2
    assert sorted(links.all_inner_texts()) == ["9712AB 12a-2", "9712AB 12b-2"]
    page.fill("#toevoeging", "b2")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("#results a").all_inner_texts() == ["9712AB 12b-2"]
    with page.expect_navigation():
        page.locator("#results a").click()
    assert page.url.endswith("/adres/0014200000000502")
    bag = visit("/?bag=0014200000000501").page
    assert bag.locator("#results a").get_attribute("href") == "/adres/0014200000000501"
    assert site.json("/addresses?postcode=9712ab&huisnummer=12&toevoeging=B-2")["addresses"] == api[1:]
    refused = httpx.get(site.base + "/addresses?postcode=0712AB&huisnummer=12", timeout=30)
    assert refused.status_code == 422 and refused.json()["invalid-params"][0]["name"] == "postcode"
    assert visit("/?postcode=9712AB&huisnummer=13").page.locator("#results").inner_text() == "Geen adres gevonden."


def test_case_page_equals_the_api(visit: Callable[..., Visit], site: Site) -> None:
    api = site.json("/cases/0014200000000501?at=" + AT)
    page = visit(PAGES["case"]).page
    assert page.locator("h1").inner_text() == "Dossier 9712AB 12a-2"
    awarded = page.locator("#awarded")
    assert awarded.inner_text() == "€\xa02.386,00" == euros(api["damage"]["awarded_cents"])
    assert awarded.get_attribute("data-cents") == str(api["damage"]["awarded_cents"])
    for claim in api["damage"]["claims"]:
        row = page.locator(f"tr[data-claim='{claim['claim_id']}']")
        assert row.locator(".amount").inner_text() == euros(claim["amount_cents"])
    assert page.locator("#pending").inner_text() == str(api["damage"]["pending_claims"]) == "1"
    assert page.locator("#phase").get_attribute("data-phase") == str(api["strengthening"]["phase"]) == "3"
    assert page.locator("#visits").inner_text() == str(api["coordination"]["visits"])
    now = parse_utc(api["provenance"]["now"])
    points = page.locator("#attention li")
    assert points.count() == len(api["attention"]) >= 2
    for i, point in enumerate(api["attention"]):
        item = points.nth(i)
        assert item.get_attribute("data-code") == point["code"]
        assert item.locator(".age").get_attribute("data-days") == str((now - parse_utc(point["since"])).days)
    codes = {p["code"] for p in api["attention"]}
    assert {"no_coordinator", "claim_over_term"} <= codes
    english = visit(PAGES["case"] + "&lang=en").page
    assert english.locator("#awarded").inner_text() == "€2,386.00"
    assert english.locator("html").get_attribute("lang") == "en"
    link = page.locator("#history-link").get_attribute("href")
    assert link == f"/adres/0014200000000501/geschiedenis?at={AT}"


def test_case_page_cut_off_controls(visit: Callable[..., Visit], site: Site) -> None:
    page = visit("/adres/0014200000000501").page
    page.fill("#at", "2021-03-05")
    with page.expect_navigation():
        page.click(".cutoffs button[type=submit]")
    assert "at=2021-03-05" in page.url
    api = site.json("/cases/0014200000000501?at=2021-03-05")
    assert api["damage"]["awarded_cents"] == 0
    assert page.locator("#awarded").inner_text() == euros(0)
    assert page.locator("#pending").inner_text() == "1"


def test_history_page_is_the_replay_report(visit: Callable[..., Visit], site: Site) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger",
            "replay",
            "0014200000000501",
            "--at",
            AT,
            "--known-at",
            AT,
            "--format",
            "html",
        ],
        cwd=REPO,
        env={**os.environ, "LEDGER_HOME": str(site.home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = visit(PAGES["history"])
    served = seen.page.evaluate("async () => (await fetch(location.href)).text()")
    assert _without_now(served) == _without_now(done.stdout)
    assert seen.page.locator("svg.axis circle").count() == len(_report(site)["timeline"])
    report = _report(site)
    assert seen.page.locator("article.card").count() == len(report["timeline"])
    assert seen.page.locator("li.finding").count() == len(report["findings"]) >= 1


def _report(site: Site) -> dict[str, object]:
    return site.json(f"/cases/0014200000000501/history?at={AT}&known_at={AT}")  # type: ignore[no-any-return]


def _without_now(html: str) -> str:
    """The page without the moment it was made (`generated`, `now`: the only difference between two runs)."""
    today = datetime.now(UTC).date().isoformat()
    return re.sub(today + r"T[0-9:.]+Z", "NOW", html).strip()


def test_dashboard_numbers_equal_the_api(visit: Callable[..., Visit], site: Site) -> None:
    metrics = site.json("/metrics?at=" + AT)
    evaluation = site.json("/evaluation?at=" + AT)
    page = visit(PAGES["dashboard"]).page
    cells = page.locator("td[data-path]")
    figures = {**metrics, **evaluation}
    checked = 0
    for i in range(cells.count()):
        cell = cells.nth(i)
        path = (cell.get_attribute("data-path") or "").split(".")
        value: object = figures
        for key in path:
            value = value[key]  # type: ignore[index]
        text = cell.inner_text()
        if value is None:
            assert text == "–"
        elif path[-1].startswith("share") or "rate" in path[-2]:
            assert text == share(float(value))  # type: ignore[arg-type]
        else:
            assert text == number(value)  # type: ignore[arg-type]
        checked += 1
    leaves = sum(1 for _ in _leaves({k: v for k, v in figures.items() if k != "provenance"}))
    assert checked == leaves > 50
    assert page.locator("#G1 td").inner_text() == str(metrics["G1"]["programme_addresses"]) == "1"
    drawn = page.evaluate("Array.from(document.querySelectorAll('canvas[data-chart]')).filter(c => c.width > 0).length")
    assert drawn == page.locator("canvas[data-chart]").count() >= 8


def test_over_time_page_equals_the_series_api(visit: Callable[..., Visit], site: Site) -> None:
    series = site.json("/metrics/series?from=2020-01-01&to=2024-12-31&step=year&ids=G3,G4,G7")
    assert [p["at"][:10] for p in series["points"]] == [
        "2020-12-31",
        "2021-12-31",
        "2022-12-31",
        "2023-12-31",
        "2024-12-31",
    ]
    page = visit(PAGES["over-time"]).page
    cells = page.locator("td[data-path]")
    checked = 0
    for i in range(cells.count()):
        cell = cells.nth(i)
        value: object = series["points"]
        for key in (cell.get_attribute("data-path") or "").split("."):
            value = value[int(key)] if isinstance(value, list) else value[key]  # type: ignore[index]
        assert cell.inner_text() == ("–" if value is None else number(value))  # type: ignore[arg-type]
        checked += 1
    per_point = sum(len(_leaves(series["points"][0][axis])) for axis in ("known_then", "known_now"))
    assert checked == per_point * len(series["points"]) > 0
    assert page.locator("#G4 tbody tr").count() == len(series["points"])
    drawn = page.evaluate("Array.from(document.querySelectorAll('canvas[data-chart]')).filter(c => c.width > 0).length")
    assert drawn == 3
    refused = visit("/dashboard/verloop?from=2024-01-01&to=2020-01-01").page
    assert "from" in refused.locator("main").inner_text()


def _leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for child in node.values() for leaf in _leaves(child)]
    return [node]


def test_worklist_page_equals_the_api(visit: Callable[..., Visit], site: Site) -> None:
    api = site.json("/worklist")
    page = visit("/werklijst").page
    assert page.locator("#total").get_attribute("data-total") == str(api["total"])
    rows = page.locator("#worklist tbody tr")
    assert [(r.get_attribute("data-subject"), r.get_attribute("data-code")) for r in rows.all()] == [
        (i["subject"], i["code"]) for i in api["items"]
    ]
    assert api["total"] >= 2
    page.select_option("#code", "claim_over_term")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    only = site.json("/worklist?code=claim_over_term")
    assert [r.get_attribute("data-code") for r in page.locator("#worklist tbody tr").all()] == [
        "claim_over_term"
    ] * only["total"]
    first = visit("/werklijst?page_size=1").page
    assert first.locator("#worklist tbody tr").count() == 1
    with first.expect_navigation():
        first.click("a[rel=next]")
    second = site.json("/worklist?page_size=1&page=2")["items"][0]
    assert first.locator("#worklist tbody tr").get_attribute("data-subject") == second["subject"]
    bad = visit("/werklijst?min_age_days=-1").page.locator("#problem")
    assert bad.get_attribute("data-status") == "422" and bad.get_attribute("data-parameter") == "min_age_days"


def test_status_page(visit: Callable[..., Visit], site: Site) -> None:
    health = site.json("/healthz")
    page = visit("/status").page
    assert page.locator("#head").get_attribute("data-value") == str(health["store_position"])
    assert page.locator("#projection-position").get_attribute("data-value") == str(health["position"])
    assert page.locator("#behind").get_attribute("data-value") == str(health["behind"])
    assert "Niet geconfigureerd" in page.locator("#kafka").inner_text()


def test_bad_input_is_a_page_naming_the_parameter(visit: Callable[..., Visit], site: Site) -> None:
    for path, parameter, status in (
        ("/adres/0014200000000501?at=2021-02-30", "at", 422),
        ("/adres/0014200000000501?color=red", "color", 422),
        ("/adres/12", "subject", 422),
        ("/?postcode=0712AB&huisnummer=1", "postcode", 422),
        ("/?postcode=9712AB&huisnummer=x", "huisnummer", 422),
        ("/dashboard?pivot=tomorrow", "pivot", 422),
    ):
        page = visit(path).page
        problem = page.locator("#problem")
        assert problem.get_attribute("data-status") == str(status), path
        assert problem.get_attribute("data-parameter") == parameter, path
    missing = visit("/adres/0014200000000999").page
    assert missing.locator("#problem").get_attribute("data-status") == "404"
