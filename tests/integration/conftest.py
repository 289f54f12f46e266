"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projections.store.root import Store, parse_location
from tests.conftest import drop_pg_schema, new_pg_schema_url, require_postgres


@pytest.fixture
def empty(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """An empty store on the same backend as `db_url` (a new PostgreSQL schema, or a new SQLite file)."""
    if db_url.startswith("postgresql"):
        base = require_postgres()
        url, schema = new_pg_schema_url(base)
        store = Store(parse_location(url))
        yield store
        store.close()
        drop_pg_schema(base, schema)
        return
    store = Store(parse_location(str(tmp_path_factory.mktemp("empty") / "careledger.db")))
    yield store
    store.close()
