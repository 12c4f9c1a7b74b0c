"""Fixtures for tests that talk to real servers (PostgreSQL, Kafka) started by ``deploy/``.

Session fixtures start a server once per test session (or use ``LEDGER_TEST_POSTGRES`` /
``LEDGER_TEST_KAFKA`` when set) and, at the end, stop only what this session started
(``LEDGER_TEST_KEEP_SERVERS=1`` keeps them). A server that cannot be started fails the tests
with the script's output; nothing is skipped. Add further fixtures below.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) from anywhere
    sys.path.insert(0, str(_REPO_ROOT))

from consumers.clients import KafkaEndpoint  # noqa: E402
from tests import servers  # noqa: E402
from tests.consumers.chaos import PrivateBroker  # noqa: E402
from tests.trust.witnessing import keys, witnesses  # noqa: E402, F401 - fixtures of the checkpoint tests

T = TypeVar("T")


def _for_the_session(name: str, endpoint: T) -> Iterator[T]:
    """Yield a server's endpoint; at the end, stop the server if this session started it (and
    LEDGER_TEST_KEEP_SERVERS does not keep it)."""
    yield endpoint
    if servers.started_here(name) and not servers.keep_servers():
        servers.stop(name)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL server whose user may create and drop databases."""
    yield from _for_the_session("postgres", servers.ensure_postgres())


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """URL of a fresh, empty database for one test; dropped afterwards."""
    url = servers.fresh_postgres_database(postgres_url)
    yield url
    servers.drop_database(url)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[KafkaEndpoint]:
    """A running Kafka (single node by default), as its super user (SASL/SCRAM)."""
    yield from _for_the_session("kafka", servers.ensure_kafka())


@pytest.fixture(scope="module")
def private_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBroker]:
    """A single-node broker of the test module's own (deploy/kafka.sh in a folder of its own, on a
    free port), so its tests may kill -9 and restart it; stopped and removed after the module."""
    broker = PrivateBroker(tmp_path_factory.mktemp("kafka-private"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaEndpoint]:
    """The three-node KRaft cluster (as its super user) (``deploy/kafka.sh start-cluster``) for
    fault tests that kill a broker; stopped at the end when this session started it."""
    yield from _for_the_session("kafka-cluster", servers.start_kafka_cluster())
