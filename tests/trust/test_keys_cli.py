"""`ledger keys init --ledger/--witness`, `ledger keys trust`, `ledger checkpoint` on the command line."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson

from domain.note import ALG_COSIGNATURE_V1, ALG_ED25519, Trust, VerifierKey
from tests.domain.support import open_test_ledger
from tests.trust.support import cli_env, history, run_cli
from tests.trust.witnessing import Keys, WitnessProcess


def test_keys_init_and_trust(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    r = run_cli("keys", "init", "--ledger", "--witness", "img-witness", env=env)
    assert r.returncode == 0, r.stderr
    vkeys = [VerifierKey.parse(line) for line in r.stdout.splitlines()]
    assert [(k.name, k.alg) for k in vkeys] == [("groningen-ledger", ALG_ED25519), ("img-witness", ALG_COSIGNATURE_V1)]
    for name in ("groningen-ledger", "img-witness"):
        key = tmp_path / "keys" / f"{name}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_text().startswith(f"PRIVATE+KEY+{name}+")
        secret = key.read_text().strip().split("+", 4)[4]
        assert secret not in r.stdout + r.stderr  # never printed
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    again = run_cli("keys", "init", "--ledger", env=env)
    assert again.returncode == 2 and "exists; not overwriting a key" in again.stderr
    out = tmp_path / "trust.txt"
    r = run_cli(
        "keys", "trust", *(str(p) for p in sorted((tmp_path / "keys").glob("*.vkey"))), "--out", str(out), env=env
    )
    assert r.returncode == 0, r.stderr
    trust = Trust.parse(out.read_text())
    assert trust.log.name == "groningen-ledger" and trust.required == ("img-witness",)
    bad = run_cli("keys", "trust", "not-a-key", "--out", str(out), env=env)
    assert bad.returncode == 2 and "cannot read not-a-key" in bad.stderr and "Traceback" not in bad.stderr


def test_checkpoint_command(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    ledger = open_test_ledger(tmp_path)
    history(ledger, 2)
    ledger.close()
    env = cli_env(
        tmp_path,
        LEDGER_SIGNING_KEY=str(keys.path("groningen-ledger")),
        LEDGER_WITNESSES=",".join(w.url for w in witnesses),
        LEDGER_TRUST=str(keys.trust_file),
    )
    r = run_cli("checkpoint", "--json", env=env)
    assert r.returncode == 0, r.stderr
    body = orjson.loads(r.stdout)
    assert body["published"] and body["size"] == 6 and body["cosigners"] == ["img-witness", "ncg-witness"]
    r = run_cli("checkpoint", env=env)
    assert r.returncode == 0 and "checkpoint 6 published (already published)" in r.stdout
    witnesses[1].stop()
    ledger = open_test_ledger(tmp_path)
    history(ledger, 1, start=2)
    ledger.close()
    r = run_cli("checkpoint", env=env)
    assert r.returncode == 1 and "checkpoint 9 NOT published" in r.stdout
    assert "no cosignature from ncg-witness" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("checkpoint", env=dict(env, LEDGER_SIGNING_KEY=str(tmp_path / "missing.key")))
    assert r.returncode == 1 and "cannot read the key file" in r.stderr
