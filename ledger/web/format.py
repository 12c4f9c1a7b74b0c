"""Numbers, amounts and moments written for people, the Dutch way first (Babel's CLDR data)."""

from __future__ import annotations

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from domain.timeutil import parse_utc

LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def euros(cents: int | None, lang: str = "nl") -> str:
    """Integer cents as an amount in euros: `€ 2.386,00` in Dutch, `€2,386.00` in English."""
    if cents is None:
        return "–"
    return str(format_currency(cents / 100, "EUR", locale=LOCALES[lang]))


def number(value: float | int | None, lang: str = "nl") -> str:
    """A count or a measure (at most one decimal); `–` when there is none."""
    if value is None:
        return "–"
    return str(format_decimal(value, format="#,##0.#", locale=LOCALES[lang]))


def share(value: float | None, lang: str = "nl") -> str:
    """A share 0–1 as a percentage with one decimal."""
    if value is None:
        return "–"
    return str(format_percent(value, format="#,##0.0 %", locale=LOCALES[lang]))


def day(instant: str | None, lang: str = "nl") -> str:
    """The date of an instant in words: `4 maart 2021`."""
    if not instant:
        return "–"
    return str(format_date(parse_utc(instant), format="long", locale=LOCALES[lang]))


def moment(instant: str | None, lang: str = "nl") -> str:
    """Date and time (UTC) of an instant."""
    if not instant:
        return "–"
    return str(format_datetime(parse_utc(instant), format="d MMMM y HH:mm", locale=LOCALES[lang])) + " UTC"


def age_days(since: str, now: str) -> int:
    """Whole days from `since` to `now`."""
    return (parse_utc(now) - parse_utc(since)).days
