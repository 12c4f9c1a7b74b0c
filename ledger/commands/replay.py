"""`ledger replay`: one address's verified history, step by step, with findings; evidence bundles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.commands.common import EXIT_FAILED, EXIT_USAGE, fail, log_operator_read, opened_ledger
from replay.errors import ReplayError

if TYPE_CHECKING:  # the replay is imported by the command when it runs (start-up: `ledger --help`)
    from ledger.bootstrap import Ledger


def _fail(exc: ReplayError) -> None:
    fail(exc.message, EXIT_USAGE if exc.kind == "bad_input" else EXIT_FAILED)


def _write(path: Path | None, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        path.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", EXIT_USAGE)


def replay(
    address: Annotated[str, typer.Argument(help="The address: its BAG nummeraanduiding id.")],
    at: Annotated[str | None, typer.Option("--at", help="Valid-time cut-off: what had happened by then.")] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Transaction-time cut-off: what the ledger knew by then.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json, html or md.")] = "text",
    json: Annotated[bool, typer.Option("--json", help="The same as --format json; errors as JSON too.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file.")] = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Write the address's events, chain and provenance as an evidence bundle."),
    ] = None,
    from_bundle: Annotated[
        Path | None, typer.Option("--from-bundle", help="Replay from an evidence bundle instead of the ledger.")
    ] = None,
) -> None:
    """Replay one address: verify its hash chain, then every event in valid-time order with both
    times and the change of the joint case view at each step, the view at the cut-offs, the
    findings (coordination norms not met) and the provenance.

    Dates mean the end of that day (UTC).

    Exit 0; 1 when the address is unknown or its chain broken (history up to the break shown); 2 on
    bad input (an address that is not a BAG id, a malformed date, an unknown format). With --json
    (or --format json) errors are one JSON object on stderr.
    """
    from ledger.ports import replay_store
    from replay.run import bundle as make_bundle
    from replay.run import check_format, cutoff, render, replay_bundle
    from replay.run import replay as run_replay

    if json:
        if fmt not in ("text", "json"):
            fail(f"--json and --format {fmt} contradict each other", EXIT_USAGE)
        fmt = "json"
    try:
        fmt_checked = check_format(fmt)
        at_cut = cutoff(at, "--at")
        known_cut = cutoff(known_at, "--known-at")
        if from_bundle is not None:
            try:
                raw = from_bundle.read_bytes()
            except OSError as exc:
                fail(f"cannot read {from_bundle}: {exc.strerror}", EXIT_USAGE)
            report = replay_bundle(raw, address, at_cut, known_cut)
        elif bundle is not None:
            with opened_ledger() as ledger:
                log_operator_read(ledger, address, "bundle (ledger replay --bundle)")
                data, report = make_bundle(replay_store(ledger), address, at_cut, known_cut)
                data, version = _sealed(ledger, data, report["chain"]["intact"])
            _write(bundle, data)
            chain = report["chain"]
            typer.echo(
                f"bundle written: {bundle} — address {address}, {report['counts']['stored']} events, "
                f"chain {'intact' if chain['intact'] else 'BROKEN at position ' + str(chain['break']['position'])}, "
                f"version {version} ({'signed, with inclusion proofs' if version == 2 else 'unsigned'})"
            )
            if out is not None:
                _write(out, render(report, fmt_checked))
            if not chain["intact"]:
                fail(chain["message"])
            return
        else:
            with opened_ledger() as ledger:
                log_operator_read(ledger, address, "replay (ledger replay)")
                report = run_replay(replay_store(ledger), address, at_cut, known_cut)
                _checkpoint_line(ledger, address, report)
    except ReplayError as exc:
        _fail(exc)
    _write(out, render(report, fmt_checked))
    if out is not None:
        typer.echo(f"report written: {out}")  # the command's result, as "bundle written"
    if not report["chain"]["intact"]:
        fail(report["chain"]["message"])
    if report.get("bundle") and not report["bundle"]["ok"]:
        fail("the bundle is not intact: " + "; ".join(report["bundle"]["problems"]))


def _sealed(ledger: Ledger, data: bytes, intact: bool) -> tuple[bytes, int]:
    """Version 2 (signed, inclusion proofs) when the ledger has its signing key (docs/trust.md)."""
    from ledger.evidence import EvidenceError, sealed

    try:
        return sealed(ledger, data, intact)
    except EvidenceError as exc:
        fail(f"cannot make a version-2 bundle: {exc}")


def _checkpoint_line(ledger: Ledger, address: str, report: dict[str, Any]) -> None:
    """Beside "hash chain intact": included in the latest cosigned checkpoint? (contract trust §3)"""
    from ledger.evidence import inclusion_summary

    if report["counts"]["stored"] and report["chain"]["intact"]:  # a broken chain says enough already
        summary = inclusion_summary(ledger, address, ledger.log.read_stream(address))
        if summary is not None and summary.get("published"):  # nothing to say before the first checkpoint
            report["checkpoint"] = summary


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
