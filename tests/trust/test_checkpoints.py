"""Checkpoints signed by the ledger and cosigned by two real witness processes; the witnesses'
refusals with the spec's status codes; publishing over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain import merkle
from domain.note import Checkpoint, Note, check_checkpoint, parse_note
from ledger.bootstrap import Ledger, Settings
from ledger.checkpoints import CheckpointError, _post, make_checkpoint, request_body
from ledger.keys import ALG_ED25519, ed25519_verify, generate
from tests.domain.support import open_test_ledger
from tests.trust.support import history
from tests.trust.witnessing import Keys, WitnessProcess


def configured(ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]) -> Ledger:
    ledger.settings = Settings(
        home=ledger.settings.home,
        store_url=ledger.settings.store_url,
        signing_key=keys.path("groningen-ledger"),
        witnesses=tuple(w.url for w in witnesses),
        trust_file=keys.trust_file,
    )
    return ledger


def checkpoint(ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]):  # type: ignore[no-untyped-def]
    return make_checkpoint(ledger, keys.ledger, [w.url for w in witnesses], keys.trust)


def test_checkpoint_cosigned_by_both_witnesses_then_extended(
    ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]
) -> None:
    history(ledger, 5)
    made = checkpoint(ledger, keys, witnesses)
    assert made.published and made.cosigners == ["img-witness", "ncg-witness"], made.problems
    checked = check_checkpoint(made.note, keys.trust, ed25519_verify)
    assert checked.ok and checked.checkpoint.size == 15
    assert checked.checkpoint.root == ledger.tree.root(15)
    history(ledger, 4, start=5)
    again = checkpoint(ledger, keys, witnesses)  # the witnesses check the proof 15 -> 27
    assert again.published and again.checkpoint.size == 27, again.problems
    assert ledger.tree.checkpoint() is not None and ledger.tree.checkpoint().size == 27  # type: ignore[union-attr]
    same = checkpoint(ledger, keys, witnesses)  # nothing new: the published one, not signed again
    assert not same.new and same.note == again.note


def test_a_witness_that_lost_track_is_found_by_its_409(
    ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]
) -> None:
    history(ledger, 2)
    only_img = make_checkpoint(ledger, keys.ledger, [witnesses[0].url], keys.trust)
    assert not only_img.published and "ncg-witness" in only_img.problems[-1]  # nothing published
    assert ledger.tree.checkpoint() is None
    history(ledger, 2, start=2)
    both = checkpoint(ledger, keys, witnesses)  # img cosigned 6 (the ledger guesses 0): 409 "6", then 6 -> 12
    assert both.published, both.problems


def test_missing_required_witness_names_it(ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    history(ledger, 2)
    witnesses[1].stop()
    made = checkpoint(ledger, keys, witnesses)
    assert not made.published
    assert any("unreachable" in p for p in made.problems)
    assert made.problems[-1] == "not published: no cosignature from ncg-witness"


def _submit(url: str, old: int, proof: list[bytes], note: bytes) -> tuple[int, bytes]:
    return _post(url, request_body(old, proof, note))


def _note(key, size: int, root: bytes) -> bytes:  # type: ignore[no-untyped-def]
    text = Checkpoint(key.name, size, root).text()
    return Note(text, (key.sign_note(text),)).encode()


def test_witness_refusals_follow_the_spec(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    ledger = open_test_ledger(tmp_path)
    url = witnesses[0].url
    try:
        history(ledger, 4)
        tree = ledger.tree
        root6, root12 = tree.root(6), tree.root(12)
        assert _submit(url, 0, [], _note(keys.ledger, 6, root6))[0] == 200
        # not signed by the ledger: 403
        other = generate("groningen-ledger", ALG_ED25519)
        assert _submit(url, 6, tree.consistency(6, 12), _note(other, 12, root12))[0] == 403
        # unknown origin: 404
        stranger = generate("elsewhere", ALG_ED25519)
        assert _submit(url, 6, [], _note(stranger, 12, root12))[0] == 404
        # old size larger than the checkpoint: 400
        assert _submit(url, 13, [], _note(keys.ledger, 12, root12))[0] == 400
        # old size not the one it cosigned: 409 with its size
        status, body = _submit(url, 3, tree.consistency(3, 12), _note(keys.ledger, 12, root12))
        assert (status, body) == (409, b"6\n")
        # a proof that does not verify: 422
        bad = [merkle.leaf_hash(b"forged")] + tree.consistency(6, 12)[1:]
        assert _submit(url, 6, bad, _note(keys.ledger, 12, root12))[0] == 422
        # the same size with another root: 409
        assert _submit(url, 6, [], _note(keys.ledger, 6, merkle.leaf_hash(b"other")))[0] == 409
        # malformed bodies: 400
        assert _submit(url, 6, [], b"not a note")[0] == 400
        assert _post(url, b"old x\n\n" + _note(keys.ledger, 12, root12))[0] == 400
        assert _post(url, b"\xff\xfe")[0] == 400
        # and the good one still works: 200 with a cosignature line that verifies
        status, body = _submit(url, 6, tree.consistency(6, 12), _note(keys.ledger, 12, root12))
        assert status == 200 and body.startswith("— img-witness ".encode())
        note = _note(keys.ledger, 12, root12).decode() + body.decode()
        assert check_checkpoint(note, keys.trust, ed25519_verify).cosigners.keys() == {"img-witness"}
    finally:
        ledger.close()


def test_409_is_text_x_tlog_size(ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    history(ledger, 1)
    note = _note(keys.ledger, 3, ledger.tree.root(3))
    request = urllib.request.Request(
        witnesses[0].url + "/add-checkpoint", data=request_body(2, [], note), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 409
    assert caught.value.headers["Content-Type"].startswith("text/x.tlog.size")
    assert caught.value.read() == b"0\n"


def test_published_over_http_with_proofs(ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    from ledger.http import create_app

    history(ledger, 3)
    made = checkpoint(ledger, keys, witnesses)
    assert made.published
    client = TestClient(create_app(ledger))
    r = client.get("/checkpoint")
    assert r.status_code == 200 and r.text == made.note
    assert client.get("/checkpoints/9").text == made.note
    assert client.get("/checkpoints/8").status_code == 404
    cp = Checkpoint.parse(parse_note(r.text).text)
    proof = client.get("/proofs/inclusion", params={"position": 4, "size": 9}).json()
    import base64

    merkle.verify_inclusion(
        base64.b64decode(proof["leaf_hash"]), 3, 9, [base64.b64decode(h) for h in proof["proof"]], cp.root
    )
    c = client.get("/proofs/consistency", params={"from": 3, "to": 9}).json()
    merkle.verify_consistency(
        3, 9, base64.b64decode(c["from_root"]), cp.root, [base64.b64decode(h) for h in c["proof"]]
    )
    for params, name in [
        ({"position": "x", "size": 9}, "position"),
        ({"position": 10, "size": 9}, "position"),
        ({"position": 1, "size": 99}, "size"),
        ({"size": 9}, "position"),
        ({"position": 1, "bogus": 1}, "bogus"),
    ]:
        bad = client.get("/proofs/inclusion", params=params)
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["invalid-params"][0]["name"] == name
    bad = client.get("/proofs/consistency", params={"from": 5, "to": 4})
    assert bad.status_code == 422 and bad.json()["invalid-params"][0]["name"] == "from"


def test_checkpoint_refused_when_no_trust_file(ledger: Ledger, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    history(ledger, 1)
    with pytest.raises(CheckpointError, match="no trust file"):
        make_checkpoint(ledger, keys.ledger, [witnesses[0].url], None)
