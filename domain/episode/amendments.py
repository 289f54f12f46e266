"""Amending a recorded visit: late entries, corrections, addenda and voids (rules.md §9).

The original entry is never touched. Each amendment is a new event on the
episode that names the entry it amends (`amends_version`, the version of the
visit's `VisitRecorded` or `LateEntryRecorded`), who wrote it (`recorded_by`),
when (its timestamp) and why (`reason`): HIPAA 45 CFR 164.526 "append or link",
and CMS Program Integrity Manual §3.3.2.5 (amendments not clearly marked are
disregarded). The visit in the episode's state shows the current values and
lists its amendments, so billing and checks read the corrected note while the
history keeps every version.

`Episode` inherits the command methods of `VisitAmendments`; its nested events
(`Episode.VisitCorrected` ...) change the state with the helpers at the bottom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from domain.episode.commands import describe_validation_error
from domain.episode.invariants import EpisodeInvariants
from domain.errors import InvalidInput
from domain.records import (
    CORRECTABLE_FIELDS,
    AddendumFields,
    Amendment,
    CorrectionFields,
    LateEntryFields,
    Visit,
    VisitFields,
    VoidFields,
)

if TYPE_CHECKING:
    from domain.episode.aggregate import CommandMeta


class VisitAmendments(EpisodeInvariants):
    """The episode's commands that amend a recorded visit; each triggers one event."""

    if TYPE_CHECKING:
        LateEntryRecorded: type[Any]
        VisitCorrected: type[Any]
        VisitAddendumAppended: type[Any]
        VisitVoided: type[Any]

        def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None: ...

    def record_late_entry(self, fields: LateEntryFields, meta: CommandMeta) -> None:
        """Record a visit's note written after its date of service, marked as a late entry."""
        self.check_new_visit(fields, meta.today)
        if fields.date_of_service >= meta.today:
            raise InvalidInput(
                "date_of_service",
                f"{fields.date_of_service} is today: a note written on its date of service is not a "
                "late entry; record it as a visit",
            )
        values = {name: getattr(fields, name) for name in LateEntryFields.model_fields}
        self._amend(self.LateEntryRecorded, meta, **values)

    def correct_visit(self, fields: CorrectionFields, meta: CommandMeta) -> None:
        """Correct fields of a recorded visit; the corrected note must pass the checks of a new one."""
        visit = self.find_amended_visit(fields.date_of_service, fields.amends_version)
        if "date_of_service" in fields.changes:
            raise InvalidInput(
                "changes.date_of_service",
                "a visit cannot move to another date; void it and record it on the right date",
            )
        for name in fields.changes:
            if name not in CORRECTABLE_FIELDS:
                raise InvalidInput(
                    f"changes.{name}", f"not a field of a visit; correctable: {', '.join(CORRECTABLE_FIELDS)}"
                )
        would_be = corrected_fields(visit, fields.changes)
        self.check_visit_content(would_be, prefix="changes.")
        before = visit.model_dump(mode="json", include=set(fields.changes))
        after = would_be.model_dump(mode="json", include=set(fields.changes))
        changed = {name: after[name] for name in fields.changes if after[name] != before[name]}
        if not changed:
            raise InvalidInput(
                "changes", "every value given equals the visit's current one; nothing to correct"
            )
        self._amend(
            self.VisitCorrected,
            meta,
            date_of_service=visit.date_of_service,
            amends_version=visit.event_version,
            changes=changed,
            reason=fields.reason,
        )

    def add_addendum(self, fields: AddendumFields, meta: CommandMeta) -> None:
        """Append information to a recorded visit, dated when written."""
        visit = self.find_amended_visit(fields.date_of_service, fields.amends_version)
        self._amend(
            self.VisitAddendumAppended,
            meta,
            date_of_service=visit.date_of_service,
            amends_version=visit.event_version,
            text=fields.text,
            reason=fields.reason,
        )

    def void_visit(self, fields: VoidFields, meta: CommandMeta) -> None:
        """Void a visit entered in error: it leaves the current record and its date is free again."""
        visit = self.find_amended_visit(fields.date_of_service, fields.amends_version)
        self._amend(
            self.VisitVoided,
            meta,
            date_of_service=visit.date_of_service,
            amends_version=visit.event_version,
            reason=fields.reason,
        )

    def _amend(self, event_class: type[Any], meta: CommandMeta, **values: Any) -> None:
        self.trigger_event(
            event_class,
            timestamp=meta.timestamp,
            command_id=meta.command_id,
            command_digest=meta.command_digest,
            recorded_by=meta.recorded_by,
            **values,
        )


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
