"""A local token issuer for development and the demo: an Ed25519 key pair and the tokens it signs.

`ledger keys init --issuer` writes the private key (PKCS #8 PEM, mode 0600, never printed) and
a JWKS holding only the public key, which `ledger serve` then verifies tokens against
(`LEDGER_ISSUER_JWKS`). `ledger token issue` signs a token with the private key. In production
the organisations' own identity providers issue the tokens and the ledger is given their JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.envelope import PRINCIPALS

AUDIENCE = "groningen-ledger"
PUBLISHERS = PRINCIPALS  # the roles that append (contract trust §1)
ROLES = (*PUBLISHERS, "OMBUDSMAN", "EVALUATOR", "OPERATOR")
APPEND = "ledger:append"
READ = "ledger:read"
SCOPES = (APPEND, READ)
MAX_TTL_SECONDS = 31 * 24 * 3600


class IssuerError(Exception):
    """The issuer key cannot be made or used (message names the file, never the key)."""


def default_scope(role: str) -> str:
    """What a token for `role` may do by default: publishers append and read, the others read."""
    return f"{APPEND} {READ}" if role in PUBLISHERS else READ


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    """The public key as a JWK (RFC 8037) with its RFC 7638 thumbprint as `kid`."""
    x = _b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    thumbprint = _b64(hashlib.sha256(orjson.dumps({"crv": "Ed25519", "kty": "OKP", "x": x})).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "alg": "EdDSA", "use": "sig"}


def init_issuer(key_file: Path, jwks_file: Path, *, force: bool = False) -> dict[str, str]:
    """Make an issuer key pair: the private key at `key_file` (0600), the public JWKS at `jwks_file`.

    Refuses to replace an existing key unless `force`. Returns the public JWK.
    """
    if key_file.exists() and not force:
        raise IssuerError(f"{key_file} already exists (use --force to replace it; tokens it signed stop working)")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    jwks_file.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    partial = key_file.with_name(key_file.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.replace(partial, key_file)
    jwk = public_jwk(key)
    jwks_partial = jwks_file.with_name(jwks_file.name + ".partial")
    jwks_partial.write_bytes(orjson.dumps({"keys": [jwk]}, option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(jwks_partial, jwks_file)
    return jwk


def load_private_key(key_file: Path) -> Ed25519PrivateKey:
    try:
        raw = key_file.read_bytes()
    except OSError as exc:
        raise IssuerError(
            f"cannot read the issuer key {key_file}: {exc.strerror} (make one with `ledger keys init --issuer`)"
        ) from None
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise IssuerError(f"{key_file} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IssuerError(f"{key_file} is not an Ed25519 key")
    return key


def parse_ttl(text: str) -> int:
    """`90s`, `15m`, `1h`, `7d` or plain seconds -> seconds (1 s to 31 days)."""
    raw = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = 1
    if raw and raw[-1] in units:
        factor = units[raw[-1]]
        raw = raw[:-1]
    if not raw.isdigit() or not 1 <= int(raw) * factor <= MAX_TTL_SECONDS:
        raise IssuerError(f"--ttl {text!r}: a duration like 90s, 15m, 1h or 7d, at most 31 days")
    return int(raw) * factor


def issue_token(
    key: Ed25519PrivateKey,
    *,
    role: str,
    issuer: str,
    ttl: int,
    subject: str | None = None,
    scope: str | None = None,
    now: float | None = None,
    audience: str = AUDIENCE,
    extra: dict[str, Any] | None = None,
) -> str:
    """A signed bearer token (EdDSA) with the contract's claims."""
    if role not in ROLES:
        raise IssuerError(f"role {role!r}: one of {', '.join(ROLES)}")
    scopes = (scope if scope is not None else default_scope(role)).split()
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise IssuerError(f"scope {unknown[0]!r}: use {' and/or '.join(SCOPES)}")
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject or f"{role.lower()}-local",
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": str(uuid.uuid4()),
        "role": role,
        "scope": " ".join(scopes),
    }
    claims.update(extra or {})
    kid = public_jwk(key)["kid"]
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})
