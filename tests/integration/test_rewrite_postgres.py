"""The rewrite attack on PostgreSQL (tests/trust/rewrite_attack.py)."""

from __future__ import annotations

from pathlib import Path

from domain.service import LedgerService
from ledger.bootstrap import Settings, open_ledger
from tests.domain.support import CLOCK
from tests.trust.rewrite_attack import rewrite_attack
from tests.trust.witnessing import Keys, WitnessProcess


def test_rewrite_attack_postgres(
    postgres_database: str, tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]
) -> None:
    ledger = open_ledger(Settings(home=tmp_path, store_url=postgres_database))
    ledger.service = LedgerService(ledger.app, clock=lambda: CLOCK)
    try:
        rewrite_attack(ledger, tmp_path, keys, witnesses)
    finally:
        ledger.close()
