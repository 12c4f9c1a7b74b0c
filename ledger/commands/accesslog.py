"""`ledger access-log`: who read an address's data (trust.md §1), after checking the log's chain."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.commands.common import EXIT_FAILED, check_address, opened_ledger


def access_log(
    address: Annotated[str, typer.Option("--address", help="The address (BAG nummeraanduiding id).")],
    json: Annotated[bool, typer.Option("--json", help="JSON Lines, one read a line.")] = False,
) -> None:
    """List every recorded read of one address's data (case view, replay, bundle): who, as what, when.

    Verifies the whole log's hash chain first; exit 1, naming the first bad row, when it is broken.
    """
    import orjson
    from rich.table import Table

    from ledger.identity.accesslog import ChainBroken
    from ledger.tables import column, console

    check_address(address)  # a malformed one is a usage error (exit 2), as in `case` and `replay`
    with opened_ledger() as ledger:
        try:
            rows = ledger.access.verify()
        except ChainBroken as exc:
            typer.echo(f"ledger: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        entries = ledger.access.entries(address)
    if json:
        for entry in entries:
            typer.echo(orjson.dumps(entry).decode())
    else:
        table = Table(title=f"reads of address {address}", title_justify="left")
        for name in ("when (UTC)", "principal", "role", "issuer", "what"):
            column(table, name)
        for e in entries:
            table.add_row(e["recorded_at"], e["principal"], e["role"], e["issuer"], e["what"])
        console().print(table)
    typer.echo(f"access log intact: {rows:,} reads recorded, {len(entries):,} of address {address}", err=True)


def register(app: typer.Typer) -> None:
    app.command("access-log")(access_log)
