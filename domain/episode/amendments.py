"""Amending a recorded visit: late entries, corrections, addenda and voids (docs/rules.md#amendments).

The original entry is never touched. Each amendment is a new event on the
episode that names the entry it amends (`amends_version`, the version of the
visit's `VisitRecorded` or `LateEntryRecorded`), who wrote it (`recorded_by`),
when (its timestamp) and why (`reason`): HIPAA 45 CFR 164.526 "append or link",
and CMS Program Integrity Manual §3.3.2.5 (amendments not clearly marked are
disregarded). The visit in the episode's state shows the current values and
lists its amendments, so billing and checks read the corrected note while the
history keeps every version.

The commands are methods of `Episode` (`record_late_entry`, `correct_visit`,
`add_addendum`, `void_visit`); what they decide and how their events change the
state are the pure functions here.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.episode.commands import describe_validation_error
from domain.episode.invariants import EpisodeInvariants
from domain.errors import InvalidInput
from domain.records import CORRECTABLE_FIELDS, Amendment, Visit, VisitFields


def correction_changes(episode: EpisodeInvariants, visit: Visit, changes: dict[str, Any]) -> dict[str, Any]:
    """Return the fields a correction really changes (as JSON values), refusing what a note may not be.

    The corrected note must pass the checks of a new one; a correction that changes
    nothing, moves the visit to another date or names no field of a note is refused.
    """
    if "date_of_service" in changes:
        raise InvalidInput(
            "changes.date_of_service",
            "a visit cannot move to another date; void it and record it on the right date",
        )
    for name in changes:
        if name not in CORRECTABLE_FIELDS:
            raise InvalidInput(
                f"changes.{name}", f"not a field of a visit; correctable: {', '.join(CORRECTABLE_FIELDS)}"
            )
    would_be = corrected_fields(visit, changes)
    episode.check_visit_content(would_be, prefix="changes.")
    before = visit.model_dump(mode="json", include=set(changes))
    after = would_be.model_dump(mode="json", include=set(changes))
    changed = {name: after[name] for name in changes if after[name] != before[name]}
    if not changed:
        raise InvalidInput("changes", "every value given equals the visit's current one; nothing to correct")
    return changed


def corrected_fields(visit: Visit, changes: dict[str, Any]) -> VisitFields:
    """Return the visit's note with the changes applied, validated as a new note's fields are."""
    values = {name: getattr(visit, name) for name in VisitFields.model_fields}
    try:
        return VisitFields.model_validate({**values, **changes})
    except ValidationError as exc:
        error = describe_validation_error(exc)
        field = f"changes.{error.field}" if error.field else "changes"
        raise InvalidInput(field, error.problem) from None


def corrected_visit(visit: Visit, changes: dict[str, Any], mark: Amendment) -> Visit:
    """Return the visit with corrected fields and the correction listed among its amendments."""
    fields = corrected_fields(visit, changes)
    previous = visit.model_dump(mode="json", include=set(changes))
    note = mark.model_copy(update={"changes": dict(changes), "previous": previous})
    update: dict[str, Any] = {name: getattr(fields, name) for name in changes}
    update["amendments"] = (*visit.amendments, note)
    return visit.model_copy(update=update)


def amended_visit(visit: Visit, mark: Amendment) -> Visit:
    """Return the visit with one more amendment listed (an addendum or a void)."""
    return visit.model_copy(update={"amendments": (*visit.amendments, mark)})
