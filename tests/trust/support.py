"""Helpers of the trust tests: a small history, a rebuilt tree, the ledger CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from domain import merkle
from ledger.bootstrap import Ledger
from ledger.tree import leaf_of
from tests import factories as f

REPO = Path(__file__).resolve().parents[2]


def history(ledger: Ledger, addresses: int, start: int = 0) -> list[str]:
    """Three IMG events per address (claim, receipt, decision), one batch per address."""
    subjects = []
    for n in range(start, start + addresses):
        s = f.subject(n)
        events = [
            f.claim_filed(s, f"C-{n}", time="2021-03-01T09:00:00Z"),
            f.receipt(s, f"C-{n}", time="2021-03-02T09:00:00Z"),
            f.decided(s, f"D-{n}", [f"C-{n}"], amount=1000 + n, time="2021-04-01T09:00:00Z"),
        ]
        results = ledger.service.append(events, "IMG")
        assert all(r.result == "accepted" for r in results), results
        subjects.append(s)
    return subjects


def rebuilt_leaves(ledger: Ledger) -> list[bytes]:
    out: list[bytes] = []
    after = 0
    while rows := ledger.log.read_raw(after, 1000):
        out.extend(leaf_of(body) for _, body in rows)
        after = rows[-1][0]
    return out


def rebuilt_root(ledger: Ledger) -> bytes:
    return merkle.root_of(rebuilt_leaves(ledger))


def run_cli(
    *args: str, env: dict[str, str], input: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        cwd=REPO,
        env=full,
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def dump(obj: Any) -> str:
    return repr(obj)


def rechain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute prevhash/hash along one address's events (what a forger with the data does)."""
    from domain.chain import GENESIS, event_hash

    prev = GENESIS
    out = []
    for e in events:
        e = {k: v for k, v in e.items() if k != "hash"}
        e["prevhash"] = prev
        e["hash"] = event_hash(e)
        prev = e["hash"]
        out.append(e)
    return out


def rewrite_address(ledger: Ledger, subject: str, factor: int = 10) -> None:
    """Change an address's stored decision amounts ×factor and recompute its chain, directly in
    the store (SQLite or PostgreSQL), underneath the ledger."""
    import orjson

    events = ledger.log.read_stream(subject)
    for e in events:
        if "amount_cents" in e.get("data", {}):
            e["data"] = {**e["data"], "amount_cents": e["data"]["amount_cents"] * factor}
    new = rechain(events)
    table = ledger.app.recorder.events_table_name
    if ledger.settings.is_postgres:
        with ledger.app.recorder.datastore.get_connection() as conn, conn.transaction():
            for e in new:
                conn.execute(
                    f"UPDATE public.{table} SET state = %s WHERE originator_id = %s AND originator_version = %s",
                    (orjson.dumps(e), subject, e["streamposition"]),
                )
    else:
        with ledger.app.recorder.datastore.transaction(commit=True) as c:
            for e in new:
                c.execute(
                    f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?",
                    (orjson.dumps(e), subject, e["streamposition"]),
                )


def cli_env(tmp_path: Path, store: str | None = None, **extra: str) -> dict[str, str]:
    env = {"LEDGER_HOME": str(tmp_path), "LEDGER_STORE": store or f"sqlite:///{tmp_path / 'events.sqlite'}"}
    env.update(extra)
    return env
