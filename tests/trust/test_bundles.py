"""Bundles, version 2: positions, inclusion proofs, the cosigned checkpoint and the ledger's
attestation; checked offline with a trust file. Forgeries and every single-byte edit fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.chain import canonical
from domain.note import Trust
from ledger.keys import ed25519_verify
from replay.bundle import check_bundle, seal_of
from replay.errors import ReplayError
from tests.domain.support import open_test_ledger
from tests.trust.support import cli_env, history, rechain, run_cli
from tests.trust.witnessing import Keys, WitnessProcess


def _env(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess], trust: Path | None = None) -> dict[str, str]:
    return cli_env(
        tmp_path,
        LEDGER_SIGNING_KEY=str(keys.path("groningen-ledger")),
        LEDGER_WITNESSES=",".join(w.url for w in witnesses),
        LEDGER_TRUST=str(trust or keys.trust_file),
    )


@pytest.fixture
def made(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> tuple[Path, list[str], dict[str, str]]:
    """A store of 6 addresses (18 events) and a version-2 bundle of the third address."""
    ledger = open_test_ledger(tmp_path)
    subjects = history(ledger, 6)
    ledger.close()
    env = _env(tmp_path, keys, witnesses)
    out = tmp_path / "bundle.json"
    r = run_cli("replay", subjects[2], "--bundle", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert "version 2 (signed, with inclusion proofs)" in r.stdout
    return out, subjects, env


def _check(raw: bytes, trust: Trust) -> list[str]:
    try:
        return check_bundle(raw, trust, ed25519_verify).problems
    except ReplayError as exc:
        return [exc.message]


def test_v2_bundle_verifies_offline(made: tuple[Path, list[str], dict[str, str]], keys: Keys, tmp_path: Path) -> None:
    out, subjects, _ = made
    body = orjson.loads(out.read_bytes())
    assert body["version"] == 2 and body["tree"]["positions"] == [7, 8, 9] and body["tree"]["size"] == 18
    # offline: no store, no witnesses, only the file and the trust file
    r = run_cli(
        "verify",
        "--bundle",
        str(out),
        "--trust",
        str(keys.trust_file),
        env={"LEDGER_HOME": str(tmp_path / "elsewhere")},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bundle intact and signed: address " + subjects[2])
    assert "included in checkpoint 18" in r.stdout and "img-witness at" in r.stdout and "ncg-witness at" in r.stdout
    r = run_cli("verify", "--bundle", str(out), "--trust", str(keys.trust_file), "--json", env={})
    doc = orjson.loads(r.stdout)
    assert r.returncode == 0 and doc["intact"] is True and doc["error"] is None
    assert doc["checks"][0].startswith("bundle intact and signed: address " + subjects[2])
    # without the trust file a version-2 bundle cannot be judged: usage error, one line
    r = run_cli("verify", "--bundle", str(out), env={})
    assert r.returncode == 2 and "give --trust" in r.stderr and "Traceback" not in r.stderr


def _forge(body: dict[str, Any], events: list[dict[str, Any]]) -> bytes:
    body = dict(body, events=events)
    last = events[-1]
    body["head"] = {"streamposition": last["streamposition"], "hash": last["hash"]}
    body["seal"] = seal_of(body)
    return canonical(body) + b"\n"


def test_forged_bundles_fail(made: tuple[Path, list[str], dict[str, str]], keys: Keys, tmp_path: Path) -> None:
    out, _, _ = made
    body = orjson.loads(out.read_bytes())
    trust = keys.trust
    assert _check(out.read_bytes(), trust) == []
    # amounts ×10, chain and seal recomputed
    events = [dict(e) for e in body["events"]]
    for e in events:
        if "amount_cents" in e["data"]:
            e["data"] = {**e["data"], "amount_cents": e["data"]["amount_cents"] * 10}
    tenfold = _forge(body, rechain(events))
    problems = _check(tenfold, trust)
    assert any("attestation" in p for p in problems) and any("not included in the checkpoint" in p for p in problems)
    # the last event dropped, head and seal recomputed (and its proof too)
    dropped_body = dict(
        body, tree=dict(body["tree"], positions=body["tree"]["positions"][:-1], proofs=body["tree"]["proofs"][:-1])
    )
    dropped = _forge(dropped_body, body["events"][:-1])
    assert any("attestation" in p for p in _check(dropped, trust))
    # both, through the command: exit 1, one line naming the first problem, no traceback
    for name, raw in (("tenfold", tenfold), ("dropped", dropped)):
        path = tmp_path / f"{name}.json"
        path.write_bytes(raw)
        r = run_cli("verify", "--bundle", str(path), "--trust", str(keys.trust_file), env={})
        assert r.returncode == 1, r.stdout
        assert "bundle NOT intact" in r.stdout and "attestation" in r.stderr and "Traceback" not in r.stderr


def test_every_single_byte_edit_fails(made: tuple[Path, list[str], dict[str, str]], keys: Keys) -> None:
    out, _, _ = made
    raw = out.read_bytes()
    trust = keys.trust
    passed = []
    for i in range(len(raw)):
        for replacement in {raw[i] ^ 0x01, ord("0") if raw[i] != ord("0") else ord("1")}:
            edited = raw[:i] + bytes([replacement]) + raw[i + 1 :]
            if not _check(edited, trust):
                passed.append((i, raw[max(0, i - 40) : i + 20], bytes([replacement])))
    assert passed == [], f"edits went unnoticed (position, context, new byte): {passed[:5]}"


def test_checkpoint_lacking_a_required_cosignature(tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]) -> None:
    ledger = open_test_ledger(tmp_path)
    subjects = history(ledger, 2)
    ledger.close()
    img_only = tmp_path / "img-only.txt"
    img_only.write_text(keys.trust_file.read_text().replace("require img-witness ncg-witness", "require img-witness"))
    env = _env(tmp_path, keys, witnesses[:1], trust=img_only)  # the ledger publishes with IMG's cosignature only
    out = tmp_path / "b.json"
    r = run_cli("replay", subjects[0], "--bundle", str(out), env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("verify", "--bundle", str(out), "--trust", str(img_only), env={})
    assert r.returncode == 0, r.stderr
    r = run_cli("verify", "--bundle", str(out), "--trust", str(keys.trust_file), env={})  # requires both
    assert r.returncode == 1
    assert "the checkpoint lacks the required cosignature of ncg-witness" in r.stdout + r.stderr


def test_version_1_still_verifies_as_unsigned(tmp_path: Path, keys: Keys) -> None:
    home = tmp_path / "home"  # no signing key there: the replay writes version 1
    ledger = open_test_ledger(home)
    subjects = history(ledger, 1)
    ledger.close()
    out = tmp_path / "v1.json"
    r = run_cli("replay", subjects[0], "--bundle", str(out), env=cli_env(home))
    assert r.returncode == 0 and "version 1 (unsigned)" in r.stdout, r.stderr
    r = run_cli("verify", "--bundle", str(out), "--trust", str(keys.trust_file), env={})
    assert r.returncode == 0 and "unsigned (version 1)" in r.stdout


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "names no ledger key"),
        ("groningen-ledger+00000000+AAAA\n", "line 1: verifier key groningen-ledger: "),
        ("nonsense\n", "line 1: verifier key 'nonsense' is not <name>+<key id>+<key>"),
        ("require x\nrequire y\n", "a second 'require' line"),
    ],
)
def test_bad_trust_file_one_message(
    made: tuple[Path, list[str], dict[str, str]], tmp_path: Path, content: str, message: str
) -> None:
    out, _, _ = made
    bad = tmp_path / "bad-trust.txt"
    bad.write_text(content)
    r = run_cli("verify", "--bundle", str(out), "--trust", str(bad), env={})
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_trust_file_requiring_an_unknown_witness(
    made: tuple[Path, list[str], dict[str, str]], keys: Keys, tmp_path: Path
) -> None:
    out, _, _ = made
    bad = tmp_path / "t.txt"
    bad.write_text(keys.trust_file.read_text().replace("require img-witness ncg-witness", "require mystery"))
    r = run_cli("verify", "--bundle", str(out), "--trust", str(bad), env={})
    assert r.returncode == 2 and "requires witness 'mystery' but has no key for it" in r.stderr


def test_malformed_v2_bundles_one_message(
    made: tuple[Path, list[str], dict[str, str]], keys: Keys, tmp_path: Path
) -> None:
    out, _, _ = made
    body = orjson.loads(out.read_bytes())
    cases = [
        ({k: v for k, v in body.items() if k != "tree"}, "not a version-2 bundle: 'tree' or 'attestation' is missing"),
        (dict(body, tree=dict(body["tree"], proofs="x")), "tree.proofs is missing or not a list"),
        (dict(body, tree=dict(body["tree"], positions=["1"])), "a tree position is not a whole number"),
        (dict(body, tree=dict(body["tree"], checkpoint="garbage")), "the checkpoint does not verify"),
        (dict(body, version=3), "not an evidence bundle of version 1 or 2"),
    ]
    for broken, message in cases:
        path = tmp_path / "broken.json"
        path.write_bytes(canonical(broken) + b"\n")
        r = run_cli("verify", "--bundle", str(path), "--trust", str(keys.trust_file), env={})
        assert r.returncode == 1, (message, r.stdout)
        assert message in r.stderr + r.stdout and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
