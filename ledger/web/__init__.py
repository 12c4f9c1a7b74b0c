"""The web app for coordinators, evaluators and the ombudsman: server-rendered pages
(`pages`), their assets served by the app (`static`), the offline API docs; wired into
`ledger.http.create_app` with `install`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from projections.query import ReadModel
from replay.source import ReplayStore


def install(
    app: FastAPI, model: Callable[[], ReadModel], ledger: Callable[[], Any], store: Callable[[], ReplayStore]
) -> None:
    """Add the pages and their assets to the app (which must be made with `docs_url=None`)."""
    from ledger.web import pages, signin, static

    static.mount(app)
    app.include_router(pages.make_router(model, ledger, store))
    app.include_router(signin.make_router())


def wants_page(request: Any) -> bool:
    """A browser asking for a page rather than an API client (see `ledger.web.signin`)."""
    from ledger.web.signin import wants_page as check

    return check(request)


def denied_page(request: Any, exc: Any) -> Any:
    """The sign-in page for a refused page request."""
    from ledger.web.signin import denied_page as render

    return render(request, exc)
