"""Fixtures of the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openapi_contract import install


@pytest.fixture(autouse=True)
def responses_match_the_openapi_document() -> Iterator[None]:
    """Every response of the ledger's HTTP API a test gets is checked against its OpenAPI document."""
    yield from install()
