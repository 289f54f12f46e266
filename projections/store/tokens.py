"""Bearer tokens for the HTTP service, kept in the store as SHA-256 digests only.

`careledger token create --name NAME --role ROLE` prints a token once; the store
keeps its digest, name and role, so a copy of the database does not hold a
usable token. A token is 32 random bytes (URL-safe base64 after `clt_`): a
plain digest is enough, as a guess of the token is as hard as a guess of a key.
Revoking keeps the row (who had access, and until when) and refuses the token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.episode.roles import Role, parse_role
from domain.errors import InvalidInput
from projections.store.tables import SideTable

PREFIX = "clt_"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@")


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to: its name and role."""

    name: str
    role: Role


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without its secret."""

    name: str
    role: Role
    created_at: str
    revoked_at: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the token as JSON-ready values."""
        return {
            "name": self.name,
            "role": str(self.role),
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def digest(token: str) -> str:
    """Return the hex SHA-256 digest a token is stored as."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """Return a token's name, or refuse an empty or odd one."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 64 or not set(cleaned) <= NAME_CHARS:
        raise InvalidInput("name", "give 1 to 64 letters, digits or - _ . @ (it becomes recorded_by)")
    return cleaned


class Tokens(SideTable):
    """Create, list, revoke and check the service's bearer tokens."""

    name = "careledger_tokens"
    columns = (
        "digest TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, "
        "created_at TEXT NOT NULL, revoked_at TEXT"
    )

    def create(self, name: str, role: str) -> str:
        """Store a new token for `name` with `role`; return the token (shown once, never stored)."""
        cleaned, parsed = check_name(name), parse_role(role)
        token = PREFIX + secrets.token_urlsafe(32)
        m = self.mark
        if self.present() and self.select(
            f"SELECT name FROM {self.table} WHERE name = {m}",  # noqa: S608 (our own table name)
            (cleaned,),
            "the tokens could not be read",
        ):
            raise InvalidInput("name", f"a token named '{cleaned}' exists; revoke it or choose another name")
        with self.writing("the token could not be stored") as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (digest, name, role, created_at) "  # noqa: S608
                f"VALUES ({m}, {m}, {m}, {m})",
                (digest(token), cleaned, str(parsed), _now()),
            )
        return token

    def list(self) -> list[TokenInfo]:
        """Return every token ever created, oldest first."""
        if not self.present():
            return []
        rows = self.select(
            f"SELECT name, role, created_at, revoked_at FROM {self.table} ORDER BY created_at, name",  # noqa: S608
            (),
            "the tokens could not be read",
        )
        return [TokenInfo(r["name"], Role(r["role"]), r["created_at"], r["revoked_at"]) for r in rows]

    def revoke(self, name: str) -> None:
        """Refuse the token named `name` from now on."""
        m = self.mark
        known = {t.name: t for t in self.list()}
        if name not in known or known[name].revoked_at is not None:
            raise InvalidInput("name", f"no active token named '{name}'")
        with self.writing("the token could not be revoked") as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET revoked_at = {m} WHERE name = {m}",  # noqa: S608
                (_now(), name),
            )

    def authenticate(self, token: str) -> Principal | None:
        """Return who a token belongs to, or None for an unknown or revoked one."""
        if not token.startswith(PREFIX) or len(token) > 200 or not self.present():
            return None
        rows = self.select(
            f"SELECT name, role FROM {self.table} WHERE digest = {self.mark} AND revoked_at IS NULL",  # noqa: S608
            (digest(token),),
            "the tokens could not be read",
        )
        if not rows:
            return None
        return Principal(rows[0]["name"], Role(rows[0]["role"]))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
