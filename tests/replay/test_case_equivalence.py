"""The replay's view at the cut-offs is exactly what `ledger case` gives for them, and the
replay is served by the ledger's own HTTP app (`ledger serve`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

from ledger.bootstrap import Ledger
from ledger.http import create_app
from tests.replay.conftest import Cli
from tests.replay.story import Story

Put = Callable[[Story], str]


def _story() -> Story:
    s = Story(81)
    s.add("AddressRegistered", "2021-01-04")
    s.add("AddressAddedToProgramme", "2021-02-15", recorded="2021-04-20")
    s.add("DamageClaimFiled", "2021-03-01T09:00")
    s.add("ClaimReceiptConfirmed", "2021-03-02", decision_term_days=56)
    s.add("IntegratedApproachRequested", "2021-03-10", recorded="2021-04-20")
    s.add("AcuteUnsafeSituationReported", "2021-04-21T08:00")
    s.add("ClaimDeferred", "2021-04-22", reason="awaiting_strengthening")
    s.term_corrected_then_decided("2021-05-04", 3)
    return s


@pytest.mark.parametrize(
    "cutoffs",
    [
        (),
        ("--at", "2021-03-20"),
        ("--known-at", "2021-04-30"),
        ("--at", "2021-04-22T12:00:00Z", "--known-at", "2021-05-03"),
        ("--at", "2021-06-01", "--known-at", "2021-06-01"),
    ],
)
def test_view_equals_ledger_case(cli: Cli, stored: Put, cutoffs: tuple[str, ...]) -> None:
    subject = stored(_story())
    case = cli("case", subject, "--json", *cutoffs)
    assert case.code == 0, case.err
    expected = case.json()
    expected.pop("provenance")
    replayed = cli("replay", subject, "--format", "json", *cutoffs).json()
    assert replayed["view"] == expected


def test_history_is_served_by_the_ledger_app(ledger: Ledger, stored: Put) -> None:
    subject = stored(_story())
    with TestClient(create_app(ledger)) as client:
        history = client.get(f"/cases/{subject}/history", params={"at": "2021-05-01"})
        case = client.get(f"/cases/{subject}", params={"at": "2021-05-01"})
        missing = client.get("/cases/0014200000000999/history")
    assert history.status_code == 200 and case.status_code == 200
    view = case.json()
    view.pop("provenance")
    assert history.json()["view"] == view
    assert missing.status_code == 404
