"""The projection-store contract: one suite, run unchanged on SQLite and PostgreSQL.

A backend's test class subclasses `ProjectionStoreContract` and provides `store_url` (the event
store; the projections live beside it, as in production). Real components throughout: the
ledger's append service and recorders, the generator's history, the projection stores.
"""

from __future__ import annotations

import functools
import io
import random
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.adapters.raw import RawReader
from ledger.bootstrap import Ledger, open_read_model, read_ports
from ledger.generator import generate
from projections.figures import evaluation, metrics
from projections.projector import Projector
from projections.query import DEFAULT_PIVOT, Ports, aggregate_from_log
from projections.rebuild import rebuild
from projections.store import LOG, Row, StaleWrite
from projections.worklist import ORGS, Point, Query, reference_answer
from tests.homes import opened

NOW = "2025-06-01T00:00:00.000000Z"


class Stop(Exception):
    """Raised to stop a rebuild part-way, as a kill would."""


@functools.cache
def _history(addresses: int, seed: int) -> tuple[bytes, ...]:
    """A generated history (publisher form with recordedtime), ready for import."""
    out = io.BytesIO()
    generate(addresses, seed, date(2024, 12, 31), out, workers=1)
    return tuple(out.getvalue().splitlines())


def import_lines(ledger: Ledger, lines: list[bytes]) -> None:
    for start in range(0, len(lines), 1000):
        results = ledger.service.append(lines[start : start + 1000], None, importing=True)
        assert {r.result for r in results} <= {"accepted", "duplicate"}, [r for r in results if r.result == "rejected"]


def rows_of(location: Any) -> dict[str, tuple[Any, ...]]:
    """Every address's row as stored, with its worklist index entries."""
    store = location.open_active()
    try:
        points: dict[str, list[Any]] = {}
        for subject, point in store.points():
            points.setdefault(subject, []).append(point)
        return {
            subject: (case.streamposition, case.events, case.view, case.attention, summary, points.get(subject, []))
            for subject, summary, _ in store.summaries()
            for case in [store.case(subject)]
            if case is not None
        }
    finally:
        store.close()


def forget_worklist(store: Any) -> None:
    """Make `store` look as written before the worklist existed: no entries, no record of them."""
    if hasattr(store, "_db"):  # SQLite
        store._db.execute("DELETE FROM proj_worklist")
        store._db.execute("DELETE FROM proj_meta WHERE key = 'worklist'")
    else:
        store._conn.execute(store._q("DELETE FROM {}", "proj_worklist"))
        store._conn.execute(store._q("DELETE FROM {} WHERE key = 'worklist'", "proj_meta"))
    assert list(store.points()) == []


class ProjectionStoreContract:
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:  # overridden by each backend
        raise NotImplementedError

    @pytest.fixture
    def ledger(self, store_url: str, tmp_path: Path) -> Iterator[Ledger]:
        yield from opened(tmp_path, store_url)

    @pytest.fixture
    def p(self, ledger: Ledger) -> Iterator[Ports]:
        ports_ = read_ports(ledger)
        yield ports_
        ports_.read_raw.close()
        close = getattr(ports_.location, "close", None)
        if close is not None:
            close()

    @pytest.fixture
    def lines(self) -> list[bytes]:
        return list(_history(150, 7))

    # -- rows and positions -----------------------------------------------------------------
    def test_rows_and_position_commit_together(self, p: Ports) -> None:
        store = p.location.open_active()
        try:
            row = Row("0014200000000001", 3, 3, b'{"a":1}', b"[]", b"{}")
            store.write([row], {LOG: 10})
            assert store.position() == 10 and store.case(row.subject) is not None
            with pytest.raises(StaleWrite):
                store.write([Row(row.subject, 4, 4, b'{"a":2}', b"[]", b"{}")], {LOG: 12}, expected={LOG: 9})
            case = store.case(row.subject)
            assert store.position() == 10 and case is not None and case.view == b'{"a":1}'
            store.write([Row(row.subject, 4, 4, b'{"a":2}', b"[]", b"{}")], {LOG: 12}, expected={LOG: 10})
            case = store.case(row.subject)
            assert store.positions() == {LOG: 12} and case is not None and case.streamposition == 4
            assert store.streampositions([row.subject, "0014200000000002"]) == {row.subject: 4}
            version = store.version()
            store.write([], {"kafka:t:0": 5})
            assert store.version() == version + 1 and store.position("kafka:t:0") == 5
            assert [s for s, _, _ in store.summaries(version)] == []
        finally:
            store.close()

    def test_many_rows_in_one_write(self, p: Ports) -> None:
        store = p.location.open_active()
        try:
            rows = [Row(f"0014200{n:09d}", 1, 1, b"{}", b"[]", b'{"n":%d}' % n) for n in range(1, 1501)]
            store.write(rows, {LOG: 1500})
            store.write(rows[:300], {LOG: 1800})  # upsert of existing rows
            assert store.count() == 1500 and store.position() == 1800
            assert len(list(store.summaries(store.version() - 1))) == 300
        finally:
            store.close()

    # -- following the log ------------------------------------------------------------------
    def test_incremental_in_random_batches_equals_a_rebuild(self, ledger: Ledger, p: Ports, lines: list[bytes]) -> None:
        rnd = random.Random(3)
        start = 0
        projector = Projector(p.location.open_active(), p.read_raw, p.load_streams, batch=rnd.randint(1, 400))
        while start < len(lines):
            end = start + rnd.randint(1, 700)
            import_lines(ledger, lines[start:end])
            projector.batch = rnd.randint(1, 400)
            projector.catch_up(ledger.log.max_position())
            start = end
        projector.store.close()
        incremental = rows_of(p.location)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        assert rows_of(p.location) == incremental
        assert len(incremental) > 100

    def test_bulk_catch_up_equals_batches(self, ledger: Ledger, p: Ports, lines: list[bytes]) -> None:
        import_lines(ledger, lines[: len(lines) // 2])
        store = p.location.open_active()
        Projector(store, p.read_raw, p.load_streams, batch=97).catch_up(ledger.log.max_position())
        import_lines(ledger, lines[len(lines) // 2 :])
        head = ledger.log.max_position()
        Projector(store, p.read_raw, p.load_streams, bulk_threshold=1).catch_up(head)  # one scan
        assert store.position() == head
        store.close()
        bulk = rows_of(p.location)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        assert rows_of(p.location) == bulk

    def test_redelivered_batches_change_nothing(self, ledger: Ledger, p: Ports, lines: list[bytes]) -> None:
        import_lines(ledger, lines[:800])
        store = p.location.open_active()
        projector = Projector(store, p.read_raw, p.load_streams, batch=100)
        projector.catch_up(ledger.log.max_position())
        before = rows_of(p.location)
        with pytest.raises(StaleWrite):
            projector.step(300)  # a batch read again from an old position
        import_lines(ledger, lines[:800])  # every event again: all duplicates, nothing appended
        assert projector.catch_up(ledger.log.max_position()) == 0
        store.close()
        assert rows_of(p.location) == before

    def test_two_followers_at_once_lose_nothing(self, ledger: Ledger, p: Ports, lines: list[bytes]) -> None:
        import_lines(ledger, lines)
        head = ledger.log.max_position()
        errors: list[BaseException] = []

        def follow(batch: int) -> None:
            try:
                store = p.location.open_active()  # both may find no store yet: they must agree on one
                reader = RawReader(ledger)
                try:
                    Projector(store, reader, p.load_streams, batch=batch).catch_up(head)
                finally:
                    store.close()
                    reader.close()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=follow, args=(b,)) for b in (53, 71)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        together = rows_of(p.location)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        assert rows_of(p.location) == together

    # -- rebuild ----------------------------------------------------------------------------
    @pytest.mark.parametrize("stop_after", [1, 3])
    def test_killed_rebuild_resumes_and_equals_a_full_one(
        self, ledger: Ledger, p: Ports, lines: list[bytes], stop_after: int
    ) -> None:
        import_lines(ledger, lines[:-300])
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        full = rows_of(p.location)
        old_generation = p.location.active_id()

        def stop(chunk: int) -> None:
            if chunk == stop_after:
                raise Stop

        with pytest.raises(Stop):
            rebuild(p.location, p.read_raw, p.load_streams, p.max_position, chunk=20, after_chunk=stop)
        assert p.location.active_id() == old_generation  # the old store still serves
        assert rows_of(p.location) == full
        import_lines(ledger, lines[-300:])  # more events arrive meanwhile
        result = rebuild(p.location, p.read_raw, p.load_streams, p.max_position, chunk=20)
        assert result.resumed and result.skipped == 20 * stop_after and result.caught_up > 0
        assert p.location.active_id() != old_generation
        resumed = rows_of(p.location)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        assert rows_of(p.location) == resumed

    def test_rebuild_in_two_processes_equals_one(self, ledger: Ledger, p: Ports, lines: list[bytes]) -> None:
        import_lines(ledger, lines)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        one = rows_of(p.location)

        def stop(chunk: int) -> None:
            raise Stop

        with pytest.raises(Stop):  # killed after its first chunk, then resumed in two processes
            rebuild(p.location, p.read_raw, p.load_streams, p.max_position, chunk=10, after_chunk=stop)
        result = rebuild(
            p.location, p.read_raw, p.load_streams, p.max_position, workers=2, reader_factory=lambda: RawReader(ledger)
        )
        assert result.resumed and result.skipped == 10 and result.addresses == len(one) - 10
        assert rows_of(p.location) == one
        rebuild(
            p.location, p.read_raw, p.load_streams, p.max_position, workers=3, reader_factory=lambda: RawReader(ledger)
        )
        assert rows_of(p.location) == one

    def test_reader_notices_a_swap(self, ledger: Ledger, p: Ports, lines: list[bytes]) -> None:
        import_lines(ledger, lines[:500])
        model = open_read_model(ledger)
        try:
            model.refresh()
            before = model.metrics(now=NOW)
            rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
            import_lines(ledger, lines[500:])
            model.refresh()
            after = model.metrics(now=NOW)
            assert after["provenance"]["position"] == ledger.log.max_position()
            assert after["provenance"]["events"] > before["provenance"]["events"]
        finally:
            model.close()

    def test_far_behind_a_server_answers_at_once_and_catches_up_in_the_background(
        self, ledger: Ledger, lines: list[bytes]
    ) -> None:
        import_lines(ledger, lines[:200])
        model = open_read_model(ledger)
        try:
            model.refresh()
            import_lines(ledger, lines[200:])
            head = ledger.log.max_position()
            model.refresh(sync_limit=10)  # too far behind to wait for: answer from the store as it is
            stale = model.metrics(now=NOW)["provenance"]
            assert stale["behind"] == head - stale["position"] > 0
            assert model.follower.background is not None
            model.follower.background.join()  # the background catch-up finishes
            model.refresh(sync_limit=10)
            fresh = model.metrics(now=NOW)["provenance"]
            assert fresh["position"] == head and fresh["behind"] == 0
        finally:
            model.close()

    # -- queries ----------------------------------------------------------------------------
    def test_figures_equal_a_fold_of_the_whole_history(self, ledger: Ledger, lines: list[bytes]) -> None:
        import_lines(ledger, lines)
        model = open_read_model(ledger)
        try:
            model.refresh()
            served = model.metrics(now=NOW)
            head = ledger.log.max_position()
            reader = RawReader(ledger)
            try:
                agg, events = aggregate_from_log(reader, head, None, None)
            finally:
                reader.close()
            assert {k: v for k, v in served.items() if k != "provenance"} == metrics(agg, NOW)
            assert events == head == served["provenance"]["events"] == served["provenance"]["position"]
            assert served["provenance"]["head_hash"] == ledger.log.head_hash(head)
            # a cut-off after everything is the same history, from the bitemporal index
            future = model.metrics(at="2099-01-01T00:00:00.000000Z", now=NOW)
            assert {k: v for k, v in future.items() if k != "provenance"} == metrics(agg, NOW)
            assert future["provenance"]["source"] == "index"
            assert future["provenance"]["events"] == events
            e1 = model.evaluation(now=NOW)
            e2 = model.evaluation(at="2099-01-01T00:00:00.000000Z", now=NOW)
            assert {k: v for k, v in e1.items() if k != "provenance"} == {
                k: v for k, v in e2.items() if k != "provenance"
            }
        finally:
            model.close()

    def test_a_new_reader_takes_the_stored_figures_equal_to_a_fold(self, ledger: Ledger, lines: list[bytes]) -> None:
        """Issue 14 item 4: `ledger metrics` without cut-offs reads the aggregate the store keeps
        (its base and the deltas every write stores), not every summary; the same figures."""
        rnd = random.Random(5)

        def folded(head: int) -> dict[str, Any]:
            reader = RawReader(ledger)
            try:
                agg, _ = aggregate_from_log(reader, head, None, None)
            finally:
                reader.close()
            return {"metrics": metrics(agg, NOW), "evaluation": evaluation(agg, NOW, DEFAULT_PIVOT)}

        def served(expect_stored: bool) -> dict[str, Any]:
            model = open_read_model(ledger)
            try:
                model.refresh()
                m, e = model.metrics(now=NOW), model.evaluation(now=NOW)
                # the stored figures were enough: no summary was read
                assert (model.follower.summary_rows == {}) is expect_stored
            finally:
                model.close()
            m.pop("provenance")
            e.pop("provenance")
            return {"metrics": m, "evaluation": e}

        start, step = 0, 0
        while start < len(lines):
            end = start + rnd.randint(1, 900)
            import_lines(ledger, lines[start:end])
            # the first reader of an empty store follows the deltas from version 1 on
            assert served(expect_stored=True) == folded(ledger.log.max_position())
            start, step = end, step + 1
        assert step > 2
        p = read_ports(ledger)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)  # bulk: no deltas
        assert served(expect_stored=False) == folded(ledger.log.max_position())  # sums the rows, stores a base
        assert served(expect_stored=True) == folded(ledger.log.max_position())  # from that base
        # a correction changes an address's summary: its delta takes the old one out
        last = {e["subject"]: e for e in map(orjson.loads, lines)}  # each address's last event: retractable
        target = next(e for e in last.values() if e["type"].endswith(".ClaimDecided.v1"))
        retraction = {
            **{k: target[k] for k in ("specversion", "source", "subject", "time", "org", "actor")},
            "id": "b8f2a5c4-0000-4000-8000-000000000001",
            "type": "nl.groningen.ledger.EventRetracted.v1",
            "data": {"retracts": target["id"], "reason": "dubbel geregistreerd"},
            "recordedtime": "2025-01-02T00:00:00.000000Z",
        }
        before = folded(ledger.log.max_position())
        import_lines(ledger, [orjson.dumps(retraction)])
        after = served(expect_stored=True)
        assert after == folded(ledger.log.max_position()) and after != before

    def test_case_after_append_shows_the_new_state(self, ledger: Ledger, lines: list[bytes]) -> None:
        import_lines(ledger, lines[:300])
        model = open_read_model(ledger)
        try:
            model.refresh()
            subject = orjson.loads(lines[0])["subject"]
            before = model.case(subject, now=NOW)
            assert before is not None
            mine = [line for line in lines[300:] if orjson.loads(line)["subject"] == subject]
            import_lines(ledger, lines[300:])
            model.refresh()
            after = model.case(subject, now=NOW)
            assert after["ledger"]["events"] == before["ledger"]["events"] + len(mine)
            assert after["provenance"]["behind"] == 0
            assert model.case("0014200000000000") is None
        finally:
            model.close()

    # -- the worklist index -----------------------------------------------------------------
    def test_worklist_entries_are_replaced_with_their_row(self, p: Ports) -> None:
        store = p.location.open_active()
        try:
            a, b = "0014200000000001", "1952200000000002"
            old = (Point("stalled", "", "2024-01-02T00:00:00.000000Z", False, "0014"),)
            new = (
                Point("claim_over_term", "C-2", "2024-03-01T00:00:00.000000Z", True, "0014"),
                Point("no_coordinator", "", "2024-02-01T00:00:00.000000Z", False, "0014"),
            )
            other = (Point("aos_open_48h", "A-1", "2024-05-01T00:00:00.000000Z", True, "1952"),)
            store.write([Row(a, 1, 1, b"{}", b"[]", b"{}", old), Row(b, 1, 1, b"{}", b"[]", b"{}", other)], {LOG: 2})
            store.write([Row(a, 2, 2, b"{}", b"[]", b"{}", new)], {LOG: 3})
            assert sorted(store.points()) == sorted([(a, new[0]), (a, new[1]), (b, other[0])])
            now = "2024-06-01T00:00:00.000000Z"
            total, page = store.worklist(Query(now=now, page_size=2))
            assert total == 3 and [(e.subject, e.code) for e in page] == [(b, "aos_open_48h"), (a, "claim_over_term")]
            total, page = store.worklist(Query(now=now, page=2, page_size=2))
            assert total == 3 and [(e.subject, e.code, e.ref) for e in page] == [(a, "no_coordinator", "")]
            assert store.worklist(Query(now=now, organisation="NCG"))[0] == 1  # only no_coordinator is NCG's too
            assert store.worklist(Query(now=now, municipalities=("1952",)))[0] == 1
            assert store.worklist(Query(now=now, min_age_days=100))[0] == 1  # 2024-02-01 is 121 days before
            # a strict point arises only after its moment, a non-strict one at it
            assert store.worklist(Query(now="2024-03-01T00:00:00.000000Z", codes=("claim_over_term",)))[0] == 0
            assert store.worklist(Query(now="2024-02-01T00:00:00.000000Z", codes=("no_coordinator",)))[0] == 1
            store.write([Row(a, 3, 3, b"{}", b"[]", b"{}")], {LOG: 4})  # nothing open any more
            assert [s for s, _ in store.points()] == [b]
        finally:
            store.close()

    def test_worklist_equals_the_case_views_of_every_address(self, ledger: Ledger) -> None:
        import_lines(ledger, list(_history(1000, 7)))  # enough addresses for some of every code
        model = open_read_model(ledger)
        try:
            model.refresh()
            subjects = sorted(model.store.subjects())
            points = []
            for subject in subjects:
                view = model.case(subject, now=NOW)
                registered = view["address"]["registered"] or {}
                where = registered.get("gemeentecode") or subject[:4]
                for a in view["attention"]:
                    points.append((subject, Point(a["code"], a["ref"] or "", a["since"], False, where)))
            assert len(points) > 20 and {p.code for _, p in points} >= {"claim_over_term", "no_coordinator"}
            for query in (
                Query(now=NOW, page_size=500),
                Query(now=NOW, page=2, page_size=3),
                Query(now=NOW, codes=("claim_over_term", "no_coordinator"), min_age_days=90),
                *(Query(now=NOW, organisation=org, page_size=7) for org in ORGS),
                Query(now=NOW, municipalities=(points[0][1].municipality,), page_size=500),
            ):
                total, page = reference_answer(points, query)
                answer = model.worklist(query)
                assert answer["total"] == total
                assert [(i["subject"], i["code"], i["ref"] or "", i["since"]) for i in answer["items"]] == [
                    (e.subject, e.code, e.ref, e.since) for e in page
                ]
        finally:
            model.close()

    def test_a_store_from_before_the_worklist_gets_its_index_when_opened(
        self, ledger: Ledger, p: Ports, lines: list[bytes]
    ) -> None:
        import_lines(ledger, lines)
        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        built = rows_of(p.location)
        assert any(row[-1] for row in built.values())
        store = p.location.open_active()
        try:
            forget_worklist(store)
        finally:
            store.close()
        assert rows_of(p.location) == built  # opening it again indexed every row's points

    def test_find_by_postcode_and_number_equals_a_scan_of_the_views(self, ledger: Ledger, lines: list[bytes]) -> None:
        from projections.search import parse_search

        import_lines(ledger, lines)
        model = open_read_model(ledger)
        try:
            model.refresh()
            by_place: dict[tuple[str, int], set[str]] = {}
            for subject, _ in model.summaries():
                registered = model.case(subject, now=NOW)["address"]["registered"]
                if registered:
                    by_place.setdefault((registered["postcode"], registered["huisnummer"]), set()).add(subject)
            assert len(by_place) > 50
            for (postcode, number), subjects in sorted(by_place.items())[:60]:
                found = model.find(parse_search(postcode.lower(), str(number)))
                assert {f["subject"] for f in found} == subjects
                assert all(f["registered"]["postcode"] == postcode for f in found)
            assert model.find(parse_search("9999ZZ", "1")) == []
        finally:
            model.close()
