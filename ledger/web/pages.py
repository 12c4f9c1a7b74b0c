"""The pages (server-rendered, Jinja2 with autoescape) on the same queries as the API.

Each route declares the access of the API route whose data it shows (`ledger.identity.access`),
so the same roles decide: the case and history pages are address reads (logged), the dashboard
is figures (an evaluator's too), status and the API docs are open.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.envelope import SUBJECT_PATTERN, not_a_subject
from ledger.identity.access import TOKEN_COOKIE, declare, principal_of
from ledger.identity.tokens import TokenError
from ledger.web import format as fmt
from ledger.web.figures import OVER_TIME_IDS, sections
from ledger.web.figures import over_time as over_time_sections
from ledger.web.i18n import ATTENTION, MILESTONES, PHASES, STATUS, language, translator, word
from ledger.web.params import PageError, checked, cut
from ledger.web.status import status_of
from projections.query import DEFAULT_PIVOT, ReadModel
from projections.search import BadSearch, parse_search
from projections.series import BadSeries
from projections.series import plan as series_plan
from projections.timeutil import now_utc
from projections.worklist import CODES, BadQuery, query_of
from projections.worklist import PARAMETERS as WORKLIST_NAMES
from replay.errors import ReplayError
from replay.run import cutoff, render, replay
from replay.source import ReplayStore

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), auto_reload=False)
CUTOFFS = frozenset({"at", "known_at"})
HIDE_ADDRESS = frozenset({"EVALUATOR"})  # roles that never see an address (trust.md §1)
SERIES_FROM = "2018-01-01"  # the over-time page's default start: the letter of 2021 looks back to 2018


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = language(request.query_params.get("lang"))
    principal = principal_of(request)
    role = principal.role if principal is not None else _cookie_role(request)

    def link(path: str, **params: str | None) -> str:
        """A URL of this app that keeps the page language."""
        query = {k: v for k, v in params.items() if v}
        if lang == "en":
            query["lang"] = "en"
        return path + ("?" + urlencode(query) if query else "")

    other = dict(request.query_params)
    if lang == "en":
        other.pop("lang", None)
    else:
        other["lang"] = "en"
    return {
        "lang": lang,
        "t": translator(lang),
        "link": link,
        "switch": request.url.path + ("?" + urlencode(other) if other else ""),
        "path": request.url.path,
        "addresses": role not in HIDE_ADDRESS,
        "role": role,
        "development": bool(request.app.state.gate.development),
        "euros": lambda c: fmt.euros(c, lang),
        "number": lambda v: fmt.number(v, lang),
        "day": lambda i: fmt.day(i, lang),
        "moment": lambda i: fmt.moment(i, lang),
        "status_word": lambda s: word(STATUS, s, lang),
        "attention_word": lambda c: word(ATTENTION, c, lang),
        "phase_word": lambda p: word(PHASES, p, lang),
        "milestone_word": lambda m: word(MILESTONES, m, lang),
        **extra,
    }


def _cookie_role(request: Request) -> str | None:
    """On an open page, the role of a signed-in browser's token (for the navigation only)."""
    verifier = request.app.state.gate.verifier
    token = request.cookies.get(TOKEN_COOKIE)
    if verifier is None or not token:
        return None
    try:
        return str(verifier.verify(token).role)
    except TokenError:
        return None


def page(request: Request, template: str, status: int = 200, **extra: Any) -> HTMLResponse:
    """A rendered page."""
    html = ENV.get_template(template).render(_context(request, **extra))
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, exc: PageError) -> HTMLResponse:
    """A refused request as a page: the status, the parameter at fault and why."""
    return page(request, "error.html", exc.status, error=exc)


def make_router(
    model: Callable[[], ReadModel], ledger: Callable[[], Any], store: Callable[[], ReplayStore]
) -> APIRouter:
    """The pages; `model` gives the refreshed read model, `ledger` the wired ledger, `store` the replay's store."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", openapi_extra=declare("cases"))
    def find(request: Request) -> Response:
        try:
            q = checked(request.query_params, frozenset({"postcode", "huisnummer", "toevoeging", "bag"}))
            results = _find(model, q) if q else None
        except PageError as exc:
            return error_page(request, exc)
        return page(request, "find.html", query=q, results=results)

    @router.get("/adres/{subject}", openapi_extra=declare("cases"))
    def case(request: Request, subject: str) -> Response:
        try:
            q = _address_query(request, subject)
            at, known_at = cut(q, "at"), cut(q, "known_at")
            view = model().case(subject, at, known_at)
            if view is None:
                raise PageError(404, f"address {subject} is not in the ledger")
        except PageError as exc:
            return error_page(request, exc)
        now = view["provenance"]["now"]
        ages = {a["code"] + (a.get("ref") or ""): fmt.age_days(a["since"], now) for a in view["attention"]}
        return page(request, "case.html", subject=subject, view=view, query=q, ages=ages)

    @router.get("/adres/{subject}/geschiedenis", openapi_extra=declare("replay"))
    def history(request: Request, subject: str) -> Response:
        """The replay's HTML report: the very page `ledger replay --format html` writes."""
        try:
            q = _address_query(request, subject)
            report = replay(store(), subject, cutoff(q.get("at"), "at"), cutoff(q.get("known_at"), "known_at"))
        except PageError as exc:
            return error_page(request, exc)
        except ReplayError as exc:
            status = 404 if exc.kind == "not_found" else 422
            return error_page(request, PageError(status, exc.message, exc.parameter))
        return HTMLResponse(render(report, "html"))

    @router.get("/dashboard", openapi_extra=declare("figures"))
    def dashboard(request: Request) -> Response:
        try:
            q = checked(request.query_params, CUTOFFS | {"pivot"})
            at, known_at = cut(q, "at"), cut(q, "known_at")
            pivot = cut(q, "pivot", pivot=True) or DEFAULT_PIVOT
        except PageError as exc:
            return error_page(request, exc)
        m = model()
        metrics, evaluation = m.metrics(at, known_at), m.evaluation(pivot, at, known_at)
        lang = language(request.query_params.get("lang"))
        parts = sections(metrics, evaluation, lang)
        charts = orjson.dumps({s["id"]: s["chart"] for s in parts if s["chart"]}).decode()
        return page(request, "dashboard.html", sections=parts, charts=charts, query=q, provenance=metrics["provenance"])

    @router.get("/dashboard/verloop", openapi_extra=declare("figures"))
    def over_time(request: Request) -> Response:
        """G3, G4 and G7 over time, each point as known then and as known now (`GET /metrics/series`)."""
        try:
            q = checked(request.query_params, frozenset({"from", "to", "step"}))
            q.setdefault("step", "year")
            start = cut(q, "from") or cut({"from": SERIES_FROM}, "from")
            end = cut(q, "to") or now_utc()
            try:
                plan = series_plan(start or "", end, q["step"], OVER_TIME_IDS)
            except BadSeries as exc:
                raise PageError(422, str(exc), exc.parameter) from None
        except PageError as exc:
            return error_page(request, exc)
        answer = model().series(plan)
        lang = language(request.query_params.get("lang"))
        parts = over_time_sections(answer, lang)
        charts = orjson.dumps({s["id"]: s["chart"] for s in parts}).decode()
        return page(request, "over_time.html", sections=parts, charts=charts, query=q, provenance=answer["provenance"])

    @router.get("/werklijst", openapi_extra=declare("worklist"))
    def worklist(request: Request) -> Response:
        """Every open attention point across addresses (the worklist index), filtered, paged."""
        try:
            q = checked(request.query_params, frozenset(WORKLIST_NAMES))
            asked = query_of(now_utc(), q)
        except PageError as exc:
            return error_page(request, exc)
        except BadQuery as exc:
            return error_page(request, PageError(422, exc.message, exc.parameter))
        answer = model().worklist(asked)
        lang = language(request.query_params.get("lang"))

        def page_link(number: int) -> str:
            params = {**q, "page": str(number)}
            if lang == "en":
                params["lang"] = "en"
            return "/werklijst?" + urlencode(params)

        return page(request, "worklist.html", worklist=answer, query=q, codes=CODES, page_link=page_link)

    @router.get("/status", openapi_extra=declare("anonymous"))
    def status(request: Request) -> Response:
        try:
            checked(request.query_params, frozenset())
        except PageError as exc:
            return error_page(request, exc)
        return page(request, "status.html", readings=status_of(model(), ledger()), now=now_utc())

    @router.get("/docs", openapi_extra=declare("anonymous"))
    def docs() -> Response:
        """Swagger UI from the app's own copy of swagger-ui-dist: works without internet."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Groningen coordination ledger – API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    return router


def _address_query(request: Request, subject: str) -> dict[str, str]:
    """The cut-offs of a page about one address, after checking the address is a BAG id."""
    if not SUBJECT_PATTERN.match(subject):
        raise PageError(422, not_a_subject(subject), "subject")
    return checked(request.query_params, CUTOFFS)


def _find(model: Callable[[], ReadModel], q: dict[str, str]) -> list[dict[str, Any]]:
    """The addresses a search names: by BAG id, or by postcode and house number (and addition)."""
    if "bag" in q:
        if not SUBJECT_PATTERN.match(q["bag"]):
            raise PageError(422, not_a_subject(q["bag"]), "bag")
        view = model().case(q["bag"])
        return [] if view is None else [{"subject": q["bag"], "registered": view["address"]["registered"] or {}}]
    try:
        asked = parse_search(q.get("postcode"), q.get("huisnummer"), q.get("toevoeging"))
    except BadSearch as exc:
        raise PageError(422, exc.message, exc.parameter) from None
    return model().find(asked)
