"""The worklist index against its definition, over random valid histories (hypothesis).

For a random history of a few addresses (several municipalities, back-dated and late events,
corrections and retractions; `tests.replay.strategies`), imported in random batches and
followed incrementally into a real SQLite projection store: the read model's worklist for a
random question (codes, organisation, municipalities, minimum age, page, "now" — often exactly
the moment a point arises) equals what filtering and sorting the attention points of every
address's folded case view at that "now" gives. And a full rebuild answers the same.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.timeutil import days_between
from projections import case_view
from projections.query import ReadModel
from projections.rebuild import rebuild
from projections.timeutil import add_days
from projections.worklist import CODES, ORGANISATIONS, ORGS, URGENCY, Query, municipality_of
from tests.projections.test_properties import SETTINGS, follow_in_batches, fresh
from tests.replay.strategies import histories

PREFIXES = ("0014", "0003", "1952")


def clone(stream: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """The same history at another address (new ids, amendments pointing at them): points that
    arise at the same moments, so the urgency order's ties between addresses are exercised."""
    ids = {e["id"]: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subject}:{e['id']}")) for e in stream}
    out = []
    for e in stream:
        data = dict(e["data"])
        for key in ("corrects", "retracts"):
            if key in data:
                data[key] = ids[data[key]]
        out.append({**e, "id": ids[e["id"]], "subject": subject, "data": data})
    return out


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Histories of 1-5 addresses in different municipalities, interleaved (each address's own
    order kept); sometimes the last one repeats the first one's history."""
    count = draw(st.integers(1, 5))
    streams = [draw(histories(f"{PREFIXES[n % 3]}200{n:09d}", max_events=16)) for n in range(1, count + 1)]
    if count > 1 and draw(st.booleans()):
        streams[-1] = clone(streams[0], streams[-1][0]["subject"])
    out: list[dict[str, Any]] = []
    while any(streams):
        stream = draw(st.sampled_from([s for s in streams if s]))
        out.append(stream.pop(0))
    return out


def expected(ledger: Any, subjects: list[str], query: Query) -> tuple[int, list[tuple[Any, ...]]]:
    """(total, page) from the case view of every address at `query.now`, filtered and sorted here."""
    kept = []
    for subject in subjects:
        view = case_view(ledger.log.read_stream(subject), subject, now=query.now)
        where = municipality_of(subject, view["address"]["registered"])
        for point in view["attention"]:
            if query.codes and point["code"] not in query.codes:
                continue
            if query.organisation and query.organisation not in ORGANISATIONS[point["code"]]:
                continue
            if query.municipalities and where not in query.municipalities:
                continue
            if days_between(point["since"], query.now) < query.min_age_days:
                continue
            key = (URGENCY[point["code"]], point["since"], subject, point["ref"] or "")
            kept.append((key, (subject, point["code"], point["ref"], point["since"], where)))
    kept.sort()
    page = [line for _, line in kept[query.offset : query.offset + query.page_size]]
    return len(kept), page


def served(model: ReadModel, query: Query) -> tuple[int, list[tuple[Any, ...]]]:
    answer = model.worklist(query)
    for item in answer["items"]:
        assert item["age_days"] == days_between(item["since"], query.now) >= query.min_age_days
        assert item["urgency"] == URGENCY[item["code"]] and item["organisations"] == list(ORGANISATIONS[item["code"]])
    assert answer["pages"] == -(-answer["total"] // query.page_size)
    lines = [(i["subject"], i["code"], i["ref"], i["since"], i["municipality"]) for i in answer["items"]]
    return answer["total"], lines


@st.composite
def questions(draw: st.DrawFn, moments: list[str]) -> Query:
    now = draw(st.sampled_from(moments))
    return Query(
        now=now,
        codes=tuple(draw(st.lists(st.sampled_from(CODES), max_size=2, unique=True))),
        organisation=draw(st.none() | st.sampled_from(ORGS)),
        municipalities=tuple(draw(st.lists(st.sampled_from(PREFIXES), max_size=2, unique=True))),
        min_age_days=draw(st.sampled_from([0, 0, 1, 30, 200])),
        page=draw(st.integers(1, 3)),
        page_size=draw(st.integers(1, 6)),
    )


@SETTINGS
@given(st.data(), ledgers())
def test_the_index_answers_what_the_case_views_say(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    with fresh() as (ledger, p):
        follow_in_batches(data, ledger, p, events).store.close()
        subjects = sorted({e["subject"] for e in events})
        # "now" at the moments points arise (strict and not), just after them, and at event times
        arising = [point.since for _, point in _points(p)]
        moments = sorted({*arising, *(add_days(t, 1e-6) for t in arising), *(e["time"] for e in events)})
        moments.append("2031-01-01T00:00:00.000000Z")
        model = ReadModel(p)
        try:
            model.refresh()
            asked = [data.draw(questions(moments)) for _ in range(4)]
            asked.append(Query(now=moments[-1], page_size=500))  # everything, unfiltered
            asked += [Query(now=moment, page_size=500) for moment in sorted(set(arising))]  # as each arises
            for query in asked:
                assert served(model, query) == expected(ledger, subjects, query)
            rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
            model.refresh()
            for query in asked:
                assert served(model, query) == expected(ledger, subjects, query)
        finally:
            model.close()


def _points(p: Any) -> list[Any]:
    store = p.location.open_active()
    try:
        return list(store.points())
    finally:
        store.close()
