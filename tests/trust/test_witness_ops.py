"""Operators' metrics of the trust roles (issue 15, item 5): a real `ledger witness` with an ops
port, scraped and parsed with prometheus-client's parser while the ledger's checkpoints are
cosigned; and the checkpoint's age as the store-backed roles report it."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ledger.ops import StateCollector
from tests.domain.support import open_test_ledger
from tests.ledger.test_ops_metrics import scrape, value
from tests.trust.support import history
from tests.trust.test_checkpoints import checkpoint, configured
from tests.trust.witnessing import Keys, WitnessProcess, free_port


def test_witnesses_expose_what_they_cosigned_and_their_requests(
    tmp_path: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops: dict[str, int] = {}
    witnesses = []
    for name in ("img-witness", "ncg-witness"):
        ops[name] = free_port()
        monkeypatch.setenv("LEDGER_OPS_PORT", str(ops[name]))  # the witness reads it from its environment
        witnesses.append(
            WitnessProcess(
                name,
                keys.path(name),
                keys.folder / "groningen-ledger.vkey",
                tmp_path / f"{name}.state.json",
                free_port(),
            ).start()
        )
    ledger = configured(open_test_ledger(tmp_path), keys, witnesses)
    try:
        before = {name: scrape(port) for name, port in ops.items()}
        for m in before.values():
            assert value(m, "ledger_up", role="witness") == 1 and value(m, "ledger_witness_cosigned_size") == 0
        history(ledger, 5)
        assert checkpoint(ledger, keys, witnesses).published
        history(ledger, 4, start=5)
        assert checkpoint(ledger, keys, witnesses).published
        for name, port in ops.items():
            m = scrape(port)
            assert value(m, "ledger_witness_cosigned_size") == 27, name
            assert value(m, "ledger_http_requests_total", route="/add-checkpoint", status="200") == 2, m.get(
                "ledger_http_requests_total"
            )
            assert value(m, "ledger_http_request_duration_seconds_count", route="/add-checkpoint") == 2

        # The store-backed roles (serve, relay, intake) report the latest checkpoint and its age.
        registry = CollectorRegistry()
        registry.register(StateCollector("relay", ledger.settings))
        families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
        assert families["ledger_checkpoint_size"].samples[0].value == 27
        assert 0 <= families["ledger_checkpoint_age_seconds"].samples[0].value < 120
        assert families["ledger_store_head"].samples[0].value == 27
    finally:
        ledger.close()
        for w in witnesses:
            w.stop()
