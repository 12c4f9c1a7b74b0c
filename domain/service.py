"""The append service: validate, de-duplicate, check the rules, chain and store (contract §2).

One call is one batch. Events of one address in a batch are accepted together or not at all;
addresses are independent. Every verdict is judged against the address's latest stored
history: an acceptance because the store's unique (address, position) and id constraints
refuse a write based on an old state (the batch is then judged again on fresh state), a
rejection by the rules because it is final only once the address's stored head is the one it
was judged against, and a duplicate found by id that lies beyond the cached state makes the
address reload before anything after it is judged. `version_conflict` is reported only when
the retries run out (or when the caller's expected stream position has been passed).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from eventsourcing.persistence import IntegrityError

from domain.application import LedgerApplication, LedgerRecord
from domain.catalogue import BY_NAME, event_name
from domain.chain import canonical, content_digest, event_hash
from domain.envelope import PRINCIPALS, SUBJECT_PATTERN, Oversized, Submission, decode_line, first_error, validate
from domain.history import AMENDMENTS
from domain.ports import IdEntry
from domain.privacy import check_personal_data
from domain.results import (
    ACCEPTED,
    DUPLICATE,
    ID_CONFLICT,
    MAX_BATCH_EVENTS,
    NOT_AUTHORIZED,
    REJECTED,
    RULE_VIOLATED,
    SCHEMA_INVALID,
    TOO_LARGE,
    VERSION_CONFLICT,
    AppendResult,
    Rejection,
)
from domain.rules import DERIVED, AddressState, fold
from domain.timeutil import format_utc, now_utc, parse_utc

Clock = Callable[[], str]
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass(slots=True)
class _Judged:
    """What one evaluation of a batch was based on (see `LedgerService._evaluate`)."""

    versions: dict[str, int] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)


# Rejections whose verdict depends on the address's stored history (rules, expected position).
_STATE_DEPENDENT = frozenset({RULE_VIOLATED, VERSION_CONFLICT})


@dataclass(slots=True)
class _Pending:
    """A submission that passed the structural checks, with its place in the batch."""

    index: int
    sub: Submission
    digest: str
    record: LedgerRecord | None = None
    stored: dict[str, Any] | None = None


@dataclass(slots=True)
class Checked:
    """One submitted item after the checks that need no stored state (size, JSON, envelope, type,
    payload, R1, personal data): the normalised submission with its content digest, or the
    refusal with the event id and the well-formed address it names (if any)."""

    sub: Submission | None = None
    digest: str = ""
    refusal: Rejection | None = None
    event_id: str | None = None
    address: str | None = None


def check_item(item: bytes | str | dict[str, Any] | Oversized, principal: str | None, importing: bool) -> Checked:
    """The stateless checks of one submitted item (pure: safe to run in another process)."""
    event_id: str | None = None
    obj: dict[str, Any] = {}
    try:
        obj = decode_line(item)
        event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        if principal is not None and principal not in PRINCIPALS:
            raise Rejection(NOT_AUTHORIZED, f"R1: unknown principal {principal!r}")
        sub = validate(obj, principal, importing=importing)
        check_personal_data(sub.event)
    except Rejection as rej:
        if rej.code == SCHEMA_INVALID and obj:
            rej = _personal_data_first(obj, rej)
        return Checked(refusal=rej, event_id=event_id, address=_address_of(obj))
    return Checked(sub, content_digest(sub.event))


class LedgerService:
    """Appends batches of CloudEvents to the per-address streams of a `LedgerApplication`."""

    def __init__(
        self,
        app: LedgerApplication,
        *,
        clock: Clock = now_utc,
        cache_size: int = 300_000,
        max_attempts: int = 8,
    ) -> None:
        self.app = app
        self.clock = clock
        self.cache_size = cache_size
        self.max_attempts = max_attempts
        self._states: dict[str, AddressState] = {}

    # -- public -----------------------------------------------------------------------------
    def append(
        self,
        items: Sequence[bytes | str | dict[str, Any] | Oversized],
        principal: str | None,
        *,
        importing: bool = False,
        first_line: int = 1,
        expected: dict[str, int] | None = None,
        checked: Sequence[Checked] | None = None,
    ) -> list[AppendResult]:
        """Append one batch; return exactly one result per submitted item, in order.

        `principal` is the authenticated organisation; None only for `importing`, where the
        operator backfills history and each event's own `org` is trusted. `checked`: the
        items' `check_item` verdicts when they were reached elsewhere (an import checks the
        next batch in another process while this one is stored); they are not checked again.
        """
        results: list[AppendResult | None] = [None] * len(items)
        if len(items) > MAX_BATCH_EVENTS:
            return [
                AppendResult(
                    first_line + i, None, REJECTED, TOO_LARGE, f"a batch may hold at most {MAX_BATCH_EVENTS} events"
                )
                for i in range(len(items))
            ]
        if checked is None:
            checked = [check_item(item, principal, importing) for item in items]
        elif len(checked) != len(items):
            raise ValueError(f"{len(checked)} verdicts for {len(items)} items")
        pending: list[_Pending] = []
        refused: dict[str, AppendResult] = {}  # address -> its first event refused before the rules
        for i, verdict in enumerate(checked):
            rej = verdict.refusal
            if rej is not None:
                results[i] = refusal = AppendResult(
                    first_line + i, verdict.event_id, REJECTED, rej.code, rej.message, rej.path
                )
                if verdict.address is not None:
                    refused.setdefault(verdict.address, refusal)
                continue
            assert verdict.sub is not None
            pending.append(_Pending(i, verdict.sub, verdict.digest))
        if pending:
            self._append_valid(pending, results, importing, first_line, expected or {}, refused)
        return [r for r in results if r is not None]

    def state_of(self, subject: str) -> AddressState:
        """The rules' state of one address, from the cache or the store."""
        self._ensure_states([subject])
        return self._states[subject]

    def forget(self) -> None:
        """Drop every cached address state (they reload from the store on demand)."""
        self._states.clear()

    # -- the batch ----------------------------------------------------------------------------
    def _append_valid(
        self,
        pending: list[_Pending],
        results: list[AppendResult | None],
        importing: bool,
        first_line: int,
        expected: dict[str, int],
        refused: dict[str, AppendResult],
    ) -> None:
        subjects = list(dict.fromkeys(p.sub.event["subject"] for p in pending))
        for attempt in range(self.max_attempts):
            if attempt >= 2:
                self._backoff(attempt)
            judged = _Judged()
            outcome = self._evaluate(pending, subjects, importing, first_line, expected, refused, judged)
            if judged.stale or self._judged_on_old_state(judged, outcome, pending):
                # Another writer moved an address on since we last read it: judge again on fresh state.
                self._drop_states(subjects)
                continue
            to_store = [p for p in pending if p.record is not None and outcome.get(p.index) is None]
            if not to_store:
                break
            try:
                self.app.store(
                    [p.record for p in to_store],  # type: ignore[misc]
                    [
                        (
                            p.sub.event["id"],
                            p.sub.event["subject"],
                            p.record.originator_version,  # type: ignore[union-attr]
                            p.digest,
                        )
                        for p in to_store
                    ],
                )
            except IntegrityError:
                # Another writer got there first (a position or an id): re-read these addresses, try again.
                self._drop_states(subjects)
                continue
            break
        else:
            self._drop_states(subjects)
            outcome = {
                p.index: AppendResult(
                    first_line + p.index,
                    p.sub.event["id"],
                    REJECTED,
                    VERSION_CONFLICT,
                    "the address's stream kept moving under concurrent appends; submit again",
                )
                for p in pending
            }
        for p in pending:
            results[p.index] = outcome.get(p.index) or self._accepted(p, first_line)

    def _judged_on_old_state(self, judged: _Judged, outcome: dict[int, AppendResult], pending: list[_Pending]) -> bool:
        """True when a rejection that depends on an address's history was judged on an old state.

        An acceptance needs no such check: the store refuses a position that is taken. A
        rejection does: it is only final once the address's stored head is the one it was
        judged against.
        """
        suspects = {
            p.sub.event["subject"]
            for p in pending
            if (r := outcome.get(p.index)) is not None and r.code in _STATE_DEPENDENT
        }
        suspects &= judged.versions.keys()
        if not suspects:
            return False
        heads = self.app.index.stream_heads(sorted(suspects))
        return any(heads.get(s, 0) != judged.versions[s] for s in suspects)

    def _drop_states(self, subjects: Sequence[str]) -> None:
        for subject in subjects:
            self._states.pop(subject, None)

    def _backoff(self, attempt: int) -> None:
        """A short random pause, growing with the attempts, so that writers that keep colliding part."""
        time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.25)))

    def _accepted(self, p: _Pending, first_line: int) -> AppendResult:
        stored = p.stored
        assert stored is not None
        return AppendResult(
            first_line + p.index,
            stored["id"],
            ACCEPTED,
            streamposition=stored["streamposition"],
            recordedtime=stored["recordedtime"],
            hash=stored["hash"],
            subject=stored["subject"],
        )

    def _evaluate(
        self,
        pending: list[_Pending],
        subjects: list[str],
        importing: bool,
        first_line: int,
        expected: dict[str, int],
        refused: dict[str, AppendResult],
        judged: _Judged,
    ) -> dict[int, AppendResult]:
        """Decide every pending event against current state; mutate the cached states.

        `refused` holds, per address, an event of this batch refused before the rules: the
        address's other events then fail with it (all or nothing per address, contract §2).
        Returns the non-accepted outcomes by batch index; accepted ones get `record`/`stored`.
        `judged` receives the stream version each address was judged against, and the
        addresses whose cached state is known to be behind the store.
        """
        # States first, ids second: every event inside a freshly read state is then also found
        # by id, so a re-sent event of another writer is a duplicate, never a rule violation.
        self._ensure_states(subjects)
        judged.versions = {s: self._states[s].version for s in subjects}
        index = self.app.index.lookup_ids([p.sub.event["id"] for p in pending])
        now = self.clock()
        now_limit = format_utc(parse_utc(now) + CLOCK_TOLERANCE)
        outcome: dict[int, AppendResult] = {}
        in_batch: dict[str, _Pending] = {}
        failed: dict[str, AppendResult] = dict(refused)  # subject -> its first rejection
        for p in pending:
            p.record = None
            p.stored = None
            event = p.sub.event
            subject = event["subject"]
            line = first_line + p.index
            known = index.get(event["id"])
            if subject in failed:
                if known is not None and known.digest == p.digest:  # stored before: still a duplicate
                    outcome[p.index] = self._duplicate(line, event["id"], known, None)
                continue
            state = self._states[subject]
            twin = in_batch.get(event["id"])
            if known is not None and known.subject == subject and known.position > judged.versions[subject]:
                # Stored by another writer after this process last read the address: the cached
                # state is behind, and the events after this one must not be judged on it.
                judged.stale.add(subject)
            if known is not None or twin is not None:
                same = known.digest == p.digest if known else twin.digest == p.digest  # type: ignore[union-attr]
                if same:
                    outcome[p.index] = self._duplicate(line, event["id"], known, twin)
                    continue
                outcome[p.index] = AppendResult(
                    line,
                    event["id"],
                    REJECTED,
                    ID_CONFLICT,
                    "this id was accepted before with different content",
                    "$.id",
                )
                failed[subject] = outcome[p.index]
                continue
            try:
                if subject in expected and not any(
                    q.sub.event["subject"] == subject and q.record is not None for q in in_batch.values()
                ):
                    if state.version != expected[subject]:
                        raise Rejection(
                            VERSION_CONFLICT,
                            f"expected stream position {expected[subject]}, the stream is at {state.version}",
                        )
                recorded, limit = self._times(p.sub, state, now, now_limit, importing)
                self._check_rules(p, state, limit, in_batch)
            except Rejection as rej:
                outcome[p.index] = AppendResult(line, event["id"], REJECTED, rej.code, rej.message, rej.path)
                failed[subject] = outcome[p.index]
                continue
            stored = dict(event)
            stored["recordedtime"] = recorded
            stored["streamposition"] = state.version + 1
            stored["prevhash"] = state.last_hash
            digest = event_hash(stored)
            stored["hash"] = digest
            state.version += 1
            state.last_hash = digest
            state.last_recorded = recorded
            p.stored = stored
            p.record = LedgerRecord(subject, state.version, canonical(stored))
            in_batch[event["id"]] = p
        for subject, first in failed.items():
            # All or nothing per address: undo this batch's effect on the cached state.
            self._states.pop(subject, None)
            for p in pending:
                if p.sub.event["subject"] != subject or outcome.get(p.index) is first:
                    continue
                prior = outcome.get(p.index)
                twin = in_batch.get(p.sub.event["id"])
                if prior is not None and prior.result == DUPLICATE and twin is None:
                    continue  # a duplicate of an event stored before this batch stays one
                outcome[p.index] = AppendResult(
                    first_line + p.index,
                    p.sub.event["id"],
                    REJECTED,
                    first.code,
                    f"not appended: line {first.line} of the same address in this batch was rejected ({first.message})",
                )
        return outcome

    def _duplicate(self, line: int, event_id: str, known: IdEntry | None, twin: _Pending | None) -> AppendResult:
        if known is not None:
            original = self.app.recorder.select_events(known.subject, gt=known.position - 1, lte=known.position)
            stored = orjson.loads(original[0].state)
        else:
            stored = twin.stored  # type: ignore[union-attr]
        assert stored is not None
        return AppendResult(
            line,
            event_id,
            DUPLICATE,
            streamposition=stored["streamposition"],
            recordedtime=stored["recordedtime"],
            hash=stored["hash"],
        )

    def _times(
        self, sub: Submission, state: AddressState, now: str, now_limit: str, importing: bool
    ) -> tuple[str, str]:
        """The event's recordedtime and the clock limit R7 compares its `time` with."""
        if not importing:
            return max(now, state.last_recorded), now_limit
        recorded = sub.recordedtime
        assert recorded is not None
        if recorded > now_limit:
            raise Rejection(RULE_VIOLATED, "R7: recordedtime is in the future", "$.recordedtime")
        if recorded < sub.event["time"]:
            raise Rejection(RULE_VIOLATED, "R7: recordedtime is before the event's time", "$.recordedtime")
        if recorded < state.last_recorded:
            raise Rejection(
                RULE_VIOLATED,
                f"R7: recordedtime is before the address's last recordedtime {state.last_recorded}",
                "$.recordedtime",
            )
        return recorded, recorded  # `time` <= recordedtime is the clock bound of a backfill

    def _check_rules(self, p: _Pending, state: AddressState, limit: str, in_batch: dict[str, _Pending]) -> None:
        event = p.sub.event
        name = p.sub.name
        if name not in AMENDMENTS:
            state.check(event, name, limit)
            state.apply(event, name)
            return
        state.check(event, name, limit)
        stream = self._stream(event["subject"], in_batch)
        fresh = check_amendment(event, name, stream)
        # The amended history replaces the derived state; the chain position stays.
        for slot in DERIVED:
            setattr(state, slot, getattr(fresh, slot))
        state.has_amendments = True

    def _stream(self, subject: str, in_batch: dict[str, _Pending]) -> list[dict[str, Any]]:
        bodies = self.app.index.load_streams([subject]).get(subject, [])
        stream = [orjson.loads(b) for b in bodies]
        stream.extend(p.stored for p in in_batch.values() if p.stored is not None and p.stored["subject"] == subject)
        return stream

    def _ensure_states(self, subjects: Sequence[str]) -> None:
        missing = [s for s in subjects if s not in self._states]
        if not missing:
            return
        if len(self._states) + len(missing) > self.cache_size:
            for key in list(self._states)[: max(len(self._states) // 2, len(missing))]:
                del self._states[key]
        streams = self.app.index.load_streams(missing)
        for subject in missing:
            bodies = streams.get(subject)
            if not bodies:
                self._states[subject] = AddressState(subject)
            else:
                self._states[subject] = fold(subject, (orjson.loads(b) for b in bodies))


def check_amendment(event: dict[str, Any], name: str, stream: list[dict[str, Any]]) -> AddressState:
    """R8: the amended event exists, is the same org's, is amendable; the result stays valid.

    Returns the address's state after the amendment.
    """
    data = event["data"]
    target_id = data["corrects"] if name == "EventCorrected" else data["retracts"]
    field = "$.data.corrects" if name == "EventCorrected" else "$.data.retracts"
    target = next((e for e in stream if e["id"] == target_id), None)
    if target is None:
        raise Rejection(RULE_VIOLATED, f"R8: no earlier event {target_id} at this address", field)
    if target["org"] != event["org"]:
        raise Rejection(
            RULE_VIOLATED, f"R8: event {target_id} was emitted by {target['org']}, not {event['org']}", field
        )
    target_name = event_name(target["type"])
    if target_name in AMENDMENTS:
        raise Rejection(RULE_VIOLATED, f"R8: event {target_id} is itself a {target_name}", field)
    for e in stream:
        if e["type"].endswith(".EventRetracted.v1") and e["data"]["retracts"] == target_id:
            raise Rejection(RULE_VIOLATED, f"R8: event {target_id} was retracted", field)
    if event["time"] < target["time"]:
        # R7: an amendment depends on its target, so it cannot have happened before it.
        raise Rejection(
            RULE_VIOLATED, f"R7: time is before the time of event {target_id} ({target['time']}) it amends", "$.time"
        )
    if name == "EventCorrected":
        from pydantic import ValidationError

        try:
            model = BY_NAME[target_name].model.model_validate(data["data"])
        except ValidationError as exc:
            raise first_error(exc, "$.data.data") from None
        event["data"]["data"] = model.model_dump(exclude_none=True)
        check_personal_data({"data": {"data": event["data"]["data"]}})
    try:
        return fold(event["subject"], [*stream, event], check=True)
    except Rejection as rej:
        # rej.path points into some other event of the history: name this event's field instead.
        path = "$.data.data" if name == "EventCorrected" else field
        raise Rejection(RULE_VIOLATED, f"R8: the amended history would break {rej.message}", path) from None


# How much of a malformed submission the guard reads: strings are cut, deep nesting left out,
# so that a hostile event costs bounded time (valid events are bounded by their schemas).
_GUARD_STRING_CHARS = 2048
_GUARD_DEPTH = 16


def _personal_data_first(obj: dict[str, Any], rejection: Rejection) -> Rejection:
    """A malformed submission that carries personal data is rejected as `personal_data`.

    The code decides what happens to the submission downstream (the Kafka intake withholds
    the payload of a `personal_data` rejection, events §2), so personal data must not hide
    behind a schema error such as an e-mail address where a pseudonym belongs.
    """
    try:
        check_personal_data(_bounded(obj, _GUARD_DEPTH))
    except Rejection as found:
        return found
    return rejection


def _bounded(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return value[:_GUARD_STRING_CHARS]
    if depth <= 0:
        return None
    if isinstance(value, dict):
        return {str(k): _bounded(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_bounded(v, depth - 1) for v in value]
    return value


def _address_of(obj: dict[str, Any]) -> str | None:
    """The address a refused submission names, when it names a well-formed one."""
    subject = obj.get("subject")
    return subject if isinstance(subject, str) and SUBJECT_PATTERN.match(subject) else None
