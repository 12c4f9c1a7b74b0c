"""deploy/local-cluster.sh driven from a test: a cluster in a folder of the test's own, on ports no
other server of the test session uses, stopped (and its state removed) by the script itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from consumers.clients import KafkaEndpoint
from tests.consumers.chaos import port_free, retry_port_in_use
from tests.consumers.kafka_support import LEDGER
from tests.servers import REPO_ROOT, run_deploy_script

SCRIPT = REPO_ROOT / "deploy" / "local-cluster.sh"
# Candidate LEDGER_CLUSTER_PORT_BASEs: clear of PostgreSQL's 25432, kafka.sh's 29092 and 29192-29393,
# the private brokers' 30000-32700, and below the ephemeral range.
PORT_BASES = (26000, 27000, 28000, 24000)
OFFSETS = (432, 92, 93, 192, 193, 292, 293, *range(380, 382), *range(464, 472), 800, 801)


def free_port_base() -> int:
    """The first candidate base all of whose ports are free on 127.0.0.1."""
    for base in PORT_BASES:
        if all(port_free(base + offset) for offset in OFFSETS):
            return base
    raise RuntimeError(f"no free port base for deploy/local-cluster.sh among {PORT_BASES}")


class LocalCluster:
    """One deploy/local-cluster.sh cluster: `up`, the roles' PIDs, kill -9 / start of a role or a broker, `down`."""

    def __init__(self, folder: Path, overrides: dict[str, str]) -> None:
        self.folder = folder
        self.state = folder / "cluster"
        self.port_base = free_port_base()
        folder.mkdir(parents=True, exist_ok=True)
        self.overrides = folder / "overrides.env"
        self.overrides.write_text("".join(f"{k}={v}\n" for k, v in overrides.items()), encoding="utf-8")
        self.exports: dict[str, str] = {}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        return {
            **env,
            "LEDGER_CLUSTER_DIR": str(self.state),
            "LEDGER_CLUSTER_PORT_BASE": str(self.port_base),
            "LEDGER_CLUSTER_ENV": str(self.overrides),
            "LEDGER_BIN": LEDGER,
        }

    def script(self, *args: str, timeout: float = 600) -> str:
        """Run `deploy/local-cluster.sh ARGS`; its stdout, or RuntimeError with its output."""
        return run_deploy_script("local-cluster.sh", *args, timeout=timeout, env=self._env())

    def up(self) -> dict[str, str]:
        out = self.script("up")
        self.exports = dict(
            line.removeprefix("export ").split("=", 1) for line in out.splitlines() if line.startswith("export ")
        )
        return self.exports

    @property
    def admin(self) -> KafkaEndpoint:
        """The brokers as their super user (the operator)."""
        password = Path(self.exports["LEDGER_KAFKA_PASSWORD_FILE"]).read_text(encoding="ascii").strip()
        return KafkaEndpoint(self.exports["LEDGER_KAFKA"], "SASL_PLAINTEXT", "admin", password)

    @property
    def credentials(self) -> Path:
        """The folder of the principals' passwords (`ledger kafka init --credentials`)."""
        return Path(self.exports["LEDGER_CLUSTER_SECRETS"]) / "kafka"

    def roles(self) -> list[str]:
        return self.script("roles").split()

    def alive(self) -> dict[str, bool]:
        """Each process of `status` (PostgreSQL, the brokers, the roles): whether it runs."""
        done = subprocess.run(
            ["bash", str(SCRIPT), "status"], env=self._env(), capture_output=True, text=True, timeout=60, check=False
        )
        rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
        return {row[0]: row[-1] == "alive" for row in rows}

    def kill(self, role: str) -> None:
        """kill -9 the role's process group; returns once every process of it is gone."""
        self.script("kill", role, timeout=60)

    def start(self, role: str) -> None:
        """Start the role again (as a supervisor would); returns once its ports answer."""
        self.script("start", role, timeout=300)

    def kill_broker(self, node: int) -> None:
        self.script("kill-broker", str(node), timeout=60)

    def start_broker(self, node: int) -> float:
        """Start a killed broker on its data; the seconds until it was an unfenced broker again. Retried
        while a client's self-connected socket holds its port (tests.consumers.chaos.retry_port_in_use)."""
        started = time.monotonic()
        retry_port_in_use(lambda: self.script("start-broker", str(node), timeout=300))
        return time.monotonic() - started

    def log_tail(self, role: str, lines: int = 25) -> str:
        path = self.state / "logs" / f"{role}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def down(self, keep_logs: Path | None = None) -> None:
        """Stop what the cluster started and remove its state (the logs copied to `keep_logs` first)."""
        try:
            self.script("down", timeout=300)
        finally:
            if keep_logs is not None and (self.state / "logs").is_dir():
                shutil.copytree(self.state / "logs", keep_logs, dirs_exist_ok=True)
        self.script("clean", timeout=120)
