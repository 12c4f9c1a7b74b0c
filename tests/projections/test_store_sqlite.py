"""The projection-store contract on SQLite (the embedded default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.projections.store_suite import ProjectionStoreContract


class TestSQLiteProjections(ProjectionStoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'events.sqlite'}"
