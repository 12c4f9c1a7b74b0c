"""Structured logging for the long-running Kafka processes: JSON lines unless stderr is a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured = False


def configure(level: int = logging.INFO) -> None:
    """Configure structlog once: ISO timestamps, level, JSON (or colours on a terminal) to stderr."""
    global _configured
    if _configured:
        return
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True) if sys.stderr.isatty() else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # kafka-python logs every refused connection at WARNING/ERROR; our own lines say what matters.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    _configured = True


def get_logger(component: str) -> Any:
    """A bound logger for one component (relay, intake, consume, rebuild)."""
    configure()
    return structlog.get_logger().bind(component=component)
