"""The shapes of the read side's answers (projections §1–§4), as pydantic models for the HTTP API's
OpenAPI document.

They describe; they never build an answer: the folds and queries write their JSON directly (the
hot path), and a test validates every answer the HTTP tests get against the document these
models produce. So a key renamed, dropped or added in an answer, or a value of another type,
fails there. `extra="forbid"` where the contract fixes the keys; items whose keys follow the
event data (a claim, a decision, a milestone) name the keys they always have and allow others.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Instant = str  # RFC 3339 UTC, microseconds: "2024-01-31T12:00:00.000000Z"


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- provenance (§4) -----------------------------------------------------------------------------


class Backfill(Closed):
    """One backfill whose events the answer includes (trust.md §1)."""

    backfill: int
    operator: str
    recorded_at: Instant
    recorded_until: Instant
    positions: list[int] = Field(min_length=2, max_length=2)
    events: int
    earliest_recordedtime: Instant | None
    counted: int


class KafkaFed(Closed):
    """Where Kafka-fed projections stand: what they include and the offsets they consumed."""

    fed_by: Literal["kafka"]
    events: int = Field(description="stored events the projections include")
    offsets: dict[str, int] = Field(description='"topic:partition" -> the next offset to read')


class Provenance(Closed):
    """The cut-offs used, what was read, and where the store stood."""

    at: Instant | None
    known_at: Instant | None
    now: Instant
    source: Literal["projection", "index", "event log"] | None = Field(
        None,
        description="projection: the stored rows (now); index: the bitemporal index (figures at cut-offs); "
        "event log: folded again from the log",
    )
    pivot: Instant | None = None
    events: int
    position: int | None = Field(
        description="the last global position included; null for Kafka-fed projections that lag (no prefix of the log)"
    )
    head_hash: str | None
    store_position: int
    behind: int
    backfills: list[Backfill] | None = Field(None, description="present only when back-filled events are included")
    projections: KafkaFed | None = Field(
        None, description="present when the answer comes from Kafka-fed projections (LEDGER_PROJECTIONS_SOURCE=kafka)"
    )


# -- joint case view (§1) ------------------------------------------------------------------------


class Address(Closed):
    subject: str
    registered: dict[str, object] | None = Field(description="the latest AddressRegistered data, if any")


class Claim(Open):
    claim_id: str
    claim_type: str
    route: str
    status: Literal["pending", "deferred", "decided", "withdrawn"]
    filed_at: Instant
    decided_at: Instant | None
    decision_id: str | None
    outcome: str | None
    amount_cents: int | None


class Decision(Open):
    decision_id: str
    decided_at: Instant
    claim_ids: list[str]
    outcome: str
    amount_cents: int


class Damage(Closed):
    claims: list[Claim]
    decisions: list[Decision]
    awarded_cents: int
    paid_cents: int
    pending_claims: int
    open_objections: list[dict[str, object]]
    objections: list[dict[str, object]]
    aos_reports: list[dict[str, object]]


class Strengthening(Closed):
    in_programme: bool
    phase: int | None = Field(ge=1, le=6)
    programme: dict[str, object] | None
    milestones: dict[str, object]
    meets_norm: bool | None
    scope: str | None
    closed_reason: str | None
    stalled: bool
    stalled_since: Instant | None
    stalled_reason: str | None


class Episode(Closed):
    start: Instant
    end: Instant | None


class IntegratedApproach(Closed):
    requested_at: Instant | None
    offered_at: Instant | None
    agreed_at: Instant | None
    components: list[str]
    declined_at: Instant | None


class Coordination(Closed):
    samenloop: bool
    samenloop_since: Instant | None
    samenloop_episodes: list[Episode]
    integrated_approach: IntegratedApproach
    coordinator: dict[str, object] | None
    joint_visits: list[dict[str, object]]
    visits: int
    referrals: list[dict[str, object]]
    information_shared: dict[str, object]
    consent_active: bool
    outreach: list[dict[str, object]]


class Resident(Closed):
    contacts: dict[str, object]
    complaints: list[dict[str, object]]


class LedgerPosition(Closed):
    events: int
    streamposition: int | None
    hash: str | None
    time: Instant | None
    recordedtime: Instant | None


class AttentionPoint(Closed):
    code: Literal["no_coordinator", "deferred_awaiting_strengthening", "claim_over_term", "aos_open_48h", "stalled"]
    since: Instant
    ref: str | None


class View(Closed):
    """The joint case view without provenance (as the replay report embeds it)."""

    address: Address
    damage: Damage
    strengthening: Strengthening
    coordination: Coordination
    resident: Resident
    ledger: LedgerPosition
    attention: list[AttentionPoint]


class CaseView(View):
    """`GET /cases/{id}`: the joint case view of one address (projections §1, §4)."""

    provenance: Provenance


# -- governance metrics (§2) ---------------------------------------------------------------------


class CountShare(Closed):
    count: int
    share: float | None = Field(ge=0, le=1)


class CountTotalShare(Closed):
    count: int
    total: int
    share: float | None = Field(ge=0, le=1)


class OpNorm(Closed):
    count: int
    share: float | None = Field(ge=0, le=1)
    by_reason: dict[str, CountShare]


class LeadTime(Closed):
    decisions: int
    median_days: float | None
    share_within_182d: float | None = Field(ge=0, le=1)


class MedianDeferred(Closed):
    count: int
    median_days: float | None


class Funnel(Closed):
    samenloop_ever: int
    offered: int
    agreed: int
    coordinator_assigned: int
    median_days_samenloop_to_coordinator: float | None
    addresses_measured: int


YearCounts = dict[str, int]
YearRates = dict[str, float | None]


class G1(Closed):
    programme_addresses: int


class G2(Closed):
    programme_without_claim: CountShare


class G3(Closed):
    samenloop_addresses: int


class G4(Closed):
    phase_distribution: dict[Literal["1", "2", "3", "4", "5", "6"], int]


class G5(Closed):
    op_norm: OpNorm


class G6(Closed):
    claims_filed_by_year: YearCounts
    claims_decided_by_year: YearCounts


class G7(Closed):
    pending_claims: int
    pending_claims_over_730d: int


class G8(Closed):
    realised_lead_time: LeadTime


class G9(Closed):
    rejection_rate_by_year: YearRates


class G10(Closed):
    objection_rate_by_year: YearRates


class G11(Closed):
    deferred_awaiting_strengthening: MedianDeferred


class G12(Closed):
    integrated_approach_funnel: Funnel


class G13(Closed):
    joint_visit_share: CountTotalShare


class G14(Closed):
    aos_within_48h: CountTotalShare


class G15(Closed):
    late_registration_share: dict[str, CountTotalShare] = Field(description="per organisation (`org`)")


class Metrics(Closed):
    """`GET /metrics`: the governance metrics G1–G15 (projections §2, §4)."""

    G1: G1
    G2: G2
    G3: G3
    G4: G4
    G5: G5
    G6: G6
    G7: G7
    G8: G8
    G9: G9
    G10: G10
    G11: G11
    G12: G12
    G13: G13
    G14: G14
    G15: G15
    provenance: Provenance


# the figures' classes under other names: in `SeriesFigures` the field names hide them
_G1 = G1
_G2 = G2
_G3 = G3
_G4 = G4
_G5 = G5
_G6 = G6
_G7 = G7
_G8 = G8
_G9 = G9
_G10 = G10
_G11 = G11
_G12 = G12
_G13 = G13
_G14 = G14
_G15 = G15


class SeriesFigures(Closed):
    """The asked G figures at one point (those not asked are absent)."""

    G1: _G1 | None = None
    G2: _G2 | None = None
    G3: _G3 | None = None
    G4: _G4 | None = None
    G5: _G5 | None = None
    G6: _G6 | None = None
    G7: _G7 | None = None
    G8: _G8 | None = None
    G9: _G9 | None = None
    G10: _G10 | None = None
    G11: _G11 | None = None
    G12: _G12 | None = None
    G13: _G13 | None = None
    G14: _G14 | None = None
    G15: _G15 | None = None


class SeriesEvents(Closed):
    known_then: int
    known_now: int


class SeriesPoint(Closed):
    at: Instant = Field(description="the end of a step (month, quarter, year), UTC")
    known_then: SeriesFigures = Field(description="as `GET /metrics?at=p&known_at=p`")
    known_now: SeriesFigures = Field(description="as `GET /metrics?at=p`")
    events: SeriesEvents = Field(description="the events each of the two answers counted")


class SeriesProvenance(Closed):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Instant = Field(alias="from")
    to: Instant
    step: Literal["month", "quarter", "year"]
    points: int
    position: int
    head_hash: str | None
    store_position: int
    behind: int
    backfills: list[Backfill] | None = Field(None, description="present only when back-filled events are included")


class Series(Closed):
    """`GET /metrics/series`: the G figures over time (projections §5)."""

    ids: list[str]
    points: list[SeriesPoint]
    provenance: SeriesProvenance


# -- evaluation figures (§3) ---------------------------------------------------------------------


class YearLeadTime(Closed):
    claims: int
    median_days: float | None
    p90_days: float | None


class ClaimLeadTime(Closed):
    samenloop: dict[str, YearLeadTime]
    other: dict[str, YearLeadTime]


class Visits(Closed):
    addresses: int
    visits: int
    mean: float | None
    median: float | None


class VisitsPerAddress(Closed):
    agreed: Visits
    not_agreed: Visits


class RequestToCoordinatorPeriod(Closed):
    requests: int
    assigned: int
    median_days: float | None
    p90_days: float | None
    share_within_30d: float | None = Field(ge=0, le=1)


class BeforeAfterRequests(Closed):
    before: RequestToCoordinatorPeriod
    after: RequestToCoordinatorPeriod


class Deferrals(Closed):
    claims: int
    deferrals: int
    median_days: float | None


class ReferralsComplaintsPeriod(Closed):
    referrals: int
    samenloop_addresses: int
    referrals_per_100: float | None
    complaints: int
    addresses_with_events: int
    complaints_per_1000: float | None


class BeforeAfterReferrals(Closed):
    before: ReferralsComplaintsPeriod
    after: ReferralsComplaintsPeriod


class E1(Closed):
    claim_lead_time: ClaimLeadTime


class E2(Closed):
    visits_per_address: VisitsPerAddress


class E3(Closed):
    request_to_coordinator: BeforeAfterRequests


class E4(Closed):
    deferred_awaiting_strengthening: Deferrals


class E5(Closed):
    outreach_conversion: CountTotalShare


class E6(Closed):
    referrals_and_complaints: BeforeAfterReferrals


class Evaluation(Closed):
    """`GET /evaluation`: the evaluation figures E1–E6 (projections §3, §4)."""

    E1: E1
    E2: E2
    E3: E3
    E4: E4
    E5: E5
    E6: E6
    provenance: Provenance


class FoundAddress(Closed):
    subject: str
    registered: dict[str, object] = Field(description="the latest AddressRegistered data")


class Addresses(Closed):
    """`GET /addresses`: the addresses registered at a postcode and house number."""

    addresses: list[FoundAddress]


class Health(Closed):
    """`GET /healthz`: alive, and how far the projections are behind the event store."""

    status: Literal["ok"]
    position: int
    store_position: int
    behind: int


# -- worklist (issue #13: every open attention point across addresses) ---------------------------

AttentionCode = Literal[
    "no_coordinator", "deferred_awaiting_strengthening", "claim_over_term", "aos_open_48h", "stalled"
]


class WorklistItem(Closed):
    """One open attention point of one address."""

    subject: str
    code: AttentionCode
    ref: str | None
    since: Instant = Field(description="when the point arose")
    age_days: float = Field(description="days from `since` to the answer's `now`")
    urgency: int = Field(ge=1, le=5, description="the kind of point's rank: 1 most urgent")
    organisations: list[Literal["IMG", "NCG"]] = Field(description="who must act on it")
    municipality: str = Field(description="gemeentecode: the registered one, else the BAG id's first four digits")


class WorklistFilters(Closed):
    code: list[AttentionCode] | None
    organisation: Literal["IMG", "NCG"] | None
    municipality: list[str] | None
    min_age_days: int


class Worklist(Closed):
    """`GET /worklist`: one page of the open attention points that match the filters, in urgency order."""

    items: list[WorklistItem]
    total: int = Field(description="matching points on every page")
    page: int
    page_size: int
    pages: int
    filters: WorklistFilters
    provenance: Provenance
