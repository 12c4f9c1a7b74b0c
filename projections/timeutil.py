"""Fast helpers over the ledger's fixed-width UTC text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`)."""

from __future__ import annotations

from datetime import datetime

from domain.timeutil import add_days, days_between, format_utc, now_utc, parse_cutoff, parse_pivot

__all__ = ["add_days", "days_between", "format_utc", "now_utc", "parse_cutoff", "parse_pivot", "to_dt"]

_parse = datetime.fromisoformat


def to_dt(text: str) -> datetime:
    """Parse the ledger's UTC text (Python 3.11 reads the `Z`)."""
    return _parse(text)
