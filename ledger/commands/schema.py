"""`ledger schema`: write the contract's JSON Schemas (and, where present, the AsyncAPI document)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domain.schemas import SCHEMA_DIR, write_schemas


def schema(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the schemas into.")] = SCHEMA_DIR,
) -> None:
    """Generate JSON Schema for every event type (and the stored-event form) from the models."""
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
