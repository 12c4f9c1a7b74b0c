"""The parts of store URLs that adapters need: a SQLite file, a libpq conninfo."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlparse, urlunparse


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///abs/path` URL (also with the extra slash of `sqlite:////abs`)."""
    return Path("/" + unquote(urlparse(url).path).lstrip("/"))


def conninfo(url: str) -> str:
    """A libpq URL without our own query parameters (`schema`)."""
    parsed = urlparse(url)
    query = {k: v for k, v in parse_qs(parsed.query).items() if k != "schema"}
    return urlunparse(parsed._replace(query=urlencode(query, doseq=True)))
