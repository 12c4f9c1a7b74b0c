"""`ledger worklist`: every open attention point across addresses, as `GET /worklist` answers it.

The same filters, order and pages as the HTTP API (`projections.worklist`); the projection store
is caught up with the event store first, as for every read command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.commands.common import EXIT_USAGE, emit_json, fail

# the HTTP parameter a `BadQuery` names -> the option that gave it
OPTIONS = {
    "code": "--code",
    "organisation": "--organisation",
    "municipality": "--municipality",
    "min_age_days": "--min-age-days",
    "page": "--page",
    "page_size": "--page-size",
}


def worklist(
    code: Annotated[
        str | None,
        typer.Option(
            "--code",
            help="Only these attention codes, comma-separated: no_coordinator, deferred_awaiting_strengthening, "
            "claim_over_term, aos_open_48h, stalled.",
        ),
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Only points this organisation must act on: IMG or NCG.")
    ] = None,
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", help="Only addresses in these gemeentecodes (4 digits), comma-separated."),
    ] = None,
    min_age_days: Annotated[
        str | None, typer.Option("--min-age-days", help="Only points that arose at least this many days ago.")
    ] = None,
    page: Annotated[str | None, typer.Option("--page", help="Which page (1-based; default 1).")] = None,
    page_size: Annotated[str | None, typer.Option("--page-size", help="Points per page (1–500; default 50).")] = None,
    json: Annotated[bool, typer.Option("--json", help="The JSON of GET /worklist (with provenance).")] = False,
) -> None:
    """Every open attention point across addresses, most urgent first, one page at a time.

    Urgency: the kind of point (AOS open over 48 h, claim over its term, no coordinator, stalled
    trajectory, claim deferred awaiting strengthening), then the oldest first. Exit 2 on a
    parameter that cannot be read.
    """
    from ledger.commands.read import read_model
    from projections.timeutil import now_utc
    from projections.worklist import BadQuery, parse_query

    try:
        query = parse_query(
            now_utc(),
            code=code,
            organisation=organisation,
            municipality=municipality,
            min_age_days=min_age_days,
            page=page,
            page_size=page_size,
            names=OPTIONS,
        )
    except BadQuery as exc:
        fail(exc.message, EXIT_USAGE)
    with read_model() as model:
        doc = model.worklist(query)
    if json:
        emit_json(doc)
        return
    from ledger.tables import console, worklist_renderable

    console().print(worklist_renderable(doc))


def register(app: typer.Typer) -> None:
    app.command("worklist")(worklist)
