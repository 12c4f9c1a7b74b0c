"""`ledger case`, `metrics`, `evaluation` and `rebuild`: the read side on the command line.

Every query first brings the projection store up to the event store's head, so what
`ledger append` or `ledger import` accepted is in the next answer.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from consumers import failpoints
from domain.timeutil import BadTime, query_time
from ledger.commands.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    check_address,
    default_workers,
    emit_json,
    fail,
    log_operator_read,
    opened_ledger,
)

if TYPE_CHECKING:  # the read side is imported by the command that runs (start-up: `ledger --help`)
    from projections.query import ReadModel

# Option defaults, as literals so that `ledger --help` imports no projections (tests/ledger/test_startup.py
# checks them): projections.query.DEFAULT_PIVOT and projections.rebuild.CHUNK.
DEFAULT_PIVOT = "2023-07-01T00:00:00.000000Z"
REBUILD_CHUNK = 2_000

At = Annotated[str | None, typer.Option("--at", help="Valid time: only what had happened by then (date or RFC 3339).")]
KnownAt = Annotated[
    str | None, typer.Option("--known-at", help="Transaction time: only what the ledger had recorded by then.")
]
Json = Annotated[bool, typer.Option("--json", help="The contract's JSON (with provenance) instead of tables.")]

Callback = Callable[[str, int, int], None]


def cutoff(value: str | None, option: str, *, pivot: bool = False) -> str | None:
    """A cut-off option as UTC text; a malformed or unrepresentable one is a usage error naming the option."""
    try:
        return query_time(value, option, pivot=pivot)
    except BadTime as exc:
        fail(exc.message, EXIT_USAGE)


def rate_column() -> Any:
    """A progress column: events per second of a task."""
    from rich.progress import TextColumn
    from rich.text import Text

    class RateColumn(TextColumn):
        def __init__(self) -> None:
            super().__init__("")

        def render(self, task: Any) -> Any:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} events/s" if speed else "", style="cyan")

    return RateColumn()


@contextmanager
def progress_bar(enabled: bool = True, *, min_total: int = 0) -> Iterator[Callback]:
    """A rich progress bar per phase (events, events/s, time left), on stderr when it is a terminal;
    shown (and rich imported: start-up) from the first phase of at least `min_total` items on."""
    if not enabled or not sys.stderr.isatty():
        yield lambda phase, done, total: None
        return
    with ExitStack() as stack:
        bars: list[Any] = []  # the one Progress, once a phase is long enough to show
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if total < min_total:
                return
            if not bars:
                bars.append(stack.enter_context(_progress()))
            bar = bars[0]
            task = tasks.get(phase)
            if task is None:
                task = tasks[phase] = bar.add_task(phase, total=total)
            bar.update(task, completed=done, total=total)

        yield update


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        rate_column(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=Console(stderr=True), transient=False)


@contextmanager
def read_model(reading: tuple[str, str] | None = None) -> Iterator[ReadModel]:
    """The read model on the configured ledger, caught up with the event store; `reading`
    (address, what): a read of one address's data, recorded in the access log first."""
    from ledger.bootstrap import open_read_model
    from projections.store import NoStore

    with opened_ledger() as ledger:
        if reading is not None:
            log_operator_read(ledger, *reading)
        model = open_read_model(ledger)
        try:
            with progress_bar(min_total=50_000) as progress:
                try:
                    model.refresh(progress=progress)
                except NoStore as exc:  # LEDGER_PROJECTIONS_SOURCE=kafka before `ledger consume` ran
                    fail(f"{exc}; nothing to answer from yet")
            yield model
        finally:
            model.close()


def case(
    address: Annotated[str, typer.Argument(help="The address: its BAG nummeraanduiding id (16 digits).")],
    at: At = None,
    known_at: KnownAt = None,
    json: Json = False,
) -> None:
    """The joint case view of one address: damage, strengthening, coordination, what needs attention.

    Exit 1 when the ledger does not know the address, 2 when it is not a BAG id or a cut-off is malformed.
    """
    check_address(address)
    at_, known = cutoff(at, "--at"), cutoff(known_at, "--known-at")
    with read_model(reading=(address, "case (ledger case)")) as model:
        view = model.case(address, at_, known)
    if view is None:
        fail(f"address {address} is not in the ledger", EXIT_FAILED)
    if json:
        emit_json(view)
    else:
        from ledger.tables import case_renderable, console  # rich: only for tables (--json imports none)

        console().print(case_renderable(view))


def metrics(
    at: At = None,
    known_at: KnownAt = None,
    json: Json = False,
    series: Annotated[
        bool, typer.Option("--series", help="Figures over time (with --from, --to, --step): projections §5.")
    ] = False,
    start: Annotated[str | None, typer.Option("--from", help="--series: the first cut-off (date or RFC 3339).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="--series: the last cut-off.")] = None,
    step: Annotated[str | None, typer.Option("--step", help="--series: month, quarter or year.")] = None,
    ids: Annotated[str | None, typer.Option("--ids", help="--series: G figures, e.g. G1,G4 (default all).")] = None,
) -> None:
    """Governance metrics G1–G15 of the whole ledger.

    With --series, each G figure at the end of every step from --from to --to, as known then
    (--at p --known-at p) and as known now (--at p).
    """
    if series or start is not None or end is not None or step is not None or ids is not None:
        metrics_series(series, at, known_at, start, end, step, ids, json)
        return
    at_, known = cutoff(at, "--at"), cutoff(known_at, "--known-at")
    with read_model() as model:
        doc = model.metrics(at_, known)
    if json:
        emit_json(doc)
    else:
        from ledger.tables import console, metrics_renderable  # rich: only for tables (--json imports none)

        console().print(metrics_renderable(doc))


def metrics_series(
    series: bool,
    at: str | None,
    known_at: str | None,
    start: str | None,
    end: str | None,
    step: str | None,
    ids: str | None,
    json: bool,
) -> None:
    """`ledger metrics --series`: the request checked (exit 2 naming the option), then answered."""
    from projections.series import BadSeries, plan

    if not series:
        given = next(o for o, v in (("--from", start), ("--to", end), ("--step", step), ("--ids", ids)) if v)
        fail(f"{given} is for a series: add --series", EXIT_USAGE)
    if at is not None or known_at is not None:
        fail(
            f"{'--at' if at is not None else '--known-at'} does not go with --series: each point sets both", EXIT_USAGE
        )
    for option, value in (("--from", start), ("--to", end), ("--step", step)):
        if value is None:
            fail(f"{option} is required with --series", EXIT_USAGE)
    try:
        checked = plan(cutoff(start, "--from") or "", cutoff(end, "--to") or "", step or "", ids)
    except BadSeries as exc:
        fail(f"--{exc.parameter}: {exc}", EXIT_USAGE)
    with read_model() as model:
        doc = model.series(checked)
    if json:
        emit_json(doc)
    else:
        from ledger.tables import console, series_renderable  # rich: only for tables (--json imports none)

        console().print(series_renderable(doc))


def evaluation(
    pivot: Annotated[
        str, typer.Option("--pivot", help="Comparison date for before/after figures (default: the AMvB's 2023-07-01).")
    ] = DEFAULT_PIVOT[:10],
    at: At = None,
    known_at: KnownAt = None,
    json: Json = False,
) -> None:
    """Evaluation figures E1–E6 of the IMG–NCG cooperation."""
    pivot_ = cutoff(pivot, "--pivot", pivot=True) or DEFAULT_PIVOT
    at_, known = cutoff(at, "--at"), cutoff(known_at, "--known-at")
    with read_model() as model:
        doc = model.evaluation(pivot_, at_, known)
    if json:
        emit_json(doc)
    else:
        from ledger.tables import console, evaluation_renderable  # rich: only for tables (--json imports none)

        console().print(evaluation_renderable(doc))


def rebuild(
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="store (default), or kafka: the Kafka-fed projections from the beginning of ledger.events "
            "(needs LEDGER_KAFKA; see docs/kafka.md).",
        ),
    ] = "store",
    workers: Annotated[
        int, typer.Option("--workers", help="Processes that fold addresses in parallel (default: up to 2).", min=1)
    ] = default_workers(),
    chunk: Annotated[
        int,
        typer.Option("--chunk", help="Addresses written per transaction: at most what a killed rebuild redoes.", min=1),
    ] = REBUILD_CHUNK,
    json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
    index: Annotated[
        bool,
        typer.Option(
            "--index/--no-index",
            help="After the swap, fill the bitemporal index (figures at any cut-offs in milliseconds; "
            "until it is filled they are folded again from the log).",
        ),
    ] = True,
) -> None:
    """Rebuild every projection from the event store into a fresh store, then swap it in.

    The old projections keep serving until the new ones have caught up; a rebuild that was
    stopped continues where it was. The bitemporal index is filled after the swap (the rows
    serve meanwhile); a stopped fill continues with the next rebuild or `ledger serve`.
    """
    if source == "kafka":
        from ledger.commands.kafka import rebuild_from_kafka

        rebuild_from_kafka(no_progress, json)
        return
    if source != "store":
        fail("--from must be store or kafka", EXIT_USAGE)
    from ledger.adapters.raw import RawReader
    from ledger.bootstrap import read_ports
    from projections.rebuild import rebuild as run_rebuild

    started = time.perf_counter()
    with opened_ledger() as ledger:
        if ledger.settings.projections_source == "kafka":
            fail(
                "LEDGER_PROJECTIONS_SOURCE=kafka: the projections served are the Kafka-fed ones, which "
                "`ledger consume` writes; rebuild them with `ledger rebuild --from kafka`",
                EXIT_USAGE,
            )
        p = read_ports(ledger)
        with progress_bar(not no_progress) as progress:
            result = run_rebuild(
                p.location,
                p.read_raw,
                p.load_streams,
                p.max_position,
                progress=progress,
                workers=workers,
                chunk=chunk,
                reader_factory=lambda: RawReader(ledger),
                after_chunk=lambda _: failpoints.hit("rebuild.after_chunk"),
            )
        seconds = time.perf_counter() - started
        indexed, index_seconds = 0, 0.0
        if index:
            from projections.indexer import fill_index_in_workers

            with progress_bar(not no_progress) as progress:
                indexed = fill_index_in_workers(
                    p.location.open_active, lambda: RawReader(ledger), p.max_position(), workers, progress
                )
            index_seconds = time.perf_counter() - started - seconds
    resumed = f" (resumed: {result.skipped:,} addresses were already done)" if result.resumed else ""
    rate = result.events / seconds if seconds else 0.0
    if json:
        emit_json(
            {
                "addresses": result.addresses,
                "events": result.events,
                "seconds": round(seconds, 3),
                "resumed": result.resumed,
                "skipped": result.skipped,
                "caught_up": result.caught_up,
                "serving": p.location.describe(),
                "indexed": indexed,
                "index_seconds": round(index_seconds, 3),
            }
        )
        return
    typer.echo(  # the command's result: on stdout (progress is on stderr)
        f"rebuilt the projections of {result.addresses:,} addresses from {result.events:,} events "
        f"in {seconds:.1f} s ({rate:,.0f} events/s){resumed}; "
        f"caught up {result.caught_up:,} later events; now serving from {p.location.describe()}"
        + (f"; indexed {indexed:,} addresses for figures at any cut-offs in {index_seconds:.1f} s" if index else "")
    )


def register(app: typer.Typer) -> None:
    app.command("case")(case)
    app.command("metrics")(metrics)
    app.command("evaluation")(evaluation)
    app.command("rebuild")(rebuild)
