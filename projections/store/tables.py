"""Tables of careledger's own beside the events (tokens, the access log), through the recorder's connection.

They live in the events' database and schema, so a backup or a PostgreSQL
schema holds them with the record. Each is created on first write, in the
transaction that writes it (under an advisory lock on PostgreSQL, where two
processes creating a table at once can collide).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from domain.errors import StoreUnavailable

if TYPE_CHECKING:
    from domain.episode.application import Episodes

# Any fixed number: the advisory lock under which a side table is created on PostgreSQL.
_TABLE_LOCK = 4242017


class SideTable:
    """One table beside the events: its qualified name, its creation, and plain row access."""

    name: str
    columns: str  # the column definitions, in SQL both SQLite and PostgreSQL accept
    indexes: Sequence[str] = ()  # column lists to index

    def __init__(self, app: Episodes, kind: str) -> None:
        self.recorder: Any = app.recorder
        self.kind = kind
        self._created = False

    @property
    def table(self) -> str:
        """Return the table's name, qualified by the schema on PostgreSQL."""
        if self.kind == "sqlite":
            return self.name
        schema = self.recorder.datastore.schema or "public"
        return f'"{schema}".{self.name}'

    @property
    def mark(self) -> str:
        """Return the driver's parameter placeholder."""
        return "?" if self.kind == "sqlite" else "%s"

    @contextmanager
    def writing(self, what: str) -> Iterator[Any]:
        """Yield a cursor in a write transaction, the table created first if needed."""
        try:
            with self.recorder.datastore.transaction(commit=True) as cursor:
                if not self._created:
                    self._create(cursor)
                yield cursor
            self._created = True
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {what} ({exc})") from exc

    def append(self, sql: str, params: Sequence[Any], what: str) -> None:
        """Run one INSERT, committed (durably) before this returns; the table is created first if needed.

        On PostgreSQL, once the table exists, the statement runs alone on an
        autocommit connection: committed when it returns (synchronous_commit as
        the server has it), in one round trip instead of BEGIN, INSERT, COMMIT.
        """
        if self.kind == "postgres" and self._created:
            try:
                with self.recorder.datastore.cursor() as cursor:
                    cursor.execute(sql, tuple(params), prepare=True)
            except PersistenceError as exc:
                raise StoreUnavailable(f"database: {what} ({exc})") from exc
            return
        with self.writing(what) as cursor:
            cursor.execute(sql, tuple(params))

    def _create(self, cursor: Any) -> None:
        if self.kind == "postgres":
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (self.table,))
            row = cursor.fetchone()
            if row is not None and row["present"]:
                return
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_TABLE_LOCK, self.table))
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({self.columns})")
        for number, columns in enumerate(self.indexes):
            index = f"{self.name}_{number}"
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self.table} ({columns})")

    def present(self) -> bool:
        """Tell whether the table exists yet (reading never creates it)."""
        if self._created:
            return True
        rows = self.select(
            "SELECT 1 AS present FROM sqlite_master WHERE type='table' AND name=?"
            if self.kind == "sqlite"
            else "SELECT 1 AS present WHERE to_regclass(%s) IS NOT NULL",
            (self.name if self.kind == "sqlite" else self.table,),
            "the store could not be read",
        )
        self._created = bool(rows)
        return self._created

    def select(self, sql: str, params: Sequence[Any], what: str) -> list[dict[str, Any]]:
        """Run one query in a read transaction and return its rows as dicts."""
        try:
            if self.kind == "postgres":
                # One statement reads one snapshot: no BEGIN and ROLLBACK around it; planned once.
                with self.recorder.datastore.cursor() as cursor:
                    cursor.execute(sql, tuple(params), prepare=True)
                    rows = cursor.fetchall()
            else:
                with self.recorder.datastore.transaction(commit=False) as cursor:
                    cursor.execute(sql, tuple(params))
                    rows = cursor.fetchall()
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {what} ({exc})") from exc
        return [{key: row[key] for key in row.keys()} for row in rows]  # noqa: SIM118 (sqlite3.Row)
