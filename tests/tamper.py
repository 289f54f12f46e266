"""Direct SQL on a careledger store, as someone with write access to the database would use it."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

from projections.store.root import parse_location


class RawStore:
    """Read and change stored rows behind careledger's back (SQLite file or PostgreSQL schema)."""

    def __init__(self, db_url: str) -> None:
        self.location = parse_location(db_url)
        if self.location.kind == "sqlite":
            self.events, self.chain, self.snapshots = (
                "stored_events",
                "stored_events_chain",
                "stored_snapshots",
            )
        else:
            self.events = "careledger_events"
            self.chain = "careledger_events_chain"
            self.snapshots = "careledger_snapshots"

    def key(self, episode_id: UUID) -> Any:
        return episode_id.hex if self.location.kind == "sqlite" else episode_id

    def run(self, statement: str, *params: Any) -> list[Any]:
        """Execute one statement written with ? placeholders; return its rows."""
        if self.location.kind == "sqlite":
            with sqlite3.connect(str(self.location.path)) as conn:
                rows = conn.execute(statement, params).fetchall()
            conn.close()
            return rows
        from projections.store.root import connect_postgres

        schema = self.location.schema or "public"
        with connect_postgres(self.location, autocommit=False, options=f"-c search_path={schema}") as conn:
            cursor = conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def event(self, episode_id: UUID, version: int) -> tuple[str, bytes]:
        (row,) = self.run(
            f"SELECT topic, state FROM {self.events} WHERE originator_id=? AND originator_version=?",
            self.key(episode_id),
            version,
        )
        return row[0], bytes(row[1])

    def set_event(self, episode_id: UUID, version: int, topic: str, state: bytes) -> None:
        self.run(
            f"UPDATE {self.events} SET topic=?, state=? WHERE originator_id=? AND originator_version=?",
            topic,
            state,
            self.key(episode_id),
            version,
        )

    def swap(self, episode_id: UUID, first: int, second: int) -> None:
        one, two = self.event(episode_id, first), self.event(episode_id, second)
        self.set_event(episode_id, first, *two)
        self.set_event(episode_id, second, *one)

    def delete(self, table: str, episode_id: UUID, version: int) -> None:
        self.run(
            f"DELETE FROM {table} WHERE originator_id=? AND originator_version=?",
            self.key(episode_id),
            version,
        )

    def insert_event(self, episode_id: UUID, version: int, topic: str, state: bytes) -> None:
        self.run(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
            self.key(episode_id),
            version,
            topic,
            state,
        )

    def snapshot(self, episode_id: UUID) -> tuple[int, bytes]:
        (row,) = self.run(
            f"SELECT originator_version, state FROM {self.snapshots} WHERE originator_id=?",
            self.key(episode_id),
        )
        return row[0], bytes(row[1])

    def set_snapshot(self, episode_id: UUID, version: int, state: bytes) -> None:
        self.run(
            f"UPDATE {self.snapshots} SET state=? WHERE originator_id=? AND originator_version=?",
            state,
            self.key(episode_id),
            version,
        )

    def count(self, table: str) -> int:
        return int(self.run(f"SELECT COUNT(*) FROM {table}")[0][0])
