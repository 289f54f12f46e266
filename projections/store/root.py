"""The composition root: open careledger's store at a path or URL.

The event store is eventsourcing's own SQLite recorder (a file, the default) or
its PostgreSQL recorder (a `postgresql://` URL); the read models live in the same
database. `--db` or `CARELEDGER_DB` chooses; the default is `careledger.db` in
the current directory. See docs/decisions/0001-storage.md.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from domain.clinic.aggregate import CLINIC_ID
from domain.episode.application import MAX_ATTEMPTS, Episodes, RetryPolicy
from domain.errors import InvalidInput, StoreUnavailable, Tampered
from projections.store.access import AccessLog, Actor, local_actor
from projections.store.anchor import AnchorLog, Anchors, anchor_dir, default_anchor, read_anchor
from projections.store.settings import Settings
from projections.store.tokens import Tokens
from projections.store.verified import VerifiedHeads

if TYPE_CHECKING:
    import psycopg

    from domain.episode.aggregate import Episode
    from domain.episode.audit import AuditEntry, ChangeReport

CLINIC_KEY = str(CLINIC_ID)

DEFAULT_DB = "careledger.db"
ENV_DB = "CARELEDGER_DB"
ENV_PAYERS = "CARELEDGER_PAYERS_DIR"
ENV_ATTEMPTS = "CARELEDGER_WRITE_ATTEMPTS"
ENV_DELAY = "CARELEDGER_RETRY_DELAY_MS"
# Recorders that add a hash-chain link to every stored event (projections/chain.py).
SQLITE_RECORDER = "projections.store.chain:ChainedSQLiteApplicationRecorder"
POSTGRES_RECORDER = "projections.store.chain_pg:ChainedPostgresApplicationRecorder"


@dataclass(frozen=True)
class Location:
    """Where a store lives, and how eventsourcing and SQLAlchemy reach it."""

    kind: Literal["sqlite", "postgres"]
    display: str
    es_env: dict[str, str] = field(repr=False)
    sqlalchemy_url: str = field(repr=False)
    path: Path | None = None
    schema: str | None = None
    read_only: bool = False


def payer_dirs_from_env() -> tuple[Path, ...]:
    """Return the clinic's payer profile folder (CARELEDGER_PAYERS_DIR), if one is set."""
    text = os.environ.get(ENV_PAYERS, "").strip()
    return (Path(text),) if text else ()


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
    timeout = query.get("connect_timeout", ["5"])[0]
    if not timeout.isdigit() or int(timeout) < 1:
        raise InvalidInput("db", f"connect_timeout '{timeout}' must be a whole number of seconds (1 or more)")
    if schema is not None and not schema.replace("_", "").isalnum():
        raise InvalidInput("db", f"schema '{schema}' must be letters, digits and underscores")
    es_env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        # Also how long a write waits for a pooled connection; eventsourcing tries a lost
        # connection 10 times, so a database that went away is reported after about 10x this.
        "POSTGRES_CONNECT_TIMEOUT": timeout,
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


# Any fixed number: the advisory lock that serialises first-time creation of a schema's tables.
_CREATE_LOCK = 4242007
_PG_CHAIN = "careledger_events_chain"


def connect_postgres(
    location: Location, *, autocommit: bool = True, **options: Any
) -> psycopg.Connection[Any]:
    """Open a psycopg connection to a PostgreSQL location's server, with the location's connect timeout."""
    import psycopg

    env = location.es_env
    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=autocommit,
        **options,
    )


@contextmanager
def _creating(location: Location) -> Iterator[dict[str, str]]:
    """Yield the settings to open a PostgreSQL store with, creating its tables under a lock if needed.

    eventsourcing runs its CREATE statements every time an application opens;
    two processes doing that at once can fail with "tuple concurrently updated",
    even when the tables exist. So: when every table is there, open without
    creating anything; otherwise take a session advisory lock (per database and
    schema) and create them while holding it.
    """
    import psycopg

    env = location.es_env
    schema = location.schema or "public"
    tables = [f'"{schema}".{name}' for name in ("careledger_events", "careledger_snapshots", _PG_CHAIN)]
    try:
        conn = connect_postgres(location)
    except psycopg.Error as exc:
        raise StoreUnavailable(f"database: cannot reach {location.display} ({exc})") from exc
    with conn:
        try:
            present = conn.execute(
                "SELECT bool_and(to_regclass(name) IS NOT NULL) FROM unnest(%s::text[]) AS name", (tables,)
            ).fetchone()
            if present is not None and present[0]:
                conn.close()
                yield {**env, "CREATE_TABLE": "n"}
                return
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_CREATE_LOCK, schema))
            if location.schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
        except psycopg.Error as exc:
            raise StoreUnavailable(f"database: cannot reach {location.display} ({exc})") from exc
        try:
            yield env
        finally:
            with suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_CREATE_LOCK, schema))


@contextmanager
def _as_is(location: Location) -> Iterator[dict[str, str]]:
    yield location.es_env


def retry_from_env() -> RetryPolicy:
    """Return the write retry policy set by CARELEDGER_WRITE_ATTEMPTS and CARELEDGER_RETRY_DELAY_MS."""
    attempts = _env_number(ENV_ATTEMPTS, MAX_ATTEMPTS, minimum=1)
    delay_ms = _env_number(ENV_DELAY, 5, minimum=0)
    return RetryPolicy(attempts=attempts, base_delay=delay_ms / 1000, max_delay=max(0.25, delay_ms / 1000))


def _env_number(name: str, default: int, *, minimum: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < minimum:
        raise InvalidInput(name, f"'{text}' is not a whole number of at least {minimum}")
    return int(text)


# Who reads in the current thread or task, when a server reads for many callers (Store.acting).
_ACTING: ContextVar[Actor | None] = ContextVar("careledger_actor", default=None)


def read_only_if_unwritable(location: Location) -> Location:
    """Open an existing SQLite store that this process cannot write read-only (a backup, a read-only mount).

    SQLite needs to write beside a WAL database even to read it; a file or
    directory it cannot write is opened `immutable` instead: read as it is, no
    locks, no journal, nothing created. Writes are refused (exit 3).
    """
    path = location.path
    if path is None or not path.exists():
        return location
    writable = path.stat().st_mode & 0o222  # a file nobody may write was made read-only on purpose
    if writable and os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return location
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return replace(
        location,
        es_env={**location.es_env, "SQLITE_DBNAME": uri, "CREATE_TABLE": "n"},
        sqlalchemy_url=f"sqlite:///{uri}&uri=true",
        read_only=True,
    )


class Store:
    """An open careledger store: the application service, the location, and the reads that are logged.

    `app` (Episodes) takes commands. Reading an episode's record goes through the
    store (`episode`, `history`, `as_of`, `changes`, `visit_history`, or
    `log_read` before another read), which appends the read to the access log
    under `actor` first: a Python caller sets `store.actor` to say who reads.
    """

    def __init__(
        self,
        location: Location,
        *,
        create: bool = True,
        clock: Callable[[], datetime] | None = None,
        payer_dirs: Sequence[Path] = (),
        retry: RetryPolicy | None = None,
        actor: Actor | None = None,
    ) -> None:
        self.location = location
        self.actor = actor or local_actor(None, "python")
        policy = retry or retry_from_env()
        if location.kind == "sqlite" and location.path is not None:
            if not create and not location.path.exists():
                raise StoreUnavailable(
                    f"db: no careledger store at {location.display} "
                    "(import commands or open an episode to create one)"
                )
            if create and not location.path.parent.exists():
                raise StoreUnavailable(f"db: directory {location.path.parent} does not exist")
            location = read_only_if_unwritable(location)
            self.location = location
        self.read_only = location.read_only
        new_file = location.kind == "sqlite" and location.path is not None and not location.path.exists()
        dirs = [*payer_dirs, *payer_dirs_from_env()]
        try:
            with _creating(location) if location.kind == "postgres" else _as_is(location) as env:
                self.app = Episodes(env=env, clock=clock, payer_dirs=dirs, retry=policy)
        except (OSError, sqlite3.DatabaseError) as exc:
            # a file that is not a SQLite database (or is damaged past opening) is not a store
            raise StoreUnavailable(f"database: cannot open {location.display} ({exc})") from exc
        if new_file and location.path is not None and location.path.exists():
            location.path.chmod(0o600)  # a new store is its owner's only (SQLite gives -wal/-shm the same)
        self.anchor_log: AnchorLog | None = None
        directory = anchor_dir()
        heads = getattr(self.app.recorder, "heads", None)
        if directory is not None and heads is not None:
            # Every committed write (any caller of this store's application) appends its heads.
            self.anchor_log = AnchorLog(directory, location.display, location.path)
            heads.on_commit = self.anchor_log.append
        self._anchors: Anchors | None = None
        self.settings = Settings(self.app, location.kind)
        # The clinic's time zone, a setting of the store: "today" for every command and query.
        self.app.timezone = self.timezone = self.settings.timezone()
        self.access = AccessLog(self.app, location.kind)
        self.unlogged_reads = 0
        self.tokens = Tokens(self.app, location.kind)
        # What this process verified of each episode's chain (require_intact goes on from there).
        self.verified = VerifiedHeads(self.app.recorder)  # type: ignore[arg-type]

    # --- reads of the record: each appends to the access log first ----------------------------

    def log_read(self, action: str, episode_id: UUID | None, actor: Actor | None = None) -> None:
        """Append a read of an episode (None: of every episode) by `actor` (default: who is acting).

        A store opened read-only (a backup this process cannot write) cannot take the row:
        the read is counted in `unlogged_reads` for the caller to say so, not refused.
        """
        if self.read_only:
            self.unlogged_reads += 1
            return
        self.access.record(actor or _ACTING.get() or self.actor, action, episode_id)

    @contextmanager
    def acting(self, actor: Actor) -> Iterator[None]:
        """Log the reads made inside the block (in this thread or task) as `actor`'s."""
        token = _ACTING.set(actor)
        try:
            yield
        finally:
            _ACTING.reset(token)

    def episode(self, episode_id: UUID, version: int | None = None, *, action: str = "show") -> Episode:
        """Return an episode (at a version, if given), logging the read."""
        self.log_read(action, episode_id)
        return self.app.get_episode(episode_id, version=version)

    def history(self, episode_id: UUID) -> list[Episode.Event]:
        """Return every stored event of an episode, logging the read."""
        self.log_read("history", episode_id)
        return self.app.history(episode_id)

    def as_of(self, episode_id: UUID, at: datetime) -> Episode:
        """Return the episode as it stood at recorded time `at`, logging the read."""
        self.log_read("audit as-of", episode_id)
        return self.app.episode_as_of(episode_id, at)

    def changes(self, episode_id: UUID, since: datetime, until: datetime | None = None) -> ChangeReport:
        """Return what changed in an episode between two recorded times, logging the read."""
        self.log_read("audit changes", episode_id)
        return self.app.changes_between(episode_id, since, until)

    def visit_history(self, episode_id: UUID, date_of_service: date) -> list[AuditEntry]:
        """Return every version of one visit, logging the read."""
        self.log_read("visit history", episode_id)
        return self.app.visit_history(episode_id, date_of_service)

    def close(self) -> None:
        """Close the store's connections and the anchor log."""
        self.app.close()
        if self.anchor_log is not None:
            self.anchor_log.close()

    def anchors(self) -> Anchors:
        """Return the heads anchored for this store under CARELEDGER_ANCHOR_DIR (empty without a log)."""
        if self._anchors is None:
            log = default_anchor(self.location.display, self.location.path)
            self._anchors = read_anchor(log) if log is not None else {}
        return self._anchors

    def require_intact(self, episode_ids: Sequence[UUID] | None = None) -> dict[UUID, int]:
        """Refuse (Tampered) when an episode's chain or anchored heads fail verification; None: all.

        Return the verified version of each episode named (0: nothing stored). Named
        episodes are checked from the head this process verified last, if any
        (projections/store/verified.py): every stored row up to it is still compared
        with what was verified, so an edit made since is found; all of them walk every chain.
        """
        from projections.store.verify import verify_chains

        recorder: Any = self.app.recorder
        if not hasattr(recorder, "read_chains"):
            raise InvalidInput("db", "this store was opened without its hash chain")
        anchors = self.anchors()
        try:
            if episode_ids is not None:
                versions: dict[UUID, int] = {}
                for episode_id in episode_ids:
                    version, problem = self.verified.check(episode_id, anchors.get(episode_id, []))
                    if problem is not None:
                        raise Tampered(problem.episode_id, problem.version, problem.kind, problem.detail)
                    versions[episode_id] = version
                return versions
            report = verify_chains(recorder, episode_ids, anchors)
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc
        if report.breaks:
            first = report.breaks[0]
            raise Tampered(first.episode_id, first.version, first.kind, first.detail)
        return {head.episode_id: head.version for head in report.heads}

    def episode_ids_with_prefix(self, prefix: str, limit: int = 2) -> list[UUID]:
        """Return up to `limit` episode ids whose hex digits start with `prefix` (lowercase hex).

        A range scan of the events table's primary key (originator_id, version),
        so the cost does not grow with the store.
        """
        if not prefix or any(ch not in "0123456789abcdef" for ch in prefix) or len(prefix) > 32:
            raise InvalidInput("episode", f"'{prefix}' is not a prefix of hex digits")
        low, high = prefix.ljust(32, "0"), prefix.ljust(32, "f")
        recorder = self.app.recorder
        table = recorder.events_table_name  # type: ignore[attr-defined]
        try:
            if self.location.kind == "sqlite":
                with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                    c.execute(
                        f"SELECT originator_id FROM {table} WHERE originator_id BETWEEN ? AND ? "  # noqa: S608
                        "AND originator_version = 1 ORDER BY originator_id LIMIT ?",
                        (low, high, limit),
                    )
                    return [UUID(str(row[0])) for row in c.fetchall()]
            from psycopg.sql import SQL, Identifier

            statement = SQL(
                "SELECT originator_id FROM {schema}.{table} WHERE originator_id BETWEEN %s AND %s "
                "AND originator_version = 1 ORDER BY originator_id LIMIT %s"
            ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(table))  # type: ignore[attr-defined]
            with recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
                curs.execute(statement, (UUID(low), UUID(high), limit))
                return [UUID(str(row["originator_id"])) for row in curs.fetchall()]
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc

    def episode_versions(self, episode_ids: Sequence[UUID] | None = None) -> dict[str, int]:
        """Return the last stored version of some episodes (all when None), keyed by their id text."""
        recorder = self.app.recorder
        table = recorder.events_table_name  # type: ignore[attr-defined]
        keys = list(episode_ids) if episode_ids is not None else None
        try:
            if self.location.kind == "sqlite":
                where = f"WHERE originator_id IN ({','.join('?' * len(keys))}) " if keys is not None else ""
                with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                    c.execute(
                        f"SELECT originator_id, MAX(originator_version) FROM {table} "  # noqa: S608
                        f"{where}GROUP BY originator_id",
                        [k.hex for k in keys] if keys is not None else [],
                    )
                    found = {str(UUID(str(row[0]))): int(row[1]) for row in c.fetchall()}
                    found.pop(CLINIC_KEY, None)  # the clinic's identity facts are no episode (decision 0010)
                    return found
            from psycopg.sql import SQL, Identifier

            where = "WHERE originator_id = ANY(%s) " if keys is not None else ""
            statement = SQL(
                "SELECT originator_id, MAX(originator_version) AS v FROM {schema}.{table} {where}"
                "GROUP BY originator_id"
            ).format(where=SQL(where), schema=Identifier(recorder.datastore.schema), table=Identifier(table))  # type: ignore[attr-defined]
            with recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
                curs.execute(statement, (keys,) if keys is not None else ())
                found = {str(UUID(str(row["originator_id"]))): int(row["v"]) for row in curs.fetchall()}
                found.pop(CLINIC_KEY, None)
                return found
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc

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
