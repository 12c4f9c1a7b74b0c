"""`ledger schema`: write the contract's JSON Schemas (and, where present, the AsyncAPI document)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import domain

# = domain.schemas.SCHEMA_DIR, without importing the models for `ledger --help` (start-up)
SCHEMA_DIR = Path(domain.__file__).parent / "schemas"


def schema(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the schemas into.")] = SCHEMA_DIR,
) -> None:
    """Generate JSON Schema for every event type (and the stored-event form) from the models."""
    from domain.schemas import write_schemas

    written = write_schemas(out)
    try:
        from consumers.asyncapi import write_asyncapi  # issue 4: the Kafka channels
    except ImportError:
        pass
    else:
        written.append(write_asyncapi(out))
    typer.echo(f"wrote {len(written)} files to {out}")


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
