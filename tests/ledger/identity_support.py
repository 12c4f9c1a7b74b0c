"""Helpers of the identity tests: issuer keys in a temporary folder, tokens, an in-process client."""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.bootstrap import Ledger, Settings
from ledger.identity.issuer import AUDIENCE, init_issuer, issue_token, load_private_key
from ledger.identity.tokens import Verifier

ISSUER = "groningen-ledger-test"


def fixed_clock(start: str = "2026-01-05T10:00:00") -> Any:
    """A service clock that ticks one millisecond a call, the same in every store it is given to."""
    base = datetime.fromisoformat(start).replace(tzinfo=UTC)
    counter = itertools.count()

    def clock() -> str:
        return (base + timedelta(milliseconds=next(counter))).isoformat(timespec="microseconds").replace("+00:00", "Z")

    return clock


def open_test_ledger(home: Path, clock: Any | None = None) -> Ledger:
    home.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}"))
    if clock is not None:
        ledger.service.clock = clock
    return ledger


class Keys:
    """The issuer's Ed25519 key (in the JWKS), an EC P-256 key (in the JWKS too), a foreign key (not)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key_file = folder / "issuer.key"
        self.jwks_file = folder / "issuer.jwks.json"
        init_issuer(self.key_file, self.jwks_file)
        self.key = load_private_key(self.key_file)
        init_issuer(folder / "foreign.key", folder / "foreign.jwks.json")
        self.foreign = load_private_key(folder / "foreign.key")
        self.ec = ec.generate_private_key(ec.SECP256R1())
        numbers = self.ec.public_key().public_numbers()

        def b64(n: int) -> str:
            return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

        self.ec_jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64(numbers.x),
            "y": b64(numbers.y),
            "kid": "ec-1",
            "use": "sig",
        }
        jwks = orjson.loads(self.jwks_file.read_bytes())
        jwks["keys"].append(self.ec_jwk)
        self.both_file = folder / "both.jwks.json"
        self.both_file.write_bytes(orjson.dumps(jwks))

    def verifier(self, algorithms: tuple[str, ...] = ("EdDSA", "ES256")) -> Verifier:
        return Verifier(str(self.both_file), ISSUER, algorithms)

    def token(self, role: str, **kw: Any) -> str:
        return issue_token(self.key, role=role, issuer=ISSUER, ttl=kw.pop("ttl", 3600), **kw)

    def claims(self, role: str, **override: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": f"{role.lower()}-1",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            "role": role,
        }
        claims["scope"] = "ledger:append ledger:read" if role in ("IMG", "NCG", "PORTAL") else "ledger:read"
        claims.update(override)
        return {k: v for k, v in claims.items() if v is not None}

    def variants(self, role: str) -> dict[str, str | None]:
        """A token of each kind the contract distinguishes (None: no Authorization header)."""
        kid = {"kid": self.key_kid}
        public_pem = self.key.public_key().public_bytes_raw()
        return {
            "valid": self.token(role),
            "none": None,
            "expired": jwt.encode(self.claims(role, exp=int(time.time()) - 5), self.key, "EdDSA", headers=kid),
            "wrong-audience": jwt.encode(self.claims(role, aud="another-service"), self.key, "EdDSA", headers=kid),
            "wrong-issuer": jwt.encode(self.claims(role, iss="someone-else"), self.key, "EdDSA", headers=kid),
            "wrong-algorithm-none": _unsigned(self.claims(role)),
            "wrong-algorithm-hs256": _hs256(self.claims(role), public_pem),
            "foreign-key": jwt.encode(self.claims(role), self.foreign, "EdDSA"),
            "no-exp": jwt.encode(self.claims(role, exp=None), self.key, "EdDSA", headers=kid),
            "malformed": "not.a.token",
        }

    @property
    def key_kid(self) -> str:
        return str(orjson.loads(self.jwks_file.read_bytes())["keys"][0]["kid"])

    def es256(self, role: str) -> str:
        return jwt.encode(self.claims(role), self.ec, "ES256", headers={"kid": "ec-1"})


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    import hashlib
    import hmac

    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    signing = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


class Client:
    """httpx on the app in process (ASGI), driven from synchronous tests on one event loop."""

    def __init__(self, app: Any) -> None:
        self.runner = asyncio.Runner()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledger.test")

    def request(self, method: str, url: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return self.runner.run(self.client.request(method, url, headers=headers, **kw))

    def get(self, url: str, token: str | None = None, **kw: Any) -> httpx.Response:
        return self.request("GET", url, token, **kw)

    def post(self, url: str, token: str | None = None, **kw: Any) -> httpx.Response:
        return self.request("POST", url, token, **kw)

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


def client_for(app: Any) -> Iterator[Client]:
    client = Client(app)
    try:
        yield client
    finally:
        client.close()


def structured(event: dict[str, Any]) -> dict[str, Any]:
    return {"content": orjson.dumps(event), "headers": {"content-type": "application/cloudevents+json"}}


def batch(events: list[Any]) -> dict[str, Any]:
    return {"content": orjson.dumps(events), "headers": {"content-type": "application/cloudevents-batch+json"}}


def side_by_side(work: Callable[[Any, str], None], first: Any, second: Any) -> None:
    """`work(first, "a")` and `work(second, "b")` in two threads at once; returns when both ended."""
    threads = [threading.Thread(target=work, args=(first, "a")), threading.Thread(target=work, args=(second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
