"""Who may call which HTTP route (trust.md §1's role table), decided before the endpoint runs.

Every route has one `Access`: declared with `openapi_extra={ACCESS_KEY: "<name>"}` (or
`declare("<name>")`), else looked up by path in `PATHS`, else `operator` — a route nobody
declared is closed to everyone but the operator. FastAPI routes pass `authorize` as an app-wide
dependency (it runs before their parameters are read); the ledger's fast `DirectRoute`s call it
first thing. So a 401 or 403 never depends on the address or anything else the request names.

Development mode (no issuer keys configured; `ledger serve` then listens on loopback only): a
request without a token is the local principal `local` with read rights to everything a
reader may see (cases, replays, figures); appending needs a verified token, so it is refused
(401) until issuer keys are configured. A token sent in development mode cannot be verified
and is refused too, rather than ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from ledger.identity.issuer import APPEND, READ
from ledger.identity.tokens import Principal, TokenError, Verifier
from ledger.problems import problem

ACCESS_KEY = "x-ledger-access"
# The web pages' sign-in (ledger/web/signin.py) keeps the bearer token in this cookie (HttpOnly,
# SameSite=Strict); it is read only for reads (GET, HEAD), never for an append.
TOKEN_COOKIE = "ledger_token"
REALM = "groningen-ledger"
SCHEME = "bearer"


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a route: roles, the scope their token needs, and whether development mode's local principal may."""

    name: str
    roles: frozenset[str]
    scope: str | None
    local: bool
    description: str

    @property
    def anonymous(self) -> bool:
        return not self.roles


READERS = frozenset({"IMG", "NCG", "OMBUDSMAN"})
ACCESS: dict[str, Access] = {
    a.name: a
    for a in (
        Access("anonymous", frozenset(), None, True, "anyone, without a token"),
        Access("cases", READERS, READ, True, "IMG, NCG, OMBUDSMAN (scope ledger:read)"),
        Access("replay", READERS, READ, True, "IMG, NCG, OMBUDSMAN (scope ledger:read)"),
        Access("bundle", READERS, READ, True, "IMG, NCG, OMBUDSMAN (scope ledger:read)"),
        Access("worklist", READERS, READ, True, "IMG, NCG, OMBUDSMAN (scope ledger:read)"),
        Access("figures", READERS | {"EVALUATOR"}, READ, True, "IMG, NCG, OMBUDSMAN, EVALUATOR (scope ledger:read)"),
        Access("append", frozenset({"IMG", "NCG", "PORTAL"}), APPEND, False, "IMG, NCG, PORTAL (scope ledger:append)"),
        Access("operator", frozenset({"OPERATOR"}), None, True, "OPERATOR"),
    )
}

# Routes of other packages, declared here by path (a declaration on the route itself wins).
PATHS: dict[str, str] = {
    "/healthz": "anonymous",
    "/readyz": "anonymous",
    "/contract": "anonymous",
    "/contract/{name}": "anonymous",
    "/checkpoint": "anonymous",
    "/checkpoints/{size}": "anonymous",
    "/proofs/inclusion": "anonymous",
    "/proofs/consistency": "anonymous",
    "/cases/{subject}": "cases",
    "/cases/{subject}/history": "replay",
    "/cases/{subject}/bundle": "bundle",
    "/worklist": "worklist",
    "/metrics": "figures",
    "/evaluation": "figures",
    "/series": "figures",
    "/events": "append",
}


def declare(name: str, **extra: Any) -> dict[str, Any]:
    """`openapi_extra` for a route with this access (`anonymous`, `cases`, `figures`, ...)."""
    if name not in ACCESS:
        raise ValueError(f"unknown access {name!r}: one of {', '.join(ACCESS)}")
    return {ACCESS_KEY: name, **extra}


def access_of(path: str, extra: Mapping[str, Any] | None) -> Access:
    name = (extra or {}).get(ACCESS_KEY) or PATHS.get(path) or "operator"
    return ACCESS[name]


LOCAL = Principal("local", "LOCAL", frozenset({READ}), "development mode", float("inf"), development=True)


class Denied(Exception):
    """401 (no or bad credentials) or 403 (valid credentials without the right), as problem details."""

    def __init__(self, status: int, detail: str, challenge: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.challenge = challenge

    def response(self) -> Response:
        return problem(self.status, self.detail, headers={"WWW-Authenticate": self.challenge})


def _challenge(error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append('error_description="' + description.replace('"', "'").replace("\\", "/") + '"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


ADDRESS_LEVEL = frozenset({"cases", "replay", "bundle"})  # reads the access log records
OnRead = Callable[[Request, Principal, Access, str], Awaitable[None]]


class Gate:
    """Authentication and the role table for one app (`verifier` None: development mode).

    `on_read` is called for every authorised read of one address's data (`ADDRESS_LEVEL`), with
    the address of the route's `subject`, before the endpoint looks anything up: the access log.
    """

    def __init__(self, verifier: Verifier | None, on_read: OnRead | None = None) -> None:
        self.verifier = verifier
        self.on_read = on_read

    @property
    def development(self) -> bool:
        return self.verifier is None

    def token_of(self, request: Request) -> str | None:
        header = request.headers.get("authorization")
        if header is None:
            if self.verifier is not None and request.method in ("GET", "HEAD"):
                return request.cookies.get(TOKEN_COOKIE) or None
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise Denied(
                401,
                "the Authorization header must be 'Bearer <token>' (RFC 6750)",
                _challenge("invalid_request", "Authorization must be Bearer <token>"),
            )
        return token

    def principal(self, request: Request, access: Access) -> Principal | None:
        """The request's principal (None: anonymous route, nobody needed); Denied when refused."""
        if access.anonymous:
            return None
        token = self.token_of(request)
        if self.verifier is None:
            if token is not None:
                raise Denied(
                    401,
                    "development mode: no issuer keys are configured, so no token can be verified "
                    "(set LEDGER_ISSUER_JWKS, or run `ledger keys init --issuer`)",
                    _challenge("invalid_token", "no issuer keys configured"),
                )
            if access.local:
                return LOCAL
            raise Denied(
                401,
                "this needs a bearer token, and in development mode (no issuer keys configured) none can be "
                "verified: run `ledger keys init --issuer`, restart, and send a token from `ledger token issue`",
                _challenge(),
            )
        if token is None:
            raise Denied(401, f"this needs a bearer token (allowed: {access.description})", _challenge())
        try:
            principal = self.verifier.verify(token)
        except TokenError as exc:
            raise Denied(401, f"invalid token: {exc.message}", _challenge("invalid_token", exc.message)) from None
        return self.check(principal, access)

    def check(self, principal: Principal, access: Access) -> Principal:
        if principal.role not in access.roles:
            raise Denied(
                403,
                f"role {principal.role} may not do this (allowed: {access.description})",
                _challenge("insufficient_scope", f"role {principal.role} not allowed"),
            )
        if access.scope is not None and access.scope not in principal.scopes:
            raise Denied(
                403,
                f"the token lacks the scope {access.scope}",
                _challenge("insufficient_scope", f"needs scope {access.scope}", access.scope),
            )
        return principal

    async def authorize(self, request: Request) -> Principal | None:
        """Decide before anything else: the route's access, the principal; stored on request.state."""
        route = request.scope.get("route")
        path = route.path if route is not None else request.scope["path"]  # (request.url costs ~6 µs)
        access = access_of(path, getattr(route, "openapi_extra", None))
        if not access.anonymous and self.verifier is not None and self.verifier.remote:
            token = self.token_of(request)
            if token is not None and self.verifier.needs_refresh(token):
                from starlette.concurrency import run_in_threadpool

                await run_in_threadpool(self.verifier.refresh)  # a new key id: fetch the JWKS again, off the loop
        principal = self.principal(request, access)
        request.state.principal = principal
        if principal is not None and access.name in ADDRESS_LEVEL and self.on_read is not None:
            address = request.path_params.get("subject")
            if isinstance(address, str):
                await self.on_read(request, principal, access, address)
        return principal


def principal_of(request: Request) -> Principal | None:
    """The principal `Gate.authorize` stored for this request."""
    return getattr(request.state, "principal", None)


def secure_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the bearer scheme and, per operation, whether it needs it (and which roles may)."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "RFC 6750 bearer token, a JWT (EdDSA or ES256) with aud groningen-ledger, role and scope "
        "(trust.md §1). Development mode (no issuer keys): reads without a token are the local principal.",
    }
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            access = access_of(path, operation)
            operation[ACCESS_KEY] = access.name
            operation["x-ledger-roles"] = sorted(access.roles)
            if access.anonymous:
                operation["security"] = []
            else:
                operation["security"] = [{SCHEME: [access.scope] if access.scope else []}]
                responses = operation.setdefault("responses", {})
                responses.setdefault("401", {"description": "no token, or an invalid, expired or foreign one"})
                responses.setdefault("403", {"description": f"a valid token without the right ({access.description})"})
    return schema
