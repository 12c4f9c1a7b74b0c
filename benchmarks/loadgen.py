"""A small HTTP/1.1 load generator on asyncio streams (keep-alive, one connection per client).

Each client sends a request, reads the whole response (Content-Length framing), records the
latency and, when paced, waits for its next slot (open loop: a slow answer does not delay
the schedule, so queueing shows in the latencies). Kept minimal, and on uvloop (installed with
the server), so that the client costs the server's two cores little: ~50 µs of CPU per request.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uvloop


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def _client(
    host: str,
    port: int,
    paths: Callable[[], str],
    until: float,
    interval: float | None,
    result: Result,
    headers: str = "",
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    next_at = time.perf_counter() + (random.random() * interval if interval else 0.0)
    try:
        while True:
            if interval:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing of an open-loop client, not synchronisation
                next_at += interval
            started = time.perf_counter()
            if started >= until:
                return
            writer.write(f"GET {paths()} HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if interval and started < next_at - 2 * interval:
                next_at = started + interval  # fell far behind: do not burst to catch up
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    except (ConnectionError, asyncio.IncompleteReadError):
        result.errors += 1
    finally:
        writer.close()


async def _run(
    host: str, port: int, paths: Callable[[], str], clients: int, seconds: float, rate: float | None, headers: str = ""
) -> Result:
    result = Result()
    interval = clients / rate if rate else None
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_client(host, port, paths, until, interval, result, headers) for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def load(
    host: str,
    port: int,
    paths: Callable[[], str],
    *,
    clients: int,
    seconds: float,
    rate: float | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    """Run `clients` concurrent clients for `seconds`; total `rate` requests/s when paced; `headers`
    are sent with every request."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    return uvloop.run(_run(host, port, paths, clients, seconds, rate, lines))
