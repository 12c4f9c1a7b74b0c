"""The event-store contract: one suite, run unchanged against SQLite and PostgreSQL.

A backend's test class subclasses `StoreContract` and provides the `store_url` fixture
(the pattern of the `eventsourcing` library's own recorder test cases).
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.chain import GENESIS
from ledger.bootstrap import Ledger, Settings, open_ledger
from ledger.verify import verify_all
from tests.factories import claim_filed, decided, receipt, subject


def _open(url: str, home: Path) -> Ledger:
    return open_ledger(Settings(home=home, store_url=url))


def _concurrent_writer(url: str, home: str, worker: int, addresses: int, rounds: int, queue: Any) -> None:
    """Append `rounds` claims to each shared address; report every result."""
    ledger = _open(url, Path(home))
    try:
        results = []
        for r in range(rounds):
            batch = [
                claim_filed(subject(a), f"W{worker}-R{r}-A{a}", time="2021-01-01T00:00:00Z") for a in range(addresses)
            ]
            for item, result in zip(batch, ledger.service.append(batch, "IMG"), strict=True):
                results.append((item["id"], result.result, result.code))
        queue.put(results)
    finally:
        ledger.close()


class StoreContract:
    """Behaviour every event store of the ledger must show."""

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def ledger(self, store_url: str, tmp_path: Path) -> Any:
        led = _open(store_url, tmp_path)
        yield led
        led.close()

    def test_append_assigns_positions_hashes_and_global_order(self, ledger: Ledger) -> None:
        a, b = subject(1), subject(2)
        events = [claim_filed(a, "C1"), claim_filed(b, "C1"), receipt(a, "C1")]
        results = ledger.service.append(events, "IMG")
        assert [r.result for r in results] == ["accepted"] * 3
        assert [r.streamposition for r in results] == [1, 1, 2]
        stored = ledger.log.read(0, 10)
        assert [pos for pos, _ in stored] == [1, 2, 3]
        assert [e["id"] for _, e in stored] == [e["id"] for e in events]
        first = ledger.log.read_stream(a)
        assert first[0]["prevhash"] == GENESIS
        assert first[1]["prevhash"] == first[0]["hash"] == results[0].hash
        assert ledger.log.max_position() == 3
        assert ledger.log.head_hash(3) == results[2].hash
        assert ledger.log.read(1, 1)[0][0] == 2

    def test_duplicates_and_id_conflicts_survive_a_reopen(self, store_url: str, tmp_path: Path) -> None:
        event = claim_filed(subject(3), "C1")
        with _open(store_url, tmp_path) as led:
            original = led.service.append([event], "IMG")[0]
        with _open(store_url, tmp_path) as led:
            again = led.service.append([event], "IMG")[0]
            changed = led.service.append([{**event, "data": {**event["data"], "channel": "phone"}}], "IMG")[0]
            assert led.log.max_position() == 1
        assert (again.result, again.streamposition, again.hash) == ("duplicate", 1, original.hash)
        assert (changed.result, changed.code) == ("rejected", "id_conflict")

    def test_a_stale_writer_rereads_and_never_forks_the_chain(self, store_url: str, tmp_path: Path) -> None:
        a = subject(4)
        with _open(store_url, tmp_path) as one, _open(store_url, tmp_path) as two:
            assert one.service.state_of(a).version == 0
            assert two.service.state_of(a).version == 0  # both now cache position 0
            assert one.service.append([claim_filed(a, "C1")], "IMG")[0].streamposition == 1
            late = two.service.append([claim_filed(a, "C2")], "IMG")[0]
            assert (late.result, late.streamposition) == ("accepted", 2)
            # the stale writer also sees the other's claim, so a reuse is refused
            reuse = two.service.append([claim_filed(a, "C1")], "IMG")[0]
            assert (reuse.result, reuse.code) == ("rejected", "rule_violated")
            breaks, events, addresses = verify_all(one.log)
            assert (breaks, events, addresses) == ([], 2, 1)

    def test_a_failed_batch_leaves_nothing_behind(self, ledger: Ledger) -> None:
        a, b = subject(5), subject(6)
        good = claim_filed(a, "C1")
        bad = decided(b, "D1", ["NOPE"])
        results = ledger.service.append([good, claim_filed(b, "C1"), bad], "IMG")
        assert [r.result for r in results] == ["accepted", "rejected", "rejected"]
        assert ledger.log.read_stream(b) == []
        assert ledger.app.index.lookup_ids([e["id"] for e in (good, bad)]).keys() == {good["id"]}

    def test_bulk_lookups_span_many_chunks(self, ledger: Ledger) -> None:
        events = [claim_filed(subject(100 + i), "C1") for i in range(1203)]
        assert all(r.result == "accepted" for r in ledger.service.append(events, "IMG"))
        subjects = [e["subject"] for e in events]
        streams = ledger.app.index.load_streams(subjects)
        assert len(streams) == 1203 and all(len(v) == 1 for v in streams.values())
        found = ledger.app.index.lookup_ids([e["id"] for e in events] + ["00000000-0000-4000-8000-000000000000"])
        assert len(found) == 1203

    def test_tampering_is_found_at_its_position(self, ledger: Ledger, store_url: str) -> None:
        a = subject(7)
        ledger.service.append([claim_filed(a, "C1"), receipt(a, "C1"), receipt(a, "C1", days=30)], "IMG")
        event = ledger.log.read_stream(a)[1]
        event["data"]["decision_term_days"] = 1
        self.overwrite_state(store_url, a, 2, orjson.dumps(event, option=orjson.OPT_SORT_KEYS))
        breaks, _, _ = verify_all(ledger.log)
        assert [(b.subject, b.position) for b in breaks] == [(a, 2)]

    def test_a_removed_tail_is_found_against_the_id_index(self, ledger: Ledger, store_url: str) -> None:
        a = subject(8)
        ledger.service.append([claim_filed(a, "C1"), receipt(a, "C1"), receipt(a, "C1", days=30)], "IMG")
        self.delete_event(store_url, a, 3)
        assert verify_all(ledger.log)[0] == []  # the chain alone cannot see a cut tail
        heads = ledger.app.recorder.index_heads()  # type: ignore[attr-defined]
        breaks, _, _ = verify_all(ledger.log, index_heads=heads)
        assert [(b.subject, b.position) for b in breaks] == [(a, 3)]

    def test_concurrent_processes_lose_and_interleave_nothing(self, store_url: str, tmp_path: Path) -> None:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        workers = [
            ctx.Process(target=_concurrent_writer, args=(store_url, str(tmp_path), w, 5, 12, queue)) for w in range(2)
        ]
        for p in workers:
            p.start()
        reported = []
        while len(reported) < len(workers):
            try:
                reported.append(queue.get(timeout=1))
            except Exception:  # queue.Empty: check that nobody died without reporting
                assert all(p.is_alive() or p.exitcode == 0 for p in workers), "a writer process died"
        for p in workers:
            p.join(timeout=60)
            assert p.exitcode == 0
        outcomes = {event_id: (result, code) for batch in reported for event_id, result, code in batch}
        accepted = {i for i, (result, _) in outcomes.items() if result == "accepted"}
        assert {r for r, _ in outcomes.values()} <= {"accepted", "rejected"}
        assert all(code == "version_conflict" for r, code in outcomes.values() if r == "rejected")
        with _open(store_url, tmp_path) as led:
            stored = [e for _, e in led.log.read(0, 10_000)]
            assert {e["id"] for e in stored} == accepted  # nothing lost, nothing unreported
            assert len(stored) == len(accepted)
            for a in range(5):
                positions = [e["streamposition"] for e in led.log.read_stream(subject(a))]
                assert positions == list(range(1, len(positions) + 1))
            assert verify_all(led.log)[0] == []

    # backend hook -------------------------------------------------------------------------
    def overwrite_state(self, store_url: str, address: str, position: int, body: bytes) -> None:
        raise NotImplementedError

    def delete_event(self, store_url: str, address: str, position: int) -> None:
        raise NotImplementedError
