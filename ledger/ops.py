"""Operators' metrics: Prometheus exposition on each role's own port (`LEDGER_OPS_PORT`, path `/metrics`).

Not the governance figures (`GET /metrics` on the API port is those). Every long-running role
(`serve`, `relay`, `intake`, `consume`, `witness`) starts the exposition server when
`LEDGER_OPS_PORT` (or its `--ops-port`) is set; `LEDGER_OPS_HOST` is the interface (default
127.0.0.1; 0.0.0.0 in containers). Names follow Prometheus' conventions: counters end in
`_total`, durations are `_seconds` histograms.

Two kinds of metric:
- events counted where they happen (appends by result and rejection code, append latency, HTTP
  requests by route and status with their latency): prometheus-client counters and histograms.
  `ledger serve --workers N` runs them in multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, a fresh
  folder per run unless set): the workers write, the serving process adds them up at each scrape.
- state read at each scrape (store head, relay position and lag, projection position and lag,
  consumer lag per partition, checkpoint age): a collector over the role's own connection to the
  store, so a scrape never shares a connection with the work it observes.

Nothing below `ledger/` imports prometheus-client: the Kafka loops report to a plain callback
(`observe`, called with the Kafka consumer after each poll) that this module turns into gauges.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.config import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def ops_port(option: int | None = None, settings: Settings | None = None) -> int | None:
    """The ops port: the option, else `LEDGER_OPS_PORT` (the settings), else None (no exposition)."""
    if option is not None:
        return option
    return (settings or Settings.from_env()).ops_port


def ready_lag(settings: Settings | None = None) -> int:
    """`LEDGER_READY_MAX_LAG`: events the projections may be behind the store for /readyz (default 1000)."""
    return (settings or Settings.from_env()).ready_max_lag


# -- counted metrics (created on first use, so a process that only collects creates none) ------------
_lock = threading.Lock()
_metrics: dict[str, Any] = {}


def _metric(name: str) -> Any:
    with _lock:
        if not _metrics:
            from prometheus_client import Counter, Histogram

            _metrics["appends"] = Counter(
                "ledger_appends",
                "Submitted events by door and result (accepted, duplicate, rejected)",
                ["door", "result"],
            )
            _metrics["rejections"] = Counter(
                "ledger_rejections", "Rejected submissions by door and code (contract §2)", ["door", "code"]
            )
            _metrics["append_seconds"] = Histogram(
                "ledger_append_duration_seconds", "Time of one append call (a batch)", ["door"], buckets=LATENCY_BUCKETS
            )
            _metrics["http_requests"] = Counter(
                "ledger_http_requests",
                "HTTP requests by route template, method and status",
                ["route", "method", "status"],
            )
            _metrics["http_seconds"] = Histogram(
                "ledger_http_request_duration_seconds",
                "HTTP request latency by route template and method",
                ["route", "method"],
                buckets=LATENCY_BUCKETS,
            )
        return _metrics[name]


def timed_append(append: Callable[..., list[Any]], door: str) -> Callable[..., list[Any]]:
    """`append` (LedgerService.append's shape) counting results and rejection codes and timing each call."""
    appends, rejections, seconds = _metric("appends"), _metric("rejections"), _metric("append_seconds")
    timer = seconds.labels(door)

    def counted(items: Sequence[Any], principal: Any, *args: Any, **kwargs: Any) -> list[Any]:
        started = time.perf_counter()
        try:
            results = append(items, principal, *args, **kwargs)
        finally:
            timer.observe(time.perf_counter() - started)
        tally: dict[tuple[str, str | None], int] = {}
        for result in results:
            key = (result.result, result.code)
            tally[key] = tally.get(key, 0) + 1
        for (outcome, code), count in tally.items():
            appends.labels(door, outcome).inc(count)
            if code is not None:
                rejections.labels(door, code).inc(count)
        return results

    return counted


def install(app: Any, settings: Settings | None = None) -> None:
    """`ledger serve`'s instrumentation of its app: the HTTP metrics when an ops port is configured,
    and the JSON access log when `LEDGER_HTTP_ACCESS_LOG` is `json` (default: on with an ops port;
    `off`: never)."""
    settings = settings or Settings.from_env()
    metrics = settings.ops_port is not None
    mode = settings.http_access_log
    log = mode == "json" or (mode == "" and metrics)
    if metrics:
        app.state.count_appends = lambda append: timed_append(append, "http")  # POST /events (intake_http)
    if metrics or log:
        app.add_middleware(AccessLog, metrics=metrics, log=log, routes=app.router.routes)


class AccessLog:
    """ASGI middleware: HTTP metrics by route template and status, and one JSON access-log line per
    request (structlog, to stderr). The route is the matched template (`/cases/{address}`), never the
    path, so the label set stays bounded; unmatched paths count as `unmatched`."""

    def __init__(self, app: Any, metrics: bool = True, log: bool = True, routes: Sequence[Any] = ()) -> None:
        self.app = app
        self.routes = routes  # to name the route where the router does not say (plain Starlette routes)
        self.metrics = metrics
        self.requests = _metric("http_requests") if metrics else None
        self.seconds = _metric("http_seconds") if metrics else None
        self.logger: Any = None
        if log:
            from consumers.logs import get_logger

            self.logger = get_logger("http")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route") or self._route(scope)
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            if self.requests is not None and self.seconds is not None:
                self.requests.labels(template, method, str(status[0])).inc()
                self.seconds.labels(template, method).observe(elapsed)
            if self.logger is not None:
                client = scope.get("client")
                self.logger.info(
                    "http request",
                    method=method,
                    path=scope.get("path"),
                    route=template,
                    status=status[0],
                    duration_ms=round(elapsed * 1000, 3),
                    client=client[0] if client else None,
                )

    def _route(self, scope: dict[str, Any]) -> Any:
        from starlette.routing import Match

        for route in self.routes:
            if route.matches(scope)[0] is Match.FULL:
                return route
        return None


# -- state read at each scrape --------------------------------------------------------------------------
class Observed:
    """What the Kafka loops report after each poll: per partition, the consumer's position and the
    partition's high watermark (both as the client last saw them; no broker request)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lags: dict[tuple[str, int], tuple[int, int]] = {}
        self.last = 0.0

    def __call__(self, consumer: Any) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and self.lags:  # at most twice a second once there is something to say
            return
        self.last = now
        seen: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = consumer.position(tp, timeout_ms=1_000)  # known after a poll: no request
            except Exception:  # noqa: BLE001 - no position yet
                continue
            if position is not None:
                seen[(tp.topic, tp.partition)] = (position, high)
        with self.lock:
            self.lags = seen

    def snapshot(self) -> dict[tuple[str, int], tuple[int, int]]:
        with self.lock:
            return dict(self.lags)


@dataclass(eq=False)
class StateCollector:
    """A prometheus-client collector over a role's own store connection (opened at the first scrape).

    `gauges`: name -> (help, value), read at each scrape (the witness's figures).
    """

    role: str
    settings: Settings | None = None
    _: KW_ONLY
    relay_topic: str | None = None
    observed: Observed | None = None
    kafka_positions: Callable[[], dict[int, int]] | None = None
    projections: bool = False
    store: bool = True
    gauges: Callable[[], dict[str, tuple[str, float]]] | None = None
    _ledger: Any = field(init=False, default=None)
    _model: Any = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def _opened(self) -> Any:
        if self._ledger is None:
            from ledger.bootstrap import open_ledger

            self._ledger = open_ledger(self.settings or Settings.from_env())
        return self._ledger

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        def gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> Any:
            family = GaugeMetricFamily(name, doc, labels=sorted(labels) if labels else None)
            if labels:
                family.add_metric([labels[k] for k in sorted(labels)], value)
            else:
                family.add_metric([], value)
            return family

        with self._lock:
            yield gauge("ledger_up", "1 while this role answers scrapes", 1.0, {"role": self.role})
            for name, (doc, figure) in (self.gauges() if self.gauges is not None else {}).items():
                yield gauge(name, doc, figure)
            if self.observed is not None:
                lag = GaugeMetricFamily(
                    "ledger_consumer_lag_records", "Records behind the partition's end", labels=["topic", "partition"]
                )
                for (topic, partition), (position, high) in sorted(self.observed.snapshot().items()):
                    lag.add_metric([topic, str(partition)], max(0, high - position))
                yield lag
            if self.kafka_positions is not None:
                yield from self._projection_from_kafka()
            if not self.store:
                return
            ledger = self._opened()
            head = ledger.log.max_position()
            yield gauge("ledger_store_head", "Position of the last event in the store's total order", head)
            if self.relay_topic is not None:
                yield from self._relay(ledger, head)
            if self.projections:
                if self._model is None:
                    from ledger.bootstrap import open_read_model

                    self._model = open_read_model(ledger)  # reads positions only: catches nothing up
                health = self._model.health()
                yield gauge("ledger_projection_position", "Store position the projections are at", health["position"])
                yield gauge(
                    "ledger_projection_lag_events", "Events the projections are behind the store", health["behind"]
                )
            latest = ledger.tree.checkpoint()
            if latest is not None:
                yield gauge("ledger_checkpoint_size", "Tree size of the latest signed checkpoint", latest.size)
                yield gauge(
                    "ledger_checkpoint_age_seconds",
                    "Seconds since the latest checkpoint was made",
                    _age(latest.made_at),
                )

    def _relay(self, ledger: Any, head: int) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from consumers.tracking import RelayTracking

        position = RelayTracking(ledger.app.recorder, f"relay:{self.relay_topic}").position()
        behind = max(0, head - position)
        seconds = 0.0
        if behind:
            nxt = ledger.log.read(position, 1)
            if nxt:
                seconds = _age(nxt[0][1].get("recordedtime"))
        for name, doc, value in (
            ("ledger_relay_position", "Store position the relay has published up to", position),
            ("ledger_relay_lag_events", "Events in the store not yet acknowledged by Kafka", behind),
            ("ledger_relay_lag_seconds", "Age of the oldest event not yet published (0 when caught up)", seconds),
        ):
            family = GaugeMetricFamily(name, doc)
            family.add_metric([], value)
            yield family

    def _projection_from_kafka(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        assert self.kafka_positions is not None
        stored = self.kafka_positions()
        highs = {p: high for (_, p), (_, high) in (self.observed.snapshot() if self.observed else {}).items()}
        position = GaugeMetricFamily(
            "ledger_projection_position",
            "Next offset of ledger.events the projection store holds",
            labels=["partition"],
        )
        lag = GaugeMetricFamily(
            "ledger_projection_lag_events", "Records of ledger.events not yet in the projections", labels=["partition"]
        )
        for partition, offset in sorted(stored.items()):
            position.add_metric([str(partition)], offset)
            if partition in highs:
                lag.add_metric([str(partition)], max(0, highs[partition] - offset))
        yield position
        yield lag


def _age(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - then).total_seconds())


def start(port: int | None, collector: StateCollector | None = None, *, multiprocess: bool = False) -> Any:
    """Serve `/metrics` on `port` (None: nothing) in a daemon thread; return the server (or None)."""
    if port is None:
        return None
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    registry: Any = REGISTRY
    if multiprocess:
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    if collector is not None:
        registry.register(collector)
    host = Settings.from_env().ops_host
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def multiprocess_dir() -> str:
    """`PROMETHEUS_MULTIPROC_DIR` for `serve --workers N`: as set, else a fresh folder (set in the
    environment, so the workers inherit it)."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        import tempfile

        folder = tempfile.mkdtemp(prefix="ledger-metrics-")
        os.environ[MULTIPROC_ENV] = folder
    return folder
