"""`ledger serve`: the HTTP API (read side, contract schemas, replay) on uvicorn."""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from ledger.bootstrap import ConfigError, Settings
from ledger.commands.common import EXIT_USAGE, Host, default_workers, fail, opened_ledger, ops_port_option


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_identity(settings: Settings, host: str) -> str:
    """Refuse to serve beyond loopback without issuer keys; a line saying how requests are authenticated."""
    from ledger.http import verifier_for

    verifier = verifier_for(settings)  # ConfigError when the configured keys cannot be read
    if verifier is None:
        if not is_loopback(host):
            fail(
                f"refusing to listen on {host}: no issuer keys are configured (LEDGER_ISSUER_JWKS), so nobody "
                "could be authenticated and every reader would be the local principal. Configure the issuers' "
                "JWKS (or run `ledger keys init --issuer`), or listen on 127.0.0.1 (development mode).",
                EXIT_USAGE,
            )
        return (
            "development mode (no issuer keys): reads without a token are the local principal, "
            "appends are refused; loopback only"
        )
    return f"bearer tokens of {settings.token_issuer} verified against {verifier.source} ({len(verifier.keys)} key(s))"


def serve(
    host: Annotated[str, Host] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Server processes sharing the port (default: one per core, at most 2).", min=1),
    ] = None,
    ops_port: Annotated[
        int | None, ops_port_option(" Not the API's /metrics, which is the governance figures.")
    ] = None,
) -> None:
    """Serve the joint case view, metrics, evaluation and the event contract over HTTP (docs at /docs)."""
    import uvicorn

    from ledger.commands.read import read_model
    from ledger.http import create_app

    count = workers or default_workers()
    try:
        settings = Settings.from_env()  # each worker reads it again from the same environment
        limit = settings.cutoff_limit
        identity = check_identity(settings, host)
    except ConfigError as exc:
        fail(str(exc))
    if settings.projections_source == "store":
        with read_model():
            pass  # the projections catch up once, with a progress bar, before any worker starts
    typer.echo(
        f"serving on http://{host}:{port} with {count} process(es), each computing figures at cut-offs "
        f"{limit} at a time (API docs at /docs); {identity}",
        err=True,
    )
    _start_checkpoints()
    _start_ops(ops_port, settings, multiprocess=count > 1)
    if count == 1:
        with opened_ledger() as ledger:
            app = create_app(ledger, limit, instrument=True)
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    # Each worker opens the ledger configured by the environment this process was started with.
    uvicorn.run(
        "ledger.http:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=count,
        log_level="warning",
        access_log=False,
    )


def _start_ops(option: int | None, settings: Settings, multiprocess: bool) -> None:
    """The operators' metrics (`ledger.ops`) on the ops port, when one is configured. With several
    workers they count in multiprocess mode and this process adds them up at each scrape."""
    from ledger.ops import StateCollector, multiprocess_dir, ops_port, start

    try:
        port = ops_port(option, settings)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if port is None:
        return
    os.environ["LEDGER_OPS_PORT"] = str(port)  # the app (in each worker) instruments itself when it is set
    if multiprocess:
        multiprocess_dir()  # before the workers start: they inherit it and write their counts there
    try:
        start(port, StateCollector("serve", settings, projections=True), multiprocess=multiprocess)
    except OSError as exc:
        fail(f"cannot serve the operators' metrics on port {port}: {exc}")
    typer.echo(f"operators' metrics on http://{settings.ops_host}:{port}/metrics", err=True)


def _start_checkpoints() -> None:
    """Checkpoints every N events or T minutes while serving, when the ledger has its signing key."""
    from ledger.checkpoints import start_checkpointer

    settings = Settings.from_env()
    if start_checkpointer(settings) is not None:
        typer.echo(
            f"checkpoints every {settings.checkpoint_every} events or {settings.checkpoint_minutes:g} minutes, "
            f"cosigned by {len(settings.witnesses)} witness(es)",
            err=True,
        )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
