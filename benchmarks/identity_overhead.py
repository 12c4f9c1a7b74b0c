"""What identity costs one case view, in process: the ASGI app called directly (no HTTP client, no
sockets), so the few microseconds of the gate are not lost in the noise of a load generator.

    .venv/bin/python benchmarks/identity_overhead.py [--requests 20000] [--rounds 5]

One store with 2,000 addresses; per round, each variant answers the same `--requests` case views
of random addresses (the read model's fast path): development mode (no token), a verified bearer
token (cached after its first request), and both again with the access log's entries dropped
instead of queued (to price the access log). Prints the median µs per request.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.bootstrap import Ledger, Settings  # noqa: E402
from ledger.http import create_app  # noqa: E402
from ledger.identity.issuer import init_issuer, issue_token, load_private_key  # noqa: E402
from ledger.identity.tokens import Verifier  # noqa: E402

ISSUER = "groningen-ledger-bench"


def claims(n: int) -> list[dict[str, Any]]:
    import uuid

    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "urn:nl:img:schadesysteem",
            "type": "nl.groningen.img.DamageClaimFiled.v1",
            "subject": f"0014{20}{i:010d}",
            "time": "2021-03-01T09:00:00Z",
            "org": "IMG",
            "data": {"claim_id": f"c{i}", "claim_type": "physical", "route": "maatwerk", "channel": "online"},
        }
        for i in range(n)
    ]


async def drive(app: Any, paths: list[str], token: str | None) -> float:
    headers = [(b"host", b"bench")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()  # CPU of the whole process (the access log's writer thread included):
    for path in paths:  # steadier than wall time on a shared machine
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        await app(scope, receive, send)
    seconds = time.process_time() - started
    if set(statuses) != {200}:
        raise SystemExit(f"not all 200: {set(statuses)}")
    return seconds / len(paths) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="identity-overhead-") as tmp:
        home = Path(tmp)
        init_issuer(home / "issuer.key", home / "issuer.jwks.json")
        token = issue_token(load_private_key(home / "issuer.key"), role="OMBUDSMAN", issuer=ISSUER, ttl=3600)
        ledger = Ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}"))
        events = claims(2_000)
        for i in range(0, len(events), 1000):
            ledger.service.append(events[i : i + 1000], "IMG")
        dev = create_app(ledger, limit=1, verifier=None)
        secured = create_app(ledger, limit=1, verifier=Verifier(str(home / "issuer.jwks.json"), ISSUER, ("EdDSA",)))
        rnd = random.Random(1)
        paths = [f"/cases/{events[rnd.randrange(len(events))]['subject']}" for _ in range(args.requests)]
        loop = asyncio.new_event_loop()
        for app in (dev, secured):  # open the read model, warm the caches
            loop.run_until_complete(drive(app, paths[:2000], token if app is secured else None))
        results: dict[str, list[float]] = {}
        record = ledger.access.record
        for _ in range(args.rounds):
            for name, app, sent in (("no token", dev, None), ("bearer token", secured, token)):
                for logged in (True, False):
                    ledger.access.record = record if logged else (lambda *a, **k: None)  # type: ignore[method-assign]
                    label = f"{name}, access log {'on' if logged else 'off'}"
                    started = time.process_time()
                    loop.run_until_complete(drive(app, paths, sent))
                    ledger.access.flush()  # the writer's work for this variant is counted in it
                    results.setdefault(label, []).append((time.process_time() - started) / len(paths) * 1e6)
                    ledger.access.record = record  # type: ignore[method-assign]
        ledger.close()
    base = statistics.median(results["no token, access log off"])
    print(f"\ncase views in process (ASGI called directly), {args.requests:,} per variant, {args.rounds} rounds")
    print("(CPU µs per request, the access log's writer thread included)\n")
    print("| variant | median µs | min µs | median vs. no token, no access log |")
    print("|---|---:|---:|---:|")
    for label, values in results.items():
        median = statistics.median(values)
        print(f"| {label} | {median:.1f} | {min(values):.1f} | {(median / base - 1) * 100:+.1f} % |")

    def ratio(a: str, b: str) -> float:
        return (statistics.median(results[a]) / statistics.median(results[b]) - 1) * 100

    print(f"\ntoken verification (cached): {ratio('bearer token, access log on', 'no token, access log on'):+.1f} %")
    print(f"access log: {ratio('no token, access log on', 'no token, access log off'):+.1f} %")


if __name__ == "__main__":
    main()
