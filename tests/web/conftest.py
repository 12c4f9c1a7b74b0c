"""The web app in Debian's Chromium (Playwright for Python pointed at /usr/bin/chromium; the
browsers Playwright would download are never installed): a real `ledger serve` on loopback over
a home with hand-built histories, every request the page makes recorded."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

from ledger.bootstrap import open_ledger
from tests.replay.story import Story
from tests.serving import ledger_serve, serve_env

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "ledger" / "web" / "assets" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "docs" / "screenshots"
WIDTHS = (1400, 400)
AT = "2024-06-30"  # the cut-off every page is looked at (so the pages do not change with the day)


def stories() -> list[Story]:
    """Three addresses: two at one postcode and number (letters a and b), one with a long history."""
    main = Story(501)
    main.add("AddressRegistered", "2021-01-04", huisletter="a")
    main.add("AddressAddedToProgramme", "2021-02-15", recorded="2021-04-20")  # registered late
    main.add("DamageClaimFiled", "2021-03-01T09:00", claim_id="C-1")
    main.add("ClaimReceiptConfirmed", "2021-03-02", claim_id="C-1", decision_term_days=56)
    main.add("IntegratedApproachRequested", "2021-03-10")
    main.add("StructuralInspectionCompleted", "2021-04-20", visit_id="V-2", joint_with_img=False)
    main.add("ClaimDecided", "2021-07-01", claim_ids=["C-1"], decision_id="D-1", amount_cents=238600)
    main.add("DamageClaimFiled", "2022-09-01T09:00", claim_id="C-2")
    main.add("ClaimReceiptConfirmed", "2022-09-02", claim_id="C-2", decision_term_days=56)
    neighbour = Story(502)
    neighbour.add("AddressRegistered", "2021-01-05", huisletter="b")
    neighbour.add("DamageClaimFiled", "2021-05-01T09:00", claim_id="C-3")
    return [main, neighbour]


@dataclass
class Site:
    base: str
    home: Path
    subjects: list[str]

    def json(self, path: str) -> Any:
        """The API's answer (JSON) to `path`."""
        response = httpx.get(self.base + path, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`ledger serve` over a home holding `stories()`."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/install.sh (npm assets of ledger/web/assets)")
    home = tmp_path_factory.mktemp("web") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGER_HOME", str(home))
        mp.delenv("LEDGER_STORE", raising=False)
        mp.delenv("LEDGER_KAFKA", raising=False)
        mp.delenv("LEDGER_ISSUER_JWKS", raising=False)
        led = open_ledger()
        try:
            made = stories()
            for story in made:
                story.store(led)
        finally:
            led.close()
    with ledger_serve(serve_env(home)) as base:
        yield Site(base, home, [s.subject for s in made])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; per module, since Playwright's sync API keeps an event loop
    running in this thread while it is started (other modules' tests run their own loops)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is missing: deploy/install-test-deps.sh installs Debian's package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@dataclass
class Visit:
    page: Page
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def visit(browser: Browser, site: Site) -> Iterator[Callable[..., Visit]]:
    """Open a path of the site at a width; every request the page makes is recorded."""
    contexts: list[Any] = []

    def open_(path: str, width: int = 1400) -> Visit:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page)

        def record(request: Request) -> None:
            seen.requests.append(request.url)

        page.on("request", record)
        response = page.goto(site.base + path, wait_until="load")
        assert response is not None
        page.wait_for_load_state("networkidle")
        return seen

    yield open_
    for context in contexts:
        context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations of the page (axe injected from the npm copy)."""
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return list(result)
