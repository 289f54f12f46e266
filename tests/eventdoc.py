"""Render docs/events.md (the event catalogue) from the event classes themselves.

`make docs` rewrites the file; a unit test fails when the file and the code differ.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from eventsourcing.utils import get_topic

from domain.clinic.aggregate import Clinic
from domain.clinic.values import Address
from domain.episode.aggregate import Episode
from domain.records import RemitAdjustment, RemitLine
from domain.values import (
    Diagnosis,
    Dosage,
    Goal,
    GoalAssessment,
    PayerRef,
    PerformedExercise,
    Provider,
    ServiceLine,
)

ROOT = Path(__file__).resolve().parents[1]
BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "command_id",
    "command_digest",
    "recorded_by",
}

INTRO = """# Event catalogue

Every fact of an episode is one of these events, stored as one row of the event
store (`stored_events` on SQLite, `careledger_events` on PostgreSQL). The row's
`topic` column holds the topic below; its `state` column holds the event's fields
as JSON (without `originator_id` and `originator_version`, which are columns).
Events recorded before 2026-12, when the aggregate moved from `domain/episode.py`
to `domain/episode/aggregate.py`, keep their old topic (`domain.episode:...`);
both load as the same class (`OLD_TOPIC_PREFIXES` in the aggregate's module).

Every event also carries:

| field | meaning |
|---|---|
| `originator_id` | the episode id (UUID) |
| `originator_version` | the event's position in the episode, from 1 |
| `timestamp` | **recorded time**: when the event was stored (UTC) |
| `command_id` | the command that made it (idempotency key) |
| `command_digest` | SHA-256 of the command's canonical JSON |
| `recorded_by` | who recorded it |

The **clinical time** (date of service, date a measure was taken...) is a field
of the event, named in each section. Topics never change: an event class is never
renamed or moved without registering its old topic, and a payload changes only by
adding optional fields or by upcasting (`class_version`, see `domain/codec.py`).

This file is generated from the code (`make docs`); a test fails when they differ.
"""


def _type(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _type(args[0])
    if origin in (Union, UnionType):
        return " or ".join(_type(a) for a in args)
    if origin is Literal:
        return " / ".join(repr(a).replace("'", "") for a in args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"list of {_type(args[0])}"
    if origin in (list, tuple):
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"map {_type(args[0])} to {_type(args[1])}"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


# Events added after the aggregate moved (2026-12): they were never stored under the old topic.
ADDED_AFTER_THE_MOVE = {"RemittanceReceived"}

VALUE_OBJECTS = (
    Diagnosis,
    Provider,
    PayerRef,
    Goal,
    GoalAssessment,
    ServiceLine,
    Dosage,
    PerformedExercise,
    Address,
    RemitLine,
    RemitAdjustment,
)


def _table(model: Any, skip: set[str]) -> list[str]:
    rows = ["| field | type | required |", "|---|---|---|"]
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        rows.append(f"| `{name}` | {_type(info.annotation)} | {'yes' if info.is_required() else 'no'} |")
    return rows


def render() -> str:
    """Return the catalogue as Markdown."""
    out = [INTRO]
    classes = [
        cls
        for cls in vars(Episode).values()
        if isinstance(cls, type) and issubclass(cls, Episode.Event) and cls is not Episode.Event
    ]
    for cls in classes:
        topic = get_topic(cls)
        out.append(f"\n## `{cls.__qualname__}`\n")
        doc = (cls.__doc__ or "").strip().splitlines()
        if doc:
            out.append(doc[0] + "\n")
        if cls.__name__ in ADDED_AFTER_THE_MOVE:
            out.append(f"- topic: `{topic}` (added after the move: it has no older topic)")
        else:
            out.append(f"- topic: `{topic}` (stored before 2026-12 as `{topic.replace('.aggregate:', ':')}`)")
        out.append(f"- version: {getattr(cls, 'class_version', 1)}")
        clinical = getattr(cls, "clinical_field", "")
        out.append(f"- clinical date: `{clinical}`\n" if clinical else "- clinical date: none\n")
        out.extend(_table(cls, BASE_FIELDS | {"originator_topic"}))
    out.append("\n# The clinic's events\n")
    out.append(
        "The store's one `Clinic` aggregate (docs/decisions/0010-clinic-identity.md) records the clinic's "
        "identity: who bills and who furnishes. Its events carry the same `command_id`, `command_digest` "
        "and `recorded_by` as the episodes'; a later record of the same provider replaces the earlier one "
        "from its recorded time on.\n"
    )
    for cls in (c for c in vars(Clinic).values() if isinstance(c, type) and issubclass(c, Clinic.Event)):
        if cls is Clinic.Event:
            continue
        out.append(f"\n## `{cls.__qualname__}`\n")
        out.append((cls.__doc__ or "").strip().splitlines()[0] + "\n")
        out.append(f"- topic: `{get_topic(cls)}`")
        out.append(f"- version: {getattr(cls, 'class_version', 1)}\n")
        out.extend(_table(cls, BASE_FIELDS | {"originator_topic"}))
    out.append("\n# Value objects used in the events\n")
    for model in VALUE_OBJECTS:
        out.append(f"\n## `{model.__name__}`\n")
        out.append((model.__doc__ or "").strip().splitlines()[0] + "\n")
        out.extend(_table(model, set()))
    out.append("\n## `Episode.Snapshot`\n")
    out.append(
        "The whole state of an episode at a version (`topic: domain.episode.aggregate:Episode.Snapshot`, "
        "before 2026-12 `domain.episode:Episode.Snapshot`), stored every 50 events in a separate table; "
        "never part of the event log. Its `state` has the fields of `domain.records.SnapshotState`: each "
        "visit note is kept as its own JSON text, validated when the loaded episode first reads it "
        "(`domain/episode/lazy.py`); a snapshot written with the notes as objects is still read.\n"
    )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    target = ROOT / "docs" / "events.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
