"""Signing in to the pages with a bearer token (trust.md §1): the token is checked by the app's
verifier and kept in an HttpOnly, SameSite=Strict cookie that the gate reads for reads only.
A refused page (401/403) is answered with this page instead of problem JSON when a browser asks."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ledger.identity.access import TOKEN_COOKIE, Denied, declare
from ledger.identity.tokens import TokenError
from ledger.web.pages import HIDE_ADDRESS, page

MAX_FORM = 16_384


def wants_page(request: Request) -> bool:
    """A browser asking for a page (HTML first in Accept), not an API client."""
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html")


def denied_page(request: Request, exc: Denied) -> Response:
    """The sign-in page with the reason the page was refused, with the refusal's status."""
    response = page(request, "signin.html", exc.status, reason=exc.detail, development=_development(request))
    response.headers["WWW-Authenticate"] = exc.challenge
    return response


def _development(request: Request) -> bool:
    return bool(request.app.state.gate.development)


def make_router() -> APIRouter:
    """GET/POST /aanmelden (sign in), POST /afmelden (sign out)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/aanmelden", openapi_extra=declare("anonymous"))
    def form(request: Request) -> Response:
        return page(request, "signin.html", reason=None, development=_development(request))

    @router.post("/aanmelden", openapi_extra=declare("anonymous"))
    async def sign_in(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():  # read no further than a form with a token can be
            body += chunk
            if len(body) > MAX_FORM:
                return page(request, "signin.html", 413, reason="the form is too large", development=False)
        token = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
        verifier = request.app.state.gate.verifier
        if verifier is None:
            return page(request, "signin.html", 400, reason="development mode: no token is needed", development=True)
        try:
            principal = verifier.verify(token)
        except TokenError as exc:
            return page(request, "signin.html", 401, reason=f"invalid token: {exc.message}", development=False)
        target = "/dashboard" if principal.role in HIDE_ADDRESS else "/"  # an evaluator has no address search
        target += "?lang=en" if request.query_params.get("lang") == "en" else ""
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    @router.post("/afmelden", openapi_extra=declare("anonymous"))
    def sign_out(request: Request) -> Response:
        response = RedirectResponse("/aanmelden", status_code=303)
        response.delete_cookie(TOKEN_COOKIE, path="/")
        return response

    return router
