"""Settings of a store, kept in the store itself: the clinic's time zone.

Every process that opens the store reads the same settings, so two servers in
different time zones decide "today" the same way for the same command. A table
`careledger_settings (name, value)` in the events' database and schema holds
them; it is created when a setting is first written, so reading a store (even a
read-only copy) never writes to it. An unset time zone is UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from eventsourcing.persistence import PersistenceError

from domain.errors import InvalidInput, StoreUnavailable

if TYPE_CHECKING:
    from domain.episode.application import Episodes

TABLE = "careledger_settings"
TIMEZONE = "timezone"
DEFAULT_TIMEZONE = "UTC"
KNOWN = (TIMEZONE,)


def parse_timezone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name` (America/Chicago), or refuse an unknown one."""
    cleaned = name.strip()
    if not cleaned or cleaned.startswith("/") or ".." in cleaned:
        raise InvalidInput(TIMEZONE, "give an IANA time zone name such as America/Chicago or UTC")
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        near = sorted(z for z in available_timezones() if z.lower().endswith(cleaned.lower().split("/")[-1]))
        hint = f" (did you mean {', '.join(near[:3])}?)" if near else ""
        raise InvalidInput(TIMEZONE, f"not an IANA time zone name such as America/Chicago{hint}") from None


class Settings:
    """Read and write the settings table of an open store (through its event recorder's connection)."""

    def __init__(self, app: Episodes, kind: str) -> None:
        self.recorder: Any = app.recorder
        self.kind = kind

    def _table(self) -> str:
        if self.kind == "sqlite":
            return TABLE
        schema = self.recorder.datastore.schema or "public"
        return f'"{schema}".{TABLE}'

    def _placeholder(self) -> str:
        return "?" if self.kind == "sqlite" else "%s"

    def read(self) -> dict[str, str]:
        """Return every setting stored (none when the table was never created)."""
        try:
            with self.recorder.datastore.transaction(commit=False) as cursor:
                if self.kind == "sqlite":
                    cursor.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TABLE,))
                else:
                    cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (self._table(),))
                row = cursor.fetchone()
                present = row is not None and (row[0] if self.kind == "sqlite" else row["present"])
                if not present:
                    return {}
                cursor.execute(f"SELECT name, value FROM {self._table()}")  # noqa: S608 (our own table name)
                rows = cursor.fetchall()
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: the store's settings could not be read ({exc})") from exc
        if self.kind == "sqlite":
            return {str(row[0]): str(row[1]) for row in rows}
        return {str(row["name"]): str(row["value"]) for row in rows}

    def write(self, name: str, value: str) -> None:
        """Store one setting (creating the table on first use)."""
        if name not in KNOWN:
            raise InvalidInput("setting", f"'{name}' is not a setting; known: {', '.join(KNOWN)}")
        mark = self._placeholder()
        try:
            with self.recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table()} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                cursor.execute(
                    f"INSERT INTO {self._table()} (name, value) VALUES ({mark}, {mark}) "  # noqa: S608
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: the setting could not be stored ({exc})") from exc

    def timezone(self) -> ZoneInfo:
        """Return the clinic's time zone (UTC when none was set)."""
        return parse_timezone(self.read().get(TIMEZONE, DEFAULT_TIMEZONE))


__all__ = ["DEFAULT_TIMEZONE", "Settings", "parse_timezone"]
