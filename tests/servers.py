"""Real PostgreSQL and Kafka servers for the integration tests.

The servers are started and stopped by the scripts in ``deploy/`` (see ``deploy/README.md``);
this module only calls them and hands out connection strings. Nothing here skips: when a server
cannot be had, a ``RuntimeError`` carries the script's output and the test fails.

Environment:
- ``LEDGER_TEST_POSTGRES``: a PostgreSQL URL to use instead of starting ``deploy/postgres.sh``.
  The user must be allowed to create and drop databases.
- ``LEDGER_TEST_KAFKA``: bootstrap servers of a running Kafka to use instead of starting
  ``deploy/kafka.sh start``. Its brokers are secured as ``deploy/kafka.sh`` sets them up
  (SASL_PLAINTEXT, SCRAM-SHA-512, ACLs); the tests are its super user ``admin``, whose password is
  in ``LEDGER_TEST_KAFKA_PASSWORD_FILE`` (default: the file ``deploy/kafka.sh admin-password-file``
  names).
- ``LEDGER_TEST_KEEP_SERVERS=1``: don't stop, at the end of the test session, the servers that
  this session started (faster re-runs during development; stop them with the scripts).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from consumers.clients import KafkaEndpoint

REPO_ROOT = Path(__file__).resolve().parent.parent
DEPLOY_DIR = REPO_ROOT / "deploy"

POSTGRES_ENV = "LEDGER_TEST_POSTGRES"
KAFKA_ENV = "LEDGER_TEST_KAFKA"
KAFKA_PASSWORD_ENV = "LEDGER_TEST_KAFKA_PASSWORD_FILE"
KAFKA_ADMIN = "admin"
KEEP_ENV = "LEDGER_TEST_KEEP_SERVERS"

# Generous bounds: the first Kafka start may fetch the broker jars with Maven.
SCRIPT_TIMEOUT_S = 900.0

# Servers that this process started (and so may stop): "postgres", "kafka", "kafka-cluster".
_started: set[str] = set()


# --- running the deploy scripts -------------------------------------------------------------


def _script_env() -> dict[str, str]:
    env = dict(os.environ)
    # The readiness probe in kafka.sh needs kafka-python: use this interpreter's.
    env.setdefault("LEDGER_PYTHON", sys.executable)
    return env


def run_deploy_script(
    script: str, *args: str, timeout: float = SCRIPT_TIMEOUT_S, env: dict[str, str] | None = None
) -> str:
    """Run ``deploy/<script> <args>`` (in ``env``, default this process's) and return its stdout, stripped.

    Raises RuntimeError with the command's stderr and stdout when it fails or times out.
    """
    cmd = ["bash", str(DEPLOY_DIR / script), *args]
    shown = " ".join(["deploy/" + script, *args])
    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            env=_script_env() if env is None else env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"`{shown}` did not finish within {timeout:.0f}s\n"
            f"--- stderr ---\n{_text(exc.stderr)}\n--- stdout ---\n{_text(exc.stdout)}"
        ) from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"`{shown}` failed with exit code {proc.returncode}\n"
            f"--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}"
        )
    return proc.stdout.strip()


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _last_line(output: str) -> str:
    lines = output.splitlines()
    if not lines:
        raise RuntimeError("deploy script printed nothing on stdout")
    return lines[-1].strip()


def _is_running(script: str, status_command: str = "status") -> bool:
    proc = subprocess.run(
        ["bash", str(DEPLOY_DIR / script), status_command],
        cwd=REPO_ROOT,
        env=_script_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode == 0


def started_here(name: str) -> bool:
    """Whether this process started server ``name`` ("postgres", "kafka", "kafka-cluster")."""
    return name in _started


def keep_servers() -> bool:
    return os.environ.get(KEEP_ENV, "") not in ("", "0", "false", "no")


# Each server's deploy script and its start, stop and status commands.
_SERVERS = {
    "kafka-cluster": ("kafka.sh", "start-cluster", "stop-cluster", "status-cluster"),
    "kafka": ("kafka.sh", "start", "stop", "status"),
    "postgres": ("postgres.sh", "start", "stop", "status"),
}


def _start(name: str) -> str:
    """Start server ``name`` with its deploy script (it may run already); the script's last line.
    Only a server that was not running counts as started here."""
    script, start, _, status = _SERVERS[name]
    was_running = _is_running(script, status)
    last = _last_line(run_deploy_script(script, start))
    if not was_running:
        _started.add(name)
    return last


def stop(name: str) -> None:
    """Stop server ``name`` ("postgres", "kafka", "kafka-cluster") with its deploy script."""
    script, _, stop_command, _ = _SERVERS[name]
    run_deploy_script(script, stop_command)
    _started.discard(name)


def stop_started_servers() -> None:
    """Stop every server this process started (and only those)."""
    errors: list[str] = []
    for name in _SERVERS:
        if name in _started:
            try:
                stop(name)
            except RuntimeError as exc:
                errors.append(str(exc))
    if errors:
        raise RuntimeError("\n\n".join(errors))


# --- PostgreSQL -----------------------------------------------------------------------------


def ensure_postgres() -> str:
    """Return a PostgreSQL URL: ``$LEDGER_TEST_POSTGRES`` or the cluster of deploy/postgres.sh."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise RuntimeError(f"{POSTGRES_ENV}={url} does not accept connections: {exc}") from exc
        return url
    return _start("postgres")


def database_url(base_url: str, dbname: str) -> str:
    """``base_url`` with its database replaced by ``dbname`` (URL or key=value conninfo)."""
    if "://" in base_url:
        parts = urlsplit(base_url)
        return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))
    return make_conninfo(base_url, dbname=dbname)


def fresh_postgres_database(base_url: str, prefix: str = "ledger_test") -> str:
    """Create a new, uniquely named, empty database on base_url's server; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(base_url, name)


def drop_database(url: str) -> None:
    """Drop the database that ``url`` names (closing its connections); a no-op if it's gone."""
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise ValueError(f"no database named in {url!r}")
    maintenance = make_conninfo(url, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name))))


# --- Kafka ----------------------------------------------------------------------------------


def kafka_admin(servers: str, started_here: bool = False) -> KafkaEndpoint:
    """The brokers at ``servers`` as their super user ``admin`` (SASL/SCRAM-SHA-512): the password
    file of deploy/kafka.sh for brokers it started, else ``$LEDGER_TEST_KAFKA_PASSWORD_FILE``."""
    given = None if started_here else os.environ.get(KAFKA_PASSWORD_ENV)
    path = given or run_deploy_script("kafka.sh", "admin-password-file")
    try:
        password = Path(path).read_text(encoding="ascii").strip()
    except OSError as exc:
        raise RuntimeError(f"the Kafka admin's password file {path} cannot be read ({exc.strerror})") from exc
    return KafkaEndpoint(servers, "SASL_PLAINTEXT", KAFKA_ADMIN, password)


def wait_for_kafka(bootstrap: KafkaEndpoint, brokers: int = 1, timeout: float = 60.0) -> dict:
    """Poll until at least ``brokers`` unfenced brokers answer; return describe_cluster()."""
    from kafka import KafkaAdminClient

    kafka_logger = logging.getLogger("kafka")
    previous_level = kafka_logger.level
    kafka_logger.setLevel(logging.CRITICAL)  # connection-refused noise while polling
    deadline = time.monotonic() + timeout
    last = "no answer"
    try:
        while time.monotonic() < deadline:
            try:
                admin = KafkaAdminClient(
                    **bootstrap.client_config(),
                    client_id="ledger-tests-probe",
                    bootstrap_timeout_ms=5000,
                    request_timeout_ms=5000,
                )
                try:
                    info = admin.describe_cluster()
                finally:
                    admin.close()
                up = [b for b in info["brokers"] if not b.get("is_fenced")]
                if len(up) >= brokers:
                    return info
                last = f"{len(up)} unfenced broker(s), want {brokers}"
            except Exception as exc:  # not reachable yet
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
    finally:
        kafka_logger.setLevel(previous_level)
    raise RuntimeError(f"Kafka at {bootstrap} not ready within {timeout:.0f}s: {last}")


def ensure_kafka() -> KafkaEndpoint:
    """The admin's endpoint of ``$LEDGER_TEST_KAFKA`` or of the single node of deploy/kafka.sh."""
    given = os.environ.get(KAFKA_ENV)
    if given:
        endpoint = kafka_admin(given)
        wait_for_kafka(endpoint, brokers=1, timeout=30)
        return endpoint
    return kafka_admin(_start("kafka"), started_here=True)


def start_kafka_cluster() -> KafkaEndpoint:
    """Start (or complete) the three-node cluster; return the admin's endpoint of it.

    A cluster none of whose nodes runs starts fresh (empty data, new cluster id).
    """
    return kafka_admin(_start("kafka-cluster"), started_here=True)


def stop_kafka_cluster() -> None:
    """Stop the three-node cluster (the fault tests' helper, deploy/README.md)."""
    stop("kafka-cluster")


def kill_kafka_node(node: int) -> None:
    """kill -9 one node (1..3) of the three-node cluster; its data stays."""
    run_deploy_script("kafka.sh", "kill-node", str(node))


def start_kafka_node(node: int) -> str:
    """Restart a killed node on its data and wait until it is an unfenced broker again."""
    return _last_line(run_deploy_script("kafka.sh", "start-node", str(node)))
