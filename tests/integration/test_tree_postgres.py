"""PostgreSQL: the tree kept in the append's transaction, gaps in notification ids included."""

from __future__ import annotations

from pathlib import Path

from domain.service import LedgerService
from ledger.bootstrap import Settings, open_ledger
from tests.domain.support import CLOCK
from tests.trust.support import history
from tests.trust.test_tree_store import check_tree


def test_postgres_tree(postgres_database: str, tmp_path: Path) -> None:
    ledger = open_ledger(Settings(home=tmp_path, store_url=postgres_database))
    ledger.service = LedgerService(ledger.app, clock=lambda: CLOCK)
    try:
        history(ledger, 6)
        check_tree(ledger)
        # a skipped notification id (a rolled-back insert consumed one): leaf index != position - 1
        with ledger.app.recorder.datastore.get_connection() as conn:
            conn.execute("SELECT nextval(pg_get_serial_sequence('public.ledger_events', 'notification_id'))")
        history(ledger, 3, start=6)
        positions = ledger.tree.stream_positions(ledger.log.read(18, 1)[0][1]["subject"])
        assert ledger.tree.indices_of(positions) == [18, 19, 20]
        assert positions[0] == 20
        assert ledger.tree.size() == 27
    finally:
        ledger.close()
