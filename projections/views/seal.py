"""Seals: what vouches for the read models' rows, so a gate never passes on rows nothing built.

For each episode and read-model table the projector writes, in the same
transaction as the rows, a `pv_seal` row: the episode version the rows were
built from and the SHA-256 of the rows in a canonical form (each value as the
column's type reads it back: dates and times in ISO 8601 UTC, decimals without
trailing zeros, JSON with sorted keys), so the digest is the same on SQLite and
PostgreSQL. Every query that shows an episode checks the seals of the rows it
reads first and refuses (Tampered, exit 3) rows that differ from their seal, a
missing seal, or a seal ahead of the event log. A seal is a digest, not a
signature: `check EPISODE` also recomputes its findings from the (verified)
events and refuses when the stored rows differ. See docs/audit.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from sqlalchemy import Connection, Table, select

from domain.errors import Tampered
from projections.store.verify import Break
from projections.views.schema import SEAL

if TYPE_CHECKING:
    from projections.store.root import Store


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    # JSON columns: their text with sorted keys, written as the column writes it (what orjson
    # cannot write natively becomes text), so a value and its read-back copy give the same text.
    return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS).decode()


_AS_IS = frozenset({type(None), bool, int, str})  # what `_canonical` returns unchanged (not subclasses)


def rows_digest(table: Table, rows: Iterable[Mapping[str, Any]]) -> str:
    """Return the SHA-256 (hex) of some rows of a table, in an order- and backend-independent form."""
    names = sorted(column.name for column in table.columns)
    as_is, canonical, dumps, sort_keys = _AS_IS, _canonical, orjson.dumps, orjson.OPT_SORT_KEYS
    lines = sorted(
        dumps(
            [v if v.__class__ in as_is else canonical(v) for v in map(row.get, names)],
            option=sort_keys,
        )
        for row in rows
    )
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def seal_rows(
    tables: Sequence[Table], episode_id: str, version: int, rows: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """Return the seal rows of one episode's rows in some tables."""
    return [
        {
            "episode_id": episode_id,
            "table_name": table.name,
            "version": version,
            "digest": rows_digest(table, rows.get(table.name, ())),
        }
        for table in tables
    ]


def _stored(conn: Connection, table: Table, episode_ids: Sequence[str] | None) -> dict[str, list[Any]]:
    query = select(table)
    if episode_ids is not None:
        query = query.where(table.c.episode_id.in_(episode_ids))
    found: dict[str, list[Any]] = {}
    for row in conn.execute(query):
        found.setdefault(row.episode_id, []).append(row._mapping)
    return found


def seal_breaks(
    conn: Connection,
    seal: Table,
    tables: Sequence[Table],
    episode_ids: Sequence[str] | None,
    versions: Mapping[str, int],
) -> list[Tampered]:
    """Return the first read-model problem of each episode whose rows in `tables` lack or break a seal.

    `episode_ids` None checks every episode of `versions` (episode id -> its last
    version in the event log) and every episode with rows; a seal ahead of that
    version was forged.
    """
    wanted = list(versions) if episode_ids is None else list(episode_ids)
    seals: dict[tuple[str, str], Any] = {}
    query = select(seal).where(seal.c.table_name.in_([t.name for t in tables]))
    if episode_ids is not None:
        query = query.where(seal.c.episode_id.in_(wanted))
    for row in conn.execute(query):
        seals[(row.episode_id, row.table_name)] = row
    problems: dict[str, Tampered] = {}
    for table in tables:
        stored = _stored(conn, table, None if episode_ids is None else wanted)
        for episode_id in sorted(set(wanted) | set(stored)):
            problem = _seal_break(table, episode_id, seals.get((episode_id, table.name)), stored, versions)
            if problem is not None:
                problems.setdefault(episode_id, problem)
    return [problems[key] for key in sorted(problems)]


def _seal_break(
    table: Table, episode_id: str, found: Any, stored: Mapping[str, list[Any]], versions: Mapping[str, int]
) -> Tampered | None:
    last = versions.get(episode_id, 0)
    if found is None and episode_id not in versions and episode_id not in stored:
        return None  # no such episode: the query says so
    if found is None:
        return Tampered(episode_id, last, "read_model", f"the rows of {table.name} have no seal")
    if found.version > last:
        return Tampered(
            episode_id,
            found.version,
            "read_model",
            f"the seal of {table.name} is at version {found.version}, past the event log ({last})",
        )
    if rows_digest(table, stored.get(episode_id, ())) != found.digest:
        return Tampered(
            episode_id,
            found.version,
            "read_model",
            f"the rows of {table.name} differ from what the projector wrote (edited or deleted)",
        )
    return None


def check_seals(
    conn: Connection,
    seal: Table,
    tables: Sequence[Table],
    episode_ids: Sequence[str] | None,
    versions: Mapping[str, int],
) -> None:
    """Refuse (Tampered) the first episode whose rows in `tables` differ from their seal, or lack one."""
    problems = seal_breaks(conn, seal, tables, episode_ids, versions)
    if problems:
        raise problems[0]


def check_recomputed(
    conn: Connection, table: Table, episode_id: str, version: int, expected: Sequence[Mapping[str, Any]]
) -> None:
    """Refuse (Tampered) when an episode's stored rows differ from the rows recomputed from its events."""
    stored = _stored(conn, table, [episode_id]).get(episode_id, [])
    if rows_digest(table, stored) != rows_digest(table, expected):
        raise Tampered(
            episode_id,
            version,
            "read_model",
            f"the rows of {table.name} differ from the ones recomputed from the episode's events",
        )


def read_model_breaks(store: Store) -> list[Break]:
    """Return, for `verify`, the first read-model problem of each episode (none before any read model)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from domain.errors import StoreUnavailable
    from projections.views.registry import PROJECTIONS
    from projections.views.schema import build_tables, make_engine

    tables = build_tables(store.location.schema)
    engine = make_engine(store.location)
    try:
        with engine.connect().execution_options(careledger_read_only=True) as conn:
            inspector = inspect(conn)
            if not inspector.has_table(SEAL, schema=tables.seal.schema):
                return []
            names = [
                n for p in PROJECTIONS for n in p.tables if inspector.has_table(n, schema=tables.seal.schema)
            ]
            problems = seal_breaks(
                conn, tables.seal, [tables.named(n) for n in names], None, store.episode_versions()
            )
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"database: the read models could not be read ({exc})") from exc
    finally:
        engine.dispose()
    return [Break(UUID(str(p.episode_id)), p.version, p.kind, p.detail) for p in problems]
