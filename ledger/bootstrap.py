"""Configuration and wiring: the one place that chooses adapters (DESIGN §2)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.application import LedgerApplication
from domain.service import LedgerService
from ledger.eventstore import LedgerPostgresRecorder, LedgerSQLiteRecorder, RecorderEventLog


class ConfigError(Exception):
    """The configuration cannot be used (bad URL, store cannot be opened)."""


@dataclass(frozen=True)
class Settings:
    """Where the ledger keeps its data, read from the environment."""

    home: Path = field(default_factory=lambda: Path(".ledger"))
    store_url: str = ""
    kafka: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("LEDGER_HOME") or ".ledger")
        store = os.environ.get("LEDGER_STORE") or f"sqlite:///{(home / 'events.sqlite').absolute()}"
        return cls(home=home, store_url=store, kafka=os.environ.get("LEDGER_KAFKA") or None)

    @property
    def is_postgres(self) -> bool:
        return self.store_url.startswith(("postgresql://", "postgres://"))


def store_env(url: str) -> dict[str, str]:
    """The `eventsourcing` environment for a store URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if not path or path == "/":
            raise ConfigError(f"LEDGER_STORE {url!r} names no file (use sqlite:///abs/path.sqlite)")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot open the event store {url}: {exc.strerror}: {path}") from exc
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(LedgerSQLiteRecorder),
        }
    if parsed.scheme in ("postgresql", "postgres"):
        if not parsed.path.strip("/"):
            raise ConfigError(f"LEDGER_STORE {url!r} names no database")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parsed.path.lstrip("/")),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(LedgerPostgresRecorder),
        }
    raise ConfigError(f"LEDGER_STORE {url!r}: use sqlite:///path or postgresql://user@host:port/db")


class Ledger:
    """The wired ledger: the append service and the read side of the event store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        env = store_env(settings.store_url)
        for attempt in range(3):
            try:
                self.app = LedgerApplication(env=env)
                break
            except IntegrityError:
                # Two processes creating the tables of a fresh PostgreSQL database at once:
                # CREATE ... IF NOT EXISTS is not race-free there; the loser simply retries.
                if attempt == 2:
                    raise
            except Exception as exc:  # the library raises various errors for unusable stores
                raise ConfigError(f"cannot open the event store {redact(settings.store_url)}: {exc}") from exc
        self.service = LedgerService(self.app)
        self.log = RecorderEventLog(self.app.recorder)

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def redact(url: str) -> str:
    """A store URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def open_ledger(settings: Settings | None = None) -> Ledger:
    """Wire the ledger from settings (default: the environment)."""
    return Ledger(settings or Settings.from_env())
