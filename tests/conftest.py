"""Shared fixtures: a store on SQLite (always) and on PostgreSQL (when reachable).

PostgreSQL tests find the server through CARELEDGER_TEST_POSTGRES (a URL such as
postgresql://postgres@127.0.0.1:5432/test). Without it they skip with a visible
reason on a laptop, but under CI=true they fail: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Property tests whose every example builds real SQLite stores and rebuilds their read models
# (about a second each): fewer examples than the profile's, and marked slow (make check skips them).
HEAVY = settings(max_examples=20 if os.environ.get("CI") == "true" else 6)

# The CLI renders for COLUMNS when it is set (else 120 when piped): the tests set it where they mean
# a width, so a width inherited from the shell or the test runner's workers (xdist sets 80) is dropped.
os.environ.pop("COLUMNS", None)

PG_URL = os.environ.get("CARELEDGER_TEST_POSTGRES")
IN_CI = os.environ.get("CI") == "true"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def require_postgres() -> str:
    """Return the PostgreSQL URL for tests, or skip (fail under CI) without one."""
    if PG_URL:
        return PG_URL
    if IN_CI:
        pytest.fail("CI=true but CARELEDGER_TEST_POSTGRES is not set: the PostgreSQL run must execute")
    pytest.skip("CARELEDGER_TEST_POSTGRES is not set: PostgreSQL tests skipped on this machine")


def new_pg_schema_url(base: str) -> tuple[str, str]:
    """Return a URL that points at a fresh schema, and the schema's name."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}schema={schema}", schema


def drop_pg_schema(base: str, schema: str) -> None:
    """Drop a test schema and everything in it."""
    from projections.store.root import connect_postgres, parse_location

    with connect_postgres(parse_location(base)) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def fresh_store_url(backend: str, directory: Path) -> Iterator[str]:
    """Yield an empty store location on a backend (a new SQLite file, or a new schema dropped after)."""
    if backend == "sqlite":
        yield str(directory / "careledger.db")
        return
    base = require_postgres()
    url, schema = new_pg_schema_url(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, schema)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty store location on each backend (one per test)."""
    with fresh_store_url(request.param, tmp_path_factory.mktemp("store")) as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, for tests about PostgreSQL only (fails under CI without a server)."""
    with fresh_store_url("postgres", Path()) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty store location on each backend shared by one module's tests (for read-only fixtures)."""
    with fresh_store_url(request.param, tmp_path_factory.mktemp("module-store")) as url:
        yield url


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    """A clock fixed at 2026-11-20 15:00 UTC."""
    return FixedClock()
