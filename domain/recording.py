"""How an aggregate records a fact: the one event-building step the episode and the clinic share.

A command is decided against the aggregate's state; the event it records carries the
command's identity, author and recorded time (`CommandMeta`) and the decided values.
Every value was validated already, so the event is built without validating it again
(`domain.values.construct`); events read back from the store are still validated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.values import construct


class CommandMeta(Protocol):
    """What the application adds to a command: identity, author and recorded time."""

    @property
    def command_id(self) -> UUID: ...
    @property
    def command_digest(self) -> str: ...
    @property
    def recorded_by(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...


def record_event(aggregate: Any, event_class: type[Any], meta: CommandMeta, values: dict[str, Any]) -> None:
    """Build the aggregate's next event from `meta` and `values`, apply it and keep it to be saved."""
    event = construct(
        event_class,
        {
            "originator_id": aggregate.id,
            "originator_version": aggregate.version + 1,
            "timestamp": meta.timestamp,
            "command_id": meta.command_id,
            "command_digest": meta.command_digest,
            "recorded_by": meta.recorded_by,
            **values,
        },
    )
    event.mutate(aggregate)
    aggregate._pending_events.append(event)
