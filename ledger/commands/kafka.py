"""`ledger kafka init`, `relay`, `intake`, `consume`: the Kafka backbone (issue 4, docs/kafka.md).

Every command needs `LEDGER_KAFKA` (bootstrap servers). Without it the ledger runs embedded and
these commands refuse with exit 2. Kafka modules are imported inside the commands only, so no
other command loads the Kafka client.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.commands.common import EXIT_USAGE, default_workers, fail, opened_ledger, ops_port_option

INTAKE_GROUP = "ledger-intake"
PROJECTION_GROUP = "ledger-projections"

kafka_app = typer.Typer(help="Kafka topics (needs LEDGER_KAFKA).", no_args_is_help=True)

Once = typer.Option("--once", help="Drain what is there and exit (for tests and batch jobs).")
InstanceId = typer.Option(
    "--instance-id",
    help="Static group membership (KIP-345): a restarted instance with the same id takes its partitions back "
    "at once instead of waiting for a rebalance. Unique per running instance.",
)
OpsPort = ops_port_option()
MaxIdle = typer.Option("--max-idle", help="With --once: exit after this many seconds without new records.", min=0.1)


def group_option(text: str) -> Any:
    """The `--group` option of a consumer-group member, with its help `text`."""
    return typer.Option("--group", help=text)


def _settings() -> Any:
    from ledger.bootstrap import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if not (settings.kafka or "").strip():
        fail(
            "LEDGER_KAFKA is not set (bootstrap servers, e.g. 127.0.0.1:9092); without it the ledger is embedded",
            EXIT_USAGE,
        )
    return settings


def _bootstrap() -> Any:
    """The brokers and this process's credentials (`LEDGER_KAFKA`, `LEDGER_KAFKA_USER`, …)."""
    return _settings().kafka_endpoint()


def _names() -> Any:
    from consumers.topics import TopicNames

    return TopicNames(_settings().kafka_topic_prefix)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM/SIGINT, so the loops finish their batch and close their clients."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@kafka_app.command("init")
def init(
    partitions: Annotated[
        int, typer.Option("--partitions", help="Partitions of ledger.events (never changed once created).", min=1)
    ] = 12,
    inbound_partitions: Annotated[
        int, typer.Option("--inbound-partitions", help="Partitions per inbound topic.", min=1)
    ] = 6,
    retention_days: Annotated[
        int | None,
        typer.Option(
            "--retention-days",
            help="Days the inbound topics and ledger.rejections keep records (default: "
            "LEDGER_KAFKA_RETENTION_DAYS, else 30); also applied to existing topics. ledger.events keeps "
            "its records forever.",
            min=1,
            max=36_500,
        ),
    ] = None,
    credentials: Annotated[
        Path | None,
        typer.Option(
            "--credentials",
            help="Folder with one file per principal (ledger, img, ncg, portal, projector) holding its password; "
            "missing files are made with a random password (mode 0600). The principals get SCRAM-SHA-512 "
            "credentials and the contract's ACLs. Default: LEDGER_KAFKA_CREDENTIALS; without either, only the "
            "ACLs are set.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Create the ledger's topics, set their retention, and (on a broker with an authorizer) the principals
    and ACLs of the trust contract (idempotent; the operator's command)."""
    settings = _settings()
    bootstrap = settings.kafka_endpoint()
    from consumers.clients import init_topics

    if retention_days is None:
        retention_days = settings.kafka_retention_days
    credentials = credentials or settings.kafka_credentials
    names = _names()
    try:
        result = init_topics(bootstrap, partitions, inbound_partitions, names, retention_days)
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        fail(f"cannot create the topics on {bootstrap}: {type(exc).__name__}: {exc}")
    for name, count in sorted(result["partitions"].items()):
        state = "created" if name in result["created"] else "exists"
        retention = _retention_text(result["retention_ms"].get(name))
        changed = result["altered"].get(name, {}).get("retention.ms")
        if changed:
            retention += f" (altered, was {_retention_text(changed[0])})"
        typer.echo(f"{name}: {state}, {count} partitions, replication {result['replication']}, retention {retention}")
    typer.echo(
        f"kafka init: {len(result['created'])} created, {len(result['existing'])} already there, "
        f"{len(result['altered'])} altered ({result['brokers']} broker{'s' if result['brokers'] != 1 else ''})"
    )
    _init_security(bootstrap, names, credentials)


def _init_security(bootstrap: Any, names: Any, credentials: Path | None) -> None:
    """The principals' SCRAM credentials and the contract's ACLs (trust §1), where the broker checks them."""
    from consumers.acls import apply_grants, authorizer_enabled, contract_grants, upsert_users
    from consumers.acls import credentials as read_credentials
    from consumers.clients import make_admin

    admin = make_admin(bootstrap, "ledger-kafka-init")
    try:
        if credentials is not None:
            try:
                passwords, made = read_credentials(credentials)
            except (OSError, ValueError) as exc:
                fail(f"--credentials {credentials}: {exc}", EXIT_USAGE)
            upsert_users(admin, passwords)
            fresh = f"; new passwords made for {', '.join(made)} in {credentials}" if made else ""
            typer.echo(f"kafka init: SCRAM-SHA-512 credentials set for {', '.join(sorted(passwords))}{fresh}")
        if not authorizer_enabled(admin):
            typer.echo(
                "kafka init: the broker has no authorizer: no ACLs set (anyone who reaches it may write any topic; "
                "see docs/kafka.md, Security)",
                err=True,
            )
            return
        grants = contract_grants(names, names.prefix + INTAKE_GROUP, names.prefix + PROJECTION_GROUP)
        count = apply_grants(admin, grants)
        typer.echo(f"kafka init: {count} ACLs of the trust contract in place for {', '.join(_principals(grants))}")
    except Exception as exc:  # noqa: BLE001 - one clear line (an authorization error names what is missing)
        fail(f"cannot set the principals and ACLs on {bootstrap}: {type(exc).__name__}: {exc}")
    finally:
        admin.close()


def _principals(grants: Any) -> list[str]:
    return sorted({g.principal for g in grants})


def _retention_text(ms: str | None) -> str:
    """`retention.ms` for people: forever, whole days, or milliseconds."""
    if ms is None:
        return "unknown"
    if ms.strip() == "-1":
        return "forever"
    value = int(ms)
    return f"{value // 86_400_000} days" if value % 86_400_000 == 0 else f"{value} ms"


def relay(
    once: Annotated[bool, Once] = False,
    page_size: Annotated[int, typer.Option("--page-size", help="Events read and sent per page.", min=1)] = 5_000,
    poll_interval: Annotated[float, typer.Option("--poll-interval", help="Seconds between polls when idle.")] = 0.2,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Producer processes (addresses are spread over them; each keeps its order). "
            "Default: 2 on a machine with 2 or more cores, else 1.",
            min=1,
        ),
    ] = default_workers(),  # one producer process tops out near 30,000 records/s
    ops_port: Annotated[int | None, OpsPort] = None,
    give_up_after: Annotated[
        float,
        typer.Option(
            "--give-up-after",
            help="With --once: exit 1 when the brokers cannot be reached for this many seconds.",
            min=1,
        ),
    ] = 60.0,
) -> None:
    """Publish every accepted event to ledger.events (CloudEvents binary mode, key = address)."""
    bootstrap = _bootstrap()
    from consumers.clients import check_reachable, default_client_id, make_producer
    from consumers.relay import Relay
    from consumers.retry import GaveUp, unreachable
    from consumers.tracking import RelayTracking
    from consumers.tuning import for_kafka
    from ledger.adapters.raw import RawReader

    for_kafka()
    stop = _stop_on_signals()
    with opened_ledger() as ledger:
        names = _names()
        tracking = RelayTracking(ledger.app.recorder, f"relay:{names.events}")
        reader = RawReader(ledger)  # the same rows as the notification log, read without building objects
        from ledger.checkpoints import start_checkpointer

        start_checkpointer(ledger.settings)  # every N events or T minutes, when the ledger has its signing key
        _start_ops(ops_port, "relay", ledger, relay_topic=names.events)

        runner = Relay(
            reader,
            tracking,
            lambda: make_producer(bootstrap, default_client_id("relay")),
            topic=names.events,
            page_size=page_size,
            poll_interval=poll_interval,
            stop=stop,
            workers=workers,
            probe=lambda: check_reachable(bootstrap, names.events),
            give_up_after=give_up_after if once else None,
        )
        try:
            runner.run(once=once)
        except GaveUp as exc:
            why = f"the Kafka brokers at {bootstrap} cannot be reached" if unreachable(exc.last) else str(exc.last)
            fail(
                f"relay --once gave up after {give_up_after:.0f} s: {why} ({type(exc.last).__name__}); nothing was "
                f"lost, the next run resumes from position {tracking.position():,}"
            )
        finally:
            reader.close()


def intake(
    once: Annotated[bool, Once] = False,
    max_idle: Annotated[float | None, MaxIdle] = None,
    group: Annotated[
        str | None, group_option("Consumer group of the intake (default: LEDGER_KAFKA_TOPIC_PREFIX + ledger-intake).")
    ] = None,
    instance_id: Annotated[str | None, InstanceId] = None,
    ops_port: Annotated[int | None, OpsPort] = None,
) -> None:
    """Append what IMG, NCG and the portal publish on their inbound topics; rejections go to ledger.rejections."""
    from consumers.clients import default_client_id, make_producer
    from consumers.intake import Intake

    bootstrap, stop, names, member, rebalancing = _group_member("intake", INTAKE_GROUP, group, instance_id)
    with opened_ledger() as ledger:
        observed = _start_ops(ops_port, "intake", ledger)
        append = ledger.service.append
        if observed is not None:
            from ledger.ops import timed_append

            append = timed_append(append, "kafka")
        runner = Intake(
            lambda items, org: append(items, org),
            member,
            lambda: make_producer(bootstrap, default_client_id("intake-rejections"), linger_ms=0),
            topics=names.inbound,
            rejections_topic=names.rejections,
            stop=stop,
            rebalancing_factory=rebalancing,
            observe=observed,
        )
        _run_unless_fenced(lambda: runner.run(once=once, max_idle=max_idle))


def _group_member(role: str, default_group: str, group: str | None, instance_id: str | None) -> tuple[Any, ...]:
    """What a consuming loop of `role` starts from: the endpoint, the stop signal, the topic names,
    and its consumer factories (a static member with `instance_id`, and one without it for rejoining
    after a stuck assignment). The default group is behind the topic prefix: one group per ledger."""
    from consumers.clients import default_client_id, make_consumer
    from consumers.tuning import for_kafka

    bootstrap = _bootstrap()
    for_kafka()
    stop = _stop_on_signals()
    names = _names()
    chosen = group or names.prefix + default_group

    def member() -> Any:
        return make_consumer(bootstrap, default_client_id(role), chosen, group_instance_id=instance_id)

    def rebalancing() -> Any:
        return make_consumer(bootstrap, default_client_id(role), chosen)

    return bootstrap, stop, names, member, rebalancing


def _start_ops(port: int | None, role: str, ledger: Any, **collector: Any) -> Any:
    """The operators' metrics on the ops port (`ledger.ops`), when one is configured: the callback the
    Kafka loops report their consumer to (None without a port)."""
    from ledger.bootstrap import ConfigError
    from ledger.ops import Observed, StateCollector, ops_port, start

    try:
        port = ops_port(port, ledger.settings)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if port is None:
        return None
    observed = Observed()
    try:
        start(port, StateCollector(role, ledger.settings, observed=observed, **collector))
    except OSError as exc:
        fail(f"cannot serve the operators' metrics on port {port}: {exc}")
    return observed


def _run_unless_fenced(run: Any) -> None:
    """Run a consuming loop; a member fenced by another with its --instance-id exits 1 with one line."""
    from consumers.polling import Fenced

    try:
        run()
    except Fenced as exc:
        fail(str(exc))


def consume(
    once: Annotated[bool, Once] = False,
    max_idle: Annotated[float | None, MaxIdle] = None,
    group: Annotated[
        str | None,
        group_option("Consumer group; its instances share partitions (default: prefix + ledger-projections)."),
    ] = None,
    instance_id: Annotated[str | None, InstanceId] = None,
    ops_port: Annotated[int | None, OpsPort] = None,
) -> None:
    """Keep the Kafka-fed projection store up to date from ledger.events (run several to share partitions)."""
    from consumers.projection import ProjectionConsumer
    from consumers.sink import ProjectionStoreSink
    from ledger.bootstrap import kafka_location

    _, stop, names, member, rebalancing = _group_member("consume", PROJECTION_GROUP, group, instance_id)
    with opened_ledger() as ledger:
        sink = ProjectionStoreSink(kafka_location(ledger), ledger.app.index.load_streams)
        observed = _start_ops(
            ops_port, "consume", ledger, kafka_positions=lambda: sink.kafka_positions(names.events), store=False
        )
        try:
            runner = ProjectionConsumer(
                sink,
                member,
                topic=names.events,
                stop=stop,
                rebalancing_factory=rebalancing,
                observe=observed,
            )
            _run_unless_fenced(lambda: runner.run(once=once, max_idle=max_idle))
        finally:
            sink.close()


def rebuild_from_kafka(no_progress: bool = False, json: bool = False) -> None:
    """`ledger rebuild --from kafka`: a fresh Kafka-fed projection store from the beginning of
    ledger.events, swapped in when complete (`ledger consume` continues from its positions)."""
    import time

    bootstrap = _bootstrap()
    from consumers.clients import default_client_id, make_consumer
    from consumers.rebuild import rebuild_from_kafka as run
    from consumers.tuning import for_kafka
    from ledger.bootstrap import kafka_location

    for_kafka()
    names = _names()
    started = time.perf_counter()
    with opened_ledger() as ledger:
        location = kafka_location(ledger)
        try:
            stats = run(
                location,
                lambda: make_consumer(bootstrap, default_client_id("rebuild"), None, max_poll_records=20_000),
                topic=names.events,
                workers=default_workers(),
                on_partition=None
                if no_progress
                else lambda p, n: typer.echo(f"rebuild: partition {p}: {n:,} records", err=True),
            )
        except Exception as exc:  # noqa: BLE001 - one clear line
            fail(f"rebuild from Kafka failed: {type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - started
        # the bitemporal index of the rebuilt rows, from the event store's copy of the same events
        from ledger.adapters.raw import RawReader
        from projections.indexer import fill_index_in_workers

        indexed = fill_index_in_workers(
            location.open_active, lambda: RawReader(ledger), ledger.log.max_position(), default_workers()
        )
    if json:
        from ledger.commands.common import emit_json

        emit_json(
            {
                "addresses": stats.addresses,
                "records": stats.records,
                "topic": names.events,
                "seconds": round(seconds, 3),
                "skipped_partitions": stats.skipped,
                "serving": location.describe(),
                "indexed": indexed,
            }
        )
        return
    resumed = f" ({stats.skipped} partitions were already done)" if stats.skipped else ""
    typer.echo(  # the command's result: on stdout (progress is on stderr), as `ledger rebuild`'s
        f"rebuilt the Kafka-fed projections of {stats.addresses:,} addresses from {stats.records:,} records of "
        f"{names.events} in {seconds:.1f} s ({stats.records / max(seconds, 1e-9):,.0f} records/s){resumed}; "
        f"now serving from {location.describe()}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(kafka_app, name="kafka")
    app.command("relay")(relay)
    app.command("intake")(intake)
    app.command("consume")(consume)
