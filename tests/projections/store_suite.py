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
from projections.figures import metrics
from projections.projector import Projector
from projections.query import Ports, aggregate_from_log
from projections.rebuild import rebuild
from projections.store import LOG, Row, StaleWrite
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
    store = location.open_active()
    try:
        return {
            subject: (case.streamposition, case.events, case.view, case.attention, summary)
            for subject, summary, _ in store.summaries()
            for case in [store.case(subject)]
            if case is not None
        }
    finally:
        store.close()


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
        ports_.read_raw.close()  # type: ignore[attr-defined]
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
            # a cut-off after everything is the same history, computed from the log
            future = model.metrics(at="2099-01-01T00:00:00.000000Z", now=NOW)
            assert {k: v for k, v in future.items() if k != "provenance"} == metrics(agg, NOW)
            assert future["provenance"]["source"] == "event log"
            e1 = model.evaluation(now=NOW)
            e2 = model.evaluation(at="2099-01-01T00:00:00.000000Z", now=NOW)
            assert {k: v for k, v in e1.items() if k != "provenance"} == {
                k: v for k, v in e2.items() if k != "provenance"
            }
        finally:
            model.close()

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
