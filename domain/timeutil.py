"""UTC timestamps in the ledger's one text form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

EPOCH_MIN = "2012-01-01T00:00:00.000000Z"
# The representable instants: Python's datetime range, in UTC (docs/decisions.md, "Read side").
TIME_MIN = "0001-01-01T00:00:00.000000Z"
TIME_MAX = "9999-12-31T23:59:59.999999Z"
NOT_A_TIME = "is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"
OUT_OF_RANGE = "is out of range: in UTC it must lie within 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999999Z"


class BadTime(ValueError):
    """A query time (`at`, `known_at`, `pivot`) that is malformed or not representable.

    `parameter` is the name the caller gave it (`at`, `--known-at`, …); `message` the one line
    to show, which starts with that name and the value as given.
    """

    def __init__(self, parameter: str, value: str, reason: str) -> None:
        self.parameter = parameter
        self.value = value
        self.message = f"{parameter} {value!r} {reason}"
        super().__init__(self.message)


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
    taken as UTC. ValueError when malformed; `OverflowError` when not representable in UTC.
    """
    return _query_time(text, time(23, 59, 59, 999999))


def parse_pivot(text: str) -> str:
    """Parse a comparison date: a date means the start of that day (UTC); a timestamp as given."""
    return _query_time(text, time(0, 0))


def _query_time(text: str, day_time: time) -> str:
    text = text.strip()
    if len(text) == 10:
        return format_utc(datetime.combine(date.fromisoformat(text), day_time, tzinfo=UTC))
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_utc(moment)  # astimezone raises OverflowError outside the UTC range


def query_time(value: str | None, parameter: str, *, pivot: bool = False) -> str | None:
    """THE parser of the read side's query times, for the CLI, HTTP and the replay alike.

    `value` as given (None: not given); `parameter` the name to put in the message (`at`,
    `--known-at`, …); `pivot` selects the pivot's reading of a bare date (its start, not its
    end). Returns the ledger's UTC text, or raises `BadTime` — malformed, or outside
    `TIME_MIN`…`TIME_MAX` once converted to UTC (e.g. `0001-01-01T00:00:00+14:00`).
    """
    if value is None:
        return None
    try:
        return parse_pivot(value) if pivot else parse_cutoff(value)
    except OverflowError:
        raise BadTime(parameter, value, OUT_OF_RANGE) from None
    except ValueError:
        raise BadTime(parameter, value, NOT_A_TIME) from None


def add_days(text: str, days: float) -> str:
    """The ledger UTC text `days` after (before, when negative) `text`, saturating at the ends of
    the representable range: no ledger time lies beyond `TIME_MIN` / `TIME_MAX`, so comparing
    times with the result gives what the exact instant would (G7 at `at=0001-06-01`: none)."""
    try:
        return format_utc(datetime.fromisoformat(text) + timedelta(days=days))
    except OverflowError:
        return TIME_MIN if days < 0 else TIME_MAX


def now_utc() -> str:
    """The ledger's clock, as UTC text."""
    return format_utc(datetime.now(UTC))


def days_between(earlier: str, later: str) -> float:
    """Days as a float between two UTC texts, `(t2 - t1).total_seconds() / 86400`."""
    return (parse_utc(later) - parse_utc(earlier)).total_seconds() / 86400
