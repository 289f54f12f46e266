"""Building blocks of the demo: a script of commands with the times they were recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.episode import commands as c
from domain.episode.application import derived_episode_id

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://careledger.invalid/demo")
RECORDED_AT = time(17, 30)


@dataclass
class Recorded:
    """A command and the moment it was recorded."""

    at: datetime
    command: c.Command


@dataclass
class Script:
    """Builds one episode's commands in clinical order."""

    key: str
    user: str
    therapist: str | None = None
    commands: list[Recorded] = field(default_factory=list)
    episode_id: UUID | None = None

    def _id(self) -> UUID:
        return uuid5(DEMO_NAMESPACE, f"{self.key}/{len(self.commands)}")

    def add(
        self, on: date, kind: type[c.Command], lag_days: int = 0, by: str | None = None, **fields: Any
    ) -> None:
        """Append a command recorded on `on` (plus `lag_days`) at the end of the day, by `by`."""
        at = datetime.combine(on + timedelta(days=lag_days), RECORDED_AT, tzinfo=UTC)
        at += timedelta(seconds=len(self.commands))
        command_id = self._id()
        build: Any = kind
        command: c.Command
        author = by or self._author(fields)
        if kind is c.OpenEpisode:
            self.episode_id = derived_episode_id(command_id)
            command = build(command_id=command_id, recorded_by=author, **fields)
        else:
            command = build(command_id=command_id, recorded_by=author, episode_id=self.episode_id, **fields)
        self.commands.append(Recorded(at, command))

    def _author(self, fields: dict[str, Any]) -> str:
        for key in ("provider_id", "author_id", "therapist_id", "measured_by"):
            if fields.get(key):
                return f"{fields[key]}@demo-clinic"
        return self.therapist or self.user


def visit_days(start: date, count: int, weekdays: tuple[int, ...]) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def dosage(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
