"""`GET /cases/{id}/history`: the replay report over HTTP (an APIRouter for the ledger's app).

Same options as `ledger replay`: `at`, `known_at`, `format` (json by default; html, md and
text come back as text). Errors are RFC 9457 problem details (`ledger.problems`): 404 for an
address without events, 422 for a malformed address, a malformed or unrepresentable date
(naming the parameter), a bad format or an unknown parameter, and for cut-offs before the
first event. A broken chain is still a report (200) and is named in the `X-Ledger-Chain`
header and the body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

import orjson
from fastapi import APIRouter, Query, Request, Response

from replay.answers import Report
from replay.errors import ReplayError
from replay.run import FORMATS, check_format, cutoff, render, replay
from replay.source import ReplayStore

PARAMETERS = frozenset({"at", "known_at", "format"})
MEDIA = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}


class Problem(Protocol):
    """How the app answers an error (RFC 9457 problem details, `ledger.problems.problem`)."""

    def __call__(self, status: int, detail: str, *, parameter: str | None = None) -> Response: ...


def make_router(store_of: Callable[[Request], ReplayStore], problem: Problem) -> APIRouter:
    """The replay's routes; `store_of` gives the request's event store, `problem` the error shape."""
    router = APIRouter(tags=["replay"])

    @router.get(
        "/cases/{subject}/history",
        summary="One address's verified history, step by step, with findings",
        response_model=Report,
        responses={
            200: {
                "description": "the report: JSON (`format=json`, the default), or rendered as html, md or text",
                "content": {MEDIA[f].split(";")[0]: {"schema": {"type": "string"}} for f in FORMATS if f != "json"},
                "headers": {
                    "X-Ledger-Chain": {
                        "description": "`intact`, or `broken at N`: the first position whose hash does not verify",
                        "schema": {"type": "string"},
                    }
                },
            },
            404: {"description": "no events for the address"},
            422: {
                "description": "a malformed address, date or format, an unknown parameter, or cut-offs before the "
                "first event (the parameter is named in invalid-params)"
            },
        },
    )
    def case_history(
        subject: str,
        request: Request,
        at: Annotated[str | None, Query(description="Valid-time cut-off (date = end of that day, UTC).")] = None,
        known_at: Annotated[str | None, Query(description="Transaction-time cut-off.")] = None,
        fmt: Annotated[str, Query(alias="format", description=f"One of {', '.join(FORMATS)}.")] = "json",
    ) -> Response:
        """The replay report of `ledger replay` for the same options."""
        unknown = sorted(set(request.query_params) - PARAMETERS)
        if unknown:
            return problem(422, f"unknown parameter {unknown[0]!r}", parameter=unknown[0])
        try:
            checked = check_format(fmt)
        except ReplayError as exc:
            return problem(422, exc.message, parameter="format")
        try:
            at_cut = cutoff(at, "at")
            known_cut = cutoff(known_at, "known_at")
            report = replay(store_of(request), subject, at_cut, known_cut)
        except ReplayError as exc:
            if exc.kind == "not_found":
                return problem(404, exc.message)
            return problem(422, exc.message, parameter=exc.parameter)
        chain = report["chain"]
        headers = {"X-Ledger-Chain": "intact" if chain["intact"] else f"broken at {chain['break']['position']}"}
        if checked == "json":
            return Response(orjson.dumps(report), media_type=MEDIA["json"], headers=headers)
        return Response(render(report, checked), media_type=MEDIA[checked], headers=headers)

    return router
