"""The trust tests' keys in a temporary folder and two real witness processes (IMG, NCG), as fixtures
that the trust, integration and interop tests share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from domain.note import ALG_COSIGNATURE_V1, ALG_ED25519, Trust
from ledger.keys import SigningKey, generate, write_private
from tests.trust.support import REPO

ORIGIN = "groningen-ledger"


@dataclass
class Keys:
    folder: Path
    ledger: SigningKey
    img: SigningKey
    ncg: SigningKey
    trust_file: Path

    @property
    def trust(self) -> Trust:
        return Trust.parse(self.trust_file.read_text())

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.key"


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    folder = tmp_path / "keys"
    made = {}
    for name, alg in ((ORIGIN, ALG_ED25519), ("img-witness", ALG_COSIGNATURE_V1), ("ncg-witness", ALG_COSIGNATURE_V1)):
        made[name] = generate(name, alg)
        write_private(folder / f"{name}.key", made[name])
        (folder / f"{name}.vkey").write_text(made[name].verifier.vkey() + "\n")
    trust = Trust(
        made[ORIGIN].verifier,
        (made["img-witness"].verifier, made["ncg-witness"].verifier),
        ("img-witness", "ncg-witness"),
    )
    trust_file = tmp_path / "trust.txt"
    trust_file.write_text(trust.text())
    return Keys(folder, made[ORIGIN], made["img-witness"], made["ncg-witness"], trust_file)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(
                f"the witness exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # polling a port until its deadline, not synchronising on time
    raise AssertionError(f"the witness did not listen on {port} within {deadline} s")


@dataclass
class WitnessProcess:
    name: str
    key: Path
    log_vkey: Path
    state: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WitnessProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ledger",
                "witness",
                "--key",
                str(self.key),
                "--log-key",
                str(self.log_vkey),
                "--port",
                str(self.port),
                "--state",
                str(self.state),
            ],
            cwd=REPO,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_listening(self.port, self.proc)
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
def witnesses(keys: Keys, tmp_path: Path) -> Iterator[list[WitnessProcess]]:
    procs = [
        WitnessProcess(
            name, keys.path(name), keys.folder / f"{ORIGIN}.vkey", tmp_path / f"{name}.state.json", free_port()
        ).start()
        for name in ("img-witness", "ncg-witness")
    ]
    yield procs
    for p in procs:
        p.stop()
