"""The ports the lower layers take, made from the wired ledger (DESIGN §2: ports, not probes)."""

from __future__ import annotations

from ledger.bootstrap import Ledger
from replay.source import StorePorts


def replay_store(ledger: Ledger) -> StorePorts:
    """What the replay reads: the ledger's event log, stream index and backfill record."""
    return StorePorts(ledger.log, ledger.app.index, ledger.imports)
