"""Events of one moment take effect together (projections §0 "Moments", contract 1.1).

Each history puts samenloop-changing events at one `time`, in one stream order or the other,
through the real store. The case view (`ledger case`), the figures (`ledger metrics`: G3 now
and at cut-offs, G12 "ever in samenloop", G13; `ledger evaluation`: E1, E2, E6) and the replay
(`ledger replay`: its view, and the episodes its findings are measured on) must all give the
contract's answer: a samenloop that would start and stop at one moment never held, one that
would stop and start again at one moment never stopped. The replay's consent periods follow
the same moments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.bootstrap import Ledger
from ledger.ports import replay_store
from replay.history import build_history
from replay.intervals import Period, consent_periods, samenloop_episodes
from replay.source import read_address
from tests.projections.builder import ts
from tests.replay.conftest import Cli
from tests.replay.story import Story

Put = Callable[[Story], str]
T0, T1, T2, T3 = "2022-01-03T09:00", "2022-02-01T10:00", "2022-06-01T10:00", "2022-09-01T10:00"
Episodes = list[tuple[str, str | None]]


@dataclass(frozen=True)
class Case:
    """A history (`build` adds its events to a story) and the samenloop it must show."""

    build: Callable[[Story], None]
    episodes: Episodes  # every episode, (start, end or None)
    e1_samenloop: int = 0  # decided claims in E1's `samenloop` group (all years)
    e1_other: int = 0


def _filed(s: Story, claim: str, time: str) -> None:
    s.add("DamageClaimFiled", time, claim_id=claim)


def _decided(s: Story, claims: list[str], time: str) -> None:
    s.add("ClaimDecided", time, claim_ids=claims, decision_id=f"D-{claims[0]}")


def added_then_decided(s: Story) -> None:  # the history
    _filed(s, "C-1", T0)
    s.add("AddressAddedToProgramme", T1)
    _decided(s, ["C-1"], T1)


def decided_then_added(s: Story) -> None:  # the same pair in the other stream order
    _filed(s, "C-1", T0)
    _decided(s, ["C-1"], T1)
    s.add("AddressAddedToProgramme", T1)


def added_and_removed(s: Story) -> None:
    _filed(s, "C-1", T0)
    s.add("AddressAddedToProgramme", T1)
    s.add("AddressRemovedFromProgramme", T1)


def filed_and_withdrawn_at_entry(s: Story) -> None:
    s.add("AddressAddedToProgramme", T1)
    _filed(s, "C-1", T1)
    s.add("ClaimWithdrawn", T1, claim_id="C-1")


def entry_between_filing_and_withdrawal(s: Story) -> None:
    _filed(s, "C-1", T1)
    s.add("AddressAddedToProgramme", T1)
    s.add("ClaimWithdrawn", T1, claim_id="C-1")


def removed_and_added_again(s: Story) -> None:  # one episode, never interrupted
    _filed(s, "C-1", T0)
    s.add("AddressAddedToProgramme", T1)
    s.add("AddressRemovedFromProgramme", T2)
    s.add("AddressAddedToProgramme", T2)


def decided_and_filed_again(s: Story) -> None:  # a claim decided as the next one is filed
    s.add("AddressAddedToProgramme", T0)
    _filed(s, "C-1", T1)
    _decided(s, ["C-1"], T2)
    _filed(s, "C-2", T2)


def removed_then_decided(s: Story) -> None:  # in samenloop until the decision
    s.add("AddressAddedToProgramme", T0)
    _filed(s, "C-1", T1)
    s.add("AddressRemovedFromProgramme", T2)
    _decided(s, ["C-1"], T2)


def decided_then_removed(s: Story) -> None:
    s.add("AddressAddedToProgramme", T0)
    _filed(s, "C-1", T1)
    _decided(s, ["C-1"], T2)
    s.add("AddressRemovedFromProgramme", T2)


CASES = {
    "added_then_decided": Case(added_then_decided, [], e1_other=1),
    "decided_then_added": Case(decided_then_added, [], e1_other=1),
    "added_and_removed": Case(added_and_removed, []),
    "filed_and_withdrawn_at_entry": Case(filed_and_withdrawn_at_entry, []),
    "entry_between_filing_and_withdrawal": Case(entry_between_filing_and_withdrawal, []),
    "removed_and_added_again": Case(removed_and_added_again, [(T1, None)]),
    "decided_and_filed_again": Case(decided_and_filed_again, [(T1, None)], e1_samenloop=1),
    "removed_then_decided": Case(removed_then_decided, [(T1, T2)], e1_samenloop=1),
    "decided_then_removed": Case(decided_then_removed, [(T1, T2)], e1_samenloop=1),
}


def _json(cli: Cli, *args: str) -> Any:
    run = cli(*args)
    assert run.code == 0, run.err
    return run.json()


def _episodes(items: list[dict[str, Any]]) -> Episodes:
    return [(e["start"], e["end"]) for e in items]


def _at(episodes: Episodes, moment: str) -> bool:
    """In samenloop at `moment` by the expected episodes (half-open: [start, end))."""
    return any(start <= moment and (end is None or moment < end) for start, end in episodes)


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_samenloop_at_every_moment(cli: Cli, ledger: Ledger, stored: Put, name: str) -> None:
    case = CASES[name]
    story = Story(700)
    case.build(story)
    subject = stored(story)
    expected = [(ts(start), ts(end) if end else None) for start, end in case.episodes]
    ever = int(bool(expected))

    # the case view, now and at each moment of the history
    for at in (None, T0, T1, T2, T3):
        cutoff = () if at is None else ("--at", ts(at))
        moment = ts(at) if at else ts(T3)
        shown = [(s, e) for s, e in expected if at is None or s <= moment]
        shown = [(s, e if e is None or at is None or e <= moment else None) for s, e in shown]
        view = _json(cli, "case", subject, "--json", *cutoff)["coordination"]
        assert _episodes(view["samenloop_episodes"]) == shown, (name, at)
        assert view["samenloop"] is _at(expected, moment), (name, at)
        running = [s for s, e in shown if e is None]
        assert view["samenloop_since"] == (running[0] if running else None), (name, at)
        # G3 (in samenloop at the cut-off), G12 and G13 (ever in samenloop, by then)
        g = _json(cli, "metrics", "--json", *cutoff)
        assert g["G3"]["samenloop_addresses"] == int(_at(expected, moment)), (name, at)
        assert g["G12"]["integrated_approach_funnel"]["samenloop_ever"] == int(bool(shown)), (name, at)
        assert g["G13"]["joint_visit_share"]["total"] == int(bool(shown)), (name, at)

    # E1 (decided in samenloop or not), E2 (addresses ever in samenloop), E6 (samenloop addresses)
    e = _json(cli, "evaluation", "--json")
    e1 = e["E1"]["claim_lead_time"]
    assert sum(f["claims"] for f in e1["samenloop"].values()) == case.e1_samenloop, name
    assert sum(f["claims"] for f in e1["other"].values()) == case.e1_other, name
    e2 = e["E2"]["visits_per_address"]
    assert e2["agreed"]["addresses"] + e2["not_agreed"]["addresses"] == ever, name
    e6 = e["E6"]["referrals_and_complaints"]  # pivot 2023-07-01: after every moment of the history
    assert e6["before"]["samenloop_addresses"] == ever, name
    assert e6["after"]["samenloop_addresses"] == int(any(end is None for _, end in expected)), name

    # the replay: its view, and the episodes its findings are measured on
    report = _json(cli, "replay", subject, "--format", "json")
    assert _episodes(report["view"]["coordination"]["samenloop_episodes"]) == expected, name
    read = read_address(replay_store(ledger), subject)
    history = build_history(subject, read.events, None, None)
    assert [(p.start, p.end) for p in samenloop_episodes(history.effective)] == expected, name
    if not expected:
        assert not [f for f in report["findings"] if f["code"] == "samenloop_without_offer_30d"], name


def test_consent_given_and_revoked_at_one_moment_never_held() -> None:
    def consent(n: int, name: str, time: str, **data: Any) -> dict[str, Any]:
        body = {"party_ref": "bewoner-1", **data}
        return {"type": f"nl.groningen.resident.{name}.v1", "time": ts(time), "streamposition": n, "data": body}

    given, revoked = "ConsentToDataExchangeGiven", "ConsentToDataExchangeRevoked"
    assert consent_periods([consent(1, given, T1, scope="both"), consent(2, revoked, T1)], "img_to_ncg") == []
    renewed = [consent(1, given, T0, scope="both"), consent(2, revoked, T1), consent(3, given, T1, scope="both")]
    assert consent_periods(renewed, "img_to_ncg") == [Period(ts(T0), None)]
