"""Wiring: the one place that chooses adapters (DESIGN §2) — the event store's recorder, the
projection stores and the read side's ports — from the settings of `ledger.config`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import parse_qs, unquote, urlparse

from ledger.adapters.urls import conninfo, sqlite_path
from ledger.config import ConfigError, Settings

if TYPE_CHECKING:  # imported by `Ledger` when it opens a store: settings alone stay cheap (start-up)
    from domain.application import LedgerApplication
    from domain.service import LedgerService
    from ledger.adapters.log import RecorderEventLog
    from ledger.identity.accesslog import AccessLog
    from ledger.importlog import ImportLog
    from ledger.tree import LogTree
    from projections.query import Ports, ReadModel
    from projections.store.postgres import PostgresLocation
    from projections.store.sqlite import SQLiteLocation

Location: TypeAlias = "SQLiteLocation | PostgresLocation"

__all__ = [
    "ConfigError",
    "Ledger",
    "Settings",
    "kafka_location",
    "open_ledger",
    "open_read_model",
    "projections_location",
    "read_ports",
    "redact",
    "store_env",
]

# The recorders as the library's topic strings ("module:Class"): `get_topic` would import the
# class, and so psycopg with it on the SQLite path; the library imports the one it is given.
SQLITE_RECORDER_TOPIC = "ledger.adapters.sqlite:LedgerSQLiteRecorder"
POSTGRES_RECORDER_TOPIC = "ledger.adapters.postgres:LedgerPostgresRecorder"


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
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER_TOPIC,
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
            "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER_TOPIC,
        }
    raise ConfigError(f"LEDGER_STORE {url!r}: use sqlite:///path or postgresql://user@host:port/db")


class Ledger:
    """The wired ledger: the append service, the read side of the event store and its import record."""

    app: LedgerApplication
    log: RecorderEventLog
    imports: ImportLog
    tree: LogTree
    access: AccessLog

    def __init__(self, settings: Settings) -> None:
        from eventsourcing.persistence import IntegrityError

        from domain.application import LedgerApplication
        from ledger.adapters.log import RecorderEventLog
        from ledger.identity.accesslog import AccessLog
        from ledger.importlog import ImportLog
        from ledger.tree import LogTree

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
        self._service: LedgerService | None = None
        self.log = RecorderEventLog(self.app.recorder)
        self.imports = ImportLog(self.app.recorder)
        self.tree = LogTree(self.app.recorder)  # the log's Merkle tree (contract trust §2)
        self.tree.catch_up()  # a store written before the tree existed gets it now, once
        self.access = AccessLog(self.app.recorder)  # who read which address (trust §1)

    @property
    def service(self) -> LedgerService:
        """The append service, made on first use: the read commands never import the write side
        (validation, rules, the privacy guard: start-up)."""
        if self._service is None:
            from domain.service import LedgerService

            self._service = LedgerService(self.app)
        return self._service

    @service.setter
    def service(self, service: LedgerService) -> None:  # e.g. one with another clock (tests)
        self._service = service

    def close(self) -> None:
        self.access.close()  # reads still queued are written before the store closes
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


# --- the read side ------------------------------------------------------------------------------


def projections_location(ledger: Ledger) -> Location:
    """Where the projections live: `LEDGER_PROJECTIONS` when set (`sqlite:///folder` or
    `postgresql://…[?schema=name]`); otherwise beside the event store — the folder
    `<folder of events.sqlite>/projections/` for SQLite, the schema `projections` in the same
    database for PostgreSQL."""
    settings = ledger.settings
    if settings.projections:
        return location(settings.projections, "LEDGER_PROJECTIONS")
    if settings.is_postgres:
        from projections.store.postgres import PostgresLocation

        return PostgresLocation(conninfo(settings.store_url), "projections")
    from projections.store.sqlite import SQLiteLocation

    return SQLiteLocation(sqlite_path(settings.store_url).parent / "projections")


def kafka_location(ledger: Ledger) -> Location:
    """Where the Kafka-fed projections live: `LEDGER_KAFKA_PROJECTIONS` (same form as
    `LEDGER_PROJECTIONS`), else beside the embedded ones: the folder `projections-kafka` or the
    PostgreSQL schema `projections_kafka`. Never the embedded projector's own store."""
    from projections.store.sqlite import SQLiteLocation

    if ledger.settings.kafka_projections:
        return location(ledger.settings.kafka_projections, "LEDGER_KAFKA_PROJECTIONS")
    embedded = projections_location(ledger)
    if isinstance(embedded, SQLiteLocation):
        return SQLiteLocation(embedded.folder.with_name(f"{embedded.folder.name}-kafka"))
    from projections.store.postgres import PostgresLocation

    return PostgresLocation(embedded.conninfo, f"{embedded.schema}_kafka")


def location(spec: str, variable: str) -> Location:
    """A projection store location from its URL (`variable` names the setting in errors)."""
    parsed = urlparse(spec)
    if parsed.scheme == "sqlite":
        from projections.store.sqlite import SQLiteLocation

        folder = unquote(parsed.path)
        if not folder or folder == "/":
            raise ConfigError(f"{variable} {spec!r} names no folder (use sqlite:///abs/folder)")
        return SQLiteLocation(Path(folder))
    if parsed.scheme in ("postgresql", "postgres"):
        from projections.store.postgres import PostgresLocation

        schema = parse_qs(parsed.query).get("schema", ["projections"])[0]
        return PostgresLocation(conninfo(spec), schema)
    raise ConfigError(f"{variable} {spec!r}: use sqlite:///folder or postgresql://user@host:port/db")


def read_ports(ledger: Ledger) -> Ports:
    """The read model's ports on a wired ledger: its store, the fast raw reader, the log's reads.

    With `LEDGER_PROJECTIONS_SOURCE=kafka` the store is the Kafka-fed one (`kafka_location`),
    which `ledger consume` fills: the read side opens it read-only and never catches it up."""
    from ledger.adapters.raw import RawReader
    from projections.query import Ports

    reader = RawReader(ledger)
    fed_by_kafka = ledger.settings.projections_source == "kafka"
    return Ports(
        location=kafka_location(ledger) if fed_by_kafka else projections_location(ledger),
        read_only=fed_by_kafka,
        events_stored=ledger.tree.size,
        read_raw=reader,
        log_version=reader.data_version,
        load_streams=ledger.app.index.load_streams,
        read_stream=ledger.log.read_stream,
        max_position=ledger.log.max_position,
        head_hash=ledger.log.head_hash,
        backfills=ledger.imports,
    )


def open_read_model(ledger: Ledger) -> ReadModel:
    from projections.query import ReadModel

    return ReadModel(read_ports(ledger), use_index=ledger.settings.figures_index)
