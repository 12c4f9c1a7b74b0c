"""`ledger demo`: a Groningen-like ledger from nothing to figures on one screen.

Generates a history (`ledger generate`), imports it into the embedded store (`ledger import`),
builds the projections and prints the key figures and one address's joint view as of the
history's last day (the figures measure open periods to that day, not to today); `--serve`
then starts the HTTP API. Running it again on the same home with the same options imports
nothing new and shows the same figures; with other options (another history) it stops and says
which home to use instead: one home holds one demo history (docs/decisions.md, Command line 3).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.bootstrap import Settings
from ledger.commands.common import EXIT_FAILED, EXIT_USAGE, fail, history_until, opened_ledger
from ledger.commands.read import progress_bar

if TYPE_CHECKING:  # imported by the demo when it runs (start-up: `ledger --help`)
    from rich.console import Console, Group

    from projections.query import ReadModel


def demo(
    addresses: Annotated[int, typer.Option("--addresses", help="Addresses in the generated area.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated history.")] = 1,
    until: Annotated[str, typer.Option("--until", help="Last day of the history (YYYY-MM-DD).")] = "2024-12-31",
    serve: Annotated[bool, typer.Option("--serve", help="Then serve the HTTP API.")] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --serve.")] = 8000,
) -> None:
    """Generate a Groningen-like history, import it, build the projections and show what they say
    as of the history's last day.

    One home holds one demo history: run with other --addresses, --seed or --until, the demo
    stops (exit 2) and names a home to use instead.
    """
    from domain.timeutil import query_time
    from ledger.bootstrap import open_read_model
    from ledger.generator import generate

    last_day = history_until(until)
    as_of = query_time(last_day.isoformat(), "--until")  # the end of that day, UTC
    assert as_of is not None
    from ledger.tables import console as people_console

    console = people_console()  # to a pipe too: full width, never a cut value (issue 16, item 1)
    settings = Settings.from_env()
    settings.home.mkdir(parents=True, exist_ok=True)
    history = settings.home / f"demo-{addresses}-{seed}-{last_day.isoformat()}.jsonl"
    timings: dict[str, float] = {}

    started = time.perf_counter()
    if not history.exists():
        partial = history.with_suffix(".partial")
        with partial.open("wb") as out:
            count = generate(addresses, seed, last_day, out)
        partial.replace(history)
    else:
        count = sum(1 for _ in history.open("rb"))
    timings["generate"] = time.perf_counter() - started

    with opened_ledger(settings) as ledger:
        started = time.perf_counter()
        options = f"--addresses {addresses} --seed {seed} --until {last_day.isoformat()}"
        accepted, duplicate, rejected = _import(ledger, history, count, options)
        timings["import"] = time.perf_counter() - started
        if rejected:
            fail(f"{rejected:,} generated events were rejected by the ledger's rules", EXIT_FAILED)
        model = open_read_model(ledger)
        try:
            started = time.perf_counter()
            with progress_bar() as progress:
                model.refresh(progress=progress)
            timings["project"] = time.perf_counter() - started
            screen = _screen(model, addresses, count, accepted, duplicate, timings, settings.home, port, as_of)
            console.print(screen)
        finally:
            model.close()
    if serve:
        from ledger.commands.serve import serve as run_server

        _print_tokens(console, settings, port)
        run_server(host="127.0.0.1", port=port)


def _print_tokens(console: Console, settings: Settings, port: int) -> None:
    """Make the local issuer's key (once) and print a token per role, ready to paste (docs/identity.md)."""
    from ledger.config import LOCAL_JWKS
    from ledger.identity.issuer import init_issuer, issue_token, load_private_key

    jwks = settings.home / LOCAL_JWKS
    if not settings.issuer_key.exists() or not jwks.exists():
        init_issuer(settings.issuer_key, jwks, force=True)
    key = load_private_key(settings.issuer_key)
    lines = [f"tokens from the demo's local issuer ({settings.issuer_key}), valid 8 hours:"]
    for role in ("IMG", "NCG", "OMBUDSMAN", "EVALUATOR"):
        token = issue_token(key, role=role, issuer=settings.token_issuer, ttl=8 * 3600)
        lines.append(f"export {role}_TOKEN={token}")
    lines.append(
        f'curl -H "Authorization: Bearer $OMBUDSMAN_TOKEN" http://127.0.0.1:{port}/cases/<address>'
        "   (more: ledger token issue --role IMG --ttl 1h)"
    )
    console.rule("Bearer tokens")
    for line in lines:
        typer.echo(line)  # plain lines: a wrapped token could not be pasted


def _other_history(ledger: Any, history: Path) -> str | None:
    """What else the store holds, when it holds anything but (part of) this demo history: the
    import runs record their source file, whose name says the demo's options (a history of other
    --addresses shares its first events with this one, so comparing event ids would not tell)."""
    if not ledger.log.max_position():
        return None
    if not ledger.imports.holds_only_initial():
        return "events that no import of the demo stored"
    others = sorted({Path(r["source"]).name for r in ledger.imports.runs() if r["events"]} - {history.name})
    return f"the history of {', '.join(others)}" if others else None


def _import(ledger: Any, history: Path, total: int, options: str) -> tuple[int, int, int]:
    """Import the generated history in batches (as `ledger import`, a recorded initial import), with a
    progress bar; only into an empty store or one that holds what earlier imports of this very
    history stored (a second run, or one resumed after an interruption; trust.md §1)."""
    from ledger.importlog import INITIAL, BackDating, operator_name

    home = ledger.settings.home
    other = _other_history(ledger, history)
    if other is not None:
        fail(
            f"{home} already holds another history ({ledger.log.max_position():,} events: {other}); one home "
            f"holds one demo history, and mixing them would show neither. Run this one in a home of its own: "
            f"LEDGER_HOME={home}-{history.stem.removeprefix('demo-')} ledger demo {options} "
            f"(or remove {home} to start again).",
            EXIT_USAGE,
        )
    if ledger.log.max_position() >= total:  # this history, imported whole before
        return 0, total, 0
    try:
        with ledger.imports.run(INITIAL, operator_name(None), str(history), ledger.service.clock):
            return _import_batches(ledger, history, total)
    except BackDating as exc:
        fail(f"the demo's import stopped: {exc}", EXIT_USAGE)


def _import_batches(ledger: Any, history: Path, total: int) -> tuple[int, int, int]:
    """The lines of `history` appended as `ledger import` appends them (the next batch checked in
    a second process on a machine with more than one CPU); the three counts."""
    import gc
    import os

    from ledger.commands.write import IMPORT_BATCH, _append_lines
    from ledger.precheck import CheckAhead

    done = 0
    with progress_bar() as progress, history.open("rb") as lines, open(os.devnull, "wb") as sink:

        def on_batch(events: int, consumed: int) -> None:
            nonlocal done
            done += events
            progress("import", done, total)
            gc.freeze()  # as `ledger import` does (the kept address states leave the collector's view)

        ahead = CheckAhead(None, True) if (os.cpu_count() or 1) > 1 else None
        try:
            return _append_lines(
                ledger, lines, None, True, IMPORT_BATCH, sink, only_problems=True, on_batch=on_batch, ahead=ahead
            )
        finally:
            gc.unfreeze()
            if ahead is not None:
                ahead.close()


def _sample(model: ReadModel, as_of: str) -> dict[str, Any] | None:
    """An address where damage and strengthening meet, preferably with something to act on."""
    best: tuple[int, str] | None = None
    for subject, summary in model.summaries():
        if "sl_first" in summary and "decisions" in summary:
            score = 2 * ("samenloop" in summary) + ("agreed" in summary and summary["agreed"]) + ("awaiting" in summary)
            if best is None or score > best[0] or (score == best[0] and subject < best[1]):
                best = (score, subject)
    return None if best is None else model.case(best[1], as_of)


def _screen(
    model: ReadModel,
    addresses: int,
    events: int,
    accepted: int,
    duplicate: int,
    timings: dict[str, float],
    home: Path,
    port: int,
    as_of: str,
) -> Group:
    """The demo's screen; every figure as of `as_of`, the history's end (open periods are measured to it)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from ledger.tables import case_renderable, fmt, pct

    day = as_of[:10]
    m = model.metrics(as_of)
    g2 = m["G2"]["programme_without_claim"]
    phases = m["G4"]["phase_distribution"]
    programme = m["G1"]["programme_addresses"]
    g8 = m["G8"]["realised_lead_time"]
    figures = Table(
        title=f"What the ledger shows on {day}, the history's last day",
        title_justify="left",
        caption=f"as of {day}: open periods are measured to it, not to today",
        caption_justify="left",
        show_header=False,
    )
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    figures.add_row("programme addresses (G1)", fmt(programme))
    figures.add_row("  without any damage claim (G2)", f"{fmt(g2['count'])} ({pct(g2['share'])})")
    figures.add_row(f"addresses in samenloop on {day} (G3)", fmt(m["G3"]["samenloop_addresses"]))
    figures.add_row(
        "phase 1–6 (G4)",
        " / ".join(f"{pct(phases[p] / programme) if programme else '–'}" for p in sorted(phases)),
    )
    figures.add_row(
        f"realised lead time, last {fmt(g8['decisions'])} decisions (G8)",
        f"median {fmt(g8['median_days'])} days, {pct(g8['share_within_182d'])} within half a year",
    )
    prov = m["provenance"]
    done = Text(
        f"{addresses:,} addresses, {events:,} events generated in {timings['generate']:.1f} s; "
        f"imported {accepted:,} (+{duplicate:,} already there) in {timings['import']:.1f} s; "
        f"projections built in {timings['project']:.1f} s · position {prov['position']:,}, "
        f"head {str(prov['head_hash'])[:12]}",
        style="dim",
    )
    sample = _sample(model, as_of)
    parts: list[Any] = [done, figures]
    if sample is not None:
        parts.append(case_renderable(sample))
        subject = sample["address"]["subject"]
    else:
        subject = "<address>"
    lines = [] if str(home) == ".ledger" else [f"export LEDGER_HOME={home}"]
    lines += [
        f"ledger case {subject} --at {day}     one address's joint view, as shown above (--known-at, --json)",
        f"ledger replay {subject} --at {day}   its verified history, step by step",
        f"ledger metrics --at {day}            governance figures G1–G15, as above (without --at: as of today)",
        "ledger evaluation --pivot 2023-07-01  evaluation figures E1–E6",
        f"ledger serve --port {port}             the HTTP API (docs at /docs); or: ledger demo --serve",
    ]
    parts.append(Panel("\n".join(lines), title="Next", title_align="left"))
    return Group(*parts)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
