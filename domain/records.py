"""The facts an episode records, each as a set of fields and as a stored record.

A `...Fields` model is the payload shared by a command and the event it
becomes, so the JSON a user sends and the event that is stored use the same
names. A record is those fields plus where they came from (which event, recorded
when and by whom): it is what the episode's state holds.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from domain.values import (
    CertifierCredential,
    Code,
    Diagnosis,
    Discipline,
    Dosage,
    ExerciseCategory,
    Frozen,
    Goal,
    GoalAssessment,
    Identifier,
    Modifier,
    PatientRef,
    PayerRef,
    PerformedExercise,
    Provider,
    Score,
    ServiceLine,
    ShortText,
    Text,
    TherapistCredential,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Provenance(Frozen):
    """Where a record came from: the event's version, its recorded time and author."""

    event_version: int
    recorded_at: datetime
    recorded_by: str


# --- opening the episode -----------------------------------------------------------------


class EpisodeFields(Frozen):
    """Who the episode is for, which discipline and payer, why, and since when."""

    patient_ref: PatientRef
    discipline: Discipline
    payer: PayerRef
    diagnoses: tuple[Diagnosis, ...] = Field(min_length=1, max_length=12)
    referring_provider: Provider | None = None
    certifying_provider: Provider | None = None
    start_date: date


# --- plan of care and certification (docs/rules.md#plan-of-care, CMS BPM ch.15 §220.1)
# --------------------------


class PlanFields(Frozen):
    """A plan of care: measurable goals and the type, amount, frequency and duration."""

    established_on: date
    therapist_id: Identifier
    credential: TherapistCredential
    goals: tuple[Goal, ...] = Field(min_length=1, max_length=30)
    frequency_per_week: int = Field(strict=True, ge=1, le=14)
    duration_weeks: int | None = Field(default=None, strict=True, ge=1, le=104)
    duration_visits: int | None = Field(default=None, strict=True, ge=1, le=365)
    planned_interventions: tuple[ShortText, ...] = Field(default=(), max_length=40)
    diagnoses: tuple[Diagnosis, ...] = Field(default=(), max_length=12)


class Plan(PlanFields, Provenance):
    """A plan of care as established; `plan_version` counts from 1."""

    plan_version: int


CertificationKind = Literal["initial", "recertification"]


class CertificationFields(Frozen):
    """A physician's or practitioner's certification of a plan for a period."""

    certifier: Provider
    signed_on: date | None = None
    verbal_order_on: date | None = None
    period_start: date
    period_end: date
    plan_version: int | None = Field(default=None, strict=True, ge=1)
    delay_reason: Text = ""


class Certification(CertificationFields, Provenance):
    """A certification as recorded, with the plan version it certifies."""

    kind: CertificationKind
    certified_plan: int


# --- visits ------------------------------------------------------------------------------


class VisitFields(Frozen):
    """A treatment note for one date of service (docs/rules.md#plan-of-care, docs/rules.md#documentation)."""

    date_of_service: date
    provider_id: Identifier
    credential: TherapistCredential
    supervising_provider_id: Identifier | None = None
    service_lines: tuple[ServiceLine, ...] = Field(min_length=1, max_length=20)
    total_treatment_minutes: int = Field(strict=True, ge=0, le=1440)
    necessity: Text = ""
    exercises: tuple[PerformedExercise, ...] = Field(default=(), max_length=60)
    skilled_interventions: tuple[ShortText, ...] = Field(default=(), max_length=30)
    patient_response: Text = ""
    narrative: Text = ""


# --- amendments of a visit (docs/rules.md#amendments) -------------------------------------------------

AmendmentKind = Literal["late_entry", "correction", "addendum", "void"]
AddendumText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class Amendment(Provenance):
    """One amendment of a visit: what kind, which entry it amends, who, when and why
    (docs/rules.md#amendments).

    `event_version`, `recorded_at` and `recorded_by` are the amendment's own;
    `amends_version` is the version of the visit's entry (its `VisitRecorded` or
    `LateEntryRecorded`). A correction lists each changed field's value before
    (`previous`) and after (`changes`), as JSON values; an addendum has its `text`.
    """

    kind: AmendmentKind
    amends_version: int
    reason: str
    changes: dict[str, Any] = Field(default_factory=dict)
    previous: dict[str, Any] = Field(default_factory=dict)
    text: str = ""


class Visit(VisitFields, Provenance):
    """A visit as it stands now (corrections applied); an episode has at most one per date of service.

    Its provenance is that of its entry; `amendments` lists the late-entry mark,
    corrections, addenda and the void, oldest first.
    """

    amendments: tuple[Amendment, ...] = ()


# The fields a correction may change: every field of the note but its date (void and re-record instead).
CORRECTABLE_FIELDS: tuple[str, ...] = tuple(
    name for name in VisitFields.model_fields if name != "date_of_service"
)


class LateEntryFields(VisitFields):
    """A visit note written after its date of service, with why it is late (docs/rules.md#amendments)."""

    reason: Reason


class AmendmentTargetFields(Frozen):
    """Which visit an amendment is for: its date of service, its entry version, or both (they must agree)."""

    date_of_service: date | None = None
    amends_version: int | None = Field(default=None, strict=True, ge=1)


class CorrectionFields(AmendmentTargetFields):
    """New values for fields of a recorded visit (field name to value, as in record_visit), and why."""

    changes: dict[str, Any] = Field(min_length=1, max_length=len(CORRECTABLE_FIELDS))
    reason: Reason


class AddendumFields(AmendmentTargetFields):
    """Information added to a recorded visit after it was written, and why."""

    text: AddendumText
    reason: Reason


class VoidFields(AmendmentTargetFields):
    """A visit entered in error: it leaves the current record (its history stays), and why."""

    reason: Reason


# --- exercise changes --------------------------------------------------------------------


class ExerciseAddFields(Frozen):
    """A new exercise in the programme, named specifically, with its starting dosage."""

    exercise_id: Identifier
    name: ShortText
    body_region: ShortText | None = None
    category: ExerciseCategory
    movement: ShortText | None = None
    equipment: ShortText | None = None
    dosage: Dosage = Dosage()
    effective_date: date
    reason: Text = ""


class ExerciseChangeFields(Frozen):
    """A progression or regression: the new dosage (and variant) and why."""

    exercise_id: Identifier
    dosage: Dosage
    name: ShortText | None = None
    equipment: ShortText | None = None
    effective_date: date
    reason: Reason


class ExerciseStopFields(Frozen):
    """An exercise taken out of the programme, and why."""

    exercise_id: Identifier
    effective_date: date
    reason: Reason


ExerciseChangeKind = Literal["added", "progressed", "regressed", "discontinued"]


class ExerciseChange(Provenance):
    """One change in an exercise's history."""

    kind: ExerciseChangeKind
    effective_date: date
    dosage: Dosage | None
    name: str
    reason: str


class Exercise(Frozen):
    """An exercise of the episode, its current prescription and its history."""

    exercise_id: str
    name: str
    body_region: str | None
    category: ExerciseCategory
    movement: str | None
    equipment: str | None
    dosage: Dosage
    active: bool
    history: tuple[ExerciseChange, ...]


# --- outcome measures, reports, holds, discharge -----------------------------------------


class OutcomeFields(Frozen):
    """A score on a standard instrument, and when it was taken (docs/rules.md#outcome-instruments)."""

    instrument: Identifier
    score: Score
    taken_on: date
    measured_by: Identifier | None = None
    note: Text = ""


class Outcome(OutcomeFields, Provenance):
    """An outcome measure as recorded."""


class ProgressReportFields(Frozen):
    """A progress report: the period, each goal's progress, and the plan (CMS BPM ch.15 §220.3)."""

    report_date: date
    period_start: date
    period_end: date
    author_id: Identifier
    credential: TherapistCredential
    goal_assessments: tuple[GoalAssessment, ...] = Field(default=(), max_length=30)
    assessment: Text = ""
    plan: Text = ""


class ProgressReport(ProgressReportFields, Provenance):
    """A progress report as recorded."""


class ReEvaluationFields(Frozen):
    """A re-evaluation: new findings and what changes in the plan."""

    evaluated_on: date
    provider_id: Identifier
    credential: TherapistCredential
    findings: Reason
    plan_changes: Text = ""


class ReEvaluation(ReEvaluationFields, Provenance):
    """A re-evaluation as recorded."""


class HoldFields(Frozen):
    """Treatment paused from a date (e.g. hospital stay, surgery), and why."""

    start_date: date
    reason: Reason


class ResumeFields(Frozen):
    """Treatment resumed after a hold."""

    resume_date: date


class Hold(Provenance):
    """A hold period; `end` is None while the hold lasts (the resume date is excluded)."""

    start: date
    end: date | None
    reason: str


class DischargeFields(Frozen):
    """The end of the episode."""

    discharge_date: date
    reason: ShortText
    summary: Text = ""


class Discharge(DischargeFields, Provenance):
    """A discharge as recorded."""


# --- remittances: what the payer did to each claim line (ASC X12 835, docs/billing.md#835) --------

AdjustmentGroup = Literal["CO", "PR", "OA", "PI", "CR"]
RemitCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{1,5}$")
]
ClaimId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^\S+$")
]
Money = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=11, decimal_places=2)]


class RemitAdjustment(Frozen):
    """One claim adjustment (835 CAS): its group, reason code (CARC) and amount, perhaps units."""

    group: AdjustmentGroup
    reason: RemitCode
    amount: Money
    quantity: int | None = Field(default=None, strict=True)


class RemitLine(Frozen):
    """What the payer did to one service line (835 SVC): the code and modifiers it pays, the
    charge, the amount paid, the units paid, its adjustments and remark codes (RARC, LQ*HE).
    """

    code: Code
    modifiers: tuple[Modifier, ...] = Field(default=(), max_length=4)
    charge: Money
    paid: Money
    units: int = Field(default=1, strict=True, ge=0, le=9999)
    adjustments: tuple[RemitAdjustment, ...] = Field(default=(), max_length=30)
    remarks: tuple[RemitCode, ...] = Field(default=(), max_length=20)


class RemittanceFields(Frozen):
    """A payer's remittance of one claim (835 CLP) careledger sent (837P CLM01 `claim_id`).

    `source_file` and `source_sha256` name the file it came from; `claim_received_on` is the
    date the payer received the claim (DTM*050), `paid_on` the payment's date (BPR16).
    """

    date_of_service: date
    claim_id: ClaimId
    payer_claim_control_number: ClaimId
    claim_status: RemitCode
    charge: Money
    paid: Money
    patient_responsibility: Money = Decimal(0)
    payer_name: ShortText
    payer_id: Identifier | None = None
    trace_number: ClaimId
    paid_on: date | None = None
    claim_received_on: date | None = None
    claim_adjustments: tuple[RemitAdjustment, ...] = Field(default=(), max_length=30)
    claim_remarks: tuple[RemitCode, ...] = Field(default=(), max_length=20)
    lines: tuple[RemitLine, ...] = Field(max_length=50)
    source_file: ShortText
    source_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Remittance(RemittanceFields, Provenance):
    """A remittance as recorded: when it arrived (`recorded_at`) and who imported it."""


class _EpisodeStateFields(Frozen):
    """The fields of an episode's state; `visits` is typed by the two forms below."""

    created_on: datetime
    modified_on: datetime
    patient_ref: str
    discipline: str
    payer: PayerRef
    diagnoses: tuple[Diagnosis, ...]
    referring_provider: Provider | None
    certifying_provider: Provider | None
    start_date: date
    status: str
    plans: list[Plan]
    certifications: list[Certification]
    visits: Any
    exercises: dict[str, Exercise]
    outcomes: list[Outcome]
    progress_reports: list[ProgressReport]
    reevaluations: list[ReEvaluation]
    holds: list[Hold]
    discharge: Discharge | None
    commands: dict[str, str]
    voided_visits: list[Visit] = Field(default_factory=list)
    remittances: list[Remittance] = Field(default_factory=list)
    opened_by: str | None = None


class EpisodeState(_EpisodeStateFields):
    """The whole state of an episode as one value, every visit a `Visit`."""

    visits: dict[date, Visit]


class SnapshotState(_EpisodeStateFields):
    """The state a snapshot stores: the same fields, each visit note kept as its JSON text.

    Loading a snapshot then validates the episode's small fields and leaves the
    notes as text until one is read (domain/lazy.py). A snapshot written when
    visits were stored as objects is read too: each is validated once and kept
    as the same text a new snapshot would hold.
    """

    visits: dict[date, str]

    @field_validator("visits", mode="before")
    @classmethod
    def _visits_as_text(cls, value: Any) -> Any:
        # Snapshots hold one form throughout: looking at the first visit tells which.
        if isinstance(value, dict) and value and not isinstance(next(iter(value.values())), str):
            return {
                day: v if isinstance(v, str) else Visit.model_validate(v).model_dump_json()
                for day, v in value.items()
            }
        return value


__all__ = [
    "CORRECTABLE_FIELDS",
    "AddendumFields",
    "Amendment",
    "AmendmentKind",
    "AmendmentTargetFields",
    "Certification",
    "CertificationFields",
    "CertifierCredential",
    "CorrectionFields",
    "Discharge",
    "DischargeFields",
    "EpisodeFields",
    "EpisodeState",
    "Exercise",
    "ExerciseAddFields",
    "ExerciseChange",
    "ExerciseChangeFields",
    "ExerciseStopFields",
    "Hold",
    "HoldFields",
    "LateEntryFields",
    "Outcome",
    "OutcomeFields",
    "Plan",
    "PlanFields",
    "ProgressReport",
    "ProgressReportFields",
    "Provenance",
    "ReEvaluation",
    "ReEvaluationFields",
    "RemitAdjustment",
    "RemitLine",
    "Remittance",
    "RemittanceFields",
    "ResumeFields",
    "SnapshotState",
    "Visit",
    "VisitFields",
    "VoidFields",
]
