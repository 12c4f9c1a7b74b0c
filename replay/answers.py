"""The shape of the replay report (`GET /cases/{id}/history?format=json`, `ledger replay --json`),
as pydantic models for the HTTP API's OpenAPI document.

They describe; the report is built as plain JSON (`replay.report`), and a test validates every
report the HTTP tests get against the document. The report's own keys are fixed (`extra="forbid"`);
a timeline entry or a finding names the keys it always has and may carry more.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from projections.answers import Backfill, Instant, View


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Cutoffs(Closed):
    at: Instant | None
    known_at: Instant | None
    until: Instant


class Break(Closed):
    position: int
    reason: str


class Head(Closed):
    streamposition: int
    hash: str


class Chain(Closed):
    intact: bool
    checked: int
    verified: int
    break_: Break | None = Field(alias="break")
    head: Head | None
    message: str


class Counts(Closed):
    stored: int
    verified: int
    shown: int
    recorded_after_known_at: int
    happened_after_at: int
    late_registrations: int
    corrections: int
    retractions: int


class Step(Open):
    """One event of the timeline, in valid-time order, with what it changed in the view."""

    seq: int
    id: str
    streamposition: int
    time: Instant
    recordedtime: Instant
    org: str
    name: str
    data: dict[str, object]
    late: bool
    hash: str
    status: str


class Finding(Open):
    """A rule finding: who was responsible for what, from when to when."""

    code: str
    title: str
    responsible: str
    arose_at: Instant
    start: Instant
    end: Instant | None
    ongoing: bool
    days: float
    norm_days: float | None
    over_days: float | None
    detail: str
    events: list[str]
    facts: dict[str, object]


class Code(Closed):
    package: str
    version: str
    git_commit: str | None
    git_dirty: bool | None


class StoreHead(Closed):
    position: int | None
    head_hash: str | None


class ReportCutoffs(Closed):
    at: Instant | None
    known_at: Instant | None


class ReportProvenance(Closed):
    generated_at: Instant
    source: str
    events_read: int
    events_verified: int
    chain_head: Head | None
    cutoffs: ReportCutoffs
    now: Instant
    store: StoreHead
    late_registration_days: float
    code: Code
    reproduce: str
    view_steps: str
    backfills: list[Backfill] | None = Field(None, description="present only when back-filled events are included")


class Report(Closed):
    """The ombudsman's verified, step-by-step history of one address (docs/replay.md)."""

    kind: Literal["nl.groningen.ledger.replay"]
    version: Literal[1]
    subject: str
    cutoffs: Cutoffs
    chain: Chain
    counts: Counts
    timeline: list[Step]
    view: View | None
    findings: list[Finding]
    provenance: ReportProvenance
