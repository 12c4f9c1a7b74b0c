"""The projection-store contract on a real PostgreSQL server started by deploy/postgres.sh."""

from __future__ import annotations

import pytest

from tests.projections.store_suite import ProjectionStoreContract


class TestPostgresProjections(ProjectionStoreContract):
    @pytest.fixture
    def store_url(self, postgres_database: str) -> str:
        return postgres_database
