"""An address's effective history and the notions derived from it: the one implementation.

Projections contract §0 defines them; the rules (`domain.rules`), the read side
(`projections.history`, `projections.fold`) and the ombudsman replay (`replay.history`,
`replay.intervals`) all call this module, so they cannot disagree.

**Cut-offs** (`standing`). `known_at` keeps the events recorded by then; `at` keeps the events
that happened by then, except corrections and retractions: those are governed by `known_at`
alone, so a known amendment applies to its target whatever its own `time`.

**Amendments** (`resolve`). The known corrections and retractions apply in stream order: the
last correction of an event wins, a retraction removes the event. A corrected event keeps its
`time` and stream position; only its `data` is replaced. Amendments themselves are not part of
the effective history.

**Order.** The effective history is ordered by `time`, ties broken by `streamposition`
(`order_key`); the rules read it in stream order.

**Moments** (`Derived`). The state at a moment `t` is the state after every event with
`time` ≤ `t`: events with the same `time` take effect together, so a condition that starts and
stops at one `time` never held. `Derived` folds the effective events one at a time in
(`time`, `streamposition`) order and is correct after the last event of every moment:
- *pending claim*: filed, not decided, not withdrawn (deferred counts as pending);
- *in programme*: an `AddressAddedToProgramme` not followed by `AddressRemovedFromProgramme`;
- *samenloop*: in programme with at least one pending claim; an *episode* starts at the first
  moment both hold and ends at the first moment either stops, so it always has a positive
  length (one that would open and close at one moment is never recorded; one that would close
  and reopen at one moment never closed);
- *NCG phase* 1–6 (`PHASE_OF`): the furthest milestone reached, 1 once added; reported for
  addresses in the programme only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Event = dict[str, Any]
CORRECTED, RETRACTED = "EventCorrected", "EventRetracted"
AMENDMENTS = frozenset({CORRECTED, RETRACTED})

# How an event stands under the cut-offs (`standing`).
NOT_RECORDED = 0  # recorded after `known_at`: not known at all
NOT_HAPPENED = 1  # known, but happened after `at` (not an amendment): not in the history as of `at`
GOVERNS = 2  # a known amendment that happened after `at`: applies to its target, is not itself shown
WITHIN = 3  # within both cut-offs

# type -> catalogue name, filled by `name_of`; a hot loop may look it up first itself
TYPE_NAMES: dict[str, str] = {}


def name_of(event_type: str) -> str:
    """The catalogue name of a full type (cached: the hot path of every fold)."""
    name = TYPE_NAMES.get(event_type)
    if name is None:
        from domain.catalogue import event_name  # here: the read side need not build the event models

        name = TYPE_NAMES[event_type] = event_name(event_type)
    return name


def standing(event: Event, at: str | None, known_at: str | None) -> int:
    """How `event` stands under the cut-offs: `NOT_RECORDED`, `NOT_HAPPENED`, `GOVERNS` or `WITHIN`."""
    if known_at is not None and event["recordedtime"] > known_at:
        return NOT_RECORDED
    if at is not None and event["time"] > at:
        return GOVERNS if name_of(event["type"]) in AMENDMENTS else NOT_HAPPENED
    return WITHIN


def order_key(event: Event) -> tuple[str, int]:
    """Valid-time order within one address: `time`, ties by `streamposition`."""
    return (event["time"], event["streamposition"])


@dataclass(frozen=True, slots=True)
class Step:
    """One correction or retraction, with the target's data before and after it."""

    event: Event
    kind: Literal["correction", "retraction"]
    target: str
    before: dict[str, Any]
    after: dict[str, Any] | None  # None for a retraction


@dataclass(slots=True)
class Amendments:
    """The known amendments of one address, resolved (`resolve`)."""

    replaced: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> data of its last correction
    retracted: set[str] = field(default_factory=set)
    steps: list[Step] = field(default_factory=list)  # only when `resolve` was given the originals

    def data_of(self, event_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """The effective data of an event whose stored data is `data`; None when retracted."""
        if event_id in self.retracted:
            return None
        effective: dict[str, Any] = self.replaced.get(event_id, data)
        return effective

    def apply(self, event: Event) -> Event | None:
        """The effective version of a (non-amending) event: None when retracted, else the event
        with its corrected data (the same object when uncorrected)."""
        data = self.data_of(event["id"], event["data"])
        if data is None:
            return None
        return event if data is event["data"] else {**event, "data": data}


def resolve(amendments: Iterable[Event], originals: Mapping[str, dict[str, Any]] | None = None) -> Amendments:
    """Resolve corrections and retractions given in stream order (other events are ignored).

    With `originals` (event id -> its stored data), every amendment is also recorded as a `Step`
    with the target's data before and after it.
    """
    out = Amendments()
    replaced, retracted, steps = out.replaced, out.retracted, out.steps
    for event in amendments:
        name = name_of(event["type"])
        if name not in AMENDMENTS:
            continue
        data = event["data"]
        if name == CORRECTED:
            target = data["corrects"]
            after: dict[str, Any] = data["data"]
            if originals is not None:
                before = replaced.get(target, originals.get(target, {}))
                steps.append(Step(event, "correction", target, before, after))
            replaced[target] = after
        else:
            target = data["retracts"]
            if originals is not None:
                before = replaced.get(target, originals.get(target, {}))
                steps.append(Step(event, "retraction", target, before, None))
            retracted.add(target)
    return out


@dataclass(slots=True)
class Cut:
    """One address's history under cut-offs (`cut`): what is known, shown and effective."""

    known: list[Event] = field(default_factory=list)  # recorded by `known_at`, in the given (stream) order
    within: list[Event] = field(default_factory=list)  # known and within `at` (amendments included)
    effective: list[Event] = field(default_factory=list)  # `within`, amendments applied, in the given order
    amendments: Amendments = field(default_factory=Amendments)
    not_recorded: int = 0  # events recorded after `known_at`
    not_happened: int = 0  # known events (amendments included) that happened after `at`


def cut(events: Iterable[Event], at: str | None = None, known_at: str | None = None, *, steps: bool = False) -> Cut:
    """Apply the cut-offs and the known amendments to one address's stored events, given in
    stream order; `effective` keeps that order (sort it with `order_key` for valid time).

    With `steps`, `amendments.steps` records each known amendment's before and after.
    """
    out = Cut()
    known, within = out.known, out.within
    amending: list[Event] = []
    for event in events:
        place = standing(event, at, known_at)
        if place == NOT_RECORDED:
            out.not_recorded += 1
            continue
        known.append(event)
        amendment = name_of(event["type"]) in AMENDMENTS
        if amendment:
            amending.append(event)
        if place != WITHIN:
            out.not_happened += 1
            continue
        within.append(event)
    originals = {e["id"]: e["data"] for e in known} if steps and amending else None
    out.amendments = amended = resolve(amending, originals)
    effective = out.effective
    for event in within:
        if name_of(event["type"]) in AMENDMENTS:
            continue
        applied = amended.apply(event)
        if applied is not None:
            effective.append(applied)
    return out


def effective_history(
    events: Iterable[Event], at: str | None = None, known_at: str | None = None, *, in_time_order: bool = True
) -> list[Event]:
    """The effective history of one address's stored events (given in stream order): within the
    cut-offs, amendments applied, in valid-time order (or, without `in_time_order`, stream order)."""
    effective = cut(events, at, known_at).effective
    if in_time_order:
        effective.sort(key=order_key)
    return effective


# -- the derived notions at moments -----------------------------------------------------------
# NCG phase reached by each milestone (projections §0); 1 (not started) once added.
PHASE_OF = {
    "AddressIncludedInLocalPlan": 2,
    "StructuralInspectionCompleted": 3,
    "AssessmentCompleted": 4,
    "NormDecisionIssued": 4,
    "StrengtheningDecisionIssued": 5,
    "ConstructionStarted": 5,
    "ConstructionCompleted": 5,
    "TrajectoryClosed": 6,
}
NOT_STARTED = 1
# The coordination norm (projections: `no_coordinator`, E3): a coordinator within 30 days of the approach.
COORDINATOR_DAYS = 30


class Derived:
    """Pending claims, programme, samenloop episodes and NCG phase of one address (§0).

    Feed the effective events in (`time`, `streamposition`) order, by the methods named after
    what happened or by `apply`. After the last event of any moment every attribute is the state
    at that moment (events of one moment take effect together).
    """

    __slots__ = ("pending", "in_programme", "reached", "episodes", "_changed_at", "_programme_before")

    def __init__(self) -> None:
        self.pending: set[str] = set()  # ids of the pending claims
        self.in_programme = False
        self.reached = 0  # the furthest phase reached (0: never added); survives a removal
        # [start, end or None while running]; never of length zero
        self.episodes: list[list[str | None]] = []
        self._changed_at = ""  # the latest moment at which the programme changed
        self._programme_before = False  # in programme before that moment

    # -- what happened --------------------------------------------------------------------------
    # Samenloop can change only when the claims become pending or not while in the programme,
    # or the programme changes while claims are pending: only then is `_samenloop` asked (after
    # every event the running episode, if any, matches the condition).
    def claim_filed(self, claim_id: str, time: str) -> None:
        pending = self.pending
        if pending or not self.in_programme:
            pending.add(claim_id)
        else:
            pending.add(claim_id)
            self._samenloop(time)

    def claims_settled(self, claim_ids: Iterable[str], time: str) -> None:
        """Claims decided (`ClaimDecided`) or withdrawn (`ClaimWithdrawn`)."""
        pending = self.pending
        if pending:
            pending.difference_update(claim_ids)
            if not pending and self.in_programme:
                self._samenloop(time)

    def added(self, time: str) -> None:
        self._programme(True, time)
        if self.reached < NOT_STARTED:
            self.reached = NOT_STARTED

    def removed(self, time: str) -> None:
        self._programme(False, time)

    def milestone(self, name: str) -> None:
        """A milestone of `PHASE_OF` was reached."""
        phase = PHASE_OF[name]
        if phase > self.reached:
            self.reached = phase

    def apply(self, name: str, data: dict[str, Any], time: str) -> None:
        """Fold one effective event (any type; those the notions do not depend on change nothing)."""
        if name == "DamageClaimFiled":
            self.claim_filed(data["claim_id"], time)
        elif name == "ClaimDecided":
            self.claims_settled(data["claim_ids"], time)
        elif name == "ClaimWithdrawn":
            self.claims_settled((data["claim_id"],), time)
        elif name == "AddressAddedToProgramme":
            self.added(time)
        elif name == "AddressRemovedFromProgramme":
            self.removed(time)
        elif name in PHASE_OF:
            self.milestone(name)

    # -- the notions ------------------------------------------------------------------------------
    @property
    def samenloop(self) -> bool:
        """In samenloop now (at the latest moment folded)."""
        episodes = self.episodes
        return bool(episodes) and episodes[-1][1] is None

    @property
    def samenloop_since(self) -> str | None:
        """The start of the running episode, if any."""
        episodes = self.episodes
        return episodes[-1][0] if episodes and episodes[-1][1] is None else None

    @property
    def phase(self) -> int | None:
        """The NCG phase 1–6, or None outside the programme."""
        return self.reached if self.in_programme else None

    def in_programme_before(self, time: str) -> bool:
        """Whether the address was in the programme just before the moment `time` (the state
        after every event earlier than `time`), while the events of `time` are being folded."""
        return self._programme_before if self._changed_at == time else self.in_programme

    # -- moments ----------------------------------------------------------------------------------
    def _programme(self, value: bool, time: str) -> None:
        if self._changed_at != time:
            self._changed_at = time
            self._programme_before = self.in_programme
        changed = self.in_programme is not value
        self.in_programme = value
        if changed and self.pending:
            self._samenloop(time)

    def _samenloop(self, time: str) -> None:
        """Bring the episodes up to date after an event of `time`.

        Within one moment the condition may flip more than once; what counts is the state after
        its last event. So an episode that opened at this moment and closes again is dropped, and
        one that closed at this moment and holds again is reopened.
        """
        now = self.in_programme and bool(self.pending)
        episodes = self.episodes
        running = bool(episodes) and episodes[-1][1] is None
        if now == running:
            return
        if now:
            if episodes and episodes[-1][1] == time:
                episodes[-1][1] = None  # closed and reopened at one moment: it never closed
            else:
                episodes.append([time, None])
        elif episodes[-1][0] == time:
            episodes.pop()  # opened and closed at one moment: it never held
        else:
            episodes[-1][1] = time


def derive(effective: Iterable[Event]) -> Derived:
    """The derived notions after an effective history (event dicts in valid-time order)."""
    derived = Derived()
    apply = derived.apply
    for event in effective:
        apply(name_of(event["type"]), event["data"], event["time"])
    return derived
