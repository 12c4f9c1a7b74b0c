"""Fixtures of the trust tests: keys, two real witness processes (`tests.trust.witnessing`) and an
opened ledger beside them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger
from tests.domain.support import open_test_ledger

# The fixtures, and the helpers tests may still import from here (their old home).
from tests.trust.witnessing import Keys, WitnessProcess, free_port, keys, wait_listening, witnesses  # noqa: F401


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A ledger with a fixed clock in the test's folder (its keys and witness states beside it)."""
    opened = open_test_ledger(tmp_path)
    yield opened
    opened.close()
