"""The CloudEvents Kafka protocol binding (contract §1): stored events <-> Kafka records.

Binary mode, as the relay publishes on `ledger.events`: the record value is the `data` object
as JSON, `datacontenttype` (when present) is the `content-type` header, every other attribute
is a `ce_<name>` header with a UTF-8 string value (`streamposition` as a decimal string), and
the record key is `subject`. Structured mode (accepted on the inbound topics): a
`content-type` header starting with `application/cloudevents` and the whole event as JSON in
the value. No Kafka import here; records are plain (key, value, headers) triples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from domain import jsontext
from domain.results import MAX_EVENT_BYTES, SCHEMA_INVALID, Rejection

Headers = list[tuple[str, bytes]]
CONTENT_TYPE = "content-type"
STRUCTURED_PREFIX = "application/cloudevents"
INTEGER_ATTRIBUTES = frozenset({"streamposition"})

# Header names of the attributes a stored event can have, precomputed for the relay's hot loop.
_HEADER_NAMES = {
    name: f"ce_{name}"
    for name in (
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "org",
        "actor",
        "correlationid",
        "causationid",
        "traceparent",
        "tracestate",
        "recordedtime",
        "streamposition",
        "prevhash",
        "hash",
    )
}
_HEADER_NAMES["datacontenttype"] = CONTENT_TYPE
# W3C Trace Context on Kafka: tracing tools (OpenTelemetry's Kafka instrumentations) read and write
# plain `traceparent` / `tracestate` headers; the CloudEvents binding names them `ce_traceparent` /
# `ce_tracestate`. The relay writes both; an inbound record may carry either.
TRACE_HEADERS = ("traceparent", "tracestate")


def to_binary(event: dict[str, Any]) -> tuple[bytes, bytes, Headers]:
    """A stored event as a binary-mode record: (key, value, headers)."""
    names = _HEADER_NAMES
    headers: Headers = []
    for name, value in event.items():
        if name == "data":
            continue
        header = names.get(name) or f"ce_{name}"
        raw = (value if isinstance(value, str) else str(value)).encode()
        headers.append((header, raw))
        if name in TRACE_HEADERS:
            headers.append((name, raw))
    return event["subject"].encode(), orjson.dumps(event["data"]), headers


def stored_to_binary(body: bytes) -> tuple[bytes, bytes, Headers]:
    """As `to_binary`, from the stored JSON bytes of the event store."""
    return to_binary(orjson.loads(body))


_ATTRIBUTE_OF = {header: name for name, header in _HEADER_NAMES.items()}
_ATTRIBUTE_OF.update({name: name for name in TRACE_HEADERS})  # the relay writes both forms, equal


def from_binary(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """A binary-mode record of `ledger.events` back to the stored event (what `ledger export` prints).

    Trusts its input (the relay wrote it); use `decode_submission` for records from outside.
    """
    names = _ATTRIBUTE_OF
    try:
        event: dict[str, Any] = {names[key]: raw.decode() for key, raw in headers}
    except KeyError:  # a header the relay does not write (an extension, tracing): the general rule
        event = {}
        for key, raw in headers:
            if key.startswith("ce_"):
                event[key[3:]] = raw.decode()
            elif key == CONTENT_TYPE:
                event["datacontenttype"] = raw.decode()
        for key, raw in headers:
            if key in TRACE_HEADERS:
                event.setdefault(key, raw.decode())
    position = event.get("streamposition")
    if position is not None:
        event["streamposition"] = int(position)
    event["data"] = orjson.loads(value) if value is not None else None
    return event


def is_structured(headers: Sequence[tuple[str, bytes]]) -> bool:
    """Whether a record is in structured mode (its content-type says application/cloudevents...)."""
    for key, raw in headers:
        if key.lower() == CONTENT_TYPE:
            return raw.decode("utf-8", "replace").strip().lower().startswith(STRUCTURED_PREFIX)
    return False


def decode_submission(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> bytes | dict[str, Any]:
    """An inbound record as a submission for `LedgerService.append`.

    Structured mode gives the value bytes unchanged (the service parses and size-checks them);
    binary mode gives the event rebuilt from its headers and value. Raises `Rejection`
    (`schema_invalid`) when the record cannot be read as a CloudEvent at all.
    """
    if is_structured(headers):
        content_type = next(raw for key, raw in headers if key.lower() == CONTENT_TYPE).decode().lower()
        if "batch" in content_type:
            raise Rejection(
                SCHEMA_INVALID, "CloudEvents batch mode is not supported on Kafka; send one event per record"
            )
        if value is None:
            raise Rejection(SCHEMA_INVALID, "a structured-mode record needs the event as its value", "$")
        return _with_trace_headers(value, headers)
    event: dict[str, Any] = {}
    trace: dict[str, Any] = {}
    for key, raw in headers:
        lowered = key.lower()
        if lowered == CONTENT_TYPE:
            name = "datacontenttype"
        elif lowered.startswith("ce_"):
            name = lowered[3:]
        elif lowered in TRACE_HEADERS:
            trace.setdefault(lowered, raw)  # W3C trace context: the attribute, unless ce_<name> gives it
            continue
        else:
            continue  # other headers are not CloudEvents attributes
        if name == "data":
            raise Rejection(SCHEMA_INVALID, "ce_data is not an attribute; data goes in the record value", "$.data")
        if name in event:
            raise Rejection(SCHEMA_INVALID, f"header {key} appears more than once", f"$.{name}")
        try:
            event[name] = raw.decode("utf-8") if raw is not None else None
        except UnicodeDecodeError:
            raise Rejection(SCHEMA_INVALID, f"header {key} is not UTF-8", f"$.{name}") from None
    for name, raw in trace.items():
        if name not in event:
            try:
                event[name] = raw.decode("utf-8") if raw is not None else None
            except UnicodeDecodeError:
                raise Rejection(SCHEMA_INVALID, f"header {name} is not UTF-8", f"$.{name}") from None
    if value is None:
        raise Rejection(SCHEMA_INVALID, "the record has no value: data is required", "$.data")
    try:
        event["data"] = jsontext.loads(value, "$.data")
    except orjson.JSONDecodeError as exc:
        raise Rejection(SCHEMA_INVALID, f"the record value (data) is not valid JSON: {exc}", "$.data") from None
    except jsontext.DuplicateKey as exc:
        raise Rejection(SCHEMA_INVALID, f"duplicate key: {exc}", exc.path) from None
    return event


def _with_trace_headers(value: bytes, headers: Sequence[tuple[str, bytes]]) -> bytes | dict[str, Any]:
    """A structured-mode event with the record's `traceparent` / `tracestate` headers as attributes
    where the event has none of its own; the value unchanged when there is nothing to add (or it
    cannot be read: the service then rejects it as it stands)."""
    trace = {key.lower(): raw for key, raw in headers if key.lower() in TRACE_HEADERS and raw is not None}
    if not trace or len(value) > MAX_EVENT_BYTES:  # too_large is decided on the bytes as sent
        return value
    try:
        event = jsontext.loads(value)
    except (orjson.JSONDecodeError, jsontext.DuplicateKey):
        return value
    if not isinstance(event, dict) or all(name in event for name in trace):
        return value
    for name, raw in trace.items():
        if name not in event:
            try:
                event[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Rejection(SCHEMA_INVALID, f"header {name} is not UTF-8", f"$.{name}") from None
    return event
