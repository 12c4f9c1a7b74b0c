"""The HTML report in headless Chromium (Debian's package): self-contained, shows the events
in their lanes and the findings, and prints.

Chromium is installed by deploy/install-test-deps.sh when it is missing; without it the
test fails (it never skips).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.replay.conftest import Cli
from tests.replay.story import Story

REPO = Path(__file__).resolve().parents[2]
Put = Callable[[Story], str]


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        done = subprocess.run(
            ["bash", str(REPO / "deploy" / "install-test-deps.sh")], capture_output=True, text=True, timeout=900
        )
        found = shutil.which("chromium")
        if found is None:
            pytest.fail(f"chromium is missing and deploy/install-test-deps.sh could not install it:\n{done.stderr}")
    return found


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class Dom(HTMLParser):
    """Text per element id and the lane of every event card."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.cards: dict[str, int] = {}  # card id -> column (1 = IMG, 2 = shared, 3 = NCG)
        self.findings: list[str] = []
        self._column = 0
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "li" and "step" in classes:
            self._column = 0
        if tag == "div" and "lane" in classes:
            self._column += 1
        if tag == "article" and "card" in classes:
            self.cards[a["id"] or ""] = self._column
        if tag == "li" and "finding" in classes:
            self.findings.append(a["id"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _history() -> Story:
    s = Story(71)
    s.add("AddressRegistered", "2021-01-04")
    s.add("AddressAddedToProgramme", "2021-02-15", recorded="2021-04-20")  # late
    s.add("DamageClaimFiled", "2021-03-01T09:00")
    s.add("ClaimReceiptConfirmed", "2021-03-02", decision_term_days=56)
    s.add("IntegratedApproachRequested", "2021-03-10", recorded="2021-04-20")
    s.add("DamageInspectionCompleted", "2021-04-01", visit_id="V-1", joint_with_ncg=False, recorded="2021-04-20")
    s.add("StructuralInspectionCompleted", "2021-04-20", visit_id="V-2", joint_with_img=False)
    s.add("CaseReferred", "2021-04-21", org="IMG", from_org="IMG", to_org="NCG")
    s.add("CaseReferred", "2021-05-03", org="NCG", from_org="NCG", to_org="IMG", reason="wrong_organisation")
    s.term_corrected_then_decided("2021-05-04", 3, reason="termijn hersteld <b>")
    return s


def test_html_is_self_contained_and_shows_events_and_findings(
    cli: Cli, stored: Put, tmp_path: Path, chromium: str
) -> None:
    subject = stored(_history())
    report = cli("replay", subject, "--format", "json").json()
    page = tmp_path / "history.html"
    assert cli("replay", subject, "--format", "html", "--out", str(page)).code == 0
    html = page.read_text()
    # nothing to fetch: no scripts, no external styles, fonts, images or links
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|src=", html, re.IGNORECASE)
    assert not re.search(r"https?://|href=\"//", html)
    assert "termijn hersteld &lt;b&gt;" in html  # text is escaped

    dom_text = _run(chromium, "--dump-dom", page.as_uri()).stdout
    dom = Dom()
    dom.feed(dom_text)
    text = " ".join(" ".join(dom.text).split())
    # every event, in words, in its lane
    lanes = {"IMG": 1, "shared": 2, "NCG": 3}
    assert len(dom.cards) == len(report["timeline"]) == 11
    for entry in report["timeline"]:
        assert f"{entry['seq']}. {entry['dutch']} ({entry['english']})" in text
        assert dom.cards[f"event-{entry['seq']}"] == lanes[entry["lane"]], entry["name"]
    assert "registered 64.0 days late" in text  # AddressAddedToProgramme
    assert "CORRECTED by IMG" in text
    # every finding, listed and marked in the timeline
    assert len(dom.findings) == len(report["findings"]) >= 5
    for number, finding in enumerate(report["findings"], start=1):
        assert finding["title"] in text and finding["detail"] in text
        assert f"Finding {number} arises:" in text
    codes = {f["code"] for f in report["findings"]}
    assert {"separate_inspections", "referred_back_and_forth", "claim_over_term", "no_coordinator_30d"} <= codes
    assert "hash chain intact: 11 events" in text

    pdf = tmp_path / "history.pdf"
    _run(chromium, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", content)) >= 2

    shot = tmp_path / "history.png"
    _run(chromium, "--window-size=1280,1600", f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
