"""Fixtures of the domain tests: a ledger on a temporary SQLite store with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger
from tests.domain.support import open_test_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    led = open_test_ledger(tmp_path)
    yield led
    led.close()
