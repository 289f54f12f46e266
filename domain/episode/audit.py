"""Audit reconstruction: the record as it stood at a recorded time, what changed, one visit's versions.

Two times, never confused: the clinical time (a visit's date of service) is a
field of each event; the recorded time is the event's timestamp. Within an
episode recorded times strictly increase (the application makes sure), so the
episode "as of T" is the episode at the last version recorded at or before T,
which `last_version_at` finds by binary search over versions. Amendments
(docs/rules.md#amendments) are new events, so they never change what an earlier "as of"
returns. Everything here is pure: events and episodes in, values out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from domain.episode.aggregate import Episode
from domain.errors import InvalidInput

if TYPE_CHECKING:
    from domain.records import Visit

RECORDED = "recorded"


def moment(text: str, field: str, tz: tzinfo | None = None) -> datetime:
    """Parse an ISO date or date-time: a date is the end of that day; no offset means the clinic's zone.

    `tz` is the zone of dates and of times without an offset: the clinic's time
    zone (a setting of the store); UTC when none is given.
    """
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            day = date.fromisoformat(cleaned)
            naive = datetime.combine(day, time.max)
        else:
            naive = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            field, f"'{text}' is not a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=tz or UTC)


def last_version_at(at: datetime, last_version: int, recorded_at: Callable[[int], datetime]) -> int:
    """Return the last version recorded at or before `at` (0 if none), reading few timestamps.

    `recorded_at(v)` gives version v's recorded time; times increase with versions.
    """
    if last_version <= 0:
        return 0
    if recorded_at(last_version) <= at:
        return last_version
    low, high = 0, last_version  # recorded_at(low) <= at < recorded_at(high); version 0 is "before"
    while high - low > 1:
        middle = (low + high) // 2
        if recorded_at(middle) <= at:
            low = middle
        else:
            high = middle
    return low


def amendment_kind(event: object) -> str | None:
    """Return late_entry, correction, addendum or void for an amending event, else None."""
    kind = getattr(type(event), "amendment_kind", None)
    return kind if isinstance(kind, str) else None


@dataclass(frozen=True)
class FieldChange:
    """One field of a visit before and after an amendment, as JSON values."""

    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        """Return the change as JSON-ready values."""
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class AuditEntry:
    """One version of a visit: what kind of entry, who, when, why, and what it changed."""

    version: int
    kind: str
    event: str
    date_of_service: date
    amends_version: int | None
    recorded_at: datetime
    recorded_by: str
    reason: str
    changes: tuple[FieldChange, ...]
    visit: dict[str, Any] | None = None

    def as_dict(self, with_visit: bool = False) -> dict[str, Any]:
        """Return the entry as JSON-ready values (with the visit as it then stood, if asked)."""
        return {
            "version": self.version,
            "kind": self.kind,
            "event": self.event,
            "date_of_service": self.date_of_service.isoformat(),
            "amends_version": self.amends_version,
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
            "reason": self.reason,
            "changes": [change.as_dict() for change in self.changes],
            **({"visit": self.visit} if with_visit else {}),
        }


@dataclass(frozen=True)
class RecordedFact:
    """An event recorded in a window that is not an amendment: what, about when, by whom."""

    version: int
    event: str
    clinical_date: date | None
    recorded_at: datetime
    recorded_by: str

    def as_dict(self) -> dict[str, Any]:
        """Return the fact as JSON-ready values."""
        return {
            "version": self.version,
            "event": self.event,
            "clinical_date": self.clinical_date.isoformat() if self.clinical_date else None,
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
        }


@dataclass(frozen=True)
class ChangeReport:
    """What was recorded in an episode after `since` up to `until`: amendments first, then the rest."""

    episode_id: UUID
    since: datetime
    until: datetime | None
    from_version: int
    to_version: int
    amendments: tuple[AuditEntry, ...]
    recorded: tuple[RecordedFact, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "amendments": [entry.as_dict() for entry in self.amendments],
            "recorded": [fact.as_dict() for fact in self.recorded],
        }


def _visit_json(visit: Visit | None) -> dict[str, Any] | None:
    return visit.model_dump(mode="json") if visit is not None else None


def _entry(event: Episode.Event, kind: str, before: Visit | None, after: Visit | None) -> AuditEntry:
    """Describe what one visit event did, comparing the visit before and after it."""
    changes: tuple[FieldChange, ...] = ()
    if kind == "correction":
        old, new = _visit_json(before) or {}, _visit_json(after) or {}
        names = cast(dict[str, Any], getattr(event, "changes", {}))
        changes = tuple(FieldChange(name, old.get(name), new.get(name)) for name in names)
    elif kind == "addendum":
        changes = (FieldChange("addendum", None, getattr(event, "text", "")),)
    elif kind == "void":
        changes = (FieldChange("status", "current", "voided"),)
    dos = event.clinical_date()
    return AuditEntry(
        version=event.originator_version,
        kind=kind,
        event=type(event).__name__,
        date_of_service=dos if dos is not None else date.min,
        amends_version=getattr(
            event, "amends_version", event.originator_version if kind != RECORDED else None
        ),
        recorded_at=event.timestamp,
        recorded_by=event.recorded_by,
        reason=str(getattr(event, "reason", "")),
        changes=changes,
        visit=_visit_json(after),
    )


def _is_visit_event(event: object) -> bool:
    return isinstance(event, Episode.VisitRecorded) or amendment_kind(event) is not None


def changes_in(
    start: Episode | None, events: Iterable[Episode.Event]
) -> tuple[list[AuditEntry], list[RecordedFact]]:
    """Apply events to the episode as it was at the start; describe each amendment and list the rest.

    `start` is the episode at the window's first version (None before it was
    opened); it is changed in place. Each amendment's before and after come
    from the visit just before and just after it.
    """
    episode = start
    amendments: list[AuditEntry] = []
    recorded: list[RecordedFact] = []
    for event in events:
        kind = amendment_kind(event)
        dos = event.clinical_date()
        before = episode.visits.get(dos) if kind and episode is not None and dos is not None else None
        episode = cast(Episode, event.mutate(episode))
        if kind is not None and dos is not None:
            amendments.append(_entry(event, kind, before, episode.visits.get(dos)))
        else:
            recorded.append(
                RecordedFact(
                    version=event.originator_version,
                    event=type(event).__name__,
                    clinical_date=dos,
                    recorded_at=event.timestamp,
                    recorded_by=event.recorded_by,
                )
            )
    return amendments, recorded


def visit_history(events: Iterable[Episode.Event], date_of_service: date) -> list[AuditEntry]:
    """Return every version of the visit(s) on a date of service: entries, amendments, voids.

    Replays the episode's events in order; after each event about that date it
    records who, when, why, what changed, and the visit as it then stood (None
    once voided). A visit voided and recorded again continues the same list.
    """
    episode: Episode | None = None
    versions: list[AuditEntry] = []
    for event in events:
        concerns = _is_visit_event(event) and event.clinical_date() == date_of_service
        before = episode.visits.get(date_of_service) if concerns and episode is not None else None
        episode = cast(Episode, event.mutate(episode))
        if concerns:
            kind = amendment_kind(event) or RECORDED
            versions.append(_entry(event, kind, before, episode.visits.get(date_of_service)))
    return versions
