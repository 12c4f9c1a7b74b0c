"""Calibration: compute the public reference figures from a generated history.

A small, self-contained fold over the JSON Lines (valid-time cut-offs only; corrections and
retractions are ignored because they never touch a calibrated field). Run:

    python -m ledger.generator.calibrate --addresses 220000 --seed 1
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson

from domain.catalogue import event_name
from domain.history import PHASE_OF
from domain.timeutil import days_between

FULL = 220_000


def end_of(day: str) -> str:
    return f"{day}T23:59:59.999999Z"


class Fold:
    """Collects what the figures need, one event at a time."""

    def __init__(self) -> None:
        self.types: Counter[str] = Counter()
        self.added: dict[str, list[tuple[str, bool]]] = defaultdict(list)  # subject -> (time, added?)
        self.phase: dict[str, dict[int, str]] = defaultdict(dict)  # subject -> phase -> first time
        self.closed: dict[str, tuple[str, str]] = {}
        self.first_claim: dict[str, str] = {}
        self.claims: dict[tuple[str, str], list[Any]] = {}  # -> [filed, type, decided, withdrawn]
        self.decisions: list[tuple[str, str, int, float, str]] = []  # time, outcome, n, lead, id
        self.objected: set[str] = set()
        self.late: Counter[str] = Counter()
        self.by_org: Counter[str] = Counter()
        self.ombudsman: Counter[int] = Counter()
        self.aos: dict[tuple[str, str], str] = {}
        self.aos_fast = self.aos_done = 0
        self.deferred: dict[tuple[str, str], str] = {}
        self.offered: set[str] = set()
        self.agreed: set[str] = set()
        self.coordinated: set[str] = set()
        self.joint: set[str] = set()
        self.subjects: set[str] = set()

    def feed(self, e: dict[str, Any]) -> None:
        name = event_name(e["type"])
        t, s, data, org = e["time"], e["subject"], e["data"], e["org"]
        self.types[name] += 1
        self.subjects.add(s)
        self.by_org[org] += 1
        if days_between(t, e["recordedtime"]) > 30:
            self.late[org] += 1
        if name == "AddressAddedToProgramme":
            self.added[s].append((t, True))
        elif name == "AddressRemovedFromProgramme":
            self.added[s].append((t, False))
        elif name in PHASE_OF:
            self.phase[s].setdefault(PHASE_OF[name], t)
            if name == "TrajectoryClosed":
                self.closed[s] = (t, data["reason"])
        elif name == "DamageClaimFiled":
            self.claims[s, data["claim_id"]] = [t, data["claim_type"], None, None]
            if s not in self.first_claim or t < self.first_claim[s]:
                self.first_claim[s] = t
        elif name == "ClaimDecided":
            filed = []
            for cid in data["claim_ids"]:
                c = self.claims[s, cid]
                c[2] = t
                filed.append(c[0])
            self.decisions.append((t, data["outcome"], len(filed), days_between(min(filed), t), data["decision_id"]))
        elif name == "ClaimWithdrawn":
            self.claims[s, data["claim_id"]][3] = t
        elif name == "ObjectionFiled":
            self.objected.add(data["decision_id"])
        elif name == "ComplaintLodged" and data["forum"] == "ombudsman":
            self.ombudsman[int(t[:4])] += 1
        elif name == "AcuteUnsafeSituationReported":
            self.aos[s, data["aos_id"]] = t
        elif name == "AcuteUnsafeSituationResolved":
            self.aos_done += 1
            self.aos_fast += days_between(self.aos[s, data["aos_id"]], t) <= 2.0
        elif name == "ClaimDeferred" and data["reason"] == "awaiting_strengthening":
            self.deferred[s, data["claim_id"]] = t
        elif name == "IntegratedApproachOffered":
            self.offered.add(s)
        elif name == "IntegratedApproachAgreed":
            self.agreed.add(s)
        elif name == "CoordinatorAssigned":
            self.coordinated.add(s)
        elif name == "JointVisitHeld":
            self.joint.add(s)

    # -- figures -------------------------------------------------------------------------------
    def in_programme(self, at: str) -> list[str]:
        out = []
        for s, changes in self.added.items():
            state = False
            for t, add in sorted(changes):
                if t <= at:
                    state = add
            if state:
                out.append(s)
        return out

    def phases(self, at: str) -> list[float]:
        prog = self.in_programme(at)
        counts: Counter[int] = Counter()
        for s in prog:
            reached = [p for p, t in self.phase.get(s, {}).items() if t <= at]
            counts[max(reached, default=1)] += 1
        return [counts[p] / len(prog) for p in range(1, 7)] if prog else []

    def op_norm(self, at: str) -> dict[str, int]:
        prog = set(self.in_programme(at))
        c: Counter[str] = Counter()
        for s, (t, reason) in self.closed.items():
            if t <= at and s in prog:
                c[reason] += 1
        return dict(c)

    def without_claim(self, at: str) -> float:
        prog = self.in_programme(at)
        none = sum(1 for s in prog if not (s in self.first_claim and self.first_claim[s] <= at))
        return none / len(prog) if prog else 0.0

    def pending(self, at: str, kind: str | None = None) -> int:
        n = 0
        for filed, ctype, decided, withdrawn in self.claims.values():
            if (
                filed <= at
                and (kind is None or ctype == kind)
                and not (decided and decided <= at)
                and not (withdrawn and withdrawn <= at)
            ):
                n += 1
        return n

    def samenloop(self, at: str) -> int:
        prog = set(self.in_programme(at))
        hit = set()
        for (s, _), (filed, _, decided, withdrawn) in self.claims.items():
            if s in prog and filed <= at and not (decided and decided <= at) and not (withdrawn and withdrawn <= at):
                hit.add(s)
        return len(hit)

    def lead_time(self, at: str, last: int) -> tuple[float, float] | None:
        ds = sorted(d for d in self.decisions if d[0] <= at)[-last:]
        if not ds:
            return None
        leads = [d[3] for d in ds]
        return statistics.median(leads), sum(x <= 182 for x in leads) / len(leads)

    def report(self, n: int) -> dict[str, Any]:
        k = FULL / n
        fig: dict[str, Any] = {
            "addresses": n,
            "events": sum(self.types.values()),
            "events_per_address": sum(self.types.values()) / n,
            "types_present": len(self.types),
        }
        for day in ("2021-10-31", "2022-12-31", "2024-04-30"):
            fig[f"programme_{day}"] = round(len(self.in_programme(end_of(day))) * k)
        fig["phases_2021-10-31"] = [round(x, 3) for x in self.phases(end_of("2021-10-31"))]
        for day in ("2022-07-31", "2022-12-31", "2024-04-30"):
            on = self.op_norm(end_of(day))
            total = sum(on.values())
            prog = len(self.in_programme(end_of(day)))
            fig[f"op_norm_{day}"] = {
                "total": round(total * k),
                "share": round(total / prog, 3),
                **{r: round(v * k) for r, v in sorted(on.items())},
            }
        fig["programme_without_claim_2021-11-01"] = round(self.without_claim(end_of("2021-11-01")), 3)
        filed: Counter[tuple[str, int]] = Counter()
        for f, ctype, _, _ in self.claims.values():
            filed[ctype, int(f[:4])] += 1
        fig["physical_filed_by_year"] = {y: round(filed["physical", y] * k) for y in range(2018, 2025)}
        fig["value_loss_filed_by_year"] = {y: round(filed["value_loss", y] * k) for y in range(2020, 2025)}
        fig["immaterial_filed_by_year"] = {y: round(filed["immaterial", y] * k) for y in range(2022, 2025)}
        decided: Counter[tuple[str, int]] = Counter()
        for _, ctype, dt, _ in self.claims.values():
            if dt:
                decided[ctype, int(dt[:4])] += 1
        fig["physical_decided_by_year"] = {y: round(decided["physical", y] * k) for y in range(2018, 2025)}
        fig["claims_by_end_2021"] = round(sum(1 for c in self.claims.values() if c[0] <= end_of("2021-12-31")) * k)
        fig["pending_end_2021"] = round(self.pending(end_of("2021-12-31")) * k)
        fig["pending_physical_end_2021"] = round(self.pending(end_of("2021-12-31"), "physical") * k)
        last = max(1, round(2500 / k))
        fig["lead_time_last_2500"] = {
            day: tuple(round(x, 2) for x in (self.lead_time(end_of(day), last) or ()))
            for day in ("2020-06-30", "2020-12-31", "2021-06-30", "2021-12-31", "2022-12-31", "2024-12-31")
        }
        leads = [d[3] for d in self.decisions if "2020" <= d[0][:4] <= "2021"]
        fig["lead_time_2020_21_median"] = round(statistics.median(leads), 1) if leads else None
        by_year: dict[int, list[tuple[str, str, int, float, str]]] = defaultdict(list)
        for dd in self.decisions:
            by_year[int(dd[0][:4])].append(dd)
        fig["rejection_by_year"] = {
            y: round(sum(x[1] == "rejected" for x in v) / len(v), 3) for y, v in sorted(by_year.items())
        }
        fig["objection_by_year"] = {
            y: round(sum(x[4] in self.objected for x in v) / len(v), 4) for y, v in sorted(by_year.items())
        }
        ds = self.decisions
        fig["rejection_share"] = round(sum(x[1] == "rejected" for x in ds) / len(ds), 4) if ds else None
        fig["objection_share"] = round(sum(x[4] in self.objected for x in ds) / len(ds), 4) if ds else None
        fig["claims_per_decision"] = round(sum(x[2] for x in ds) / len(ds), 3) if ds else None
        fig["late_share_by_org"] = {o: round(self.late[o] / self.by_org[o], 3) for o in sorted(self.by_org)}
        fig["ombudsman_by_year"] = {y: round(v * k) for y, v in sorted(self.ombudsman.items())}
        fig["aos_within_48h"] = round(self.aos_fast / self.aos_done, 3) if self.aos_done else None
        fig["samenloop_2021-11-01"] = round(self.samenloop(end_of("2021-11-01")) * k)
        fig["samenloop_2024-12-31"] = round(self.samenloop(end_of("2024-12-31")) * k)
        fig["funnel"] = {
            "offered": round(len(self.offered) * k),
            "agreed": round(len(self.agreed) * k),
            "coordinator": round(len(self.coordinated) * k),
            "joint_visit": round(len(self.joint) * k),
        }
        fig["deferred_awaiting_strengthening"] = round(len(self.deferred) * k)
        fig["addresses_with_events"] = round(len(self.subjects) * k)
        fig["type_counts"] = {t: round(v * k) for t, v in sorted(self.types.items())}
        return fig


def measure(lines: Iterable[bytes], n: int) -> dict[str, Any]:
    """The calibration figures (scaled to the full area) of a generated history."""
    fold = Fold()
    for line in lines:
        fold.feed(orjson.loads(line))
    return fold.report(n)


def main(argv: list[str] | None = None) -> None:
    from ledger.generator import generate

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--addresses", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--until", type=date.fromisoformat, default=date(2024, 12, 31))
    args = ap.parse_args(argv)
    with tempfile.TemporaryFile() as tmp:
        start = time.perf_counter()
        n = generate(args.addresses, args.seed, args.until, tmp)
        took = time.perf_counter() - start
        tmp.seek(0)
        fig = measure(io.BufferedReader(tmp), args.addresses)  # type: ignore[arg-type]
    fig["generate_seconds"] = round(took, 1)
    fig["events_written"] = n
    sys.stdout.write(orjson.dumps(fig, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")


if __name__ == "__main__":
    main()
