"""UTC timestamps in the ledger's one text form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

EPOCH_MIN = "2012-01-01T00:00:00.000000Z"


def format_utc(moment: datetime) -> str:
    """Format an aware datetime as the ledger's fixed-width UTC string."""
    # isoformat pads the year to four digits (strftime's %Y does not on every platform), so
    # string comparison stays time comparison for every year.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_utc(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (any offset, `Z`, lower-case `t`/`z` allowed) to an aware UTC datetime."""
    moment = datetime.fromisoformat(text.upper())
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without offset: {text!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"timestamp out of range in UTC: {text!r}") from None


def normalise(text: str) -> str:
    """Return an RFC 3339 timestamp in the ledger's UTC form; ValueError when it is not one."""
    if len(text) == 27 and text[26] == "Z" and text[19] == "." and text[10] == "T":
        datetime.fromisoformat(text[:26])  # the fast path must still refuse 2021-02-30 or 25:00
        return text  # already canonical (the common case: skip parsing on the hot path)
    if len(text) == 20 and text[19] == "Z" and text[10] == "T":
        datetime.fromisoformat(text[:19])
        return text[:19] + ".000000Z"
    return format_utc(parse_utc(text))


def parse_cutoff(text: str) -> str:
    """Parse a query cut-off: a date (end of that day, UTC) or a timestamp; return UTC text.

    `2021-11-01` means "by the end of 1 November 2021"; a timestamp without an offset is
    taken as UTC.
    """
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return format_utc(datetime.combine(day, time(23, 59, 59, 999999), tzinfo=UTC))
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_utc(moment)


def now_utc() -> str:
    """The ledger's clock, as UTC text."""
    return format_utc(datetime.now(UTC))


def days_between(earlier: str, later: str) -> float:
    """Days as a float between two UTC texts, `(t2 - t1).total_seconds() / 86400`."""
    return (parse_utc(later) - parse_utc(earlier)).total_seconds() / 86400
