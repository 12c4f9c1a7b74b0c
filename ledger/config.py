"""The ledger's settings: every environment variable read once, typed and checked (DESIGN §2).

`Settings.from_env()` is the only reader of the environment (tests-only failpoints aside:
`consumers/failpoints.py`); every error names the variable and never shows a secret. Reading
settings imports nothing heavy (start-up): no store, no Kafka client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consumers.clients import KafkaEndpoint


class ConfigError(Exception):
    """The configuration cannot be used (bad URL, store cannot be opened)."""


KAFKA_RETENTION_DAYS = 30  # equals consumers.topics.DEFAULT_RETENTION_DAYS (no Kafka import here)
MAX_KAFKA_RETENTION_DAYS = 36_500


def retention_days(raw: str | None, name: str = "LEDGER_KAFKA_RETENTION_DAYS") -> int:
    """Days the inbound and rejection topics keep records: a whole number from 1 to 36,500."""
    if raw is None or not raw.strip():
        return KAFKA_RETENTION_DAYS
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_KAFKA_RETENTION_DAYS:
        raise ConfigError(
            f"{name} {raw!r}: a whole number of days from 1 to {MAX_KAFKA_RETENTION_DAYS} "
            "(the inbound and rejection topics never keep records forever)"
        )
    return int(text)


TOKEN_ISSUER = "groningen-ledger-local"  # the `iss` of `ledger token issue` and what is expected by default
TOKEN_ALGORITHMS = ("EdDSA", "ES256")
LOCAL_JWKS = "issuer.jwks.json"  # written by `ledger keys init --issuer` into $LEDGER_HOME


def token_algorithms(raw: str | None) -> tuple[str, ...]:
    """`LEDGER_TOKEN_ALGORITHMS`: a comma-separated subset of EdDSA and ES256 (default both)."""
    if raw is None or not raw.strip():
        return TOKEN_ALGORITHMS
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    bad = [name for name in names if name not in TOKEN_ALGORITHMS]
    if bad or not names:
        raise ConfigError(f"LEDGER_TOKEN_ALGORITHMS {raw!r}: a comma-separated list of EdDSA and ES256")
    return names


HTTP_MAX_BODY = 32 * 1024 * 1024


def max_body(raw: str | None) -> int:
    """`LEDGER_HTTP_MAX_BODY`: bytes of one POST /events body, at least 64 KiB (default 32 MiB)."""
    if raw is None or not raw.strip():
        return HTTP_MAX_BODY
    text = raw.strip()
    if not text.isdigit() or int(text) < 65_536:
        raise ConfigError(f"LEDGER_HTTP_MAX_BODY {raw!r}: a whole number of bytes, at least 65536")
    return int(text)


KAFKA_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")  # = consumers.clients.SECURITY_PROTOCOLS


def kafka_protocol(raw: str | None, user: str | None) -> str:
    """`LEDGER_KAFKA_SECURITY_PROTOCOL`; by default SASL_PLAINTEXT when a user is configured."""
    if raw is None or not raw.strip():
        return "SASL_PLAINTEXT" if user else "PLAINTEXT"
    text = raw.strip().upper()
    if text not in KAFKA_PROTOCOLS:
        raise ConfigError(f"LEDGER_KAFKA_SECURITY_PROTOCOL {raw!r}: one of {', '.join(KAFKA_PROTOCOLS)}")
    return text


def kafka_password(env: dict[str, str] | os._Environ[str], protocol: str, user: str | None) -> str | None:
    """The Kafka password: the file `LEDGER_KAFKA_PASSWORD_FILE` (preferred: a mounted secret) or
    `LEDGER_KAFKA_PASSWORD`. Errors name the variable, never the value."""
    path = env.get("LEDGER_KAFKA_PASSWORD_FILE") or ""
    if path:
        try:
            password = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"LEDGER_KAFKA_PASSWORD_FILE {path}: cannot be read ({exc.strerror})") from None
        if not password:
            raise ConfigError(f"LEDGER_KAFKA_PASSWORD_FILE {path} is empty")
    else:
        password = env.get("LEDGER_KAFKA_PASSWORD") or ""
    if protocol.startswith("SASL") and not (user and password):
        raise ConfigError(
            f"LEDGER_KAFKA_SECURITY_PROTOCOL {protocol} needs LEDGER_KAFKA_USER and LEDGER_KAFKA_PASSWORD_FILE "
            "(or LEDGER_KAFKA_PASSWORD)"
        )
    return password or None


def _local_jwks(home: Path) -> str | None:
    path = home / LOCAL_JWKS
    return str(path.absolute()) if path.exists() else None


ORIGIN = "groningen-ledger"  # the checkpoint origin (contract trust §2)
CHECKPOINT_EVERY = 10_000  # events
CHECKPOINT_MINUTES = 10.0


def positive(raw: str | None, name: str, default: float) -> float:
    """A positive number from the environment (whole for counts), or the default."""
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw) if isinstance(default, int) else float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{name} {raw!r} is not a positive number")
    return value


def figures_index(raw: str | None) -> bool:
    """`LEDGER_FIGURES_INDEX`: on (default) answers figures at cut-offs from the bitemporal index;
    off folds them again from the log (`projections.asof`)."""
    text = (raw or "on").strip().lower()
    if text not in ("on", "off"):
        raise ConfigError(f"LEDGER_FIGURES_INDEX {raw!r}: use on or off")
    return text == "on"


def cutoff_limit(raw: str | None) -> int:
    """`LEDGER_CUTOFF_LIMIT`: figures at cut-offs one server process computes at once, by default
    2 (at most the core count); a whole number >= 1."""
    text = (raw or "").strip()
    if not text:
        return max(1, min(2, os.cpu_count() or 1))
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ConfigError(f"LEDGER_CUTOFF_LIMIT {text!r} is not a whole number of at least 1")
    return limit


def tcp_port(raw: str | None, name: str) -> int | None:
    """A TCP port from the environment (unset: None)."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{name} must be a TCP port (1-65535), not {text!r}")
    return int(text)


def ready_max_lag(raw: str | None) -> int:
    """`LEDGER_READY_MAX_LAG`: events the projections may be behind the store for /readyz (default 1000)."""
    text = (raw or "").strip()
    if not text:
        return READY_MAX_LAG
    if not text.isdigit():
        raise ConfigError(f"LEDGER_READY_MAX_LAG must be a whole number of events, not {text!r}")
    return int(text)


PROJECTION_SOURCES = ("store", "kafka")


def projections_source(raw: str | None) -> str:
    """`LEDGER_PROJECTIONS_SOURCE`: who fills the projections the read side serves: `store`
    (default: the serving process itself follows the event store) or `kafka` (`ledger consume`
    fills the Kafka-fed store; `case`, `metrics`, `evaluation` and `serve` only read it)."""
    source = (raw or "").strip().lower() or "store"
    if source not in PROJECTION_SOURCES:
        raise ConfigError(f"LEDGER_PROJECTIONS_SOURCE must be store or kafka, not {source!r}")
    return source


def access_log_mode(raw: str | None) -> str:
    """`LEDGER_HTTP_ACCESS_LOG`: `json`, `off`, or empty (on when an ops port is set)."""
    mode = (raw or "").strip().lower()
    if mode not in ("", "json", "off"):
        raise ConfigError(f"LEDGER_HTTP_ACCESS_LOG must be json or off, not {mode!r}")
    return mode


READY_MAX_LAG = 1_000


@dataclass(frozen=True)
class Settings:
    """Where the ledger keeps its data, read from the environment."""

    home: Path = field(default_factory=lambda: Path(".ledger"))
    store_url: str = ""
    kafka: str | None = None
    kafka_retention_days: int = KAFKA_RETENTION_DAYS
    # Who the ledger is to Kafka (trust §1): SASL/SCRAM-SHA-512 over SASL_PLAINTEXT (loopback) or
    # SASL_SSL (with the brokers' CA); PLAINTEXT only for a broker without authentication.
    kafka_protocol: str = "PLAINTEXT"
    kafka_user: str | None = None
    kafka_password: str | None = field(default=None, repr=False)
    kafka_ca_file: str | None = None
    kafka_topic_prefix: str = ""
    kafka_credentials: Path | None = None  # `kafka init`: the principals' password files
    # Where the projections live (`sqlite:///folder` or `postgresql://…[?schema=]`; default
    # beside the event store) and the Kafka-fed ones (default beside those).
    projections: str | None = None
    kafka_projections: str | None = None
    projections_source: str = "store"  # "kafka": the read side reads the Kafka-fed store, never writes it
    cutoff_limit: int = 2  # figures at cut-offs one server process computes at once
    figures_index: bool = True  # figures at cut-offs from the bitemporal index (off: folded from the log)
    # Operators (docs/operations.md): the Prometheus port of this process, where it listens, how far
    # behind the projections may be for /readyz, and serve's JSON access log.
    ops_port: int | None = None
    ops_host: str = "127.0.0.1"
    ready_max_lag: int = READY_MAX_LAG
    http_access_log: str = ""
    # Trust (docs/trust.md): the checkpoint origin (= the ledger key's name), the ledger's signing
    # key, the witnesses' URLs, the trust file naming their keys, and how often to checkpoint.
    origin: str = ORIGIN
    signing_key: Path = field(default_factory=lambda: Path(".ledger") / "keys" / f"{ORIGIN}.key")
    witnesses: tuple[str, ...] = ()
    trust_file: Path | None = None
    checkpoint_every: int = CHECKPOINT_EVERY
    checkpoint_minutes: float = CHECKPOINT_MINUTES
    # Identity (docs/identity.md): the issuers' public keys that bearer tokens are verified
    # against (a JWKS file or https URL; unset and no `$LEDGER_HOME/issuer.jwks.json`:
    # development mode, loopback only), the `iss` they must carry, the accepted algorithms.
    issuer_jwks: str | None = None
    issuer_key: Path = field(default_factory=lambda: Path(".ledger") / "issuer.key")
    token_issuer: str = TOKEN_ISSUER
    token_algorithms: tuple[str, ...] = TOKEN_ALGORITHMS
    http_max_body: int = HTTP_MAX_BODY  # bytes of one POST /events body (LEDGER_HTTP_MAX_BODY)

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("LEDGER_HOME") or ".ledger")
        store = os.environ.get("LEDGER_STORE") or f"sqlite:///{(home / 'events.sqlite').absolute()}"
        user = os.environ.get("LEDGER_KAFKA_USER") or None
        return cls(
            home=home,
            store_url=store,
            kafka=os.environ.get("LEDGER_KAFKA") or None,
            kafka_retention_days=retention_days(os.environ.get("LEDGER_KAFKA_RETENTION_DAYS")),
            kafka_protocol=(protocol := kafka_protocol(os.environ.get("LEDGER_KAFKA_SECURITY_PROTOCOL"), user)),
            kafka_user=user,
            kafka_password=kafka_password(os.environ, protocol, user),
            kafka_ca_file=os.environ.get("LEDGER_KAFKA_CA_FILE") or None,
            kafka_topic_prefix=os.environ.get("LEDGER_KAFKA_TOPIC_PREFIX", ""),
            kafka_credentials=Path(creds) if (creds := os.environ.get("LEDGER_KAFKA_CREDENTIALS")) else None,
            projections=os.environ.get("LEDGER_PROJECTIONS") or None,
            kafka_projections=os.environ.get("LEDGER_KAFKA_PROJECTIONS") or None,
            projections_source=projections_source(os.environ.get("LEDGER_PROJECTIONS_SOURCE")),
            cutoff_limit=cutoff_limit(os.environ.get("LEDGER_CUTOFF_LIMIT")),
            figures_index=figures_index(os.environ.get("LEDGER_FIGURES_INDEX")),
            ops_port=tcp_port(os.environ.get("LEDGER_OPS_PORT"), "LEDGER_OPS_PORT"),
            ops_host=os.environ.get("LEDGER_OPS_HOST") or "127.0.0.1",
            ready_max_lag=ready_max_lag(os.environ.get("LEDGER_READY_MAX_LAG")),
            http_access_log=access_log_mode(os.environ.get("LEDGER_HTTP_ACCESS_LOG")),
            origin=(origin := os.environ.get("LEDGER_ORIGIN") or ORIGIN),
            signing_key=Path(os.environ.get("LEDGER_SIGNING_KEY") or home / "keys" / f"{origin}.key"),
            witnesses=tuple(u.strip() for u in (os.environ.get("LEDGER_WITNESSES") or "").split(",") if u.strip()),
            trust_file=Path(os.environ["LEDGER_TRUST"]) if os.environ.get("LEDGER_TRUST") else None,
            checkpoint_every=int(positive(os.environ.get("LEDGER_CHECKPOINT_EVERY"), "LEDGER_CHECKPOINT_EVERY", 10**4)),
            checkpoint_minutes=positive(os.environ.get("LEDGER_CHECKPOINT_MINUTES"), "LEDGER_CHECKPOINT_MINUTES", 10.0),
            issuer_jwks=os.environ.get("LEDGER_ISSUER_JWKS") or _local_jwks(home),
            issuer_key=Path(os.environ.get("LEDGER_ISSUER_KEY") or home / "issuer.key"),
            token_issuer=os.environ.get("LEDGER_TOKEN_ISSUER") or TOKEN_ISSUER,
            token_algorithms=token_algorithms(os.environ.get("LEDGER_TOKEN_ALGORITHMS")),
            http_max_body=max_body(os.environ.get("LEDGER_HTTP_MAX_BODY")),
        )

    def kafka_endpoint(self) -> KafkaEndpoint:
        """The brokers and this process's credentials (needs `kafka`; imports the Kafka client)."""
        from consumers.clients import KafkaEndpoint

        if not self.kafka:
            raise ConfigError("LEDGER_KAFKA is not set (bootstrap servers, e.g. 127.0.0.1:9092)")
        return KafkaEndpoint(
            self.kafka.strip(), self.kafka_protocol, self.kafka_user, self.kafka_password, self.kafka_ca_file
        )

    @property
    def is_postgres(self) -> bool:
        return self.store_url.startswith(("postgresql://", "postgres://"))
