"""The raw-library baseline: eventsourcing's own Aggregate, mapper and recorders.

Each careledger figure in the benchmark is set beside what eventsourcing does on its
own with the same number of events, of the same sizes, in the same transaction
batches: its default `Aggregate` with one event class carrying the payload as a
dict, its default JSON transcoder, and the same SQLite or PostgreSQL recorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Record(Aggregate):
    """An aggregate that records payloads, nothing more."""

    @event("Opened")
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payloads = [payload]

    @event("Recorded")
    def record(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)


class Raw(Application[UUID]):
    """eventsourcing's application with its defaults."""

    name = "rawbaseline"


def raw_app(env: dict[str, str]) -> Raw:
    """Open the raw baseline application on the given persistence settings."""
    return Raw(env=env)


def store_batches(app: Raw, batches: Sequence[Sequence[tuple[int, dict[str, Any]]]]) -> int:
    """Store events in the given batches, one transaction per batch.

    Each item is (stream number, payload); a stream number seen for the first time
    creates an aggregate. Returns the number of events stored.
    """
    aggregates: dict[int, Record] = {}
    stored = 0
    for batch in batches:
        touched: dict[int, Record] = {}
        for stream, payload in batch:
            found = aggregates.get(stream)
            if found is None:
                found = Record(payload)
                aggregates[stream] = found
            else:
                found.record(payload)
            touched[stream] = found
            stored += 1
        app.save(*touched.values())
    return stored
