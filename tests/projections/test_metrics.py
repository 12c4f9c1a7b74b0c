"""Governance metrics G1–G15 (contract §2) over `scenarios.governance_ledger`, worked out by hand.

The ledger (all times UTC, midnight unless noted):
- A1 programme 2019; local plan, structural inspection, assessment → phase 4; no claim.
- A2 programme 2020-01-01; claim 2020-06-01 rejected 2021-06-01 (365 days); a correction.
- A3 programme 2019; meets norm, closed 2020-01-01 (phase 6); claim 2022-01-01 still open
  (samenloop); offered, agreed, coordinator 2022-03-11 (69 days after samenloop began); a joint visit.
- A4 no programme; claims 2019-01-01 and 2019-03-01 settled by one decision 2019-07-01 (181
  days from the earliest), objected 2019-08-01; claim 2021-01-01 deferred (applicant).
- A5 no programme; claim 2021-01-01 deferred awaiting strengthening 2021-03-01; claim
  2021-02-01 partly granted 2021-12-01 (303 days); AOS within 36 h, after 72 h, one open.
- A6 programme 2018; built and closed 2020-02-01; completion recorded 91 days late.
"""

from __future__ import annotations

from projections.figures import metrics
from tests.projections.builder import Address, ts
from tests.projections.scenarios import aggregate, governance_ledger

NOW = ts("2024-01-01")


def figures(at: str | None = None, known_at: str | None = None, now: str = NOW) -> dict:
    return metrics(aggregate(governance_ledger(), at, known_at), at or now)


def test_programme_figures_g1_to_g5() -> None:
    g = figures()
    assert g["G1"] == {"programme_addresses": 4}  # A1, A2, A3, A6
    assert g["G2"] == {"programme_without_claim": {"count": 2, "share": 0.5}}  # A1, A6
    assert g["G3"] == {"samenloop_addresses": 1}  # A3
    assert g["G4"] == {"phase_distribution": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0, "6": 2}}
    assert g["G5"] == {
        "op_norm": {
            "count": 2,
            "share": 0.5,
            "by_reason": {
                "built": {"count": 1, "share": 0.25},
                "meets_norm": {"count": 1, "share": 0.25},
                "other": {"count": 0, "share": 0.0},
            },
        }
    }


def test_claim_figures_g6_to_g11() -> None:
    g = figures()
    assert g["G6"] == {
        "claims_filed_by_year": {"2019": 2, "2020": 1, "2021": 3, "2022": 1},
        "claims_decided_by_year": {"2019": 2, "2021": 2},  # A4's decision settles two claims
    }
    # pending: A3 C-1 (filed 2022-01-01, exactly 730 days before now: not more), A4 C-3 and
    # A5 C-1 (2021-01-01, deferred counts as pending)
    assert g["G7"] == {"pending_claims": 3, "pending_claims_over_730d": 2}
    # decisions: 181 (A4), 365 (A2), 303 (A5) days → median 303; one within 182 days
    assert g["G8"] == {"realised_lead_time": {"decisions": 3, "median_days": 303.0, "share_within_182d": 1 / 3}}
    assert g["G9"] == {"rejection_rate_by_year": {"2019": 0.0, "2021": 0.5}}
    assert g["G10"] == {"objection_rate_by_year": {"2019": 1.0, "2021": 0.0}}
    # A5 C-1 deferred since 2021-03-01: 306 days of 2021 + 365 + 365
    assert g["G11"] == {"deferred_awaiting_strengthening": {"count": 1, "median_days": 1036.0}}


def test_coordination_figures_g12_to_g15() -> None:
    g = figures()
    assert g["G12"] == {
        "integrated_approach_funnel": {
            "samenloop_ever": 2,  # A2 (2020-06-01 to 2021-06-01) and A3
            "offered": 1,
            "agreed": 1,
            "coordinator_assigned": 1,
            "median_days_samenloop_to_coordinator": 69.0,  # 31 + 28 + 10
            "addresses_measured": 1,
        }
    }
    assert g["G13"] == {"joint_visit_share": {"count": 1, "total": 2, "share": 0.5}}
    assert g["G14"] == {"aos_within_48h": {"count": 1, "total": 2, "share": 0.5}}
    # NCG: A1 4 + A2 1 + A3 3 + A6 6 = 14 events, one late (A6's completion, 91 days);
    # IMG: A2 3 (with the correction) + A3 5 + A4 6 + A5 9 = 23, none late
    assert g["G15"] == {
        "late_registration_share": {
            "IMG": {"count": 0, "total": 23, "share": 0.0},
            "NCG": {"count": 1, "total": 14, "share": 1 / 14},
        }
    }


def test_at_cutoff() -> None:
    """What had happened by 1 Jan 2021 ("now" is the cut-off)."""
    g = figures(at=ts("2021-01-01"))
    assert g["G1"] == {"programme_addresses": 4}
    # A3's claim (2022) had not been filed: A1, A3, A6 without a claim
    assert g["G2"] == {"programme_without_claim": {"count": 3, "share": 0.75}}
    assert g["G3"] == {"samenloop_addresses": 1}  # A2
    # pending on 2021-01-01: A2 C-1, A4 C-3, A5 C-1 (filed at the cut-off itself); none 730 days
    assert g["G7"] == {"pending_claims": 3, "pending_claims_over_730d": 0}
    assert g["G8"]["realised_lead_time"] == {"decisions": 1, "median_days": 181.0, "share_within_182d": 1.0}
    assert g["G11"] == {"deferred_awaiting_strengthening": {"count": 0, "median_days": None}}
    # the correction (time 2020-08-15) is within; A2's decision and A3's later events are not
    # IMG events by then: A2 2, A4 5, A5 1
    assert g["G15"]["late_registration_share"]["IMG"]["total"] == 2 + 5 + 1


def test_known_at_cutoff() -> None:
    """What the ledger showed on 15 Feb 2020: A6's completion and closure were not yet recorded."""
    g = figures(known_at=ts("2020-02-15"))
    assert g["G4"]["phase_distribution"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1, "6": 1}
    assert g["G5"]["op_norm"]["count"] == 1 and g["G5"]["op_norm"]["by_reason"]["built"]["count"] == 0
    assert g["G15"]["late_registration_share"]["NCG"] == {"count": 0, "total": 12, "share": 0.0}


def test_empty_ledger_gives_nulls_not_zeros() -> None:
    g = metrics(aggregate([]), NOW)
    assert g["G2"] == {"programme_without_claim": {"count": 0, "share": None}}
    assert g["G8"] == {"realised_lead_time": {"decisions": 0, "median_days": None, "share_within_182d": None}}
    assert g["G12"]["integrated_approach_funnel"]["median_days_samenloop_to_coordinator"] is None
    assert g["G15"] == {"late_registration_share": {}}


def test_last_2500_decisions_only() -> None:
    """G8 takes the latest 2,500 decisions by time: older ones drop out of the median."""
    addresses = []
    slow = Address(1000)  # the oldest decision, and the slowest: 365 + 31 + 4 = 400 days
    slow.emit("DamageClaimFiled", "2019-01-01", claim_id="C-1")
    slow.emit("ClaimDecided", "2020-02-05", decision_id="D-1", claim_ids=["C-1"])
    addresses.append(slow)
    for n in range(1, 2501):  # 2,500 later decisions of 10 days each
        a = Address(1000 + n)
        a.emit("DamageClaimFiled", "2020-03-01", claim_id="C-1")
        a.emit("ClaimDecided", "2020-03-11", decision_id="D-1", claim_ids=["C-1"])
        addresses.append(a)
    g = metrics(aggregate(addresses), NOW)
    assert g["G8"] == {"realised_lead_time": {"decisions": 2500, "median_days": 10.0, "share_within_182d": 1.0}}
    g = metrics(aggregate(addresses[:2500]), NOW)  # 2,500 decisions: the slow one counts
    assert g["G8"]["realised_lead_time"]["decisions"] == 2500
    assert g["G8"]["realised_lead_time"]["share_within_182d"] == 2499 / 2500


def test_aggregate_add_and_take_out() -> None:
    """Taking an address's summary out and adding its new one equals building from scratch."""
    from tests.projections.scenarios import summary

    ledger = governance_ledger()
    agg = aggregate(ledger)
    a5 = ledger[4]
    old = summary(a5.events, a5.subject, None, None)
    a5.emit("ClaimResumed", "2022-01-01", claim_id="C-1")
    agg.add(a5.subject, old, -1)
    agg.add(a5.subject, summary(a5.events, a5.subject, None, None))
    assert metrics(agg, NOW) == metrics(aggregate(ledger), NOW)
    assert agg.counts == aggregate(ledger).counts
