"""Fixtures for the Kafka package's unit tests: a fresh SQLite ledger, fake records and producers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger, Settings, open_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A wired ledger on a new SQLite file."""
    opened = open_ledger(Settings(home=tmp_path, store_url=f"sqlite:///{tmp_path / 'events.sqlite'}"))
    yield opened
    opened.close()
