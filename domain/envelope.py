"""The CloudEvents 1.0 envelope of contract §1: parse, validate and normalise a submission."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from domain import jsontext
from domain.catalogue import Pseudonym, Uuid, lookup
from domain.chain import LEDGER_ATTRIBUTES
from domain.results import (
    MAX_EVENT_BYTES,
    NOT_AUTHORIZED,
    SCHEMA_INVALID,
    TOO_LARGE,
    UNKNOWN_TYPE,
    Rejection,
)
from domain.timeutil import normalise

RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
TYPE_PATTERN = re.compile(r"^nl\.groningen\.(img|ncg|resident|coordination|ledger)\.[A-Za-z]+\.v[1-9][0-9]*$")
PRINCIPALS = ("IMG", "NCG", "PORTAL")
SUBJECT_PATTERN = re.compile(r"^\d{4}20\d{10}$")


def not_a_subject(value: str) -> str:
    """The one message for an address that is not a BAG nummeraanduiding id (CLI, HTTP, replay)."""
    return f"{value!r} is not a BAG nummeraanduiding id (16 digits, the 5th and 6th 20, e.g. 0014200000000001)"


Timestamp = Annotated[str, StringConstraints(pattern=RFC3339)]
# W3C Trace Context (the CloudEvents distributed-tracing extension, contract §1 since 1.1): stored and
# passed on, never interpreted. `traceparent` is version-traceid-parentid-flags in lower-case hex (a
# later version may add fields after another dash); `tracestate` is the vendors' list, printable ASCII.
TRACEPARENT_FIELDS = r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"  # version 00's: nothing but random hex
TRACEPARENT = rf"^{TRACEPARENT_FIELDS}(-[\x21-\x7e]{{1,200}})?$"
TRACESTATE = r"^[\x20-\x7e]{0,512}$"
Traceparent = Annotated[str, StringConstraints(pattern=TRACEPARENT)]
Tracestate = Annotated[str, StringConstraints(pattern=TRACESTATE)]

# What a pattern means, for people: a mismatch names the expected form instead of the regex.
PATTERN_MEANING = {
    RFC3339: "must be an RFC 3339 timestamp with an offset, e.g. 2021-03-04T09:00:00Z",
    SUBJECT_PATTERN.pattern: "must be a BAG nummeraanduiding id: 16 digits, the 5th and 6th 20 (e.g. 0014200000000001)",
    r"^\S+$": "must not be empty or contain whitespace",
    r"^[a-z0-9-]{1,64}$": "must be a pseudonym: 1 to 64 lower-case letters, digits or hyphens",
    r"^[A-Za-z0-9._:-]{1,64}$": "must be a reference: 1 to 64 letters, digits or . _ : -",
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$": (
        "must be a UUID, e.g. 6a0c1c2e-0000-4000-8000-000000000001"
    ),
    r"^[1-9][0-9]{3}[A-Z]{2}$": "must be a Dutch postcode: 4 digits, the first not 0, and 2 capitals (e.g. 9711AB)",
    r"^[A-Za-z]$": "must be one letter",
    r"^[A-Za-z0-9]{1,4}$": "must be 1 to 4 letters or digits",
    r"^[0-9]{4}$": "must be 4 digits",
    r"^\d{4}10\d{10}$": "must be a BAG pand id: 16 digits, the 5th and 6th 10",
    r"^\d{4}01\d{10}$": "must be a BAG verblijfsobject id: 16 digits, the 5th and 6th 01",
    TRACEPARENT: (
        "must be a W3C traceparent: version-traceid-parentid-flags in lower-case hex, "
        "e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    ),
    TRACESTATE: "must be a W3C tracestate: at most 512 printable ASCII characters",
}


class Envelope(BaseModel):
    """The publisher-set attributes; `data` is checked against its type's model afterwards."""

    model_config = ConfigDict(extra="forbid", strict=True)

    specversion: Literal["1.0"]
    id: Uuid
    source: Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^\S+$")]
    type: Annotated[str, StringConstraints(max_length=256)]
    subject: Annotated[str, StringConstraints(pattern=SUBJECT_PATTERN.pattern)]
    time: Timestamp
    org: Literal["IMG", "NCG", "PORTAL"]
    actor: Pseudonym | None = None
    correlationid: Uuid | None = None
    causationid: Uuid | None = None
    datacontenttype: Literal["application/json"] | None = None
    traceparent: Traceparent | None = None
    tracestate: Tracestate | None = None
    data: dict[str, Any]
    recordedtime: Timestamp | None = None


def json_path(loc: tuple[int | str, ...], prefix: str = "$") -> str:
    """A pydantic error location as a JSON path: ('data', 'claim_ids', 2) -> $.data.claim_ids[2]."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def first_error(exc: ValidationError, prefix: str = "$") -> Rejection:
    """The first pydantic error as a `schema_invalid` rejection with its path."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    path = json_path(loc, prefix)
    if err["type"] == "extra_forbidden":
        message = f"unknown field {path}"
    elif err["type"] == "missing":
        message = f"missing required field {path}"
    elif err["type"] == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        message = f"{path}: {PATTERN_MEANING.get(pattern) or err['msg']}"
    else:
        message = f"{path}: {err['msg']}"
    return Rejection(SCHEMA_INVALID, message, path)


def strip_nulls(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out optional fields that are null (contract §5)."""
    return {k: v for k, v in data.items() if v is not None}


@dataclass(slots=True)
class Submission:
    """A structurally valid event in normalised publisher form (plus `recordedtime` on import)."""

    event: dict[str, Any]
    name: str
    recordedtime: str | None


@dataclass(frozen=True, slots=True)
class Oversized:
    """A submission that its reader stopped reading past the size limit: at least `size` bytes.

    Readers of line streams hand this over instead of the line, so that a line of any length
    costs bounded memory and still gets its one `too_large` result in its place.
    """

    size: int


def decode_line(raw: bytes | str | dict[str, Any] | Oversized) -> dict[str, Any]:
    """Parse one submitted event; raise `too_large` or `schema_invalid` for bad input."""
    if isinstance(raw, Oversized):
        raise Rejection(TOO_LARGE, f"event is larger than {MAX_EVENT_BYTES} bytes (at least {raw.size:,} bytes)")
    if isinstance(raw, dict):
        obj: Any = raw
        try:
            size = len(orjson.dumps(raw))
        except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate: not representable as JSON
            raise Rejection(SCHEMA_INVALID, f"not valid JSON: {exc}") from None
        if size > MAX_EVENT_BYTES:
            raise Rejection(TOO_LARGE, f"event is larger than {MAX_EVENT_BYTES} bytes")
    else:
        # The limit is on the event's UTF-8 bytes, also when it is handed over as text.
        size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_EVENT_BYTES:
            raise Rejection(TOO_LARGE, f"event is larger than {MAX_EVENT_BYTES} bytes")
        try:
            obj = jsontext.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Rejection(SCHEMA_INVALID, f"not valid JSON: {exc}") from None
        except jsontext.DuplicateKey as exc:
            raise Rejection(SCHEMA_INVALID, f"duplicate key: {exc}", exc.path) from None
    if not isinstance(obj, dict):
        raise Rejection(SCHEMA_INVALID, "an event must be a JSON object", "$")
    return obj


def validate(obj: dict[str, Any], principal: str | None, *, importing: bool = False) -> Submission:
    """Check envelope, type, payload and authorisation (R1); return the normalised event.

    `principal` None (historical import by the operator) trusts the event's own `org`.
    """
    for attribute in LEDGER_ATTRIBUTES:
        if attribute in obj and not (importing and attribute == "recordedtime"):
            raise Rejection(SCHEMA_INVALID, f"{attribute} is set by the ledger, not by a publisher", f"$.{attribute}")
    if importing and obj.get("recordedtime") is None:  # absent, or null (which means absent, §5)
        raise Rejection(SCHEMA_INVALID, "an imported event needs its original recordedtime", "$.recordedtime")
    try:
        envelope = Envelope.model_validate(obj)
    except ValidationError as exc:
        raise first_error(exc) from None
    if not TYPE_PATTERN.match(envelope.type):
        raise Rejection(SCHEMA_INVALID, "type must look like nl.groningen.<group>.<EventName>.v<N>", "$.type")
    entry = lookup(envelope.type)
    if entry is None:
        raise Rejection(UNKNOWN_TYPE, f"unknown event type {envelope.type}", "$.type")
    try:
        payload = entry.model.model_validate(envelope.data)
    except ValidationError as exc:
        raise first_error(exc, "$.data") from None
    if envelope.org not in entry.emitters:
        raise Rejection(
            NOT_AUTHORIZED,
            f"R1: {envelope.org} may not emit {entry.name} (emitters: {', '.join(sorted(entry.emitters))})",
            "$.org",
        )
    if principal is not None and envelope.org != principal:
        raise Rejection(
            NOT_AUTHORIZED,
            f"R1: org {envelope.org} differs from the authenticated organisation {principal}",
            "$.org",
        )
    # Strict validation guarantees the input already has the models' types: keep it as given,
    # minus nulls (contract §5), rather than paying for a model dump on the hot path.
    event = {k: v for k, v in obj.items() if v is not None}
    event["data"] = strip_nulls(envelope.data)
    if entry.name == "EventCorrected" and isinstance(event["data"].get("data"), dict):
        event["data"]["data"] = strip_nulls(event["data"]["data"])
    del payload
    try:
        event["time"] = normalise(_six_digits(envelope.time))
    except ValueError:
        raise Rejection(SCHEMA_INVALID, "time is not a valid RFC 3339 timestamp", "$.time") from None
    recorded = None
    if importing:
        try:
            recorded = normalise(_six_digits(event.pop("recordedtime")))
        except ValueError:
            raise Rejection(
                SCHEMA_INVALID, "recordedtime is not a valid RFC 3339 timestamp", "$.recordedtime"
            ) from None
    return Submission(event, entry.name, recorded)


def _six_digits(text: str) -> str:
    """Cut fractional seconds to microseconds (RFC 3339 allows more; the ledger keeps six)."""
    if len(text) == 27 and text[19] == "." and text[26] == "Z":
        return text  # the ledger's own form (the common case): six digits already
    dot = text.find(".")
    if dot < 0:
        return text
    end = dot + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[: min(end, dot + 7)] + text[end:]
