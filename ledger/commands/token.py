"""`ledger token issue`: a bearer token from the local issuer (development and the demo)."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.bootstrap import ConfigError, Settings
from ledger.commands.common import EXIT_USAGE, fail

token_app = typer.Typer(help="Bearer tokens from the local issuer (development and the demo).", no_args_is_help=True)


@token_app.command("issue")
def issue(
    role: Annotated[
        str, typer.Option("--role", help="IMG, NCG, PORTAL, OMBUDSMAN, EVALUATOR or OPERATOR.", case_sensitive=False)
    ],
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 90s, 15m, 1h, 7d (at most 31 days).")] = "1h",
    subject: Annotated[str | None, typer.Option("--sub", help="The principal's name (default: <role>-local).")] = None,
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            help="Space-separated scopes (default: publishers ledger:append ledger:read, others ledger:read).",
        ),
    ] = None,
) -> None:
    """Print a token signed by the local issuer key (`ledger keys init --issuer`) on standard output."""
    from ledger.identity.issuer import IssuerError, issue_token, load_private_key, parse_ttl

    try:
        settings = Settings.from_env()
        seconds = parse_ttl(ttl)
        key = load_private_key(settings.issuer_key)
        token = issue_token(
            key, role=role.upper(), issuer=settings.token_issuer, ttl=seconds, subject=subject, scope=scope
        )
    except (ConfigError, IssuerError) as exc:
        fail(str(exc), EXIT_USAGE)
    typer.echo(token)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
