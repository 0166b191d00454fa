"""The `store` fixture (a pytest plugin of tests/conftest.py): one RunStore on every backend."""

import pytest

from steplr_viz.store.runs import InMemoryRunStore, RunStore
from tests.postgres import fresh_database


@pytest.fixture(params=["sqlite", "memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A RunStore on SQLite (a folder), in memory and on a throwaway PostgreSQL database."""
    if request.param == "postgres":
        store = RunStore(database_url=fresh_database())
        yield store
        store.close()
    elif request.param == "sqlite":
        yield RunStore(tmp_path / "runs")
    else:
        yield InMemoryRunStore()
