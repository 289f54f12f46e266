"""The patient-episode aggregate: every fact of an episode of care is an event on it.

Commands are methods that check the episode's invariants (the `check_...`
methods) and then trigger one event; events are frozen pydantic models nested in
the aggregate, and their `update` methods are the only code that changes state.
No event reads the clock: the recorded time is the event's `timestamp`, given by
the application; the clinical time (date of service, date a measure was taken)
is a field of the event.

Event topics (`domain.episode.aggregate:Episode.VisitRecorded`) are stored in
every row: never rename or move these classes without registering the old topic.
Until 2026-12 the aggregate lived in `domain/episode.py`; its topics
(`domain.episode:Episode...`) are registered at the end of this module, so events
and snapshots stored under them still load (`OLD_TOPIC_PREFIXES`).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
)
from eventsourcing.utils import get_topic, register_topic

from domain.episode.amendments import amended_visit, corrected_visit, correction_changes
from domain.episode.invariants import EpisodeInvariants
from domain.episode.lazy import LazyVisits, visits_as_json
from domain.episode.state import EARLIEST_DATE, CommandMeta
from domain.errors import InvalidInput
from domain.recording import record_event
from domain.records import (
    AddendumFields,
    AddendumText,
    Amendment,
    Certification,
    CertificationFields,
    CertificationKind,
    CorrectionFields,
    Discharge,
    DischargeFields,
    EpisodeFields,
    EpisodeState,
    Exercise,
    ExerciseAddFields,
    ExerciseChange,
    ExerciseChangeFields,
    ExerciseStopFields,
    Hold,
    HoldFields,
    LateEntryFields,
    Outcome,
    OutcomeFields,
    Plan,
    PlanFields,
    ProgressReport,
    ProgressReportFields,
    Reason,
    ReEvaluation,
    ReEvaluationFields,
    Remittance,
    RemittanceFields,
    ResumeFields,
    SnapshotState,
    Visit,
    VisitFields,
    VoidFields,
)
from domain.rules.catalogue import instrument_catalogue
from domain.values import Frozen, UserId, construct

__all__ = ["EARLIEST_DATE", "CommandMeta", "Episode", "topics_of"]


class DomainEvent(Frozen):
    """Base of stored events: which episode, which version, recorded when."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime


_EVENT_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "command_id",
    "command_digest",
    "recorded_by",
}


@cache
def _field_names(fields_class: type[Frozen]) -> tuple[str, ...]:
    # Reading `model_fields` goes through pydantic's deprecation shim on every call (~5% of an import).
    return tuple(fields_class.model_fields)


def _fields(model: Frozen, fields_class: type[Frozen]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in _field_names(fields_class)}


class Episode(EpisodeInvariants, BaseAggregate[UUID]):
    """An outpatient episode of care for one patient, one discipline and one payer."""

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        """Base of the episode's events: which command made it, and who."""

        command_id: UUID
        command_digest: str
        recorded_by: UserId

        clinical_field: ClassVar[str] = ""

        def apply(self, aggregate: Any) -> None:
            episode: Episode = aggregate
            episode.commands[str(self.command_id)] = self.command_digest
            self.update(episode)

        def update(self, episode: Episode) -> None:
            """Change the episode's state; overridden by each event."""

        def clinical_date(self) -> date | None:
            """Return the date the fact is about (date of service, date taken...)."""
            value = getattr(self, self.clinical_field, None) if self.clinical_field else None
            return value if isinstance(value, date) else None

        def payload(self) -> dict[str, Any]:
            """Return the event's own fields as JSON-ready values."""
            return self.model_dump(mode="json", exclude=_EVENT_BASE_FIELDS)

        def provenance(self) -> dict[str, Any]:
            """Return the record provenance fields of this event."""
            return {
                "event_version": self.originator_version,
                "recorded_at": self.timestamp,
                "recorded_by": self.recorded_by,
            }

    class Opened(Event, CanInitAggregate[UUID], EpisodeFields):
        """The episode was opened: patient reference, discipline, payer, diagnoses, start date."""

        originator_topic: str
        clinical_field: ClassVar[str] = "start_date"

        def update(self, episode: Episode) -> None:
            for name in EpisodeFields.model_fields:
                setattr(episode, name, getattr(self, name))
            episode.opened_by = self.recorded_by

    class PlanEstablished(Event, PlanFields):
        """A plan of care was established (or revised); `plan_version` counts from 1."""

        plan_version: int
        clinical_field: ClassVar[str] = "established_on"

        def update(self, episode: Episode) -> None:
            episode.plans.append(
                construct(
                    Plan,
                    {**_fields(self, PlanFields), "plan_version": self.plan_version, **self.provenance()},
                )
            )

    class PlanCertified(Event, CertificationFields):
        """A physician or practitioner certified a plan for a period (initial or recertification)."""

        kind: CertificationKind
        certified_plan: int
        clinical_field: ClassVar[str] = "signed_on"

        def update(self, episode: Episode) -> None:
            episode.certifications.append(
                construct(
                    Certification,
                    {
                        **_fields(self, CertificationFields),
                        "kind": self.kind,
                        "certified_plan": self.certified_plan,
                        **self.provenance(),
                    },
                )
            )

    class VisitRecorded(Event, VisitFields):
        """A visit's treatment note: service lines with minutes, necessity, exercises, response."""

        clinical_field: ClassVar[str] = "date_of_service"

        def update(self, episode: Episode) -> None:
            visit = construct(Visit, {**_fields(self, VisitFields), **self.provenance()})
            episode.visits[self.date_of_service] = visit

    class LateEntryRecorded(VisitRecorded):
        """A visit's note written after its date of service, marked as a late entry with why
        (docs/rules.md#amendments).
        """

        reason: Reason
        amendment_kind: ClassVar[str] = "late_entry"

        def update(self, episode: Episode) -> None:
            mark = Amendment(
                kind="late_entry",
                amends_version=self.originator_version,
                reason=self.reason,
                **self.provenance(),
            )
            visit = Visit(**_fields(self, VisitFields), **self.provenance(), amendments=(mark,))
            episode.visits[self.date_of_service] = visit

    class VisitCorrected(Event):
        """Fields of a recorded visit were corrected (new values as JSON); the entry itself is kept.

        (docs/rules.md#amendments)
        """

        date_of_service: date
        amends_version: int
        changes: dict[str, Any]
        reason: Reason
        clinical_field: ClassVar[str] = "date_of_service"
        amendment_kind: ClassVar[str] = "correction"

        def update(self, episode: Episode) -> None:
            mark = Amendment(
                kind="correction", amends_version=self.amends_version, reason=self.reason, **self.provenance()
            )
            visit = episode.visits[self.date_of_service]
            episode.visits[self.date_of_service] = corrected_visit(visit, self.changes, mark)

    class VisitAddendumAppended(Event):
        """Information was added to a recorded visit after it was written, with why
        (docs/rules.md#amendments).
        """

        date_of_service: date
        amends_version: int
        text: AddendumText
        reason: Reason
        clinical_field: ClassVar[str] = "date_of_service"
        amendment_kind: ClassVar[str] = "addendum"

        def update(self, episode: Episode) -> None:
            mark = Amendment(
                kind="addendum",
                amends_version=self.amends_version,
                reason=self.reason,
                text=self.text,
                **self.provenance(),
            )
            visit = episode.visits[self.date_of_service]
            episode.visits[self.date_of_service] = amended_visit(visit, mark)

    class VisitVoided(Event):
        """A visit entered in error was voided: it leaves the current record, its date is free.

        (docs/rules.md#amendments)
        """

        date_of_service: date
        amends_version: int
        reason: Reason
        clinical_field: ClassVar[str] = "date_of_service"
        amendment_kind: ClassVar[str] = "void"

        def update(self, episode: Episode) -> None:
            mark = Amendment(
                kind="void", amends_version=self.amends_version, reason=self.reason, **self.provenance()
            )
            visit = episode.visits.pop(self.date_of_service)
            episode.voided_visits.append(amended_visit(visit, mark))

    class ExerciseAdded(Event, ExerciseAddFields):
        """An exercise was added to the programme with its starting dosage."""

        clinical_field: ClassVar[str] = "effective_date"

        def update(self, episode: Episode) -> None:
            change = ExerciseChange(
                kind="added",
                effective_date=self.effective_date,
                dosage=self.dosage,
                name=self.name,
                reason=self.reason,
                **self.provenance(),
            )
            episode.exercises[self.exercise_id] = Exercise(
                exercise_id=self.exercise_id,
                name=self.name,
                body_region=self.body_region,
                category=self.category,
                movement=self.movement,
                equipment=self.equipment,
                dosage=self.dosage,
                active=True,
                history=(change,),
            )

    class ExerciseProgressed(Event, ExerciseChangeFields):
        """An exercise was progressed to a harder dosage or variant, with the reason."""

        clinical_field: ClassVar[str] = "effective_date"

        def update(self, episode: Episode) -> None:
            episode.change_exercise(self, "progressed")

    class ExerciseRegressed(Event, ExerciseChangeFields):
        """An exercise was regressed to an easier dosage or variant, with the reason."""

        clinical_field: ClassVar[str] = "effective_date"

        def update(self, episode: Episode) -> None:
            episode.change_exercise(self, "regressed")

    class ExerciseDiscontinued(Event, ExerciseStopFields):
        """An exercise was taken out of the programme, with the reason."""

        clinical_field: ClassVar[str] = "effective_date"

        def update(self, episode: Episode) -> None:
            current = episode.exercises[self.exercise_id]
            change = ExerciseChange(
                kind="discontinued",
                effective_date=self.effective_date,
                dosage=None,
                name=current.name,
                reason=self.reason,
                **self.provenance(),
            )
            episode.exercises[self.exercise_id] = current.model_copy(
                update={"active": False, "history": (*current.history, change)}
            )

    class OutcomeMeasured(Event, OutcomeFields):
        """A score on a standard outcome instrument was taken."""

        clinical_field: ClassVar[str] = "taken_on"

        def update(self, episode: Episode) -> None:
            episode.outcomes.append(construct(Outcome, {**_fields(self, OutcomeFields), **self.provenance()}))

    class ProgressReportRecorded(Event, ProgressReportFields):
        """A progress report assessed each goal over a period."""

        clinical_field: ClassVar[str] = "report_date"

        def update(self, episode: Episode) -> None:
            report = construct(ProgressReport, {**_fields(self, ProgressReportFields), **self.provenance()})
            episode.progress_reports.append(report)

    class ReEvaluationRecorded(Event, ReEvaluationFields):
        """A therapist re-evaluated the patient."""

        clinical_field: ClassVar[str] = "evaluated_on"

        def update(self, episode: Episode) -> None:
            record = construct(ReEvaluation, {**_fields(self, ReEvaluationFields), **self.provenance()})
            episode.reevaluations.append(record)

    class PutOnHold(Event, HoldFields):
        """Treatment was paused from a date."""

        clinical_field: ClassVar[str] = "start_date"

        def update(self, episode: Episode) -> None:
            episode.holds.append(
                Hold(start=self.start_date, end=None, reason=self.reason, **self.provenance())
            )
            episode.status = "on_hold"

    class Resumed(Event, ResumeFields):
        """Treatment resumed after a hold."""

        clinical_field: ClassVar[str] = "resume_date"

        def update(self, episode: Episode) -> None:
            episode.holds[-1] = episode.holds[-1].model_copy(update={"end": self.resume_date})
            episode.status = "active"

    class Discharged(Event, DischargeFields):
        """The episode ended."""

        clinical_field: ClassVar[str] = "discharge_date"

        def update(self, episode: Episode) -> None:
            episode.discharge = construct(Discharge, {**_fields(self, DischargeFields), **self.provenance()})
            if episode.holds and episode.holds[-1].end is None:
                hold = episode.holds[-1]
                episode.holds[-1] = hold.model_copy(update={"end": self.discharge_date})
            episode.status = "discharged"

    class RemittanceReceived(Event, RemittanceFields):
        """A payer's remittance (X12 835) of the claim of one date of service, line by line.

        What it paid and adjusted on each line, with the reason codes (CARC, RARC), and the file it
        came from (docs/billing.md#835).
        """

        clinical_field: ClassVar[str] = "date_of_service"

        def update(self, episode: Episode) -> None:
            record = construct(Remittance, {**_fields(self, RemittanceFields), **self.provenance()})
            episode.remittances = [*episode.remittances, record]

    class Snapshot(DomainEvent, CanSnapshotAggregate[UUID]):
        """The episode's state at a version, so loading need not replay every event."""

        topic: str
        state: SnapshotState

        @classmethod
        def take(cls, aggregate: Any) -> Episode.Snapshot:
            episode: Episode = aggregate
            values = episode.state_values()
            values["visits"] = visits_as_json(episode.visits)
            return cls(
                originator_id=episode.id,
                originator_version=episode.version,
                timestamp=episode.modified_on,
                topic=get_topic(type(episode)),
                state=SnapshotState(created_on=episode.created_on, modified_on=episode.modified_on, **values),
            )

        def mutate(self, _: Any = None) -> Episode:
            episode = object.__new__(Episode)
            values = dict(self.state)
            episode.__base_init__(self.originator_id, self.originator_version, values.pop("created_on"))
            episode.modified_on = values.pop("modified_on")
            values["visits"] = LazyVisits(values["visits"])
            for name, value in values.items():
                setattr(episode, name, value)
            return episode

    # --- commands ------------------------------------------------------------------------

    @classmethod
    def open(cls, episode_id: UUID, fields: EpisodeFields, meta: CommandMeta) -> Episode:
        """Open an episode; the payer must already carry its unit rule."""
        if fields.start_date < EARLIEST_DATE:
            raise InvalidInput("start_date", f"{fields.start_date} is before {EARLIEST_DATE}")
        if fields.start_date > meta.today:
            raise InvalidInput("start_date", f"{fields.start_date} is in the future (today is {meta.today})")
        if fields.payer.unit_rule is None:
            raise InvalidInput("payer.unit_rule", "missing; give cms or ama")
        return cls._create(
            cls.Opened,
            id=episode_id,
            timestamp=meta.timestamp,
            command_id=meta.command_id,
            command_digest=meta.command_digest,
            recorded_by=meta.recorded_by,
            **_fields(fields, EpisodeFields),
        )

    def establish_plan(self, fields: PlanFields, meta: CommandMeta) -> None:
        """Establish (or revise) the plan of care; each plan gets the next version."""
        self.check_clinical_date("established_on", fields.established_on, meta.today)
        self.check_not_assistant("credential", fields.credential, "establish a plan of care")
        self.check_credential_fits_discipline("credential", fields.credential)
        if fields.duration_weeks is None and fields.duration_visits is None:
            raise InvalidInput("duration_weeks", "a plan needs a duration in weeks or in visits")
        goal_ids = [g.goal_id for g in fields.goals]
        duplicates = sorted({g for g in goal_ids if goal_ids.count(g) > 1})
        if duplicates:
            raise InvalidInput("goals", f"goal_id {duplicates[0]} is used twice")
        self._trigger(self.PlanEstablished, fields, PlanFields, meta, plan_version=len(self.plans) + 1)

    def certify_plan(self, fields: CertificationFields, meta: CommandMeta) -> None:
        """Record a certification (or recertification) of a plan of care for a period."""
        if not self.plans:
            raise InvalidInput("plan_version", "no plan of care is established yet")
        plan_version = fields.plan_version or len(self.plans)
        if plan_version > len(self.plans):
            raise InvalidInput("plan_version", f"no plan version {plan_version}")
        if fields.signed_on is None and fields.verbal_order_on is None:
            raise InvalidInput("signed_on", "give the signature date or the verbal order date")
        for name in ("signed_on", "verbal_order_on"):
            value = getattr(fields, name)
            if value is not None:
                self.check_not_future(name, value, meta.today)
                if value < self.start_date:
                    raise InvalidInput(name, f"{value} is before the episode start {self.start_date}")
        if fields.period_end < fields.period_start:
            raise InvalidInput("period_end", f"{fields.period_end} is before {fields.period_start}")
        self.check_clinical_date("period_start", fields.period_start, meta.today)
        kind = "recertification" if self.certifications else "initial"
        self._trigger(
            self.PlanCertified,
            fields,
            CertificationFields,
            meta,
            kind=kind,
            certified_plan=plan_version,
        )

    def record_visit(self, fields: VisitFields, meta: CommandMeta) -> None:
        """Record the treatment note of one date of service."""
        self.check_new_visit(fields, meta.today)
        self._trigger(self.VisitRecorded, fields, VisitFields, meta)

    def add_exercise(self, fields: ExerciseAddFields, meta: CommandMeta) -> None:
        """Add an exercise to the programme."""
        self.check_clinical_date("effective_date", fields.effective_date, meta.today)
        if fields.exercise_id in self.exercises:
            raise InvalidInput("exercise_id", f"'{fields.exercise_id}' is already in this episode")
        self._trigger(self.ExerciseAdded, fields, ExerciseAddFields, meta)

    def progress_exercise(self, fields: ExerciseChangeFields, meta: CommandMeta) -> None:
        """Progress an exercise: harder dosage or variant, with the reason."""
        self.check_change(fields, meta.today)
        self._trigger(self.ExerciseProgressed, fields, ExerciseChangeFields, meta)

    def regress_exercise(self, fields: ExerciseChangeFields, meta: CommandMeta) -> None:
        """Regress an exercise: easier dosage or variant, with the reason."""
        self.check_change(fields, meta.today)
        self._trigger(self.ExerciseRegressed, fields, ExerciseChangeFields, meta)

    def discontinue_exercise(self, fields: ExerciseStopFields, meta: CommandMeta) -> None:
        """Take an exercise out of the programme, with the reason."""
        self.check_changeable(fields.exercise_id, fields.effective_date, meta.today)
        self._trigger(self.ExerciseDiscontinued, fields, ExerciseStopFields, meta)

    def record_outcome(self, fields: OutcomeFields, meta: CommandMeta) -> None:
        """Record a score on a standard instrument."""
        self.check_clinical_date("taken_on", fields.taken_on, meta.today)
        instrument = instrument_catalogue().get(fields.instrument)
        if instrument is None:
            known = ", ".join(instrument_catalogue().instruments)
            raise InvalidInput("instrument", f"'{fields.instrument}' is unknown; known: {known}")
        if not instrument.contains(fields.score):
            raise InvalidInput(
                "score",
                f"{fields.score} is outside {instrument.instrument_id}'s range "
                f"{instrument.min}-{instrument.max}",
            )
        canonical = fields.model_copy(update={"instrument": instrument.instrument_id})
        self._trigger(self.OutcomeMeasured, canonical, OutcomeFields, meta)

    def record_progress_report(self, fields: ProgressReportFields, meta: CommandMeta) -> None:
        """Record a progress report; an assistant may not write one (docs/rules.md#modifiers,
        docs/rules.md#plan-of-care).
        """
        self.check_clinical_date("report_date", fields.report_date, meta.today)
        self.check_not_assistant("credential", fields.credential, "write a progress report")
        self.check_credential_fits_discipline("credential", fields.credential)
        if fields.period_end < fields.period_start:
            raise InvalidInput("period_end", f"{fields.period_end} is before {fields.period_start}")
        if fields.period_end > fields.report_date:
            raise InvalidInput("period_end", f"{fields.period_end} is after the report date")
        if fields.period_start < self.start_date:
            raise InvalidInput("period_start", f"{fields.period_start} is before the episode start")
        if not self.plans:
            raise InvalidInput("goal_assessments", "no plan of care is established yet")
        known_goals = {g.goal_id for plan in self.plans for g in plan.goals}
        for index, assessment in enumerate(fields.goal_assessments):
            if assessment.goal_id not in known_goals:
                raise InvalidInput(
                    f"goal_assessments.{index}.goal_id",
                    f"'{assessment.goal_id}' is not a goal of this episode's plan",
                )
        self._trigger(self.ProgressReportRecorded, fields, ProgressReportFields, meta)

    def record_reevaluation(self, fields: ReEvaluationFields, meta: CommandMeta) -> None:
        """Record a re-evaluation by the therapist."""
        self.check_clinical_date("evaluated_on", fields.evaluated_on, meta.today)
        self.check_not_assistant("credential", fields.credential, "re-evaluate")
        self.check_credential_fits_discipline("credential", fields.credential)
        self._trigger(self.ReEvaluationRecorded, fields, ReEvaluationFields, meta)

    def hold_episode(self, fields: HoldFields, meta: CommandMeta) -> None:
        """Pause treatment from a date."""
        self.check_not_discharged()
        self.check_clinical_date("start_date", fields.start_date, meta.today)
        if self.status == "on_hold":
            raise InvalidInput("status", f"the episode is already on hold since {self.holds[-1].start}")
        later = [d for d in self.visits if d >= fields.start_date]
        if later:
            raise InvalidInput("start_date", f"a visit is recorded on {max(later)}, within the hold")
        self._trigger(self.PutOnHold, fields, HoldFields, meta)

    def resume_episode(self, fields: ResumeFields, meta: CommandMeta) -> None:
        """Resume treatment after a hold."""
        self.check_not_discharged()
        self.check_clinical_date("resume_date", fields.resume_date, meta.today)
        if self.status != "on_hold":
            raise InvalidInput("status", "the episode is not on hold")
        if fields.resume_date <= self.holds[-1].start:
            raise InvalidInput("resume_date", f"must be after the hold start {self.holds[-1].start}")
        self._trigger(self.Resumed, fields, ResumeFields, meta)

    def discharge_episode(self, fields: DischargeFields, meta: CommandMeta) -> None:
        """Discharge the episode; no clinical fact may be dated after the discharge."""
        self.check_not_discharged()
        self.check_clinical_date("discharge_date", fields.discharge_date, meta.today)
        last_visit = max(self.visits, default=None)
        if last_visit is not None and fields.discharge_date < last_visit:
            raise InvalidInput(
                "discharge_date", f"{fields.discharge_date} is before the last visit {last_visit}"
            )
        self._trigger(self.Discharged, fields, DischargeFields, meta)

    def record_late_entry(self, fields: LateEntryFields, meta: CommandMeta) -> None:
        """Record a visit's note written after its date of service, marked as a late entry
        (docs/rules.md#amendments).
        """
        self.check_new_visit(fields, meta.today)
        if fields.date_of_service >= meta.today:
            raise InvalidInput(
                "date_of_service",
                f"{fields.date_of_service} is today: a note written on its date of service is not a "
                "late entry; record it as a visit",
            )
        self._trigger(self.LateEntryRecorded, fields, LateEntryFields, meta)

    def correct_visit(self, fields: CorrectionFields, meta: CommandMeta) -> None:
        """Correct fields of a recorded visit; the corrected note must pass the checks of a new one."""
        visit = self.find_amended_visit(fields.date_of_service, fields.amends_version)
        self._record(
            self.VisitCorrected,
            meta,
            date_of_service=visit.date_of_service,
            amends_version=visit.event_version,
            changes=correction_changes(self, visit, fields.changes),
            reason=fields.reason,
        )

    def add_addendum(self, fields: AddendumFields, meta: CommandMeta) -> None:
        """Append information to a recorded visit, dated when written."""
        visit = self.find_amended_visit(fields.date_of_service, fields.amends_version)
        self._record(
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
        self._record(
            self.VisitVoided,
            meta,
            date_of_service=visit.date_of_service,
            amends_version=visit.event_version,
            reason=fields.reason,
        )

    def record_remittance(self, fields: RemittanceFields, meta: CommandMeta) -> None:
        """Record a payer's remittance of the claim of one date of service: the visit must be on record."""
        if fields.date_of_service not in self.visits:
            raise InvalidInput(
                "date_of_service", f"episode {self.id} has no visit on {fields.date_of_service} to remit"
            )
        self._trigger(self.RemittanceReceived, fields, RemittanceFields, meta)

    # --- state helpers -------------------------------------------------------------------

    def change_exercise(
        self, event: Episode.ExerciseProgressed | Episode.ExerciseRegressed, kind: str
    ) -> None:
        """Apply a progression or regression to an exercise (called by its event)."""
        current = self.exercises[event.exercise_id]
        change = ExerciseChange(
            kind="progressed" if kind == "progressed" else "regressed",
            effective_date=event.effective_date,
            dosage=event.dosage,
            name=event.name or current.name,
            reason=event.reason,
            **event.provenance(),
        )
        self.exercises[event.exercise_id] = current.model_copy(
            update={
                "dosage": event.dosage,
                "name": event.name or current.name,
                "equipment": event.equipment or current.equipment,
                "history": (*current.history, change),
            }
        )

    def _trigger(
        self,
        event_class: type[Episode.Event],
        fields: Frozen,
        fields_class: type[Frozen],
        meta: CommandMeta,
        **derived: Any,
    ) -> None:
        """Record a command's fields (those of `fields_class`) and any values derived from the state."""
        self._record(event_class, meta, **_fields(fields, fields_class), **derived)

    def _record(self, event_class: type[Episode.Event], meta: CommandMeta, **values: Any) -> None:
        """Record one event: the only way a command changes the episode.

        Every value here was validated already (the command's fields, the meta the
        application made, and the values derived from the state), so the event is
        built without validating them again: that was about a quarter of deciding
        a command. Events read back from the store are still validated.
        """
        record_event(self, event_class, meta, values)

    def state(self) -> EpisodeState:
        """Return the episode's whole state as one value, every visit read."""
        values = self.state_values()
        values["visits"] = dict(self.visits)
        return EpisodeState(created_on=self.created_on, modified_on=self.modified_on, **values)

    def as_dict(self) -> dict[str, Any]:
        """Return the episode as JSON-ready values (without the command log)."""
        state = self.state().model_dump(mode="json", exclude={"commands"})
        return {"episode_id": str(self.id), "version": self.version, **state}


# Where the aggregate lived before: events and snapshots stored under these topics
# resolve to the classes above (eventsourcing resolves a nested class through its
# registered outer class). Add to this tuple, never remove from it.
OLD_TOPIC_PREFIXES: tuple[str, ...] = ("domain.episode:Episode",)
for _old in OLD_TOPIC_PREFIXES:
    register_topic(_old, Episode)


def topics_of(event_class: type[Any]) -> list[str]:
    """Return every topic events of a class may be stored under: the current one and the old ones."""
    current = get_topic(event_class)
    name = event_class.__qualname__.removeprefix("Episode")
    return [current, *(f"{prefix}{name}" for prefix in OLD_TOPIC_PREFIXES)]
