"""Fixtures for the Kafka package's unit tests: a fresh SQLite ledger, fake records and producers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger
from tests.homes import opened


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A wired ledger on a new SQLite file."""
    yield from opened(tmp_path)
