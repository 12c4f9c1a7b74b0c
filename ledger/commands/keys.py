"""`ledger keys`: the operator's key management.

`ledger keys init --issuer` makes the local token issuer's key pair (development and the demo;
docs/identity.md). Other key kinds (the ledger's and the witnesses' signing keys) join this
group as further options or commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.commands.common import EXIT_USAGE, fail
from ledger.config import LOCAL_JWKS, ConfigError, Settings

keys_app = typer.Typer(help="Key management (the operator's).", no_args_is_help=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


@keys_app.command("init")
def init(
    issuer: Annotated[
        bool,
        typer.Option(
            "--issuer",
            help="Make the local token issuer's Ed25519 key: the private key (mode 0600) at LEDGER_ISSUER_KEY "
            f"(default $LEDGER_HOME/issuer.key) and its public JWKS at $LEDGER_HOME/{LOCAL_JWKS}, which "
            "`ledger serve` then verifies bearer tokens against.",
        ),
    ] = False,
    jwks: Annotated[
        Path | None, typer.Option("--jwks", help=f"Where to write the public JWKS (default $LEDGER_HOME/{LOCAL_JWKS}).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key.")] = False,
    ledger: Annotated[
        bool,
        typer.Option(
            "--ledger",
            help="Make the ledger's Ed25519 note key for signing checkpoints, named after LEDGER_ORIGIN, at "
            "LEDGER_SIGNING_KEY (default $LEDGER_HOME/keys/<origin>.key); prints its vkey (docs/trust.md).",
        ),
    ] = False,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="Make a witness's cosignature key of this name (repeatable); prints its vkey."),
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Folder for the ledger and witness keys (default: $LEDGER_HOME/keys).")
    ] = None,
) -> None:
    """Make keys. With --issuer: the local token issuer's key pair. With --ledger / --witness NAME:
    the checkpoint signing keys (private 0600, vkeys printed and written beside them as NAME.vkey)."""
    from ledger.identity.issuer import IssuerError, init_issuer

    if ledger or witness:
        from ledger.commands.trust import make_keys

        make_keys(_settings(), directory, ledger, witness or [], force)
        if not issuer:
            return
    if not issuer:
        fail("say which key to make: --issuer, --ledger or --witness NAME", EXIT_USAGE)
    settings = _settings()
    target = jwks or settings.home / LOCAL_JWKS
    try:
        jwk = init_issuer(settings.issuer_key, target, force=force)
    except IssuerError as exc:
        fail(str(exc), EXIT_USAGE)
    typer.echo(f"issuer key {jwk['kid']} written: private key {settings.issuer_key} (0600), public JWKS {target}")
    if jwks is not None:
        typer.echo(f"serve with LEDGER_ISSUER_JWKS={target.absolute()}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
