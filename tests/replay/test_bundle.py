"""Evidence bundles: written from the store, checked with nothing but the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.chain import canonical
from replay.bundle import check_bundle, seal_of
from replay.errors import ReplayError
from tests.replay.conftest import Cli
from tests.replay.story import Story

Put = Callable[[Story], str]


def _story(n: int = 41) -> Story:
    s = Story(n)
    s.add("AddressRegistered", "2021-01-04")
    s.add("DamageClaimFiled", "2021-03-01T09:00", claim_id="C-1")
    s.add("ClaimReceiptConfirmed", "2021-03-02", claim_id="C-1", decision_term_days=56)
    s.add("AddressAddedToProgramme", "2021-02-15", recorded="2021-04-01")
    s.term_corrected_then_decided("2021-04-02", 2)
    return s


@pytest.fixture
def bundle(cli: Cli, stored: Put, tmp_path: Path) -> tuple[str, Path]:
    subject = stored(_story())
    path = tmp_path / "bundle.json"
    run = cli("replay", subject, "--bundle", str(path))
    assert run.code == 0, run.err
    assert run.out.startswith(f"bundle written: {path} — address {subject}, 6 events, chain intact")
    return subject, path


def _reseal(body: dict[str, Any]) -> bytes:
    """What someone who edits the parsed bundle and writes it back properly would produce."""
    body["seal"] = seal_of(body)
    return canonical(body) + b"\n"


def test_bundle_round_trip_offline(cli: Cli, bundle: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    subject, path = bundle
    # no ledger reachable: the check needs nothing but the file
    monkeypatch.setenv("LEDGER_STORE", "postgresql://nobody@127.0.0.1:1/none")
    run = cli("verify", "--bundle", str(path))
    assert run.code == 0, run.err
    assert run.out.startswith(f"bundle intact: address {subject}: 6 events, head #6 ")
    check = check_bundle(path.read_bytes())
    assert check.ok and check.events == 6 and check.subject == subject
    assert check.provenance["chain"]["intact"] is True
    assert check.provenance["code"]["package"] == "groningen-ledger"


def test_replay_from_the_bundle_equals_the_replay_from_the_store(cli: Cli, bundle: tuple[str, Path]) -> None:
    subject, path = bundle
    args = ("--format", "json", "--at", "2021-06-30", "--known-at", "2021-12-31")
    from_store = cli("replay", subject, *args).json()
    offline = cli("replay", subject, *args, "--from-bundle", str(path)).json()
    assert offline.pop("bundle")["ok"] is True
    for report in (from_store, offline):
        report.pop("provenance")
    assert offline == from_store


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_edit_fails_verification(bundle: tuple[str, Path], data: st.DataObject) -> None:
    raw = bundle[1].read_bytes()
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]), label="byte")
    edited = raw[:position] + bytes([byte]) + raw[position + 1 :]
    try:
        check = check_bundle(edited)
    except ReplayError as exc:
        assert exc.kind == "not_a_bundle"
    else:
        assert not check.ok


def _fails(edited: bytes) -> bool:
    try:
        return not check_bundle(edited).ok
    except ReplayError as exc:
        return exc.kind == "not_a_bundle"


def test_every_byte_position_edited_fails_verification(bundle: tuple[str, Path]) -> None:
    """Exhaustive over positions, for a flipped bit, white space and a newline."""
    raw = bundle[1].read_bytes()
    for position in range(len(raw)):
        for byte in {raw[position] ^ 0x01, 0x20, 0x0A} - {raw[position]}:
            edited = raw[:position] + bytes([byte]) + raw[position + 1 :]
            assert _fails(edited), (position, byte)
    assert _fails(raw[:-1]) and _fails(raw + b"\n") and _fails(b" " + raw)


def test_removal_reordering_and_edits_are_named(bundle: tuple[str, Path]) -> None:
    raw = bundle[1].read_bytes()
    body = orjson.loads(raw)

    removed = {**body, "events": body["events"][:2] + body["events"][3:]}
    check = check_bundle(_reseal(removed))
    assert check.break_position == 3 and "streamposition is 4, expected 3" in check.problems[0]

    swapped = {**body, "events": [body["events"][0], body["events"][2], body["events"][1], *body["events"][3:]]}
    assert check_bundle(_reseal(swapped)).break_position == 2

    edited = orjson.loads(raw)
    edited["events"][3]["data"]["basis"] = "owner_request"
    check = check_bundle(_reseal(edited))
    assert check.break_position == 4 and check.problems == [
        "the hash chain breaks at stream position 4: hash does not match the event's content"
    ]

    truncated = {**body, "events": body["events"][:-1]}  # without updating the declared head
    check = check_bundle(_reseal(truncated))
    assert check.problems == ["the declared head is not the last event: events were removed or added at the end"]

    unsealed = {**body, "events": body["events"][:-1]}
    check = check_bundle(canonical(unsealed) + b"\n")
    assert "the seal does not match the content: something in the bundle was changed" in check.problems

    reformatted = orjson.dumps(body, option=orjson.OPT_INDENT_2)
    check = check_bundle(reformatted)
    assert check.problems == ["the file's bytes are not its canonical form: it was edited or re-formatted"]


def test_cli_names_the_first_bad_position(cli: Cli, bundle: tuple[str, Path], tmp_path: Path) -> None:
    body = orjson.loads(bundle[1].read_bytes())
    body["events"][1]["data"]["route"] = "fixed_payment"
    bad = tmp_path / "edited.json"
    bad.write_bytes(canonical(body) + b"\n")
    run = cli("verify", "--bundle", str(bad))
    assert run.code == 1
    assert run.out.startswith("bundle NOT intact")
    assert run.err.strip() == f"ledger: {bad}: the bundle failed verification (first bad stream position 2)"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an evidence bundle: the file is not JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not an evidence bundle: the file is not JSON"),
        (b'{"specversion":"1.0"}\n{"specversion":"1.0"}\n', "not an evidence bundle: the file is not JSON"),
        (b"[1, 2, 3]", 'not an evidence bundle: no "format": "nl.groningen.ledger.evidence-bundle"'),
        (b'{"format": "something-else"}', 'not an evidence bundle: no "format": "nl.groningen.ledger.evidence-bundle"'),
        (
            b'{"format": "nl.groningen.ledger.evidence-bundle", "version": 1, "subject": "x"}',
            "not an evidence bundle: 'events' is missing or not a list",
        ),
    ],
)
def test_a_file_that_is_not_a_bundle(cli: Cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "file.json"
    path.write_bytes(content)
    run = cli("verify", "--bundle", str(path))
    assert (run.code, run.out, run.err) == (1, "", f"ledger: {path}: {message}\n")
    replayed = cli("replay", "0014200000000041", "--from-bundle", str(path))
    assert (replayed.code, replayed.err) == (1, f"ledger: {message}\n")


def test_a_missing_bundle_file(cli: Cli, tmp_path: Path) -> None:
    run = cli("verify", "--bundle", str(tmp_path / "absent.json"))
    assert run.code == 2 and run.err.startswith("ledger: cannot read ")
