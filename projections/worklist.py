"""The worklist: every open attention point across addresses (contract §1 `attention`), indexed.

Each address's attention candidates (`caseview.attention_candidates`: code, the moment it
arises, `strict`) become index entries (`points_of`) written with the address's row in the
same transaction, by the same incremental and rebuild paths; the store answers a filtered,
sorted, paged `Query` from indexes (`ProjectionStore.worklist`), never by scanning addresses.

Urgency (docs/decisions.md, Worklist): first the kind of point (`URGENCY`: an acute unsafe
situation before a claim past its legal term, before an approach without a coordinator, before
a stalled trajectory, before a claim deferred awaiting strengthening), then the oldest first
(`since` ascending), then address and reference, so the order is total and pages are stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from projections.timeutil import add_days, days_between

URGENCY: dict[str, int] = {
    "aos_open_48h": 1,
    "claim_over_term": 2,
    "no_coordinator": 3,
    "stalled": 4,
    "deferred_awaiting_strengthening": 5,
}
CODES = tuple(URGENCY)
# The organisations that must act on a point (whose events close it; docs/decisions.md).
ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "aos_open_48h": ("IMG",),
    "claim_over_term": ("IMG",),
    "no_coordinator": ("IMG", "NCG"),
    "stalled": ("NCG",),
    "deferred_awaiting_strengthening": ("IMG", "NCG"),
}
ORGS = ("IMG", "NCG")
ALL = "*"  # the scope of the entry every point has; one more per organisation in ORGANISATIONS
MAX_PAGE_SIZE = 500
MIGRATED = "worklist"  # the stores' meta key: the index holds every row's points
MIGRATE_CHUNK = 2_000


@dataclass(frozen=True, slots=True, order=True)
class Point:
    """One open point of one address, as the index keeps it."""

    code: str
    ref: str  # "" when the point has no reference
    since: str
    strict: bool  # arises only after `since` (a term "more than")
    municipality: str

    @property
    def urgency(self) -> int:
        return URGENCY[self.code]

    @property
    def organisations(self) -> tuple[str, ...]:
        return ORGANISATIONS[self.code]


def municipality_of(subject: str, registered: dict[str, Any] | None) -> str:
    """The gemeentecode of the address's latest `AddressRegistered`, else its BAG id's prefix (the
    issuing municipality, which BAG ids keep after mergers)."""
    if registered and registered.get("gemeentecode"):
        return str(registered["gemeentecode"])
    return subject[:4]


def points_of(
    subject: str, registered: dict[str, Any] | None, candidates: Iterable[dict[str, Any]]
) -> tuple[Point, ...]:
    """The index entries of one address from its attention candidates."""
    where = municipality_of(subject, registered)
    return tuple(Point(c["code"], c["ref"] or "", c["since"], bool(c["strict"]), where) for c in candidates)


def scoped(point: Point) -> Iterable[str]:
    """The scopes a point is indexed under: every point under `ALL`, and under each organisation
    that must act on it (so a filter by organisation is one range of the index)."""
    yield ALL
    yield from point.organisations


@dataclass(frozen=True, slots=True)
class Query:
    """A worklist question: the filters, "now" and the page."""

    now: str
    codes: tuple[str, ...] = ()  # empty: every code
    organisation: str | None = None
    municipalities: tuple[str, ...] = ()  # empty: every municipality
    min_age_days: int = 0
    page: int = 1
    page_size: int = 50

    @property
    def scope(self) -> str:
        return self.organisation or ALL

    @property
    def urgencies(self) -> tuple[int, ...]:
        return tuple(sorted(URGENCY[c] for c in self.codes))

    @property
    def latest_since(self) -> str:
        """The latest `since` an answer may have: `min_age_days` before now."""
        return add_days(self.now, -self.min_age_days)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Entry:
    """One answer line as the store returns it."""

    subject: str
    code: str
    ref: str
    since: str
    municipality: str


def arisen(point: Point, now: str) -> bool:
    """Whether the point has arisen by `now` (as `caseview.attention` decides)."""
    return point.since < now or (point.since == now and not point.strict)


def matches(point: Point, query: Query) -> bool:
    """Whether a point belongs in the answer to `query` (the reference the index is tested against)."""
    return (
        arisen(point, query.now)
        and point.since <= query.latest_since
        and (not query.codes or point.code in query.codes)
        and (query.organisation is None or query.organisation in point.organisations)
        and (not query.municipalities or point.municipality in query.municipalities)
    )


def order_key(subject: str, point: Point) -> tuple[int, str, str, str]:
    """Urgency order: the kind of point, then the oldest first, then address and reference."""
    return (point.urgency, point.since, subject, point.ref)


def reference_answer(points: Iterable[tuple[str, Point]], query: Query) -> tuple[int, list[Entry]]:
    """(total, page) by filtering and sorting every point in memory: what the index must equal."""
    kept = sorted((order_key(s, p), s, p) for s, p in points if matches(p, query))
    page = kept[query.offset : query.offset + query.page_size]
    return len(kept), [Entry(s, p.code, p.ref, p.since, p.municipality) for _, s, p in page]


def item(entry: Entry, now: str) -> dict[str, Any]:
    """One answer line as JSON: the point, its age in days (float, as the contract's durations) and
    who must act."""
    return {
        "subject": entry.subject,
        "code": entry.code,
        "ref": entry.ref or None,
        "since": entry.since,
        "age_days": days_between(entry.since, now),
        "urgency": URGENCY[entry.code],
        "organisations": list(ORGANISATIONS[entry.code]),
        "municipality": entry.municipality,
    }


def answer(query: Query, total: int, entries: Sequence[Entry]) -> dict[str, Any]:
    """The worklist answer without provenance."""
    return {
        "items": [item(e, query.now) for e in entries],
        "total": total,
        "page": query.page,
        "page_size": query.page_size,
        "pages": -(-total // query.page_size),
        "filters": {
            "code": list(query.codes) or None,
            "organisation": query.organisation,
            "municipality": list(query.municipalities) or None,
            "min_age_days": query.min_age_days,
        },
    }


# -- the index's SQL (the same on SQLite and PostgreSQL; `mark` is the driver's placeholder) -----
COLUMNS = "subject, scope, code, ref, since, strict, urgency, municipality"
INDEXES = (
    # urgency order within a scope (all points, or one organisation's); a code filter is a range of it
    ("proj_worklist_order", "scope, urgency, since, subject, ref, strict, municipality"),
    # the same within a municipality
    ("proj_worklist_municipality", "scope, municipality, urgency, since, subject, ref, strict"),
)
_CODE_OF = {rank: code for code, rank in URGENCY.items()}


def index_rows(subject: str, points: Iterable[Point]) -> list[tuple[Any, ...]]:
    """The index's rows (in `COLUMNS` order) for one address's points."""
    return [
        (subject, scope, p.code, p.ref, p.since, int(p.strict), p.urgency, p.municipality)
        for p in points
        for scope in scoped(p)
    ]


def stored_index_rows(stored: Iterable[tuple[str, bytes, bytes]]) -> list[tuple[Any, ...]]:
    """The index's rows for stored (subject, view, attention candidates) rows: a store written
    before the worklist existed gets its index from what it holds (`MIGRATED` in its meta)."""
    out: list[tuple[Any, ...]] = []
    for subject, view, candidates in stored:
        registered = orjson.loads(view)["address"]["registered"]
        out.extend(index_rows(subject, points_of(subject, registered, orjson.loads(candidates))))
    return out


def where(query: Query, mark: str) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters for `query`."""
    clauses = [f"scope = {mark}", f"since <= {mark}", f"(since < {mark} OR strict = 0)"]
    params: list[Any] = [query.scope, query.latest_since, query.now]
    if query.codes:
        clauses.append(f"urgency IN ({', '.join([mark] * len(query.codes))})")
        params.extend(query.urgencies)
    if query.municipalities:
        clauses.append(f"municipality IN ({', '.join([mark] * len(query.municipalities))})")
        params.extend(query.municipalities)
    return " AND ".join(clauses), params


def page_sql(table: str, query: Query, mark: str) -> tuple[str, list[Any]]:
    """SELECT of one page in urgency order."""
    clause, params = where(query, mark)
    text = (
        f"SELECT subject, urgency, ref, since, municipality FROM {table} WHERE {clause} "
        f"ORDER BY urgency, since, subject, ref LIMIT {mark} OFFSET {mark}"
    )
    return text, [*params, query.page_size, query.offset]


def count_sql(table: str, query: Query, mark: str) -> tuple[str, list[Any]]:
    clause, params = where(query, mark)
    return f"SELECT count(*) FROM {table} WHERE {clause}", params


def entries(rows: Iterable[Sequence[Any]]) -> list[Entry]:
    """Entries from the page query's rows."""
    return [Entry(s, _CODE_OF[int(u)], r, since, m) for s, u, r, since, m in rows]


# -- reading a question (the CLI and HTTP alike) --------------------------------------------------
MUNICIPALITY = re.compile(r"^[0-9]{4}$")
PARAMETERS = ("code", "organisation", "municipality", "min_age_days", "page", "page_size")  # as HTTP names them


class BadQuery(ValueError):
    """A worklist parameter that cannot be read; `parameter` names it, `message` says why."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _whole(value: str | None, parameter: str, shown: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise BadQuery(parameter, f"{shown} {value!r}: a whole number from {low} to {high}")
    return int(text)


def parse_query(
    now: str,
    *,
    code: str | None = None,
    organisation: str | None = None,
    municipality: str | None = None,
    min_age_days: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
    names: dict[str, str] | None = None,
) -> Query:
    """A `Query` from the parameters as given (text; None when absent), or `BadQuery` naming the
    first that cannot be read (its message calls each parameter by `names`, e.g. the CLI's
    options; default the HTTP names). `code` and `municipality` take comma-separated lists."""
    shown = {n: (names or {}).get(n, n) for n in PARAMETERS}
    codes = _list(code)
    for c in codes:
        if c not in URGENCY:
            raise BadQuery("code", f"{shown['code']} {c!r} is not an attention code: one of {', '.join(CODES)}")
    if code is not None and not codes:
        raise BadQuery("code", f"{shown['code']} is empty: give one or more of " + ", ".join(CODES))
    org = organisation.strip().upper() if organisation is not None else None
    if org is not None and org not in ORGS:
        raise BadQuery("organisation", f"{shown['organisation']} {organisation!r}: one of {', '.join(ORGS)}")
    places = _list(municipality)
    for m in places:
        if not MUNICIPALITY.match(m):
            raise BadQuery("municipality", f"{shown['municipality']} {m!r} is not a gemeentecode (4 digits, e.g. 0014)")
    if municipality is not None and not places:
        raise BadQuery("municipality", f"{shown['municipality']} is empty: give one or more gemeentecodes (4 digits)")
    return Query(
        now=now,
        codes=tuple(dict.fromkeys(codes)),
        organisation=org,
        municipalities=tuple(dict.fromkeys(places)),
        min_age_days=_whole(min_age_days, "min_age_days", shown["min_age_days"], 0, 0, 36_500),
        page=_whole(page, "page", shown["page"], 1, 1, 1_000_000),
        page_size=_whole(page_size, "page_size", shown["page_size"], 50, 1, MAX_PAGE_SIZE),
    )


def query_of(now: str, params: Mapping[str, str | None]) -> Query:
    """`parse_query` of a query string's parameters by their HTTP names (`GET /worklist`, the page)."""
    return parse_query(
        now,
        code=params.get("code"),
        organisation=params.get("organisation"),
        municipality=params.get("municipality"),
        min_age_days=params.get("min_age_days"),
        page=params.get("page"),
        page_size=params.get("page_size"),
    )
