"""`POST /events`: the CloudEvents HTTP binding (events §2) onto the append path of `ledger append`.

Three modes, by `Content-Type`:

- structured, `application/cloudevents+json`: the body is one event, handed to the append
  service as the bytes `ledger append` would read as one line;
- batched, `application/cloudevents-batch+json`: a JSON array of events, one append batch
  (all-or-nothing per address, as a batch of `ledger append`); element i gets result i;
- binary, any `ce-*` header (and `Content-Type` absent or `application/json`): the attributes
  are the percent-decoded `ce-*` headers, `Content-Type` is `datacontenttype`, the body is
  `data` (one JSON value, inserted unchanged, so the event is the one the structured form names).

The answer to a well-formed, authorised request is 200 with a JSON array of the result objects
`ledger append` prints (`line` = the event's 1-based place in the request), in input order; a
rejected event is a result, not an HTTP error. The request itself is refused with problem
details: 401/403 (decided before the body is read), 413 for one event over 64 KiB, a batch over
10,000 events or a body over `LEDGER_HTTP_MAX_BODY` (read with that bound, never further), 415
for another content type, 400 for a batch that is not a JSON array or malformed `ce-*` headers.

The principal is the token's role; nothing in the body or the headers names it. The append runs
in the thread pool, one batch at a time per server process (the service is not shared between
threads), so the event loop never waits on the store.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from domain import jsontext
from domain.results import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, REJECTED, SCHEMA_INVALID, AppendResult
from ledger.bootstrap import Ledger, open_ledger
from ledger.identity.access import declare, principal_of
from ledger.openapi import AppendResult as AppendResultModel
from ledger.problems import HttpError, problem

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON_MEDIA = "application/json"
DEFAULT_MAX_BODY = 32 * 1024 * 1024
EVENT_BODY_LIMIT = MAX_EVENT_BYTES + 1024  # one event plus surrounding white space, as `ledger append` reads a line
_CE_SAFE = frozenset(chr(c) for c in range(0x21, 0x7F))

router = APIRouter(tags=["events"])
_append_lock = threading.Lock()


class TooLarge(Exception):
    pass


def _media(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return "", {}
    media, *params = content_type.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), parsed


async def _read_body(request: Request, limit: int, what: str) -> bytes:
    """The body, refusing (413) as soon as it is longer than `limit`: never read further."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HttpError(400, "Content-Length is not a whole number")
        if int(declared) > limit:
            raise HttpError(413, f"{what} is larger than {limit:,} bytes ({int(declared):,} bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"{what} is larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class _Pairs(list[tuple[str, Any]]):
    pass


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _encode_pairs(value: Any) -> str:
    """JSON text of a value parsed with repeated keys kept (so the append path names the repeat)."""
    if isinstance(value, _Pairs):
        return "{" + ",".join(json.dumps(k) + ":" + _encode_pairs(v) for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode_pairs(v) for v in value) + "]"
    return json.dumps(value)


def batch_items(body: bytes) -> list[Any]:
    """The elements of a batch, each as the append service takes it: the parsed object when the
    body repeats no key anywhere (the common case, one parse), else each element's text with its
    repeats kept, so each event gets exactly the result `ledger append` gives its line."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = None
    if value is not None and not isinstance(value, list):
        raise HttpError(400, f"a batch ({BATCH}) must be a JSON array of events")
    if isinstance(value, list):
        if len(value) > MAX_BATCH_EVENTS:
            raise HttpError(413, f"a batch may hold at most {MAX_BATCH_EVENTS:,} events ({len(value):,} given)")
        if jsontext._keys_in_text(body) == jsontext._keys_in_value(value):
            return [v if isinstance(v, dict) else orjson.dumps(v) for v in value]
    # Repeated keys, or something orjson cannot represent (e.g. an integer beyond 64 bits).
    try:
        tree = json.loads(body, object_pairs_hook=_Pairs, parse_constant=_strict_constant)
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, f"the body is not a JSON array of events: {str(exc)[:200]}") from None
    if not isinstance(tree, list):
        raise HttpError(400, f"a batch ({BATCH}) must be a JSON array of events")
    if len(tree) > MAX_BATCH_EVENTS:
        raise HttpError(413, f"a batch may hold at most {MAX_BATCH_EVENTS:,} events ({len(tree):,} given)")
    return [_encode_pairs(v).encode("utf-8", "surrogatepass") for v in tree]


def _header_value(name: str, raw: str) -> str:
    if not all(c in _CE_SAFE or c == " " for c in raw):
        raise HttpError(400, f"header {name}: characters outside printable ASCII must be percent-encoded", name)
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise HttpError(400, f"header {name}: its percent-encoding is not UTF-8", name) from None


def binary_event(request: Request, body: bytes) -> tuple[bytes | None, AppendResult | None]:
    """The structured form of a binary-mode event, or the result refusing its `data`."""
    attributes: dict[str, str] = {}
    for key, raw in request.headers.raw:
        name = key.decode("latin-1").lower()
        if not name.startswith("ce-"):
            continue
        attribute = name[3:]
        if not attribute:
            raise HttpError(400, "a header named just 'ce-' names no attribute", name)
        if attribute in attributes:
            raise HttpError(400, f"header {name} is given more than once", name)
        attributes[attribute] = _header_value(name, raw.decode("latin-1"))
    content_type = request.headers.get("content-type")
    if content_type is not None:
        attributes.setdefault("datacontenttype", content_type.strip())
    text = orjson.dumps(attributes)
    data = body.strip()
    if not data:
        return text, None
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            json.loads(data, parse_constant=_strict_constant)  # valid JSON orjson cannot hold: the append path says so
        except (ValueError, RecursionError):
            event_id = attributes.get("id")
            return None, AppendResult(1, event_id, REJECTED, SCHEMA_INVALID, "data is not valid JSON", "$.data")
    joiner = b',"data":' if len(attributes) else b'"data":'
    return text[:-1] + joiner + data + b"}", None


def _append(request: Request, items: list[Any], principal: str) -> list[AppendResult]:
    state = request.app.state
    with _append_lock:
        ledger: Ledger | None = state.ledger
        if ledger is None:
            ledger = state.ledger = open_ledger()
        counted = getattr(state, "count_appends", None)  # set by ledger.ops.install under `ledger serve`
        if counted is not None:
            return counted(ledger.service.append)(items, principal)
        return ledger.service.append(items, principal)


def _answer(results: list[AppendResult]) -> Response:
    return Response(orjson.dumps([r.as_dict() for r in results]), media_type=JSON_MEDIA)


@router.post(
    "/events",
    summary="Append CloudEvents (HTTP binding: structured, batched or binary mode)",
    description=__doc__,
    response_model=list[AppendResultModel],
    openapi_extra=declare(
        "append",
        requestBody={
            "required": True,
            "content": {
                STRUCTURED: {"schema": {"type": "object", "description": "one CloudEvent (events §1)"}},
                BATCH: {"schema": {"type": "array", "items": {"type": "object"}, "maxItems": MAX_BATCH_EVENTS}},
                JSON_MEDIA: {"schema": {"description": "binary mode: the event's data; attributes in ce-* headers"}},
            },
        },
    ),
    responses={
        200: {"description": "one result per event, in input order (accepted, duplicate or rejected)"},
        400: {"description": "a batch that is not a JSON array, or malformed ce-* headers"},
        413: {"description": "an event over 64 KiB, a batch over 10,000 events, or a body over the limit"},
        415: {"description": "another content type"},
    },
)
async def post_events(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:  # not reached: the route's access is `append`
        return problem(401, "this needs a bearer token")
    media, params = _media(request.headers.get("content-type"))
    charset = params.get("charset")
    binary = any(key.lower().startswith(b"ce-") for key, _ in request.headers.raw)
    try:
        if charset not in (None, "utf-8"):
            raise HttpError(415, f"charset {charset!r}: events are UTF-8")
        if media == STRUCTURED:
            body = await _read_body(request, EVENT_BODY_LIMIT, "an event")
            item = body.strip()
            if len(item) > MAX_EVENT_BYTES:
                raise HttpError(413, f"an event is larger than {MAX_EVENT_BYTES:,} bytes ({len(item):,} bytes)")
            items: list[Any] = [item]
        elif media == BATCH:
            body = await _read_body(request, request.app.state.max_body, "the body")
            items = batch_items(body)
            if not items:
                return _answer([])
        elif binary and media in ("", JSON_MEDIA):
            body = await _read_body(request, EVENT_BODY_LIMIT, "an event's data")
            event, refused = binary_event(request, body)
            if refused is not None:
                return _answer([refused])
            assert event is not None
            if len(event) > MAX_EVENT_BYTES:
                raise HttpError(413, f"an event is larger than {MAX_EVENT_BYTES:,} bytes ({len(event):,} bytes)")
            items = [event]
        else:
            given = media or "none"
            raise HttpError(
                415,
                f"content type {given[:100]!r}: send {STRUCTURED} (one event), {BATCH} (a JSON array) "
                f"or binary mode (ce-* headers, data as {JSON_MEDIA})",
            )
    except HttpError as exc:
        return exc.response()
    results = await run_in_threadpool(_append, request, items, principal.role)
    return _answer(results)
