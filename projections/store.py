"""The composition root: open careledger's store at a path or URL.

The event store is eventsourcing's own SQLite recorder (a file, the default) or
its PostgreSQL recorder (a `postgresql://` URL); the read models live in the same
database. `--db` or `CARELEDGER_DB` chooses; the default is `careledger.db` in
the current directory. See docs/decisions/0001-storage.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from domain.application import Episodes
from domain.errors import InvalidInput, StoreUnavailable

DEFAULT_DB = "careledger.db"
ENV_DB = "CARELEDGER_DB"
ENV_PAYERS = "CARELEDGER_PAYERS_DIR"
# Recorders that add a hash-chain link to every stored event (projections/chain.py).
SQLITE_RECORDER = "projections.chain:ChainedSQLiteApplicationRecorder"
POSTGRES_RECORDER = "projections.chain_pg:ChainedPostgresApplicationRecorder"


@dataclass(frozen=True)
class Location:
    """Where a store lives, and how eventsourcing and SQLAlchemy reach it."""

    kind: Literal["sqlite", "postgres"]
    display: str
    es_env: dict[str, str] = field(repr=False)
    sqlalchemy_url: str = field(repr=False)
    path: Path | None = None
    schema: str | None = None


def resolve_db(db: str | None) -> str:
    """Return the store location from the option, then CARELEDGER_DB, then the default."""
    return db or os.environ.get(ENV_DB) or DEFAULT_DB


def parse_location(text: str) -> Location:
    """Parse a SQLite path (or sqlite:/// URL) or a postgresql:// URL."""
    if text.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return _postgres_location(text)
    if text.startswith("sqlite:///"):
        text = text.removeprefix("sqlite:///")
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise InvalidInput("db", f"'{scheme}' is not a supported store; use a file path or postgresql://")
    path = Path(text).expanduser()
    return Location(
        kind="sqlite",
        display=str(path),
        path=path,
        es_env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
        },
        sqlalchemy_url=f"sqlite:///{path}",
    )


def _postgres_location(text: str) -> Location:
    parts = urlsplit(text)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise InvalidInput("db", "a PostgreSQL URL needs a database name: postgresql://user@host/db")
    query = parse_qs(parts.query)
    schema = query.get("schema", [""])[0] or None
    if schema is not None and not schema.replace("_", "").isalnum():
        raise InvalidInput("db", f"schema '{schema}' must be letters, digits and underscores")
    es_env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
    }
    if schema:
        es_env["POSTGRES_SCHEMA"] = schema
    user = parts.username or "postgres"
    auth = f"{user}:{parts.password}@" if parts.password else f"{user}@"
    host = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    display = f"postgresql://{user}@{host}/{dbname}" + (f"?schema={schema}" if schema else "")
    return Location(
        kind="postgres",
        display=display,
        es_env=es_env,
        sqlalchemy_url=f"postgresql+psycopg://{auth}{host}/{dbname}",
        schema=schema,
    )


def _ensure_postgres_schema(location: Location) -> None:
    if not location.schema:
        return
    import psycopg

    env = location.es_env
    try:
        with psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=5,
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
    except psycopg.Error as exc:
        raise StoreUnavailable(f"database: cannot reach {location.display} ({exc})") from exc


class Store:
    """An open careledger store: the application service and the location."""

    def __init__(
        self,
        location: Location,
        *,
        create: bool = True,
        clock: Callable[[], datetime] | None = None,
        payer_dirs: Sequence[Path] = (),
    ) -> None:
        self.location = location
        if location.kind == "sqlite" and location.path is not None:
            if not create and not location.path.exists():
                raise StoreUnavailable(
                    f"db: no careledger store at {location.display} "
                    "(import commands or open an episode to create one)"
                )
            if create and not location.path.parent.exists():
                raise StoreUnavailable(f"db: directory {location.path.parent} does not exist")
        if location.kind == "postgres":
            _ensure_postgres_schema(location)
        dirs = list(payer_dirs)
        if os.environ.get(ENV_PAYERS):
            dirs.append(Path(os.environ[ENV_PAYERS]))
        try:
            self.app = Episodes(env=location.es_env, clock=clock, payer_dirs=dirs)
        except OSError as exc:
            raise StoreUnavailable(f"database: cannot open {location.display} ({exc})") from exc

    def close(self) -> None:
        """Close the store's connections."""
        self.app.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_store(
    db: str | None = None,
    *,
    create: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> Store:
    """Open the store named by `db` (or CARELEDGER_DB, or ./careledger.db)."""
    return Store(parse_location(resolve_db(db)), create=create, clock=clock)
