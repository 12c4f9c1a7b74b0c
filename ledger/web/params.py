"""A page's query string: only the names it takes, dates checked as the API checks them."""

from __future__ import annotations

from typing import Any

from domain.timeutil import BadTime, query_time
from ledger.problems import HttpError


class PageError(HttpError):
    """A request a page cannot answer: its status, the parameter at fault (if one), the reason (`message`)."""


def checked(query: Any, allowed: frozenset[str]) -> dict[str, str]:
    """The non-empty parameters of `query` (an empty form field is no parameter), refusing unknown names."""
    unknown = sorted(set(query) - allowed - {"lang"})
    if unknown:
        raise PageError(422, f"unknown parameter {unknown[0]!r}", unknown[0])
    return {k: v.strip() for k, v in query.items() if k != "lang" and v.strip()}


def cut(values: dict[str, str], name: str, *, pivot: bool = False) -> str | None:
    """A cut-off (or the pivot) as the API reads it; None when absent."""
    try:
        return query_time(values.get(name), name, pivot=pivot)
    except BadTime as exc:
        raise PageError(422, exc.message, name) from None
