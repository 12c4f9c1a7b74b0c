"""HTTP routes for the log's checkpoints and proofs (contract trust §2), anonymous like /healthz.

- `GET /checkpoint`: the latest published checkpoint, a C2SP signed note (`text/plain`), with
  the ledger's signature and the witnesses' cosignatures;
- `GET /checkpoints/{size}`: the published checkpoint of that size (404 when none);
- `GET /proofs/inclusion?position=P&size=N`: RFC 9162 §2.1.3 inclusion proof of the event at
  global position P (1-based) in the tree of size N (default: the latest checkpoint's);
- `GET /proofs/consistency?from=M&to=N`: RFC 9162 §2.1.4 consistency proof;

hashes in base64. A parameter that is missing, not a whole number or out of range is 422 with
RFC 9457 problem details naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from domain.note import b64
from ledger.openapi import ConsistencyProof, InclusionProof
from ledger.problems import BadParameter, problem, refuse_unknown

router = APIRouter(tags=["checkpoints and proofs"])
JSON = "application/json"
NOTE = "text/plain; charset=utf-8"
Endpoint = Callable[[Request], Response]


def _ledger(request: Request) -> Any:
    state = request.app.state
    if getattr(state, "ledger", None) is None:
        from ledger.bootstrap import open_ledger

        state.ledger = open_ledger()
    return state.ledger


def _int(query: Any, name: str, *, required: bool = True) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        if required:
            raise BadParameter(name, f"parameter {name!r} is required")
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise BadParameter(name, f"parameter {name!r} must be a whole number, not {raw[:40]!r}")
    return int(raw)


def _numbers(request: Request, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[Any, list[int | None]]:
    """The log's tree and the whole-number query parameters `names` (required) and `optional`, in that
    order; any other parameter is refused. A bad one raises `BadParameter`, which the app answers
    with 422 problem details naming it."""
    query = request.query_params
    refuse_unknown(query, {*names, *optional})
    values = [_int(query, name) for name in names] + [_int(query, name, required=False) for name in optional]
    return _ledger(request).tree, values


NOTE_DOC = {"description": "the C2SP signed note (checkpoint, signatures, cosignatures)"}
BAD_NUMBER = {"description": "a parameter missing, not a whole number or out of range (named in invalid-params)"}


@router.get(
    "/checkpoint",
    summary="The latest published checkpoint (C2SP signed note, cosigned)",
    response_class=PlainTextResponse,
    responses={200: NOTE_DOC, 404: {"description": "no checkpoint has been published yet"}},
)
def latest_checkpoint(request: Request) -> Response:
    stored = _ledger(request).tree.checkpoint()
    if stored is None:
        return problem(404, "no checkpoint has been published yet")
    return Response(stored.note, media_type=NOTE)


@router.get(
    "/checkpoints/{size}",
    summary="The published checkpoint of one tree size",
    response_class=PlainTextResponse,
    responses={200: NOTE_DOC, 404: {"description": "no checkpoint of that size was published"}, 422: BAD_NUMBER},
)
def checkpoint_of_size(request: Request, size: str) -> Response:
    if not size.isascii() or not size.isdigit() or len(size) > 19:
        return problem(422, f"size must be a whole number, not {size[:40]!r}", parameter="size")
    stored = _ledger(request).tree.checkpoint(int(size))
    if stored is None:
        return problem(404, f"no checkpoint of size {int(size)} was published")
    return Response(stored.note, media_type=NOTE)


def _proof_route(path: str, summary: str, model: type[Any]) -> Callable[[Endpoint], Endpoint]:
    """A proof endpoint's route: JSON described by `model`, 422 for a bad number."""
    return router.get(path, summary=summary, response_model=model, responses={422: BAD_NUMBER})


@_proof_route("/proofs/inclusion", "RFC 9162 inclusion proof of a global position in a tree size", InclusionProof)
def inclusion(request: Request) -> Response:
    tree, (position, size) = _numbers(request, ("position",), optional=("size",))
    tree_size = tree.size()
    if size is None:
        latest = tree.checkpoint()
        size = latest.size if latest else tree_size
    if not 1 <= size <= tree_size:
        raise BadParameter("size", f"size {size} is not a tree size of this log (1..{tree_size})")
    assert position is not None
    if not 1 <= position <= size:
        raise BadParameter("position", f"position {position} is not in the tree of size {size} (1..{size})")
    body = {
        "position": position,
        "size": size,
        "leaf_hash": b64(tree.leaf(position - 1)),
        "root": b64(tree.root(size)),
        "proof": [b64(h) for h in tree.inclusion(position - 1, size)],
    }
    return Response(orjson.dumps(body), media_type=JSON)


@_proof_route("/proofs/consistency", "RFC 9162 consistency proof between two tree sizes", ConsistencyProof)
def consistency(request: Request) -> Response:
    tree, (old, new) = _numbers(request, ("from", "to"))
    assert old is not None and new is not None
    tree_size = tree.size()
    if not 1 <= new <= tree_size:
        raise BadParameter("to", f"to {new} is not a tree size of this log (1..{tree_size})")
    if not 1 <= old <= new:
        raise BadParameter("from", f"from {old} must be between 1 and to ({new})")
    body = {
        "from": old,
        "to": new,
        "from_root": b64(tree.root(old)),
        "to_root": b64(tree.root(new)),
        "proof": [b64(h) for h in tree.consistency(old, new)],
    }
    return Response(orjson.dumps(body), media_type=JSON)
