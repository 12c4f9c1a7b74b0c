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
    from ledger.web import pages, static

    static.mount(app)
    app.include_router(pages.make_router(model, ledger, store))
