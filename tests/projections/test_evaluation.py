"""Evaluation figures E1–E6 (contract §3) over `scenarios.evaluation_ledger`, worked out by hand.

Pivot 1 Jan 2021, "now" 1 Jan 2022. The addresses (times UTC midnight):
- B1 programme 2020-01-01; request 02-01, agreed, coordinator 02-21 (20 days); claims 03-01 and
  04-01 decided 05-01 (61 days) and 07-01 (91 days) in samenloop; visits V-1 (structural and
  damage inspection together) and V-2 (joint); a referral 2020-03-15.
- B2 no programme; claim 2020-01-01 decided 02-10 (40 days); request 05-01, coordinator 07-10
  (70 days); a complaint 2020-09-01; claim 2021-01-01 deferred awaiting strengthening 01-10,
  decided 2021-03-02 (60 days; deferred 51 days).
- B3 claim 2021-01-01, programme 06-01 (samenloop), visit V-9, request 06-15 (no coordinator),
  referral 06-20, decided 07-01 in the programme (181 days).
- B4 programme 2019; claim 2020-01-01; removed 2020-06-01; decided 2020-08-01 outside (213 days).
- B5 no programme; claim 2021-01-01; request and referral 02-01, coordinator 02-11 (10 days);
  deferred awaiting strengthening 03-01 to 04-01 (31 days) and again from 05-01 (245 days by now).
- B6, B7, B8 outreach 2021-01-01: a claim after 59 days, after 120 days, none; a complaint at B6.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.timeutil import format_utc
from projections.figures import OPEN_END, Aggregate, evaluation
from projections.query import DEFAULT_PIVOT
from projections.stats import median_sorted
from tests.projections.builder import ts
from tests.projections.scenarios import aggregate, evaluation_ledger

NOW = ts("2022-01-01")
PIVOT = ts("2021-01-01")


def figures(pivot: str = PIVOT, now: str = NOW, **cutoffs: Any) -> dict[str, Any]:
    return evaluation(aggregate(evaluation_ledger(), **cutoffs), now, pivot)


def test_e1_lead_time_in_and_outside_samenloop() -> None:
    e = figures()
    assert e["E1"] == {
        "claim_lead_time": {
            # 2020: 61 and 91 → median 76, p90 = (61 + 9 × 91) / 10; 2021: B3 alone
            "samenloop": {
                "2020": {"claims": 2, "median_days": 76.0, "p90_days": 88.0},
                "2021": {"claims": 1, "median_days": 181.0, "p90_days": 181.0},
            },
            # 2020: 40 and 213 → median 126.5, p90 = (40 + 9 × 213) / 10; 2021: B2's 60 days
            "other": {
                "2020": {"claims": 2, "median_days": 126.5, "p90_days": 195.7},
                "2021": {"claims": 1, "median_days": 60.0, "p90_days": 60.0},
            },
        }
    }


def test_e2_visits_per_address() -> None:
    # ever in samenloop: B1 (agreed, 2 visits), B3 (1 visit), B4 (none)
    assert figures()["E2"] == {
        "visits_per_address": {
            "agreed": {"addresses": 1, "visits": 2, "mean": 2.0, "median": 2},
            "not_agreed": {"addresses": 2, "visits": 1, "mean": 0.5, "median": 0.5},
        }
    }


def test_e3_request_to_coordinator() -> None:
    assert figures()["E3"] == {
        "request_to_coordinator": {
            # B1 20 days, B2 70 days: p90 = (20 + 9 × 70) / 10
            "before": {"requests": 2, "assigned": 2, "median_days": 45.0, "p90_days": 65.0, "share_within_30d": 0.5},
            # B5 10 days; B3 still waiting
            "after": {"requests": 2, "assigned": 1, "median_days": 10.0, "p90_days": 10.0, "share_within_30d": 1.0},
        }
    }


def test_e4_deferred_awaiting_strengthening() -> None:
    # deferrals of 51 (B2), 31 and 245 (B5, open until now) days
    assert figures()["E4"] == {"deferred_awaiting_strengthening": {"claims": 2, "deferrals": 3, "median_days": 51.0}}
    # at 2021-06-01 B5's open deferral has lasted 31 days: [51, 31, 31]
    e = figures(now=ts("2021-06-01"), at=ts("2021-06-01"))
    assert e["E4"] == {"deferred_awaiting_strengthening": {"claims": 2, "deferrals": 3, "median_days": 31.0}}


def test_e5_outreach_conversion() -> None:
    assert figures()["E5"] == {"outreach_conversion": {"count": 1, "total": 3, "share": 1 / 3}}


def test_e6_referrals_and_complaints() -> None:
    assert figures()["E6"] == {
        "referrals_and_complaints": {
            # before: B1's referral; samenloop at B1 and B4; events at B1, B2, B4; B2's complaint
            "before": {
                "referrals": 1,
                "samenloop_addresses": 2,
                "referrals_per_100": 50.0,
                "complaints": 1,
                "addresses_with_events": 3,
                "complaints_per_1000": 1000 / 3,
            },
            # after: referrals at B3 and B5; samenloop at B3; events at B2, B3, B5-B8; B6's complaint
            "after": {
                "referrals": 2,
                "samenloop_addresses": 1,
                "referrals_per_100": 200.0,
                "complaints": 1,
                "addresses_with_events": 6,
                "complaints_per_1000": 1000 / 6,
            },
        }
    }


def test_pivot_moves_the_split() -> None:
    e = figures(pivot=ts("2020-04-01"))
    before = e["E3"]["request_to_coordinator"]["before"]
    assert before == {"requests": 1, "assigned": 1, "median_days": 20.0, "p90_days": 20.0, "share_within_30d": 1.0}
    e6 = e["E6"]["referrals_and_complaints"]
    assert e6["before"]["referrals"] == 1 and e6["after"]["referrals"] == 2
    assert e6["before"]["samenloop_addresses"] == 2  # B1 (from 2020-03-01), B4 (from 2020-01-01)
    assert e6["after"]["samenloop_addresses"] == 3  # B1 until 07-01, B4 until 06-01, B3


def test_empty_periods_are_null() -> None:
    e = figures(pivot=ts("2030-01-01"))
    after = e["E6"]["referrals_and_complaints"]["after"]
    assert after["referrals_per_100"] is None and after["complaints_per_1000"] is None
    assert e["E3"]["request_to_coordinator"]["after"]["median_days"] is None


@given(
    st.lists(st.tuples(st.integers(0, 10**12), st.integers(0, 10**12)), max_size=30),
    st.lists(st.integers(0, 2 * 10**12), max_size=30),
    st.integers(0, 2 * 10**12),
)
def test_e4_median_equals_sorting_every_length_at_now(
    finished: list[tuple[int, int]], running: list[int], now_offset: int
) -> None:
    """E4 without building a list per request equals the straightforward sort of every length."""
    base = datetime(2018, 1, 1, tzinfo=UTC)
    at = [base + timedelta(microseconds=m) for m in running]
    agg = Aggregate()
    bag = agg.bags.setdefault("e4", Counter())
    for start, length in finished:
        first = base + timedelta(microseconds=start)
        bag[(format_utc(first), format_utc(first + timedelta(microseconds=length)))] += 1
    for start_at in at:
        bag[(format_utc(start_at), OPEN_END)] += 1
    now = base + timedelta(microseconds=now_offset)
    lengths = sorted(
        [length / 1_000_000 / 86400 for _, length in finished] + [(now - s).total_seconds() / 86400 for s in at]
    )
    e4 = evaluation(agg, format_utc(now), DEFAULT_PIVOT)["E4"]["deferred_awaiting_strengthening"]
    assert e4["deferrals"] == len(lengths)
    assert e4["median_days"] == median_sorted(lengths)
