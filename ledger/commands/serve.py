"""`ledger serve`: the HTTP API (read side, contract schemas, replay) on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.commands.common import opened_ledger


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8000,
) -> None:
    """Serve the joint case view, metrics, evaluation and the event contract over HTTP (docs at /docs)."""
    import uvicorn

    from ledger.http import create_app

    with opened_ledger() as ledger:
        app = create_app(ledger)
        typer.echo(f"serving on http://{host}:{port} (API docs at /docs)", err=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
