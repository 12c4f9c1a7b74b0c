"""`ledger replay` shows, beside "hash chain intact", whether the address's events are in the
latest cosigned checkpoint, with its size, time and signers."""

from __future__ import annotations

from pathlib import Path

from ledger.checkpoints import make_checkpoint
from tests.domain.support import open_test_ledger
from tests.trust.support import cli_env, history, rewrite_address, run_cli
from tests.trust.witnessing import Keys, WitnessProcess


def test_report_names_the_checkpoint(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        subjects = history(ledger, 3)
        made = make_checkpoint(ledger, keys.ledger, [w.url for w in witnesses], keys.trust)
        assert made.published
        history(ledger, 1, start=3)
        made_at = ledger.tree.checkpoint().made_at  # type: ignore[union-attr]
    finally:
        ledger.close()
    env = cli_env(tmp_path)
    r = run_cli("replay", subjects[1], env=env)
    assert r.returncode == 0, r.stderr
    assert "Chain: hash chain intact" in r.stdout
    assert (
        f"Checkpoint: 3 event(s) included in the latest cosigned checkpoint: size 9, made {made_at}, "
        "signed by groningen-ledger, img-witness, ncg-witness" in r.stdout
    )
    r = run_cli("replay", "0014200000000003", env=env)  # appended after the checkpoint
    assert "Checkpoint: 0 event(s) included" in r.stdout and "3 later event(s) not yet checkpointed" in r.stdout
    md = run_cli("replay", subjects[1], "--format", "md", env=env)
    assert "- **Checkpoint:** 3 event(s) included" in md.stdout
    html = run_cli("replay", subjects[1], "--format", "html", env=env)
    assert 'id="checkpoint">3 event(s) included' in html.stdout

    ledger = open_test_ledger(tmp_path)
    try:
        rewrite_address(ledger, subjects[1])
    finally:
        ledger.close()
    r = run_cli("replay", subjects[1], env=env)
    assert "Chain: hash chain intact" in r.stdout  # recomputed: the chain cannot tell
    assert "Checkpoint: NOT included in the latest cosigned checkpoint (size 9" in r.stdout
