"""A real `ledger serve` for tests: started on a free loopback port, stopped by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.openapi_contract import register_server

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(home: Path, *, keep_ledger_settings: bool = True, **settings: str) -> dict[str, str]:
    """This process's environment with LEDGER_HOME=home, no store/projection/Kafka override
    (or, with `keep_ledger_settings=False`, no LEDGER_* variable at all), plus `settings`."""
    if keep_ledger_settings:
        drop = ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA")
        environ = {k: v for k, v in os.environ.items() if k not in drop}
    else:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environ["LEDGER_HOME"] = str(home)
    environ.update(settings)
    return environ


@contextmanager
def ledger_serve(
    environ: Mapping[str, str], *, workers: int = 1, timeout: float = 60.0, output: list[str] | None = None
) -> Iterator[str]:
    """Run `ledger serve` until the block ends; yield its base URL once /healthz answers 200.

    Fails (with the server's output) when it exits or does not answer within `timeout` seconds.
    `output`, when given, receives what the server printed, once it has stopped.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=REPO,
        env=dict(environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"ledger serve exited: {proc.stdout.read().decode() if proc.stdout else ''}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    register_server(base)  # its responses are checked against the OpenAPI document
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"ledger serve did not answer /healthz within {timeout:.0f} s") from None
                try:
                    proc.wait(timeout=0.1)  # between polls; returns at once if the server died
                except subprocess.TimeoutExpired:
                    pass
        yield base
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout:
            if output is not None:
                output.append(proc.stdout.read().decode())
            proc.stdout.close()
