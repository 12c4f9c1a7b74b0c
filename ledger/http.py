"""The ledger's HTTP API (FastAPI): the read side, the event contract's schemas, health.

`GET /cases/{id}`, `/metrics`, `/evaluation` take the options of the CLI (`at`, `known_at`,
`pivot`) and answer the same JSON. Errors are RFC 9457 problem details (`ledger.problems`):
404 for an address the ledger does not know; 422 for an address that is not a BAG id (as the
replay answers; the CLI exits 2), and naming the parameter for a malformed or unrepresentable
date or an unknown parameter; any representable cut-off, however early or
late, is valid. The ombudsman replay's router (`replay.http`), the event intake
(`ledger.intake_http`) and the checkpoints and proofs (`ledger.trust_http`) are included.

Blocking work stays off the event loop. A request is answered on the loop only on the fast
path: no cut-offs and nothing committed since the read model last looked (a ~14 µs check), so
the answer is a projection row or the maintained figures. Everything else — catching up,
cut-offs, `/healthz`'s store reads, the replay — runs in the thread pool, and figures at
cut-offs at most `LEDGER_CUTOFF_LIMIT` at a time per server process (default: 2, at most the
core count); beyond that 503 with `Retry-After`, the time one computation takes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import request_response

from domain.envelope import SUBJECT_PATTERN, not_a_subject
from domain.schemas import SCHEMA_DIR
from domain.timeutil import BadTime, query_time
from ledger import intake_http, trust_http, web
from ledger.bootstrap import ConfigError, Ledger, Settings, open_ledger, open_read_model
from ledger.identity.access import Access, Denied, Gate, declare, secure_openapi
from ledger.identity.accesslog import AccessLogUnavailable
from ledger.identity.tokens import KeySourceError, Principal, Verifier
from ledger.openapi import ContractIndex, Ready, finish
from ledger.ops import install as install_ops
from ledger.ops import ready_lag
from ledger.ports import replay_store
from ledger.problems import BadParameter, problem, refuse_unknown
from projections.answers import Addresses, CaseView, Evaluation, Health, Metrics, Series, Worklist
from projections.query import DEFAULT_PIVOT, SYNC_LIMIT, Busy, ReadModel
from projections.search import BadSearch, parse_search
from projections.series import MAX_POINTS, BadSeries, Plan
from projections.series import plan as series_plan
from projections.store import NoStore
from projections.timeutil import now_utc
from projections.worklist import PARAMETERS as WORKLIST_NAMES
from projections.worklist import BadQuery, query_of
from replay.http import make_router as replay_router

SCHEMAS = SCHEMA_DIR
OPS_PORT_ENV = "LEDGER_OPS_PORT"

# What `/metrics` is, said where an operator looks first: the Prometheus convention reserves that
# path for scrapes, and here it is the contract's governance figures (projections §2).
METRICS_IS_NOT_PROMETHEUS = (
    "**Not Prometheus.** This `/metrics` is the contract's governance figures (JSON, projections §2), a read "
    "for IMG, NCG, the ombudsman and evaluators. Operators' metrics for scraping (Prometheus exposition: "
    f"requests, latencies, lag) are served by each ledger role on a port of its own, `{OPS_PORT_ENV}` "
    "(`--ops-port`), at `/metrics` there (docs/operations.md); they are not part of this API and not in this "
    "document."
)
DESCRIPTION = (
    "The ledger's HTTP API: the joint case view of an address (`/cases/{id}`), its verified history "
    "(`/cases/{id}/history`), the governance metrics G1–G15 (`/metrics`) and evaluation figures E1–E6 "
    "(`/evaluation`), appending events (`POST /events`), the event contract's schemas (`/contract`), "
    "checkpoints and proofs. Errors are RFC 9457 problem details (`application/problem+json`).\n\n"
    + METRICS_IS_NOT_PROMETHEUS
)


class SchemaResponse(Response):
    """A JSON Schema document (RFC draft-bhutton-json-schema's media type)."""

    media_type = "application/schema+json"


JSON = "application/json"

CUTOFFS = frozenset({"at", "known_at"})
AT_PARAMETER = {
    "name": "at",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "examples": ["2021-11-01", "2021-11-01T12:00:00+01:00"]},
    "description": "Valid time: only what had happened by then (a date means the end of that day, UTC).",
}
BAD_INPUT = {"description": "a malformed or unrepresentable date, or an unknown parameter (named in invalid-params)"}
BUSY = {"description": "figures at cut-offs: as many are being computed as the server allows; ask after Retry-After"}
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

WORKLIST_PARAMETERS = [
    {
        "name": "code",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "examples": ["claim_over_term", "aos_open_48h,stalled"]},
        "description": "Only these attention codes (comma-separated): no_coordinator, deferred_awaiting_strengthening, "
        "claim_over_term, aos_open_48h, stalled.",
    },
    {
        "name": "organisation",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["IMG", "NCG"]},
        "description": "Only points this organisation must act on.",
    },
    {
        "name": "municipality",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "examples": ["0014", "1979,1952"]},
        "description": "Only addresses in these municipalities (gemeentecodes, comma-separated): the registered "
        "gemeentecode, else the BAG id's first four digits.",
    },
    {
        "name": "min_age_days",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0, "maximum": 36500, "default": 0},
        "description": "Only points that arose at least this many days ago.",
    },
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "default": 1},
        "description": "Which page (1-based).",
    },
    {
        "name": "page_size",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "description": "Points per page.",
    },
]
WORKLIST_DESCRIPTION = (
    "The open attention points of every address (projections §1 `attention`) as they stand now, from an "
    "index the projections keep: sorted by urgency (the kind of point — aos_open_48h, claim_over_term, "
    "no_coordinator, stalled, deferred_awaiting_strengthening — then the oldest first, then address and "
    "reference), with `total` matching points and one page. `age_days` is the days since the point arose. "
    "No cut-offs: a case's past is `/cases/{id}?at=…`."
)


def _cutoffs(query: Any, allowed: frozenset[str]) -> tuple[str | None, str | None]:
    """`at` and `known_at` of a query string, after refusing any parameter not `allowed`."""
    if query:
        refuse_unknown(query, allowed)
        return _time(query.get("at"), "at"), _time(query.get("known_at"), "known_at")
    return None, None


def _time(value: str | None, parameter: str, *, pivot: bool = False) -> str | None:
    try:
        return query_time(value, parameter, pivot=pivot)
    except BadTime as exc:
        raise BadParameter(parameter, exc.message) from None


SERIES = frozenset({"from", "to", "step", "ids"})
SERIES_PARAMETERS = [
    {
        "name": "from",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "examples": ["2018-01-01"]},
        "description": "The series' first cut-off (date or RFC 3339; a date means the end of that day, UTC).",
    },
    {
        "name": "to",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "examples": ["2024-12-31"]},
        "description": "The series' last cut-off: the points are the step ends from `from` to `to`.",
    },
    {
        "name": "step",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "enum": ["month", "quarter", "year"]},
        "description": "Calendar steps (UTC); each point is the last microsecond of one.",
    },
    {
        "name": "ids",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "examples": ["G1,G4"]},
        "description": "The G figures to give, separated by commas (default: G1 … G15).",
    },
]
SERIES_BAD_INPUT = {
    "description": "a missing, malformed or unknown parameter, `from` after `to`, an unknown step or figure id, "
    f"or more than {MAX_POINTS} points (named in invalid-params)"
}


def _series_plan(query: Any) -> Plan:
    """A checked series request of a query string (`BadParameter` naming what is wrong)."""
    refuse_unknown(query, SERIES)
    for name in ("from", "to", "step"):
        if query.get(name) is None:
            raise BadParameter(name, f"{name} is required")
    start, end = _time(query.get("from"), "from"), _time(query.get("to"), "to")
    try:
        return series_plan(start or "", end or "", query.get("step"), query.get("ids"))
    except BadSeries as exc:
        raise BadParameter(exc.parameter, str(exc)) from None


class DirectRoute(APIRoute):
    """A route documented like any FastAPI route but dispatched like a plain Starlette one.

    The endpoint gets the request and its path parameters and reads its query parameters itself.
    For the hot read endpoints: FastAPI's per-request parameter machinery cost ~45 µs of the
    ~110 µs a minimal request took on this stack (measured; docs/benchmarks.md, Queries).
    """

    def __init__(self, path: str, endpoint: Callable[..., Awaitable[Response]], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)

        async def direct(request: Request) -> Response:
            await request.app.state.gate.authorize(request)  # who may, before anything is looked up
            return await endpoint(request, **request.path_params)

        self.app = request_response(direct)


def verifier_for(settings: Settings) -> Verifier | None:
    """The token verifier of the configured issuer keys; None: development mode (no keys)."""
    if not settings.issuer_jwks:
        return None
    try:
        return Verifier(settings.issuer_jwks, settings.token_issuer, settings.token_algorithms)
    except KeySourceError as exc:
        raise ConfigError(f"LEDGER_ISSUER_JWKS: {exc}") from None


def create_app(
    ledger: Ledger | None = None,
    limit: int | None = None,
    verifier: Verifier | None | bool = True,
    instrument: bool = False,
) -> FastAPI:
    """The app on a wired ledger (default: the configured one, opened at start-up); `limit`:
    figures at cut-offs computed at once (default: `LEDGER_CUTOFF_LIMIT` of the settings); `verifier`:
    of bearer tokens (default: from the settings' issuer keys; None: development mode, docs/identity.md)."""
    settings = ledger.settings if ledger is not None else Settings.from_env()
    limit = limit or settings.cutoff_limit
    if verifier is True:
        verifier = verifier_for(settings)
    assert verifier is None or isinstance(verifier, Verifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            warm = model()  # catch up, sum the figures and sort their multisets before the first request
            warm.metrics()
            warm.evaluation()
        except NoStore:
            pass  # a Kafka-fed store `ledger consume` has not filled yet: reads answer 503 until it has
        gc.collect()
        gc.freeze()  # what start-up built lives as long as the server: no collector passes over it
        yield
        if app.state.model is not None:
            app.state.model.close()

    async def on_read(request: Request, principal: Principal, access: Access, address: str) -> None:
        """The access log: every authorised read of one address's data, queued before it is served."""
        led: Ledger | None = app.state.ledger
        if led is None:
            led = await run_in_threadpool(opened)
        query = request.scope.get("query_string", b"").decode("latin-1")  # (request.url costs ~6 µs)
        led.access.record(
            principal.subject, principal.role, principal.issuer, address, access.name + (f"?{query}" if query else "")
        )

    gate = Gate(verifier, on_read)
    app = FastAPI(
        dependencies=[Depends(gate.authorize)],  # every FastAPI route; the DirectRoutes call it themselves
        lifespan=lifespan,
        title="Groningen coordination ledger",
        summary="IMG and NCG actions per address: the joint case view, governance metrics and evaluation figures.",
        description=DESCRIPTION,
        version="1",
        docs_url=None,  # /docs is the web app's, from its own Swagger UI assets (ledger.web): no CDN
        redoc_url=None,
    )
    app.state.ledger = ledger
    app.state.model = None
    app.state.gate = gate
    app.state.max_body = settings.http_max_body

    opening = threading.Lock()  # threads of the pool may be the first to ask (no lifespan, e.g. a test client)

    def opened() -> Ledger:
        """The app's ledger, opened on first use (in the thread pool)."""
        with opening:
            if app.state.ledger is None:
                app.state.ledger = open_ledger()
            return app.state.ledger  # type: ignore[no-any-return]

    def model() -> ReadModel:
        """The read model, refreshed (in the thread pool: it may catch up)."""
        m: ReadModel | None = app.state.model
        if m is None:
            led = opened()
            with opening:
                m = app.state.model
                if m is None:
                    m = open_read_model(led)
                    m.cutoff_limit = limit
                    m.follower.fill_index = True  # rows a bulk write left without corners get them meanwhile
                    app.state.model = m
        m.refresh(sync_limit=SYNC_LIMIT)
        return m

    admitted = 0  # requests for figures at cut-offs not cached, in the thread pool (changed on the loop only)

    async def answer(
        work: Callable[[ReadModel], Response], at: str | None, known_at: str | None, figures: bool = False
    ) -> Response:
        """`work` on the read model: on the loop for the fast path, else in the thread pool.

        Figures at cut-offs that are not cached are admitted to the pool `limit` at a time and
        refused here beyond that, before they cost a thread; the read model enforces the same
        limit on the computations themselves (a cached answer may have to be computed after all
        once the position moved).
        """
        nonlocal admitted
        m: ReadModel | None = app.state.model
        if m is not None and at is None and known_at is None and m.current(figures):
            return work(m)
        if not figures or (at is None and known_at is None) or (m is not None and m.cached(at, known_at)):
            return await run_in_threadpool(lambda: work(model()))
        if admitted >= limit:
            raise Busy(admitted, m.retry_after() if m is not None else 1)
        admitted += 1
        try:
            return await run_in_threadpool(lambda: work(model()))
        finally:
            admitted -= 1

    def read_route(path: str, **options: Any) -> Callable[[Any], Any]:
        def register(endpoint: Any) -> Any:
            app.router.add_api_route(path, endpoint, methods=["GET"], route_class_override=DirectRoute, **options)
            return endpoint

        return register

    # FastAPI's and Starlette's own errors in the API's one error shape too: a path or method the API
    # does not have (404, 405), and a request FastAPI itself refuses (none of the routes' parameters
    # can fail its validation today: every one is read as text and checked by the endpoint).
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"{request.url.path} is not a path of this API (see /openapi.json)"
        elif exc.status_code == 405:
            detail = f"{request.method} is not a method of {request.url.path}"
        return problem(exc.status_code, detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        location = [str(part) for part in first.get("loc", ())]
        return problem(422, str(first.get("msg", "invalid request")), parameter=location[-1] if location else None)

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter) -> Response:
        return problem(422, exc.message, parameter=exc.parameter)

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> Response:
        if web.wants_page(request):  # a browser on a page: the sign-in page with the reason (ledger/web)
            return web.denied_page(request, exc)
        return exc.response()

    @app.exception_handler(AccessLogUnavailable)
    async def unlogged(request: Request, exc: AccessLogUnavailable) -> Response:
        detail = f"reads of address data are refused until they can be logged: {exc}"
        return problem(503, detail, headers={"Retry-After": "5"})

    @app.exception_handler(NoStore)
    async def no_store(request: Request, exc: NoStore) -> Response:
        return problem(503, f"{exc}: nothing to answer from yet", headers={"Retry-After": "5"})

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        detail = f"{exc}; ask again in {exc.retry_after} s"
        return problem(503, detail, headers={"Retry-After": str(exc.retry_after)})

    # A plain function: FastAPI runs it in the thread pool, so the store reads never hold up the loop.
    @app.get(
        "/healthz",
        summary="Liveness and how far the projections are behind the event store",
        response_model=Health,
        openapi_extra=declare("anonymous"),
    )
    def healthz() -> Response:
        m: ReadModel | None = app.state.model
        body = {"status": "ok", **(m or model()).health()}
        return Response(orjson.dumps(body), media_type=JSON)

    @app.head(
        "/healthz",
        summary="Liveness only: the same checks as GET /healthz, no body (for probes)",
        operation_id="healthz_head",
        responses={200: {"description": "alive (no body)"}},
        openapi_extra=declare("anonymous"),
    )
    def healthz_head() -> Response:
        m: ReadModel | None = app.state.model
        (m or model()).health()
        return Response(media_type=JSON)

    max_lag = ready_lag(settings)

    @app.get(
        "/readyz",
        summary="Readiness: 200 while the projections are at most LEDGER_READY_MAX_LAG events behind the store",
        response_model=Ready,
        responses={503: {"description": "the projections are further behind (problem details with the figures)"}},
        openapi_extra=declare("anonymous"),
    )
    def readyz() -> Response:
        m: ReadModel | None = app.state.model
        health = (m or model()).health()
        if health["behind"] > max_lag:
            detail = (
                f"not ready: the projections are at {health['position']}, {health['behind']} events behind the "
                f"store's {health['store_position']} (LEDGER_READY_MAX_LAG {max_lag})"
            )
            return problem(503, detail, headers={"Retry-After": "1"})
        return Response(orjson.dumps({"status": "ready", "max_lag": max_lag, **health}), media_type=JSON)

    if instrument:  # `ledger serve`: operators' HTTP metrics and the JSON access log (ledger.ops)
        install_ops(app, settings)

    # The read endpoints take their query parameters from the request themselves (documented
    # through `openapi_extra`): they check every name and date in one pass, without a model
    # validation per request, since they are the hot path.
    @read_route(
        "/cases/{subject}",
        summary="The joint case view of one address",
        response_model=CaseView,
        responses={
            404: {"description": "the ledger does not know the address"},
            422: {"description": "an address that is not a BAG id, or " + BAD_INPUT["description"]},
        },
        openapi_extra=declare("cases", parameters=[AT_PARAMETER, KNOWN_AT_PARAMETER]),
    )
    async def get_case(request: Request, subject: str) -> Response:
        if not SUBJECT_PATTERN.match(subject):  # malformed: 422, as the replay (`ledger case` exits 2)
            return problem(422, not_a_subject(subject))
        at, known_at = _cutoffs(request.query_params, CUTOFFS)

        def work(m: ReadModel) -> Response:
            body = m.case_json(subject, at, known_at)
            if body is None:
                return problem(404, f"address {subject} is not in the ledger")
            return Response(body, media_type=JSON)

        return await answer(work, at, known_at)

    @read_route(
        "/worklist",
        summary="Every open attention point across addresses, filtered, in urgency order, one page",
        description=WORKLIST_DESCRIPTION,
        response_model=Worklist,
        responses={422: {"description": "a parameter that cannot be read, or an unknown one (in invalid-params)"}},
        openapi_extra=declare("worklist", parameters=WORKLIST_PARAMETERS),
    )
    async def get_worklist(request: Request) -> Response:
        query = request.query_params
        unknown = sorted(set(query) - set(WORKLIST_NAMES))
        if unknown:
            why = "; the worklist is the present: no cut-offs" if unknown[0] in CUTOFFS else ""
            raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}{why}")
        try:
            asked = query_of(now_utc(), query)
        except BadQuery as exc:
            raise BadParameter(exc.parameter, exc.message) from None

        def work() -> Response:
            return Response(orjson.dumps(model().worklist(asked)), media_type=JSON)

        # always in the thread pool: a count over the matching entries costs more than the loop may block
        return await run_in_threadpool(work)

    @read_route(
        "/metrics",
        summary="Governance metrics G1–G15 (the contract's figures, not Prometheus)",
        description=METRICS_IS_NOT_PROMETHEUS,
        response_model=Metrics,
        responses={422: BAD_INPUT, 503: BUSY},
        openapi_extra=declare("figures", parameters=[AT_PARAMETER, KNOWN_AT_PARAMETER]),
    )
    async def get_metrics(request: Request) -> Response:
        at, known_at = _cutoffs(request.query_params, CUTOFFS)

        def work(m: ReadModel) -> Response:
            return Response(orjson.dumps(m.metrics(at, known_at)), media_type=JSON)

        return await answer(work, at, known_at, figures=True)

    @read_route(
        "/metrics/series",
        summary="G figures over time: each point as known then and as known now (projections §5)",
        response_model=Series,
        responses={422: SERIES_BAD_INPUT, 503: BUSY},
        openapi_extra=declare("figures", parameters=SERIES_PARAMETERS),
    )
    async def get_series(request: Request) -> Response:
        plan = _series_plan(request.query_params)

        def work(m: ReadModel) -> Response:
            return Response(orjson.dumps(m.series(plan)), media_type=JSON)

        return await answer(work, plan.start, plan.end, figures=True)

    @read_route(
        "/evaluation",
        summary="Evaluation figures E1–E6",
        response_model=Evaluation,
        responses={422: BAD_INPUT, 503: BUSY},
        openapi_extra=declare("figures", parameters=[PIVOT_PARAMETER, AT_PARAMETER, KNOWN_AT_PARAMETER]),
    )
    async def get_evaluation(request: Request) -> Response:
        query = request.query_params
        at, known_at = _cutoffs(query, CUTOFFS | {"pivot"})
        pivot = _time(query.get("pivot"), "pivot", pivot=True) or DEFAULT_PIVOT

        def work(m: ReadModel) -> Response:
            return Response(orjson.dumps(m.evaluation(pivot, at, known_at)), media_type=JSON)

        return await answer(work, at, known_at, figures=True)

    SEARCH = [
        {"name": "postcode", "in": "query", "required": True, "schema": {"type": "string", "examples": ["9711AB"]}},
        {"name": "huisnummer", "in": "query", "required": True, "schema": {"type": "string", "examples": ["12"]}},
        {
            "name": "toevoeging",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "Huisletter and/or toevoeging (e.g. `a`, `2`, `a-2`); case, spaces and dashes ignored.",
        },
    ]

    @read_route(
        "/addresses",
        summary="Find addresses by postcode and house number (the web app's search)",
        response_model=Addresses,
        responses={422: {"description": "a malformed postcode, number or addition (named in invalid-params)"}},
        openapi_extra=declare("cases", parameters=SEARCH),
    )
    async def get_addresses(request: Request) -> Response:
        query = request.query_params
        _cutoffs(query, frozenset({"postcode", "huisnummer", "toevoeging"}))  # refuses unknown names
        try:
            asked = parse_search(query.get("postcode"), query.get("huisnummer"), query.get("toevoeging"))
        except BadSearch as exc:
            raise BadParameter(exc.parameter, exc.message) from None

        def work(m: ReadModel) -> Response:
            return Response(orjson.dumps({"addresses": m.find(asked)}), media_type=JSON)

        return await answer(work, None, None)

    @app.get(
        "/contract",
        summary="The event contract: every type with its JSON Schema",
        response_model=ContractIndex,
        openapi_extra=declare("anonymous"),
    )
    async def contract() -> Response:
        index = SCHEMAS / "index.json"
        if index.exists():
            return Response(index.read_bytes(), media_type=JSON)
        names = sorted(p.name for p in SCHEMAS.glob("*.json"))
        return Response(orjson.dumps({"schemas": names}), media_type=JSON)

    @app.get(
        "/contract/{name}",
        summary="One JSON Schema of the event contract",
        response_class=SchemaResponse,  # documents the 200 as application/schema+json
        responses={
            200: {
                "description": "the JSON Schema (draft 2020-12)",
                "content": {"application/schema+json": {"schema": {"type": "object"}}},
            },
            404: {"description": "no such schema"},
        },
        openapi_extra=declare("anonymous"),
    )
    async def contract_schema(name: str) -> Response:
        file = name if name.endswith(".json") else f"{name}.json"
        path = SCHEMAS / file
        if "/" in file or not path.is_file():
            return problem(404, f"no schema {name!r}")
        return SchemaResponse(path.read_bytes())

    app.include_router(replay_router(lambda _request: replay_store(opened()), problem))
    app.include_router(intake_http.router)
    app.include_router(trust_http.router)  # checkpoints and proofs
    web.install(app, model, opened, lambda: replay_store(opened()))  # the pages (ledger/web/)

    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(secure_openapi(plain_openapi()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """The app on the ledger configured by the environment (for `uvicorn --factory`, one per worker)."""
    return create_app(instrument=True)
