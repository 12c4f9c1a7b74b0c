"""The ledger's HTTP API (FastAPI): the read side, the event contract's schemas, health.

`GET /cases/{id}`, `/metrics`, `/evaluation` take the options of the CLI (`at`, `known_at`,
`pivot`) and answer the same JSON. Errors are RFC 9457 problem details (`ledger.problems`):
404 for an address the ledger does not know; 422 naming the parameter for a malformed or
unrepresentable date or an unknown parameter; any representable cut-off, however early or
late, is valid. Routers of other packages (the ombudsman replay) are mounted when present.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.routing import request_response

from domain.schemas import SCHEMA_DIR
from domain.timeutil import BadTime, query_time
from ledger.bootstrap import Ledger, open_ledger
from ledger.problems import problem
from ledger.readmodel import open_read_model
from projections.query import DEFAULT_PIVOT, SYNC_LIMIT, ReadModel

SCHEMAS = SCHEMA_DIR
JSON = "application/json"
OPTIONAL_ROUTERS = ("replay.http",)

CUTOFFS = frozenset({"at", "known_at"})
AT_PARAMETER = {
    "name": "at",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "examples": ["2021-11-01", "2021-11-01T12:00:00+01:00"]},
    "description": "Valid time: only what had happened by then (a date means the end of that day, UTC).",
}
KNOWN_AT_PARAMETER = {
    "name": "known_at",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Transaction time: only what the ledger had recorded by then (date or RFC 3339).",
}
PIVOT_PARAMETER = {
    "name": "pivot",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "default": DEFAULT_PIVOT[:10]},
    "description": "Comparison date for the before/after figures (a date means the start of that day, UTC).",
}


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _cutoffs(query: Any, allowed: frozenset[str]) -> tuple[str | None, str | None]:
    """`at` and `known_at` of a query string, after refusing any parameter not `allowed`."""
    if query:
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}")
        return _time(query.get("at"), "at"), _time(query.get("known_at"), "known_at")
    return None, None


def _time(value: str | None, parameter: str, *, pivot: bool = False) -> str | None:
    try:
        return query_time(value, parameter, pivot=pivot)
    except BadTime as exc:
        raise BadParameter(parameter, exc.message) from None


class DirectRoute(APIRoute):
    """A route documented like any FastAPI route but dispatched like a plain Starlette one.

    The endpoint gets the request and its path parameters and reads its query parameters itself.
    For the hot read endpoints: FastAPI's per-request parameter machinery cost ~45 µs of the
    ~110 µs a minimal request took on this stack (measured; docs/benchmarks.md, Queries).
    """

    def __init__(self, path: str, endpoint: Callable[..., Awaitable[Response]], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)

        async def direct(request: Request) -> Response:
            return await endpoint(request, **request.path_params)

        self.app = request_response(direct)


def create_app(ledger: Ledger | None = None) -> FastAPI:
    """The app on a wired ledger (default: the configured one, opened at start-up)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm = model()  # catch up, sum the figures and sort their multisets before the first request
        warm.metrics()
        warm.evaluation()
        gc.collect()
        gc.freeze()  # what start-up built lives as long as the server: no collector passes over it
        yield
        if app.state.model is not None:
            app.state.model.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Groningen coordination ledger",
        summary="IMG and NCG actions per address: the joint case view, governance metrics and evaluation figures.",
        version="1",
    )
    app.state.ledger = ledger
    app.state.model = None

    def model() -> ReadModel:
        m: ReadModel | None = app.state.model
        if m is None:
            if app.state.ledger is None:
                app.state.ledger = open_ledger()
            m = app.state.model = open_read_model(app.state.ledger)
        m.refresh(sync_limit=SYNC_LIMIT)
        return m

    def read_route(path: str, **options: Any) -> Callable[[Any], Any]:
        def register(endpoint: Any) -> Any:
            app.router.add_api_route(path, endpoint, methods=["GET"], route_class_override=DirectRoute, **options)
            return endpoint

        return register

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter) -> Response:
        return problem(422, exc.message, parameter=exc.parameter)

    @app.get("/healthz", summary="Liveness and how far the projections are behind the event store")
    async def healthz() -> Response:
        m = model()
        p = m.provenance(None, None, "", 0, m.position)
        body = {"status": "ok", "position": p["position"], "store_position": p["store_position"], "behind": p["behind"]}
        return Response(orjson.dumps(body), media_type=JSON)

    # The read endpoints take their query parameters from the request themselves (documented
    # through `openapi_extra`): they check every name and date in one pass, without a model
    # validation per request, since they are the hot path.
    @read_route(
        "/cases/{subject}",
        summary="The joint case view of one address",
        responses={404: {"description": "the ledger does not know the address"}, 422: {"description": "bad input"}},
        openapi_extra={"parameters": [AT_PARAMETER, KNOWN_AT_PARAMETER]},
    )
    async def get_case(request: Request, subject: str) -> Response:
        at, known_at = _cutoffs(request.query_params, CUTOFFS)
        body = model().case_json(subject, at, known_at)
        if body is None:
            return problem(404, f"address {subject} is not in the ledger")
        return Response(body, media_type=JSON)

    @read_route(
        "/metrics",
        summary="Governance metrics G1–G15",
        responses={422: {"description": "bad input"}},
        openapi_extra={"parameters": [AT_PARAMETER, KNOWN_AT_PARAMETER]},
    )
    async def get_metrics(request: Request) -> Response:
        at, known_at = _cutoffs(request.query_params, CUTOFFS)
        return Response(orjson.dumps(model().metrics(at, known_at)), media_type=JSON)

    @read_route(
        "/evaluation",
        summary="Evaluation figures E1–E6",
        responses={422: {"description": "bad input"}},
        openapi_extra={"parameters": [PIVOT_PARAMETER, AT_PARAMETER, KNOWN_AT_PARAMETER]},
    )
    async def get_evaluation(request: Request) -> Response:
        query = request.query_params
        at, known_at = _cutoffs(query, CUTOFFS | {"pivot"})
        pivot = _time(query.get("pivot"), "pivot", pivot=True) or DEFAULT_PIVOT
        return Response(orjson.dumps(model().evaluation(pivot, at, known_at)), media_type=JSON)

    @app.get("/contract", summary="The event contract: every type with its JSON Schema")
    async def contract() -> Response:
        index = SCHEMAS / "index.json"
        if index.exists():
            return Response(index.read_bytes(), media_type=JSON)
        names = sorted(p.name for p in SCHEMAS.glob("*.json"))
        return Response(orjson.dumps({"schemas": names}), media_type=JSON)

    @app.get("/contract/{name}", summary="One JSON Schema of the event contract", responses={404: {}})
    async def contract_schema(name: str) -> Response:
        file = name if name.endswith(".json") else f"{name}.json"
        path = SCHEMAS / file
        if "/" in file or not path.is_file():
            return problem(404, f"no schema {name!r}")
        return Response(path.read_bytes(), media_type="application/schema+json")

    for module in OPTIONAL_ROUTERS:
        try:
            router = importlib.import_module(module).router
        except ModuleNotFoundError:
            continue
        app.include_router(router)

    return app


def app_from_env() -> FastAPI:
    """The app on the ledger configured by the environment (for `uvicorn --factory`, one per worker)."""
    return create_app()
