"""The event store's adapters (DESIGN §2): the library's recorders plus the ledger's id index and bulk reads.

Each recorder writes the id-index rows in the same transaction as the events (the library's
`_insert_events` hook), so an id is indexed exactly when its event is stored. One module per
store, so that the SQLite path never imports psycopg or `eventsourcing.postgres`:
`ledger.adapters.sqlite`, `ledger.adapters.postgres`; `ledger.adapters.log` reads either.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

ID_TABLE = "ledger_event_ids"
_CHUNK = 500  # ids or subjects per IN (...) query


def chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def is_postgres(recorder: Any) -> bool:
    """Whether `recorder` is a PostgreSQL recorder, without importing psycopg for a SQLite one.

    Such a recorder could only be made once `eventsourcing.postgres` was imported.
    """
    module = sys.modules.get("eventsourcing.postgres")
    return module is not None and isinstance(recorder, module.PostgresApplicationRecorder)
