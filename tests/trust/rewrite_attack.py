"""The rewrite attack, for SQLite and PostgreSQL alike (tests/trust/test_rewrite.py,
tests/integration/test_rewrite_postgres.py)."""

from __future__ import annotations

from pathlib import Path

from domain import merkle
from domain.note import Checkpoint, Note
from ledger.bootstrap import Ledger
from ledger.checkpoints import _post, make_checkpoint, request_body
from ledger.tree import GAPS, HEAD, TREE
from tests.trust.support import cli_env, history, rebuilt_leaves, rewrite_address, run_cli
from tests.trust.witnessing import Keys, WitnessProcess


def _note(keys: Keys, size: int, root: bytes) -> bytes:
    text = Checkpoint(keys.ledger.name, size, root).text()
    return Note(text, (keys.ledger.sign_note(text),)).encode()


def rewrite_attack(ledger: Ledger, tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    subjects = history(ledger, 8)  # 24 events; the fourth address's decision is global position 12
    made = make_checkpoint(ledger, keys.ledger, [w.url for w in witnesses], keys.trust)
    assert made.published, made.problems
    earlier = tmp_path / "checkpoint-24.txt"
    earlier.write_text(made.note)
    env = cli_env(tmp_path, ledger.settings.store_url)

    rewrite_address(ledger, subjects[3])  # amounts ×10, the address's whole chain recomputed

    r = run_cli("verify", env=env)  # chains only: the rewrite is invisible to them
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify: intact: 24 events in 8 addresses" in r.stdout

    r = run_cli("verify", "--since", str(earlier), "--trust", str(keys.trust_file), env=env)
    assert r.returncode == 1, r.stdout
    assert "the store does not extend checkpoint 24: position 12 differs" in r.stdout
    assert f"address {subjects[3]}, stream position 3" in r.stdout
    assert "Traceback" not in r.stderr

    # The attacker holds the ledger's key and rebuilds the tree from the rewritten events:
    # the witnesses refuse to cosign it — at the same size (409) and grown (422).
    forged = rebuilt_leaves(ledger)
    assert merkle.root_of(forged) != made.checkpoint.root
    for w in witnesses:
        status, _ = _post(w.url, request_body(24, [], _note(keys, 24, merkle.root_of(forged))))
        assert status == 409
    history(ledger, 1, start=100)  # three more events
    forged = rebuilt_leaves(ledger)
    nodes = {(lv, ix): h for lv, ix, h in merkle.CompactRange().extend(forged)}
    proof = merkle.consistency_proof(24, 27, lambda need: {k: nodes[k] for k in need})
    for w in witnesses:
        status, body = _post(w.url, request_body(24, proof, _note(keys, 27, merkle.root_of(forged))))
        assert status == 422, body

    # The attacker rewrites the stored tree too: the ledger refuses to sign a checkpoint that
    # does not extend the one it published, and --since still fails.
    _drop_tree(ledger)
    ledger.tree.catch_up()
    assert ledger.tree.root(27) == merkle.root_of(forged)
    r = run_cli(
        "checkpoint",
        env=dict(
            env,
            LEDGER_SIGNING_KEY=str(keys.path("groningen-ledger")),
            LEDGER_WITNESSES=",".join(w.url for w in witnesses),
            LEDGER_TRUST=str(keys.trust_file),
        ),
    )
    assert r.returncode == 1 and "does not extend the published checkpoint of size 24" in r.stderr
    r = run_cli("verify", "--since", str(earlier), "--trust", str(keys.trust_file), env=env)
    assert r.returncode == 1 and "the store does not extend checkpoint 24" in r.stdout


def _drop_tree(ledger: Ledger) -> None:
    if ledger.settings.is_postgres:
        with ledger.app.recorder.datastore.get_connection() as conn, conn.transaction():
            for table in (TREE, HEAD, GAPS):
                conn.execute(f"DELETE FROM public.{table}")
    else:
        with ledger.app.recorder.datastore.transaction(commit=True) as c:
            for table in (TREE, HEAD, GAPS):
                c.execute(f"DELETE FROM {table}")
