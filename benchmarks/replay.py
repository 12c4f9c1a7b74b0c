"""Replay latency: one address with 100 events, chain verification and per-step diffs included,
on a store holding a Groningen-scale history.

    .venv/bin/python benchmarks/replay.py [--addresses 220000] [--seed 1] [--runs 1000] [--home DIR]

The first run builds the store in DIR (default `.cache/bench-replay-<addresses>-<seed>`):
`generate(addresses, seed)` written to a file and loaded with the real `ledger import`; then
it adds one hand-built address of exactly 100 events (claims, the strengthening trajectory,
coordination, late registrations, a correction) that no generated address has. Later runs
reuse the store.

Each measured replay is what `GET /cases/{id}/history` does on a running server: read the
address's stream from the store, verify its chain, build the timeline with the case-view diff
of every step, the view at the cut-offs and the findings, and encode the report as JSON.
Prints p50 / p95 / p99 / max over `--runs` replays (after 20 warm-up runs), for the 100-event
address and for the generated address with the most events. Target: p99 <= 50 ms.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from benchmarks.common import REPO, history_file, history_parser  # noqa: E402
from domain.catalogue import BY_NAME  # noqa: E402
from domain.timeutil import format_utc, now_utc  # noqa: E402
from ledger.bootstrap import Ledger, Settings, open_ledger  # noqa: E402
from ledger.ports import replay_store
from replay.provenance import code_version  # noqa: E402
from replay.report import Inputs, build_report  # noqa: E402
from replay.source import read_address  # noqa: E402
from replay.views import projection_view  # noqa: E402

SUBJECT = "9999200000000100"  # a municipality code the generator never uses
NAMESPACE = uuid.UUID("0b7d7a0e-5d1f-4f43-9a43-2f3c3b0a9e55")
SOURCES = {"IMG": "urn:nl:img:schadesysteem", "NCG": "urn:nl:ncg:versterking", "PORTAL": "urn:nl:portal:bewoners"}


def build_store(home: Path, addresses: int, seed: int) -> None:
    """Generate and import the history once (marked done by a file beside the store)."""
    done = home / "imported.ok"
    if done.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    path, count = history_file(home, addresses, seed)
    print(f"generated {count:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "LEDGER_HOME": str(home)}
    env.pop("LEDGER_STORE", None)
    ledger_cli = Path(sys.executable).with_name("ledger")
    subprocess.run([str(ledger_cli), "import", str(path), "--quiet"], env=env, check=True)
    print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
    path.unlink()
    done.write_text(f"{count}\n")


class Long:
    """The hand-built 100-event address."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.t = datetime(2019, 2, 4, 9, 0, tzinfo=UTC)

    def add(self, name: str, org: str, data: dict[str, Any], days: float = 3, late: float = 0) -> str:
        self.t += timedelta(days=days)
        event_id = str(uuid.uuid5(NAMESPACE, str(len(self.events))))
        self.events.append(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": SOURCES[org],
                "type": BY_NAME[name].type,
                "subject": SUBJECT,
                "time": format_utc(self.t),
                "org": org,
                "actor": f"{org.lower()}-medewerker-{len(self.events) % 9}",
                "data": data,
                "recordedtime": format_utc(self.t + timedelta(days=late)),
            }
        )
        return event_id


def long_history() -> list[dict[str, Any]]:
    """100 valid events: 14 claims and their handling, an NCG trajectory, coordination."""
    h = Long()
    h.add("AddressRegistered", "IMG", {"postcode": "9711AA", "huisnummer": 1, "gemeentecode": "0014"})
    h.add("AddressAddedToProgramme", "NCG", {"programme_ref": "P-B", "basis": "risk_estimate"}, late=0.5)
    h.add("ConsentToDataExchangeGiven", "PORTAL", {"party_ref": "bewoner-b", "scope": "both"})
    receipt = ""
    for n in range(14):
        claim = f"C-{n}"
        h.add(
            "DamageClaimFiled",
            "IMG",
            {"claim_id": claim, "claim_type": "physical", "route": "maatwerk", "channel": "online"},
            days=20,
        )
        receipt = h.add("ClaimReceiptConfirmed", "IMG", {"claim_id": claim, "decision_term_days": 56}, days=1)
        h.add(
            "DamageInspectionCompleted",
            "IMG",
            {"claim_id": claim, "inspection_id": f"I-{n}", "visit_id": f"V-{n}", "joint_with_ncg": n % 3 == 0},
        )
        if n % 4 == 1:
            h.add("ClaimDeferred", "IMG", {"claim_id": claim, "reason": "awaiting_strengthening"})
            h.add("ClaimResumed", "IMG", {"claim_id": claim}, days=40)
        h.add(
            "ClaimDecided",
            "IMG",
            {
                "decision_id": f"D-{n}",
                "claim_ids": [claim],
                "outcome": "granted",
                "amount_cents": 100_000 + n,
                "scheme": "maatwerk",
            },
            days=30,
        )
    h.add(
        "EventCorrected",
        "IMG",
        {"corrects": receipt, "data": {"claim_id": "C-13", "decision_term_days": 90}, "reason": "termijn hersteld"},
    )
    ncg: list[tuple[str, dict[str, Any]]] = [
        ("AddressIncludedInLocalPlan", {"lpa_year": 2020}),
        ("ResidentGuideAssigned", {"guide_ref": "bb-7"}),
        ("StructuralInspectionCompleted", {"inspection_id": "O-1", "visit_id": "V-N", "joint_with_img": False}),
        ("AssessmentCompleted", {"assessment_id": "A-1", "method": "typology", "reassessment": False}),
        ("NormDecisionIssued", {"advice_ref": "ADV-1", "meets_norm": False}),
        ("StrengtheningDecisionIssued", {"decision_ref": "SD-1", "scope": "strengthen"}),
        ("ConstructionStarted", {}),
    ]
    for name, data in ncg:
        h.add(name, "NCG", data, days=5, late=45)
    coordination: list[tuple[str, str, dict[str, Any]]] = [
        ("IntegratedApproachRequested", "PORTAL", {"party_ref": "bewoner-b", "via": "portal"}),
        ("IntegratedApproachOffered", "IMG", {"offer_id": "SA-1"}),
        ("CaseReferred", "IMG", {"from_org": "IMG", "to_org": "NCG", "reason": "damage_in_strengthening"}),
        ("CaseReferred", "NCG", {"from_org": "NCG", "to_org": "IMG", "reason": "wrong_organisation"}),
        ("InformationShared", "IMG", {"direction": "img_to_ncg", "categories": ["decision"], "legal_basis": "consent"}),
        ("AcuteUnsafeSituationReported", "IMG", {"aos_id": "AOS-1", "reported_by": "resident"}),
        ("AcuteUnsafeSituationResolved", "IMG", {"aos_id": "AOS-1", "well_founded": True, "forwarded_to_ncg": True}),
        ("ContactMade", "PORTAL", {"with_org": "NCG", "channel": "phone", "initiated_by": "resident"}),
        ("ComplaintLodged", "PORTAL", {"complaint_id": "K-1", "against": "both", "forum": "ombudsman"}),
        ("CoordinatorAssigned", "NCG", {"coordinator_ref": "coord-b", "lead_org": "NCG"}),
    ]
    while len(h.events) < 100:
        name, org, data = coordination[(len(h.events)) % len(coordination)]
        if name == "AcuteUnsafeSituationReported":
            data = {**data, "aos_id": f"AOS-{len(h.events)}"}
            h.add(name, org, data, days=2)
            if len(h.events) < 100:
                h.add(
                    "AcuteUnsafeSituationResolved",
                    org,
                    {"aos_id": data["aos_id"], "well_founded": True, "forwarded_to_ncg": True},
                    days=1,
                )
            continue
        if name in ("AcuteUnsafeSituationResolved", "ComplaintLodged"):
            name, org, data = coordination[7]
        h.add(name, org, data, days=4)
    return sorted(h.events, key=lambda e: e["recordedtime"])  # the order the ledger learned them


def add_long_address(ledger: Ledger) -> int:
    events = long_history()
    results = ledger.service.append(events, None, importing=True)
    bad = [(r.line, r.message) for r in results if r.result not in ("accepted", "duplicate")]
    if bad:
        raise SystemExit(f"the 100-event address was not accepted: {bad[:3]}")
    return len(read_address(replay_store(ledger), SUBJECT).events)


def busiest(home: Path) -> tuple[str, int]:
    """The generated address with the most events."""
    with sqlite3.connect(home / "events.sqlite") as con:
        row = con.execute(
            "SELECT originator_id, COUNT(*) AS n FROM stored_events WHERE originator_id != ? "
            "GROUP BY originator_id ORDER BY n DESC LIMIT 1",
            (SUBJECT,),
        ).fetchone()
    return str(row[0]), int(row[1])


def replay_once(ledger: Ledger, subject: str) -> dict[str, Any]:
    read = read_address(replay_store(ledger), subject)
    inputs = Inputs(subject, None, None, now_utc(), code_version(), read.store_position, read.store_head_hash)
    report = build_report(read.events, inputs, projection_view)
    orjson.dumps(report)
    return report


def measure(ledger: Ledger, subject: str, runs: int) -> dict[str, float]:
    """Wall-clock percentiles of `runs` replays (ms), and the median CPU time of one."""
    for _ in range(20):
        replay_once(ledger, subject)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        replay_once(ledger, subject)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    return {
        "p50": statistics.median(times),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": times[-1],
        "cpu": statistics.median(cpu),
    }


def main() -> None:
    ap = history_parser(__doc__)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--home", type=Path, default=None)
    args = ap.parse_args()
    home = args.home or REPO / ".cache" / f"bench-replay-{args.addresses}-{args.seed}"
    build_store(home, args.addresses, args.seed)
    with open_ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}")) as ledger:
        events = add_long_address(ledger)
        total = ledger.log.max_position()
        other, other_events = busiest(home)
        print(f"store: {total:,} events ({args.addresses:,} generated addresses, seed {args.seed}), {home}")
        report = replay_once(ledger, SUBJECT)
        print(
            f"address {SUBJECT}: {events} events, {len(report['timeline'])} steps, "
            f"{len(report['findings'])} findings, steps by {report['provenance']['view_steps']}"
        )
        for label, subject in (
            (f"{events}-event address", SUBJECT),
            (f"busiest generated ({other_events} events)", other),
        ):
            stats = measure(ledger, subject, args.runs)
            print(
                f"replay {label:<34} runs {args.runs}: p50 {stats['p50']:.1f} ms  p95 {stats['p95']:.1f} ms  "
                f"p99 {stats['p99']:.1f} ms  max {stats['max']:.1f} ms  (CPU median {stats['cpu']:.1f} ms, "
                f"load average {os.getloadavg()[0]:.1f})"
            )


if __name__ == "__main__":
    main()
