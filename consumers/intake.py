"""The Kafka intake: inbound topics -> `LedgerService.append` -> the store; rejections -> `ledger.rejections`.

The topic decides the organisation (`ledger.inbound.img` is IMG, and so on), never the record.
Each record is one submission with its own result: records of a poll are appended in one
batch, and the addresses in which anything was rejected are appended again record by record,
so one bad record never takes its neighbours down with it (a batch is all-or-nothing per
address). Offsets are committed only after the append committed and every rejection was
acknowledged by Kafka; a crash in between re-delivers records that the ledger then answers
`duplicate` (and may publish a rejection twice).

A record rejected as `personal_data` is published without its payload (contract §2): no value,
none of its headers, its key only when that is a BAG id, but the result, where the record was
read and the SHA-256 of its value (`rejection_record`); a well-formed W3C `traceparent` is kept,
so the trace goes on (events §1). Every other rejection carries the record's headers, its trace
context also as plain `traceparent` / `tracestate` headers.

A member fenced by another with its `--instance-id` stops (`consumers.polling.Fenced`).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from consumers import failpoints
from consumers.binding import TRACE_HEADERS, decode_submission
from consumers.polling import GroupMember, raise_if_fenced
from consumers.topics import INBOUND, REJECTIONS
from domain.envelope import TRACEPARENT_FIELDS
from domain.results import ACCEPTED, DUPLICATE, PERSONAL_DATA, REJECTED, AppendResult, Rejection

Append = Callable[[Sequence[Any], str], list[AppendResult]]
ACK_TIMEOUT_S = 90.0

# Headers the intake adds to a rejected record (beside the record's own headers).
H_RESULT = "ledger_result"
H_CODE = "ledger_code"
H_TOPIC = "ledger_topic"
H_PARTITION = "ledger_partition"
H_OFFSET = "ledger_offset"
H_ORG = "ledger_org"
H_NULL_VALUE = "ledger_null_value"
H_SHA256 = "ledger_sha256"  # personal_data only: SHA-256 (lower-case hex) of the original record value
H_WITHHELD = "ledger_withheld"  # personal_data only: "true", the payload and the original headers were left out

# The message of a personal_data rejection when the guard's own message could carry the data.
WITHHELD_MESSAGE = "a field looks like personal data (contract §6); the value is not repeated here"
_BAG_ID = re.compile(rb"\d{4}20\d{10}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# What a guard message never needs: six digits in a row (separators allowed) or an e-mail's "@".
# A BSN, a phone number and an IBAN all have more digits than that.
_DATA_LIKE = re.compile(r"\d(?:[ .\-/()]?\d){5}|@")
_ECHO_MIN = 6  # record strings at least this long must not reappear in the message or path
# A W3C traceparent (version 00's fields), the only header a withheld rejection keeps: random hex.
_TRACEPARENT = re.compile(TRACEPARENT_FIELDS.encode())


@dataclass
class IntakeStats:
    records: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    batches: int = 0
    errors: int = 0


def value_sha256(record: Any) -> str:
    """SHA-256 (lower-case hex) of the record value exactly as read from the inbound topic; a null
    value hashes as zero bytes. In binary mode the value is the event's `data` JSON, in structured
    mode the whole event."""
    return hashlib.sha256(record.value or b"").hexdigest()


def _record_strings(record: Any) -> Iterator[str]:
    """The strings a record carries: its key, header values and the strings and numbers of its value."""
    for raw in (record.key, *(v for _, v in record.headers or [])):
        if raw:
            yield raw.decode("utf-8", errors="replace")
    if not record.value:
        return
    try:
        stack: list[Any] = [orjson.loads(record.value)]
    except orjson.JSONDecodeError:
        yield from record.value.decode("utf-8", errors="replace").split()
        return
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            yield str(item)


def _safe_text(text: str | None, record: Any) -> bool:
    """True when a message or path repeats nothing of the record and holds nothing data-like."""
    if text is None:
        return True
    if _DATA_LIKE.search(text):
        return False
    return not any(len(s) >= _ECHO_MIN and s in text for s in _record_strings(record))


def withheld_result(record: Any, org: str, result: AppendResult) -> dict[str, Any]:
    """The result of a `personal_data` rejection as published: no payload, nothing that repeats it.

    `id` only when it is a UUID; the guard's message and path only when they repeat none of the
    record's strings and contain nothing data-like (else a fixed message, and no path).
    """
    message = result.message if _safe_text(result.message, record) else WITHHELD_MESSAGE
    return {
        "id": result.id if isinstance(result.id, str) and _UUID.fullmatch(result.id) else None,
        "result": result.result,
        "code": result.code,
        "message": message,
        "path": result.path if _safe_text(result.path, record) else None,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "org": org,
        "sha256": value_sha256(record),
        "withheld": True,
    }


def trace_context(record: Any) -> dict[str, bytes]:
    """The record's W3C trace context as `traceparent` / `tracestate` header values: the CloudEvents
    binding's `ce_traceparent` / `ce_tracestate`, else the plain headers that tracing tools write
    (the same precedence as `decode_submission`, so a withheld rejection keeps the stored value)."""
    found: dict[str, bytes] = {}
    plain: dict[str, bytes] = {}
    for key, raw in record.headers or []:
        lowered = key.lower()
        if raw is None:
            continue
        if lowered in TRACE_HEADERS:
            plain.setdefault(lowered, raw)
        elif lowered.startswith("ce_") and lowered[3:] in TRACE_HEADERS:
            found.setdefault(lowered[3:], raw)
    plain.update(found)
    return plain


def _result_headers(body: dict[str, Any], record: Any, org: str, result: AppendResult) -> list[tuple[str, bytes]]:
    """The headers every rejection carries: the result `body`, its code, where the record was read."""
    return [
        (H_RESULT, orjson.dumps(body)),
        (H_CODE, (result.code or "").encode()),
        (H_TOPIC, record.topic.encode()),
        (H_PARTITION, str(record.partition).encode()),
        (H_OFFSET, str(record.offset).encode()),
        (H_ORG, org.encode()),
    ]


def _withheld_record(
    record: Any, org: str, result: AppendResult
) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    body = withheld_result(record, org, result)
    key = record.key if record.key is not None and _BAG_ID.fullmatch(record.key) else None
    headers = [*_result_headers(body, record, org, result), (H_SHA256, body["sha256"].encode()), (H_WITHHELD, b"true")]
    # The trace goes on (events §1) when it is a well-formed traceparent, which holds nothing but
    # random hex; tracestate is the vendors' free text and stays behind with the other headers.
    traceparent = trace_context(record).get("traceparent")
    if traceparent is not None and _TRACEPARENT.fullmatch(traceparent):
        headers.append(("traceparent", traceparent))
    return key, b"", headers


def rejection_record(
    record: Any, org: str, result: AppendResult
) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """The `ledger.rejections` record for a rejected inbound record: key, value and headers.

    A `personal_data` rejection keeps nothing of the record but its position: an empty value,
    none of the original headers (binary mode carries attributes such as `actor` there), the key
    only when it is a BAG id (the address, which is not personal data, contract §6), and the
    result with the SHA-256 of the original value (`withheld_result`). Every other rejection
    carries the original key, value and headers byte for byte, plus the result.
    """
    if result.code == PERSONAL_DATA:
        return _withheld_record(record, org, result)
    body = result.as_dict()
    body.pop("line", None)
    body.update({"topic": record.topic, "partition": record.partition, "offset": record.offset, "org": org})
    headers = [(k, v if v is not None else b"") for k, v in (record.headers or [])]
    present = {k.lower() for k, _ in headers}
    # A binary-mode record's ce_traceparent / ce_tracestate also as the plain W3C headers that
    # tracing tools read (events §1: the trace context is passed on).
    headers += [(name, raw) for name, raw in trace_context(record).items() if name not in present]
    headers += _result_headers(body, record, org, result)
    value = record.value
    if value is None:
        value = b""
        headers.append((H_NULL_VALUE, b"true"))
    return record.key, value, headers


def _assignment_logger(logger: Any) -> Any:
    """A rebalance listener that logs each assignment the group gives this member."""
    from kafka import ConsumerRebalanceListener  # only a running intake loads the Kafka client

    class LogAssignments(ConsumerRebalanceListener):  # type: ignore[misc]
        def on_partitions_revoked(self, revoked: Any) -> None:
            pass  # offsets are committed after every durable append; nothing is pending here

        def on_partitions_assigned(self, assigned: Any) -> None:
            names = sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)
            logger.info("intake assigned partitions", partitions=names)

    return LogAssignments()


class Intake(GroupMember[IntakeStats]):
    """Consumes the inbound topics as one consumer group and appends through the ledger's service."""

    name = "intake"
    waiting_for = "kafka or the store"

    def __init__(
        self,
        append: Append,
        consumer_factory: Callable[[], Any],
        producer_factory: Callable[[], Any],
        *,
        topics: dict[str, str] | None = None,
        rejections_topic: str = REJECTIONS,
        stop: threading.Event | None = None,
        rebalancing_factory: Callable[[], Any] | None = None,
        observe: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__(consumer_factory, IntakeStats(), stop, rebalancing_factory, observe)
        self.append = append
        self.producer_factory = producer_factory
        self.topics = dict(topics or INBOUND)
        self.rejections_topic = rejections_topic
        self._producer: Any = None

    # -- running ---------------------------------------------------------------------------------
    def _started(self) -> dict[str, Any]:
        return {"topics": sorted(self.topics)}

    def _session(self, once: bool, max_idle: float | None) -> bool:
        """Poll and process until stopped or done; True when done (`once`)."""
        consumer = self._join(sorted(self.topics), lambda _: _assignment_logger(self.logger))
        if self._producer is None:
            self._producer = self.producer_factory()
        return self._poll_loop(consumer, sorted(self.topics), once=once, max_idle=max_idle)

    def _handle(self, consumer: Any, polled: dict[Any, list[Any]]) -> None:
        self._process(polled)

    def _handled(self, consumer: Any, polled: dict[Any, list[Any]], handled: None) -> None:
        failpoints.hit("intake.after_append_before_commit")
        self._commit(consumer, polled)

    # -- one poll --------------------------------------------------------------------------------
    def _process(self, polled: dict[Any, list[Any]]) -> None:
        by_org: dict[str, list[Any]] = {}
        for tp, records in polled.items():
            by_org.setdefault(self.topics[tp.topic], []).extend(records)
        rejected: list[tuple[Any, str, AppendResult]] = []
        for org, records in by_org.items():
            for record, result in zip(records, self._append_records(records, org), strict=True):
                self._count(result)
                if result.result == REJECTED:
                    rejected.append((record, org, result))
        failpoints.hit("intake.after_append_before_rejections")
        if rejected:
            self._publish_rejections(rejected)
        self.stats.batches += 1
        self.stats.records += sum(len(r) for r in by_org.values())

    def _append_records(self, records: list[Any], org: str) -> list[AppendResult]:
        """One result per record: decode, append as a batch, redo addresses with a rejection one by one."""
        results: list[AppendResult | None] = [None] * len(records)
        items: list[Any] = []
        where: list[int] = []
        for i, record in enumerate(records):
            try:
                items.append(decode_submission(record.value, record.headers or []))
                where.append(i)
            except Rejection as rej:
                results[i] = AppendResult(i + 1, None, REJECTED, rej.code, rej.message, rej.path)
        if items:
            first = self.append(items, org)
            for i, result in zip(where, first, strict=True):
                results[i] = result
            if any(results[i].result == REJECTED for i in where):  # type: ignore[union-attr]
                subjects = [_subject_of(item) for item in items]
                spoiled = {subjects[k] for k, i in enumerate(where) if results[i].result == REJECTED}  # type: ignore[union-attr]
                spoiled.discard(None)
                for k, i in enumerate(where):
                    if subjects[k] in spoiled and results[i].result == REJECTED:  # type: ignore[union-attr]
                        results[i] = self.append([items[k]], org)[0]
        return [r for r in results if r is not None]

    def _count(self, result: AppendResult) -> None:
        if result.result == ACCEPTED:
            self.stats.accepted += 1
        elif result.result == DUPLICATE:
            self.stats.duplicate += 1
        else:
            self.stats.rejected += 1

    def _publish_rejections(self, rejected: list[tuple[Any, str, AppendResult]]) -> None:
        producer = self._producer
        futures = []
        for record, org, result in rejected:
            key, value, headers = rejection_record(record, org, result)
            futures.append(producer.send(self.rejections_topic, value=value, key=key, headers=headers))
        producer.flush(timeout=ACK_TIMEOUT_S)
        for future in futures:
            future.get(timeout=ACK_TIMEOUT_S)
        for record, org, result in rejected[:20]:
            message = (
                withheld_result(record, org, result)["message"] if result.code == PERSONAL_DATA else result.message
            )
            self.logger.info(
                "intake rejected a record",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                org=org,
                code=result.code,
                message=message,
            )

    def _commit(self, consumer: Any, polled: dict[Any, list[Any]]) -> None:
        from kafka.structs import OffsetAndMetadata

        offsets = {tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in polled.items()}
        try:
            consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001 - a rebalance took the partitions: they are re-read, harmlessly
            raise_if_fenced(exc, "intake", consumer)  # ... but a fenced member is outside the group for good
            self.logger.warning("intake could not commit offsets; records will be re-read", error=str(exc))

    # -- clients ---------------------------------------------------------------------------------
    def _close(self, *, clean: bool) -> None:
        consumer, self._consumer = self._consumer, None
        producer, self._producer = self._producer, None
        for client, kwargs in ((consumer, {"autocommit": False}), (producer, {"timeout": 10 if clean else 0})):
            if client is None:
                continue
            try:
                client.close(**kwargs)
            except Exception:  # noqa: BLE001 - closing after a failure
                pass


def _subject_of(item: Any) -> str | None:
    """The subject of a submission, if it can be seen without validating it."""
    if isinstance(item, dict):
        subject = item.get("subject")
        return subject if isinstance(subject, str) else None
    try:
        obj = orjson.loads(item)
    except orjson.JSONDecodeError:
        return None
    subject = obj.get("subject") if isinstance(obj, dict) else None
    return subject if isinstance(subject, str) else None
