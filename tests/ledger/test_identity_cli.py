"""`ledger keys init --issuer`, `ledger token issue`, `ledger serve`'s refusal without issuer keys, and a
real `ledger serve` process (one and two workers) that verifies the tokens it is given."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.config import TOKEN_ISSUER
from ledger.identity.tokens import Verifier
from tests.factories import claim_filed, subject
from tests.serving import ledger_serve, serve_env


def env(home: Path, **extra: str) -> dict[str, Any]:
    return {"LEDGER_HOME": str(home), "LEDGER_STORE": None, "LEDGER_ISSUER_JWKS": None, "LEDGER_KAFKA": None, **extra}


def cli(home: Path, *args: str, **extra: str) -> Any:
    return CliRunner().invoke(app, list(args), env=env(home, **extra), catch_exceptions=False)


def test_keys_init_issuer_and_token_issue(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = cli(home, "keys", "init", "--issuer")
    assert made.exit_code == 0, made.output
    key, jwks = home / "issuer.key", home / "issuer.jwks.json"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    private = key.read_text()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    assert isinstance(load_pem_private_key(private.encode(), password=None), Ed25519PrivateKey)  # a PEM key, made now
    document = orjson.loads(jwks.read_bytes())
    assert [(k["kty"], k["crv"], k["alg"]) for k in document["keys"]] == [("OKP", "Ed25519", "EdDSA")]
    assert "d" not in document["keys"][0]
    assert private.splitlines()[1] not in made.output  # the key is never printed
    again = cli(home, "keys", "init", "--issuer")
    assert again.exit_code == 2 and "already exists" in again.output
    issued = cli(home, "token", "issue", "--role", "IMG", "--ttl", "1h")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    principal = Verifier(str(jwks), TOKEN_ISSUER, ("EdDSA",)).verify(token)
    assert (principal.role, principal.subject) == ("IMG", "img-local")
    assert principal.scopes == {"ledger:append", "ledger:read"}
    assert 3590 < principal.expires - time.time() <= 3600
    reader = cli(home, "token", "issue", "--role", "ombudsman", "--ttl", "15m", "--sub", "no-42").stdout.strip()
    assert Verifier(str(jwks), TOKEN_ISSUER, ("EdDSA",)).verify(reader).scopes == {"ledger:read"}
    for args, words in (
        (("--role", "ROOT"), "role 'ROOT'"),
        (("--role", "IMG", "--ttl", "forever"), "--ttl"),
        (("--role", "IMG", "--ttl", "40d"), "at most 31 days"),
        (("--role", "IMG", "--scope", "ledger:everything"), "scope"),
    ):
        refused = cli(home, "token", "issue", *args)
        assert refused.exit_code == 2 and words in refused.output, refused.output
    replaced = cli(home, "keys", "init", "--issuer", "--force")
    assert replaced.exit_code == 0
    with pytest.raises(Exception, match="signature|not signed"):
        Verifier(str(jwks), TOKEN_ISSUER, ("EdDSA",)).verify(token)  # the old key's tokens stop working


def test_token_issue_without_a_key(tmp_path: Path) -> None:
    refused = cli(tmp_path / "empty", "token", "issue", "--role", "IMG")
    assert refused.exit_code == 2 and "ledger keys init --issuer" in refused.output


def test_serve_refuses_beyond_loopback_without_issuer_keys(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.1", "::"):
        refused = cli(tmp_path / "h", "serve", "--host", host)
        assert refused.exit_code == 2, refused.output
        assert f"refusing to listen on {host}: no issuer keys are configured" in refused.output
    bad = cli(tmp_path / "h", "serve", LEDGER_ISSUER_JWKS=str(tmp_path / "missing.json"))
    assert bad.exit_code == 1 and "LEDGER_ISSUER_JWKS" in bad.output


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-processes"])
def secured(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("secured") / "home"
    assert cli(home, "keys", "init", "--issuer").exit_code == 0
    output: list[str] = []
    with ledger_serve(serve_env(home, keep_ledger_settings=False), workers=request.param, output=output) as base:
        yield base, home
    assert "bearer tokens of groningen-ledger-local verified against" in output[0]


def test_a_real_server_verifies_tokens(secured: tuple[str, Path]) -> None:
    base, home = secured
    img = cli(home, "token", "issue", "--role", "IMG").stdout.strip()
    ombudsman = cli(home, "token", "issue", "--role", "OMBUDSMAN", "--sub", "nat-ombudsman").stdout.strip()
    address = subject(int(time.time() * 1000) % 10**9)
    event = claim_filed(address, "real-1")
    posted = httpx.post(
        f"{base}/events",
        content=orjson.dumps(event),
        headers={"content-type": "application/cloudevents+json", "authorization": f"Bearer {img}"},
    )
    assert posted.status_code == 200 and posted.json()[0]["result"] == "accepted", posted.text
    anonymous = httpx.post(
        f"{base}/events", content=orjson.dumps(event), headers={"content-type": "application/cloudevents+json"}
    )
    assert anonymous.status_code == 401
    assert httpx.get(f"{base}/cases/{address}").status_code == 401
    view = httpx.get(f"{base}/cases/{address}", headers={"authorization": f"Bearer {ombudsman}"})
    assert view.status_code == 200 and view.json()["address"]["subject"] == address
    assert httpx.get(f"{base}/cases/{address}", headers={"authorization": f"Bearer {img}x"}).status_code == 401
    assert httpx.get(f"{base}/contract").status_code == 200
    # the read is in the access log once the writer has stored it (the server flushes at shutdown at the latest)
    deadline = time.monotonic() + 30
    while True:
        listed = cli(home, "access-log", "--address", address, "--json")
        if listed.stdout.strip() or time.monotonic() > deadline:
            break
        httpx.get(f"{base}/healthz")  # a round trip between looks
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["principal"], r["role"], r["what"]) for r in rows] == [("nat-ombudsman", "OMBUDSMAN", "cases")]
