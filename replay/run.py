"""Entry points shared by the CLI and HTTP: read, replay, bundle, render."""

from __future__ import annotations

from typing import Any, Literal

from domain.timeutil import BadTime, now_utc, query_time
from projections.backfills import included
from replay.bundle import check_bundle, make_bundle
from replay.errors import ReplayError
from replay.provenance import code_version
from replay.report import Inputs, build_report, check_subject
from replay.source import ReplayStore, StoreRead, read_address
from replay.views import projection_view

Format = Literal["text", "json", "html", "md"]
FORMATS: tuple[str, ...] = ("text", "json", "html", "md")


def cutoff(text: str | None, option: str) -> str | None:
    """A `--at` / `--known-at` value (date = end of that day, UTC) by `domain.timeutil.query_time`;
    `bad_input` naming the option if malformed or not representable. An empty value is none."""
    try:
        return query_time(text or None, option)
    except BadTime as exc:
        raise ReplayError("bad_input", exc.message, exc.parameter) from None


def check_format(fmt: str) -> Format:
    """The output format, or `bad_input`."""
    if fmt not in FORMATS:
        raise ReplayError("bad_input", f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def replay(
    store: ReplayStore, subject: str, at: str | None, known_at: str | None, now: str | None = None
) -> dict[str, Any]:
    """The report for one address of the ledger's event store."""
    check_subject(subject)
    read = read_address(store, subject)
    inputs = Inputs(
        subject,
        at,
        known_at,
        now or now_utc(),
        code_version(),
        read.store_position,
        read.store_head_hash,
        backfills=_backfills(store, subject, read, at, known_at),
    )
    return build_report(read.events, inputs, projection_view)


def _backfills(
    store: ReplayStore, subject: str, read: StoreRead, at: str | None, known_at: str | None
) -> tuple[dict[str, Any], ...]:
    """The backfills with events of this address among those read and within the cut-offs."""
    source = store.imports
    runs = source.backfills()
    if not runs or not read.events:
        return ()
    bound = len(read.events)  # stream positions 1..n: what the replay read
    return tuple(included(source, runs, at=at, known_at=known_at, subject=subject, streamposition=bound))


def bundle(store: ReplayStore, subject: str, at: str | None, known_at: str | None) -> tuple[bytes, dict[str, Any]]:
    """An evidence bundle of one address (all its events) and the report it was made with."""
    check_subject(subject)
    read = read_address(store, subject)
    if not read.events:
        raise ReplayError("not_found", f"no events for address {subject}")
    inputs = Inputs(
        subject,
        at,
        known_at,
        now_utc(),
        code_version(),
        read.store_position,
        read.store_head_hash,
        backfills=_backfills(store, subject, read, at, known_at),
    )
    report = build_report(read.events, inputs, projection_view)
    provenance = dict(report["provenance"])
    provenance["chain"] = report["chain"]
    return make_bundle(subject, read.events, provenance), report


def replay_bundle(raw: bytes, subject: str, at: str | None, known_at: str | None) -> dict[str, Any]:
    """The report for an address from an evidence bundle alone (offline)."""
    check_subject(subject)
    check = check_bundle(raw)
    if check.subject != subject:
        raise ReplayError("bad_input", f"the bundle holds address {check.subject}, not {subject}")
    from replay.bundle import load_bundle

    body = load_bundle(raw)
    inputs = Inputs(subject, at, known_at, now_utc(), code_version(), source=f"evidence bundle (seal {check.seal})")
    report = build_report(body["events"], inputs, projection_view)
    report["bundle"] = {"ok": check.ok, "problems": check.problems, "seal": check.seal, "head": check.head}
    return report


def render(report: dict[str, Any], fmt: Format) -> str:
    """The report in one of the formats."""
    if fmt == "json":
        import orjson

        return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()
    if fmt == "md":
        from replay.render_md import render_md

        return render_md(report)
    if fmt == "html":
        from replay.render_html import render_html

        return render_html(report)
    from replay.render_text import render_text

    return render_text(report)
