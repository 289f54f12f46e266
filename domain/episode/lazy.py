"""Visits loaded from a snapshot, each validated only when it is first read.

A snapshot stores each visit note as its own JSON text (`SnapshotState.visits`),
so loading an episode from a snapshot parses and validates the episode's small
fields at once and leaves the notes as text: a long episode loads in the time of
one row read, and a command that touches one visit validates one note. Reading a
visit turns its text into a `Visit` (validated as any stored event is) and keeps
it; taking the next snapshot reuses the text of every visit never read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from datetime import date

from domain.records import Visit

_VISIT_JSON = Visit.__pydantic_serializer__


def visit_json(visit: Visit) -> str:
    """Return a visit as the JSON text a snapshot stores."""
    return _VISIT_JSON.to_json(visit).decode()


class LazyVisits(MutableMapping[date, Visit]):
    """A date-of-service to visit mapping whose values start as JSON text.

    It keeps insertion order, as the `dict` it stands in for does, so an episode
    loaded from a snapshot lists its visits in the order a replay would.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[date, Visit | str] | None = None) -> None:
        self._items: dict[date, Visit | str] = dict(items or {})

    def __getitem__(self, key: date) -> Visit:
        value = self._items[key]
        if isinstance(value, str):
            value = Visit.model_validate_json(value)
            self._items[key] = value
        return value

    def __setitem__(self, key: date, value: Visit) -> None:
        self._items[key] = value

    def __delitem__(self, key: date) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[date]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __repr__(self) -> str:
        return f"LazyVisits({len(self._items)} visits)"

    def as_json(self) -> dict[date, str]:
        """Return every visit as JSON text, reusing the text of visits never read."""
        return {
            day: value if isinstance(value, str) else visit_json(value) for day, value in self._items.items()
        }


def visits_as_json(visits: Mapping[date, Visit]) -> dict[date, str]:
    """Return a visits mapping (lazy or plain) as the JSON texts a snapshot stores."""
    if isinstance(visits, LazyVisits):
        return visits.as_json()
    return {day: visit_json(visit) for day, visit in visits.items()}


__all__ = ["LazyVisits", "visit_json", "visits_as_json"]
