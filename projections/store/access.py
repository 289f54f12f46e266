"""The access log: every read of an episode's record, kept in the store (HIPAA 45 CFR 164.312(b)).

The library writes it, so a read through the CLI, the HTTP service or the Python
API (`Store.episode`, `Store.history`, the read models' queries) leaves a row:
when, who, their role, what they read, which episode (or `*` for all of them),
and from where. Writes leave none (the events record who wrote what). A read
whose row cannot be written returns nothing: the caller gets StoreUnavailable.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from projections.store.tables import SideTable

ALL = "*"


@dataclass(frozen=True)
class Actor:
    """Who is reading: a name, a role (`local` outside the service) and where from."""

    user: str
    role: str
    origin: str


def local_actor(user: str | None, origin: str) -> Actor:
    """Return the actor of a local read: the given user, else the operating-system login."""
    if not user:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):
            user = "unknown"
    return Actor(user=user, role="local", origin=origin)


class AccessLog(SideTable):
    """Append reads to `careledger_access_log` and query them."""

    name = "careledger_access_log"
    columns = (
        "at TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, "
        "episode_id TEXT NOT NULL, origin TEXT NOT NULL"
    )
    indexes = ("episode_id, at", "at")

    def record(self, actor: Actor, action: str, episode_id: UUID | None) -> None:
        """Append one read; raise StoreUnavailable (so nothing is returned) if it cannot be written."""
        m = self.mark
        self.append(
            f"INSERT INTO {self.table} (at, user_name, role, action, episode_id, origin) "  # noqa: S608
            f"VALUES ({m}, {m}, {m}, {m}, {m}, {m})",
            (
                datetime.now(UTC).isoformat(timespec="microseconds"),
                actor.user,
                actor.role,
                action,
                str(episode_id) if episode_id is not None else ALL,
                actor.origin,
            ),
            "the access log could not be written; nothing was read",
        )

    def entries(
        self,
        episode_id: UUID | None = None,
        since: datetime | None = None,
        user: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Return the reads, oldest first: of one episode (reads of all included), since a time, by a user."""
        if not self.present():
            return []
        m = self.mark
        where, params = [], []
        if episode_id is not None:
            where.append(f"episode_id IN ({m}, {m})")
            params += [str(episode_id), ALL]
        if since is not None:
            where.append(f"at >= {m}")
            params.append(since.astimezone(UTC).isoformat(timespec="microseconds"))
        if user is not None:
            where.append(f"user_name = {m}")
            params.append(user)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.select(
            f"SELECT at, user_name, role, action, episode_id, origin FROM {self.table}{clause} "  # noqa: S608
            f"ORDER BY at LIMIT {int(limit)}",
            params,
            "the access log could not be read",
        )
        return [
            {
                "at": r["at"],
                "user": r["user_name"],
                "role": r["role"],
                "action": r["action"],
                "episode_id": r["episode_id"],
                "origin": r["origin"],
            }
            for r in rows
        ]
