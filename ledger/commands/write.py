"""`ledger append`, `import`, `export` and `verify`: the write side and its evidence."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import orjson
import typer

from domain.results import MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from ledger.commands.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, check_address, emit_json, fail, opened_ledger

if TYPE_CHECKING:  # the rest is imported by the command that runs (start-up: `ledger --help`)
    from domain.chain import ChainBreak
    from domain.envelope import Oversized
    from ledger.bootstrap import Ledger
    from ledger.importlog import BackDating
    from ledger.precheck import CheckAhead

Principal = typer.Option("--as", help="The authenticated organisation: IMG, NCG or PORTAL.")


def _open_input(file: str) -> BinaryIO:
    if file == "-":
        return sys.stdin.buffer
    try:
        return Path(file).open("rb")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", EXIT_USAGE)


# Longest line read whole: the event limit plus room for surrounding white space and CR LF.
LINE_LIMIT = MAX_EVENT_BYTES + 1024
_SKIP_CHUNK = 1 << 20


def read_lines(stream: BinaryIO, limit: int = LINE_LIMIT) -> Iterator[tuple[bytes | Oversized, int]]:
    """Each line of the stream with its size in bytes; a line over `limit` as `Oversized`.

    A line is never held past the limit: the rest of a long line is read and dropped in
    chunks, so memory stays bounded whatever the input.
    """
    from domain.envelope import Oversized

    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = stream.readline(_SKIP_CHUNK)
            if not raw:
                break
            size += len(raw)
        yield Oversized(size), size


def _append_lines(
    ledger: Ledger,
    stream: BinaryIO,
    principal: str | None,
    importing: bool,
    batch_size: int,
    out: BinaryIO,
    *,
    only_problems: bool,
    on_batch: Callable[[int, int], None] | None = None,
    counts: dict[str, int] | None = None,
    ahead: CheckAhead | None = None,
) -> tuple[int, int, int]:
    """Append the stream's lines in batches; write result lines; return the three counts.

    `only_problems`: result lines for rejections only (accepted and duplicate events are a
    success, counted but not printed). Results carry the file's own line numbers (blank lines
    are skipped but counted). `counts`, when given, is kept up to date batch by batch (so it
    tells how far a failed run got). `ahead`: a worker that checks each batch while the one
    before it is stored (read from a file only: the next batch is read before this one's results).
    """
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0} if counts is None else counts
    batch: list[bytes | Oversized] = []
    numbers: list[int] = []
    consumed = 0
    # With `ahead`, a batch is handed to the checking worker when it is read, and stored after
    # the next one has been read and handed over: the worker checks batch n + 1 while batch n is
    # stored. Result lines still come batch by batch, in order.
    waiting: tuple[list[bytes | Oversized], list[int], int, Any] | None = None

    def store(items: list[bytes | Oversized], lines: list[int], size: int, handle: Any) -> None:
        checked = ahead.verdicts(handle, items) if ahead is not None else None
        results = ledger.service.append(items, principal, importing=importing, checked=checked)
        for number, result in zip(lines, results, strict=True):
            result.line = number
            counts[result.result] += 1
            if not only_problems or result.result == "rejected":  # a duplicate is a success
                out.write(orjson.dumps(result.as_dict()) + b"\n")
        out.flush()  # a result line is the acknowledgement: never hold it back
        if on_batch is not None:
            on_batch(len(results), size)

    def flush() -> None:
        nonlocal batch, numbers, consumed, waiting
        if ahead is None:
            store(batch, numbers, consumed, None)
        else:
            handle = ahead.submit(batch)
            if waiting is not None:
                store(*waiting)
            waiting = (batch, numbers, consumed, handle)
        batch, numbers, consumed = [], [], 0

    for number, (raw, size) in enumerate(read_lines(stream), start=1):
        consumed += size
        if isinstance(raw, bytes):
            raw = raw.strip()
            if not raw:
                continue
        batch.append(raw)
        numbers.append(number)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if waiting is not None:
        store(*waiting)
    out.flush()
    return counts["accepted"], counts["duplicate"], counts["rejected"]


def append(
    file: Annotated[str, typer.Argument(help="JSON Lines of CloudEvents; - for standard input.")] = "-",
    principal: Annotated[str, Principal] = "",
    batch_size: Annotated[
        int,
        typer.Option(help="Events per batch (all-or-nothing per address within a batch).", min=1, max=MAX_BATCH_EVENTS),
    ] = 1000,
) -> None:
    """Append events as the given organisation; print one JSON result line per input line.

    Each line is the publisher's acknowledgement (the answer POST /events gives), so every line
    gets one, a duplicate too; the counts follow on stderr, as from `ledger import`. A duplicate
    is a success. Exit 0 when nothing was rejected, 1 when something was, 2 on usage errors.
    """
    from domain.envelope import PRINCIPALS

    if principal not in PRINCIPALS:
        fail("--as must be IMG, NCG or PORTAL", EXIT_USAGE)
    stream = _open_input(file)
    with opened_ledger() as ledger:
        accepted, duplicates, rejected = _append_lines(
            ledger, stream, principal, False, batch_size, sys.stdout.buffer, only_problems=False
        )
    typer.echo(f"appended: {_counts(accepted, duplicates, rejected)}", err=True)
    raise typer.Exit(EXIT_FAILED if rejected else EXIT_OK)


def _counts(accepted: int, duplicates: int, rejected: int) -> str:
    already = " (already in the ledger)" if duplicates else ""
    return f"{accepted:,} accepted, {duplicates:,} duplicate{already}, {rejected:,} rejected"


# `ledger import` stores 10,000 events per transaction (`append` 1,000): a history's random
# inserts into the id index and the stream index touch about one page per event, and a
# commit writes each touched page (docs/decisions.md, "Import at national scale").
IMPORT_BATCH = MAX_BATCH_EVENTS


def import_(
    file: Annotated[
        str, typer.Argument(help="JSON Lines of historical events, each with its original recordedtime; - for stdin.")
    ],
    batch_size: Annotated[
        int,
        typer.Option(
            help="Events per transaction (all-or-nothing per address within a batch).", min=1, max=MAX_BATCH_EVENTS
        ),
    ] = IMPORT_BATCH,
    all_results: Annotated[
        bool,
        typer.Option(
            "--all-results",
            help="Print a result line for every event (accepted and duplicate too), not only for rejected ones.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    check_ahead: Annotated[
        bool | None,
        typer.Option(
            "--check-ahead/--no-check-ahead",
            help="Check each batch in a second process while the one before it is stored (same results, "
            "faster). Default: on for a file on a machine with more than one CPU; from stdin it holds "
            "a batch's result lines back until the next batch has been read.",
            show_default=False,
        ),
    ] = None,
    backfill: Annotated[
        bool,
        typer.Option(
            "--backfill",
            help="Import into a store that already holds events: recorded as a backfill (when, by whom, "
            "which positions) and named in the provenance of every answer that includes its events.",
        ),
    ] = False,
    operator: Annotated[
        str | None,
        typer.Option("--operator", help="Who runs the import, recorded with it (default: the OS user)."),
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", help="The summary (on stderr) and errors as JSON; result lines are JSON anyway.")
    ] = False,
) -> None:
    """Import history: events keep their original `recordedtime` (non-decreasing per address).

    Into an empty store (or one that holds only what earlier imports into it stored: a resumed
    import); into a store that already holds other events only with --backfill (trust.md §1).
    Every run is recorded. Each event's own `org` is its principal. Prints a result line for
    every rejected event (all with --all-results) and a summary of the counts on stderr: a
    duplicate (already in the ledger, e.g. on a re-run) is a success, counted, not printed. Exit 1
    if anything was rejected, 2 when refused (nothing of the refused part is stored).
    """
    from ledger.importlog import BACKFILL, INITIAL, operator_name

    try:
        who = operator_name(operator)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    stream = _open_input(file)
    size = Path(file).stat().st_size if file != "-" else None
    source = "stdin" if file == "-" else str(Path(file).absolute())
    with opened_ledger() as ledger:
        if backfill:
            kind = BACKFILL
        elif ledger.imports.holds_only_initial():
            kind = INITIAL
        else:
            fail(
                f"the store already holds events (up to position {ledger.log.max_position():,}) that no "
                "import into it stored: importing history now would back-date what the ledger knew. "
                "Nothing was imported. To import it anyway as a recorded backfill, named in the "
                "provenance of every answer that includes its events, add --backfill (trust.md §1).",
                EXIT_USAGE,
            )
        counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        if check_ahead is None:
            check_ahead = file != "-" and (os.cpu_count() or 1) > 1
        stopped = _run_import(
            ledger, kind, who, source, stream, size, batch_size, all_results, quiet, counts, check_ahead
        )
    accepted, duplicates, rejected = counts["accepted"], counts["duplicate"], counts["rejected"]
    if json:  # stdout is the result lines (JSON Lines): the summary stays beside them on stderr
        typer.echo(orjson.dumps({"imported": counts, "stopped": stopped is not None}).decode(), err=True)
    else:
        typer.echo(f"imported: {_counts(accepted, duplicates, rejected)}", err=True)
    if stopped is not None:
        fail(
            f"import stopped: {stopped}. What was imported before stays; the rest was not imported. "
            "To import the rest as a recorded backfill, run it again with --backfill.",
            EXIT_USAGE,
        )
    raise typer.Exit(EXIT_FAILED if rejected else EXIT_OK)


def _run_import(
    ledger: Ledger,
    kind: str,
    who: str,
    source: str,
    stream: BinaryIO,
    size: int | None,
    batch_size: int,
    all_results: bool,
    quiet: bool,
    counts: dict[str, int],
    check_ahead: bool = False,
) -> BackDating | None:
    """One recorded import run with a progress bar; the refusal that stopped it, if one did."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from ledger.importlog import BACKFILL, BackDating
    from ledger.precheck import CheckAhead

    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TextColumn("{task.fields[rate]:,.0f} events/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=quiet or not sys.stderr.isatty(),
    )
    with progress, ledger.imports.run(kind, who, source, ledger.service.clock) as run:
        task = progress.add_task("import", total=size, events=0, rate=0.0)
        started = time.perf_counter()
        done = 0

        def on_batch(events: int, consumed: int) -> None:
            nonlocal done
            done += events
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=consumed, events=done, rate=rate)
            # What outlives a batch (the address states the service keeps) leaves the cyclic
            # collector's view: its full collections otherwise scan every address's state again
            # and again, ever slower as the history grows (docs/decisions.md).
            gc.freeze()

        ahead = CheckAhead(None, True) if check_ahead else None
        try:
            _append_lines(
                ledger,
                stream,
                None,
                True,
                batch_size,
                sys.stdout.buffer,
                only_problems=not all_results,
                on_batch=on_batch,
                counts=counts,
                ahead=ahead,
            )
        except BackDating as exc:
            ledger.service.forget()  # the refused batch's states were never stored
            return exc
        finally:
            gc.unfreeze()
            if ahead is not None:
                ahead.close()
    if kind == BACKFILL:
        recorded = next(r for r in ledger.imports.runs() if r["run"] == run)
        where = (
            f"positions {recorded['first_position']:,}–{recorded['last_position']:,}"
            if recorded["events"]
            else "no events added"
        )
        typer.echo(f"backfill {run} recorded: by {who}, {recorded['events']:,} events, {where}", err=True)
    return None


def export(
    address: Annotated[
        str | None, typer.Option("--address", help="Only this address (BAG nummeraanduiding id).")
    ] = None,
) -> None:
    """Print accepted events with all ledger attributes as JSON Lines, in the ledger's global order."""
    out = sys.stdout.buffer
    if address is not None:
        check_address(address)
    with opened_ledger() as ledger:
        if address is not None:
            bodies = ledger.log.read_stream_raw(address)  # the stored bytes, as the full export writes them
            if not bodies:
                fail(f"no events for address {address}")
            out.write(b"".join(bytes(body) + b"\n" for body in bodies))
        else:
            after = 0
            while True:
                page = ledger.log.read_raw(after, 5000)
                if not page:
                    break
                out.write(b"\n".join(body for _, body in page) + b"\n")
                after = page[-1][0]
    out.flush()


def verify(
    address: Annotated[str | None, typer.Option("--address", help="Only this address.")] = None,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Check an evidence bundle offline (no ledger needed).")
    ] = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="Trust file: the keys a bundle's or checkpoint's signatures need.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Also prove the store extends this checkpoint (a signed-note file or a size)."),
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", help="The verdict as one JSON document (also with --bundle and --since).")
    ] = False,
) -> None:
    """Recompute every hash chain. Exit 0 when intact; else 1, naming each broken address.

    The verdict is on stdout, intact or broken. With --since: also rebuild the log's tree from the
    stored events and prove the store extends that earlier checkpoint; else exit 1 naming the first
    position that differs."""
    if address is not None:
        check_address(address)
    if bundle is not None:
        from ledger.commands.trust import verify_bundle

        verify_bundle(bundle, trust, json)
        return
    from ledger.verify import verify_address, verify_all

    extends, since_result = True, None
    with opened_ledger() as ledger:
        heads = ledger.app.index.index_heads()
        if address is not None:
            found, checked_events = verify_address(ledger.log, address, heads.get(address, 0))
            if not checked_events and found is None:
                fail(f"no events for address {address}")
            breaks: list[ChainBreak] = [found] if found else []
            checked_addresses = 1
        else:
            breaks, checked_events, checked_addresses = verify_all(ledger.log, index_heads=heads)
        if since is not None:
            from ledger.commands.trust import verify_since

            since_result = verify_since(ledger, since, trust, quiet=json)
            extends = since_result["extends"]
    if json:
        doc: dict[str, Any] = {
            "intact": not breaks,
            "events": checked_events,
            "addresses": checked_addresses,
            "broken": [{"address": b.subject, "position": b.position, "reason": b.reason} for b in breaks],
        }
        if since_result is not None:
            doc["since"] = since_result
        emit_json(doc)
        raise typer.Exit(EXIT_FAILED if breaks or not extends else EXIT_OK)
    for br in breaks:
        typer.echo(f"broken: address {br.subject} at position {br.position:,}: {br.reason}")
    if breaks:  # the verdict, broken as intact, is the result: on stdout
        typer.echo(
            f"verify: {len(breaks):,} of {checked_addresses:,} addresses broken ({checked_events:,} events read)"
        )
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"verify: intact: {checked_events:,} events in {checked_addresses:,} addresses")
    if not extends:
        fail(f"the store does not extend checkpoint {since}: history was rewritten")


def register(app: typer.Typer) -> None:
    app.command("append")(append)
    app.command("import")(import_)
    app.command("export")(export)
    app.command("verify")(verify)
