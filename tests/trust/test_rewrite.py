"""The rewrite attack on SQLite: chains recomputed pass `ledger verify`; `--since` names the
position; the witnesses refuse the rewritten tree; the ledger will not sign it."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.bootstrap import Ledger
from tests.domain.support import open_test_ledger
from tests.trust.rewrite_attack import rewrite_attack
from tests.trust.support import cli_env, history, run_cli
from tests.trust.witnessing import Keys, WitnessProcess


def test_rewrite_attack_sqlite(ledger: Ledger, tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    rewrite_attack(ledger, tmp_path, keys, witnesses)


def test_since_passes_on_an_honest_store(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    from ledger.checkpoints import make_checkpoint

    ledger = open_test_ledger(tmp_path)
    try:
        history(ledger, 3)
        made = make_checkpoint(ledger, keys.ledger, [w.url for w in witnesses], keys.trust)
        history(ledger, 3, start=3)
    finally:
        ledger.close()
    earlier = tmp_path / "cp.txt"
    earlier.write_text(made.note)
    env = cli_env(tmp_path)
    r = run_cli("verify", "--since", str(earlier), "--trust", str(keys.trust_file), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the store extends checkpoint 9: 18 events" in r.stdout and "consistency proof 9→18 verified" in r.stdout
    r = run_cli("verify", "--since", "9", env=env)  # a size: the store's own published checkpoint
    assert r.returncode == 0 and "signatures not checked" in r.stdout
    r = run_cli("verify", "--since", str(earlier), "--trust", str(keys.trust_file), "--json", env=env)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["intact"] and doc["events"] == 18
    assert doc["since"]["checkpoint"] == 9 and doc["since"]["extends"] is True
    assert any("consistency proof 9→18 verified" in line for line in doc["since"]["checks"])
    for since, message in [("7", "published no checkpoint of that size"), (str(tmp_path / "nope"), "cannot read")]:
        r = run_cli("verify", "--since", since, env=env)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("groningen-ledger\nnot a size\nAAAA\n\n— x AAAAAAAA\n")
    r = run_cli("verify", "--since", str(junk), env=env)
    assert r.returncode == 2 and "not a checkpoint" in r.stderr and "Traceback" not in r.stderr
