"""Interop: Go's golang.org/x/mod/sumdb/note verifies the ledger's signed checkpoints (and, with
a verifier written against C2SP tlog-cosignature, the witnesses' cosignatures), and
github.com/transparency-dev/merkle verifies every inclusion and consistency proof the ledger serves.

The Go program (tests/interop/go, versions pinned in go.mod/go.sum) is built from the Go module
proxy once per session; a build failure fails the tests loudly.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.checkpoints import make_checkpoint
from tests.domain.support import open_test_ledger
from tests.trust.support import history
from tests.trust.witnessing import Keys, WitnessProcess

GO_SOURCE = Path(__file__).parent / "go"


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("go") / "verify"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    build = subprocess.run(
        ["go", "build", "-o", str(out), "."], cwd=GO_SOURCE, env=env, capture_output=True, text=True, timeout=600
    )
    if build.returncode != 0:
        pytest.fail(f"building the Go verifier failed (exit {build.returncode}):\n{build.stdout}\n{build.stderr}")
    yield out


def run_go(binary: Path, payload: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary)], input=orjson.dumps(payload).decode(), capture_output=True, text=True, timeout=120
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_go_verifies_notes_and_every_proof(
    go_verifier: Path, tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]
) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        history(ledger, 11)  # 33 events: sizes 1, 2, 3, 2^k, 2^k+1 all occur
        made = make_checkpoint(ledger, keys.ledger, [w.url for w in witnesses], keys.trust)
        assert made.published
        tree = ledger.tree
        n = tree.size()
        assert n == 33
        roots = {size: tree.root(size) for size in range(1, n + 1)}
        inclusion = [
            {
                "leaf_hash": b64(tree.leaf(i)),
                "index": i,
                "size": size,
                "proof": [b64(h) for h in tree.inclusion(i, size)],
                "root": b64(roots[size]),
            }
            for size in (1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33)
            for i in range(size)
        ]
        consistency = [
            {
                "size1": m,
                "size2": size,
                "proof": [b64(h) for h in tree.consistency(m, size)],
                "root1": b64(roots[m]),
                "root2": b64(roots[size]),
            }
            for size in (1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33)
            for m in range(1, size + 1)
        ]
        # and what the HTTP API serves, as served
        client = TestClient(__import__("ledger.http", fromlist=["create_app"]).create_app(ledger))
        for position in (1, 17, 33):
            served = client.get("/proofs/inclusion", params={"position": position, "size": 33}).json()
            inclusion.append(
                {
                    "leaf_hash": served["leaf_hash"],
                    "index": position - 1,
                    "size": 33,
                    "proof": served["proof"],
                    "root": served["root"],
                }
            )
        served = client.get("/proofs/consistency", params={"from": 9, "to": 33}).json()
        consistency.append(
            {
                "size1": 9,
                "size2": 33,
                "proof": served["proof"],
                "root1": served["from_root"],
                "root2": served["to_root"],
            }
        )
        note = client.get("/checkpoint").text
    finally:
        ledger.close()
    payload = {
        "vkey": keys.ledger.verifier.vkey(),
        "witness_vkeys": [keys.img.verifier.vkey(), keys.ncg.verifier.vkey()],
        "note": note,
        "inclusion": inclusion,
        "consistency": consistency,
    }
    r = run_go(go_verifier, payload)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok note signed by groningen-ledger,img-witness,ncg-witness; 0 unverified" in r.stdout
    assert f"checked {len(inclusion)} inclusion and {len(consistency)} consistency proofs" in r.stdout

    # Go's note package ignores keys it does not know: only the ledger's key given.
    r = run_go(go_verifier, {**payload, "witness_vkeys": [], "inclusion": [], "consistency": []})
    assert r.returncode == 0 and "signed by groningen-ledger; 2 unverified" in r.stdout

    # and it refuses what is wrong: a changed note, a changed proof
    tampered = dict(payload, note=note.replace("\n33\n", "\n34\n"), inclusion=[], consistency=[])
    r = run_go(go_verifier, tampered)
    assert r.returncode == 1 and "FAIL note" in r.stdout
    bad = dict(inclusion[40], proof=list(reversed(inclusion[40]["proof"])))
    r = run_go(go_verifier, {**payload, "note": "", "inclusion": [bad], "consistency": []})
    assert r.returncode == 1 and "FAIL inclusion" in r.stdout
