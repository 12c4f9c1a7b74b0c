"""Bearer tokens (RFC 6750) that are JWTs (RFC 7519), verified with PyJWT (trust.md §1).

The issuers' public keys come from a JWKS file or URL (`LEDGER_ISSUER_JWKS`); the accepted
algorithms are configured (`LEDGER_TOKEN_ALGORITHMS`, EdDSA and ES256), never taken from the
token: a token is verified only with a key whose own algorithm is the one its header names and
one of the configured ones. Claims: `iss` (= `LEDGER_TOKEN_ISSUER`), `sub`, `aud` =
`groningen-ledger`, `exp`, `role` (trust.md §1's table) and `scope` (space-separated).

A verified token is cached, keyed by the token string, until its `exp`, so a request with a
token seen before costs a dictionary look-up and a clock read.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

import jwt
import orjson

from ledger.identity.issuer import AUDIENCE, ROLES, SCOPES

MAX_TOKEN_BYTES = 8 * 1024
CACHE_SIZE = 10_000
REFRESH_SECONDS = 300.0  # a JWKS URL is fetched again at most this often (for a key id not seen yet)
KEY_TYPES = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: from a verified token (or the development mode's local principal)."""

    subject: str
    role: str
    scopes: frozenset[str]
    issuer: str
    expires: float
    development: bool = False


class TokenError(Exception):
    """The token is missing or cannot be accepted (401); the message names why, never the token."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


class KeySourceError(Exception):
    """The JWKS cannot be read or holds no usable key (a configuration error)."""


def _read_source(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        try:
            with urllib.request.urlopen(source, timeout=10) as reply:  # noqa: S310 - configured URL
                return bytes(reply.read(1 << 20))
        except OSError as exc:
            raise KeySourceError(f"cannot fetch the issuer keys from {source}: {exc}") from None
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise KeySourceError(f"cannot read the issuer keys {source}: {exc.strerror}") from None


def load_keys(raw: bytes, algorithms: tuple[str, ...], source: str = "the JWKS") -> dict[str, jwt.PyJWK]:
    """The JWKS's signing keys usable with the configured algorithms, by key id (RFC 7638 when none)."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise KeySourceError(f"{source} is not JSON") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise KeySourceError(f"{source} is not a JWKS (no 'keys' array)")
    keys: dict[str, jwt.PyJWK] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "d" in entry:
            continue  # not a public signing key (a private key in a JWKS is never used)
        for algorithm in algorithms:
            kty, crv = KEY_TYPES[algorithm]
            if entry.get("kty") == kty and entry.get("crv") == crv and entry.get("alg", algorithm) == algorithm:
                try:
                    key = jwt.PyJWK(entry, algorithm=algorithm)
                except jwt.PyJWTError:
                    break
                keys[str(entry.get("kid") or f"#{index}")] = key
                break
    if not keys:
        raise KeySourceError(f"{source} holds no public {' or '.join(algorithms)} signing key")
    return keys


@dataclass(eq=False)
class Verifier:
    """Verifies bearer tokens against one issuer's keys; thread-safe, with a cache of verified tokens."""

    source: str
    issuer: str
    algorithms: tuple[str, ...]
    _: KW_ONLY
    audience: str = AUDIENCE
    clock: Any = time.time
    keys: dict[str, jwt.PyJWK] = field(init=False)
    refreshed: float = field(init=False)
    _cache: dict[str, Principal] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys = load_keys(_read_source(self.source), self.algorithms, self.source)
        self.refreshed = self.clock()

    @property
    def remote(self) -> bool:
        return self.source.startswith(("https://", "http://"))

    def refresh(self) -> bool:
        """Fetch a remote JWKS again (at most every REFRESH_SECONDS); whether the keys were reloaded."""
        now = self.clock()
        if not self.remote or now - self.refreshed < REFRESH_SECONDS:
            return False
        self.refreshed = now
        try:
            self.keys = load_keys(_read_source(self.source), self.algorithms, self.source)
        except KeySourceError:
            return False  # keep the keys we have
        return True

    def cached(self, token: str) -> Principal | None:
        principal = self._cache.get(token)
        if principal is not None and principal.expires > self.clock():
            return principal
        return None

    def needs_refresh(self, token: str) -> bool:
        """Whether the token names a key id this verifier does not have and a refetch is due."""
        if not self.remote or self.clock() - self.refreshed < REFRESH_SECONDS:
            return False
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        return kid is not None and kid not in self.keys

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; TokenError naming the problem otherwise."""
        hit = self.cached(token)
        if hit is not None:
            return hit
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("the token is not a JWT (three base64url parts: header, claims, signature)") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            accepted = ", ".join(self.algorithms)
            raise TokenError(f"the token's algorithm {str(algorithm)[:20]!r} is not accepted (accepted: {accepted})")
        kid = header.get("kid")
        if kid is not None:
            key = self.keys.get(str(kid))
            candidates = [key] if key is not None else []
        else:
            candidates = list(self.keys.values())
        candidates = [k for k in candidates if k.algorithm_name == algorithm]
        if not candidates:
            raise TokenError("the token is not signed by a key of the configured issuer")
        claims: dict[str, Any] | None = None
        for key in candidates:
            try:
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=[algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": ["exp", "iss", "sub", "aud"]},
                    leeway=0,
                )
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise TokenError("the token has expired") from None
            except jwt.ImmatureSignatureError:
                raise TokenError("the token is not valid yet (nbf or iat in the future)") from None
            except jwt.InvalidAudienceError:
                raise TokenError(f"the token is not for this service (aud must be {self.audience!r})") from None
            except jwt.InvalidIssuerError:
                raise TokenError("the token's issuer (iss) is not the configured issuer") from None
            except jwt.MissingRequiredClaimError as exc:
                raise TokenError(f"the token has no {exc.claim!r} claim") from None
            except jwt.PyJWTError:
                raise TokenError("the token is malformed") from None
        if claims is None:
            raise TokenError("the token's signature does not verify")
        role = claims.get("role")
        if role not in ROLES:
            raise TokenError(f"the token's role claim must be one of {', '.join(ROLES)}")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise TokenError("the token's scope claim must be a space-separated string")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > 256 or not subject.isprintable():
            raise TokenError("the token's sub claim must be a printable string of 1-256 characters")
        principal = Principal(
            subject=subject,
            role=str(role),
            scopes=frozenset(s for s in scope.split() if s in SCOPES),
            issuer=str(claims["iss"]),
            expires=float(claims["exp"]),
        )
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                now = self.clock()
                for cached_token in [t for t, p in self._cache.items() if p.expires <= now]:
                    del self._cache[cached_token]
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.clear()
            self._cache[token] = principal
        return principal
