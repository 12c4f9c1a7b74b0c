"""A witness killed -9 while cosigning, restarted: its state is the old or the new checkpoint,
never torn, never behind a cosignature it gave; and it never cosigns two inconsistent checkpoints."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import orjson

from domain import merkle
from domain.note import Checkpoint, Note
from ledger.checkpoints import _post, request_body
from ledger.witness import load_state
from tests.domain.support import open_test_ledger
from tests.trust.support import history
from tests.trust.witnessing import Keys, WitnessProcess


def test_kill_9_while_cosigning(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    w = witnesses[0]
    ledger = open_test_ledger(tmp_path)
    try:
        history(ledger, 30)  # 90 events: checkpoints of every size 1..90
        tree = ledger.tree
        roots = {n: tree.root(n) for n in range(1, 91)}
        notes = {}
        for n in range(1, 91):
            text = Checkpoint(keys.ledger.name, n, roots[n]).text()
            notes[n] = Note(text, (keys.ledger.sign_note(text),)).encode()
        proofs = {(m, n): tree.consistency(m, n) for m in range(0, 91) for n in range(m + 1, 91) if n - m <= 3}
    finally:
        ledger.close()
    rng = random.Random(11)
    size = 0
    for _round in range(4):
        cosigned: list[int] = []
        in_flight: list[int] = []
        start = size

        def send(start: int = start, cosigned: list[int] = cosigned, in_flight: list[int] = in_flight) -> None:
            old = start
            while old < 90:
                new = min(90, old + rng.randint(1, 3))
                in_flight.append(new)
                try:
                    status, _ = _post(w.url, request_body(old, proofs[(old, new)] if old else [], notes[new]))
                except OSError:
                    return  # killed
                if status != 200:
                    return
                cosigned.append(new)
                old = new

        sender = threading.Thread(target=send)
        sender.start()
        kill_after = rng.randint(2, 12)
        deadline = threading.Event()
        while len(cosigned) < kill_after and sender.is_alive():
            deadline.wait(0.001)  # polling the sender's progress until the kill point
        w.kill()
        sender.join(30)
        assert not sender.is_alive()
        state = load_state(w.state)  # a whole JSON document: old or new, never torn
        assert state is not None
        last_answered = cosigned[-1] if cosigned else start
        last_sent = in_flight[-1] if in_flight else start
        assert state.size in (last_answered, last_sent), (state.size, cosigned[-3:], in_flight[-3:])
        assert state.root == roots[state.size]
        assert orjson.loads(w.state.read_bytes())["size"] == state.size
        w.start()  # restarted on the same state
        size = state.size
        if size >= 87:
            break

    # never two inconsistent checkpoints: a forked tree of a larger size is refused (422),
    # an older or a guessed size is refused (409), the same size with another root too (409)
    forged_leaves = [merkle.leaf_hash(bytes([i % 256]) * 32) for i in range(90)]
    forged = merkle.CompactRange()
    nodes = {(lv, ix): h for lv, ix, h in forged.extend(forged_leaves)}
    target = min(90, size + 2)
    forged_root = merkle.root_at(target, lambda need: {k: nodes[k] for k in need})
    text = Checkpoint(keys.ledger.name, target, forged_root).text()
    forged_note = Note(text, (keys.ledger.sign_note(text),)).encode()
    forged_proof = merkle.consistency_proof(size, target, lambda need: {k: nodes[k] for k in need})
    if target > size:
        assert _post(w.url, request_body(size, forged_proof, forged_note))[0] == 422
    assert _post(w.url, request_body(max(0, size - 1), [], notes[size]))[0] == 409
    text = Checkpoint(keys.ledger.name, size, forged_leaves[0]).text()
    assert _post(w.url, request_body(size, [], Note(text, (keys.ledger.sign_note(text),)).encode()))[0] == 409
    assert load_state(w.state).size == size  # type: ignore[union-attr]
