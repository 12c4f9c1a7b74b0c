"""Fast helpers over the ledger's fixed-width UTC text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.timeutil import format_utc, now_utc, parse_cutoff

__all__ = ["add_days", "days_between", "format_utc", "now_utc", "parse_cutoff", "parse_pivot", "to_dt"]

_parse = datetime.fromisoformat


def to_dt(text: str) -> datetime:
    """Parse the ledger's UTC text (Python 3.11 reads the `Z`)."""
    return _parse(text)


def days_between(earlier: str, later: str) -> float:
    """`(t2 - t1).total_seconds() / 86400`, the contract's duration in days."""
    return (_parse(later) - _parse(earlier)).total_seconds() / 86400


def add_days(text: str, days: float) -> str:
    """The UTC text `days` after `text`."""
    return format_utc(_parse(text) + timedelta(days=days))


def parse_pivot(text: str) -> str:
    """A comparison date: a date means the start of that day (UTC); a timestamp as given."""
    text = text.strip()
    if len(text) == 10:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        return format_utc(day)
    return parse_cutoff(text)
