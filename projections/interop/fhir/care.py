"""The plan side of the bundle: plans of care with their certifications and goals, the exercise
programme, outcome measures (Observation), progress reports and re-evaluations (ClinicalImpression).
"""

from __future__ import annotations

from typing import Any

from domain.records import Certification, Plan
from domain.rules.catalogue import instrument_catalogue
from domain.values import Dosage, Provider
from projections.interop.fhir.builder import Builder, Resource
from projections.interop.fhir.codes import (
    CS_ACTIVITY,
    CS_CARE_PLAN,
    CS_EXERCISE_CATEGORY,
    CS_GOAL_TERM,
    CS_IMPRESSION,
    CS_INSTRUMENT,
    LOINC,
    OBSERVATION_CATEGORY,
    SID_GOAL,
    SID_PLAN,
    UCUM,
    coding,
    complex_ext,
    concept,
    day,
    ext,
    recorded,
    ref,
    resource_id,
    sub,
)

# UCUM codes of the units the instrument catalogue uses; "points" is a unitless score.
UCUM_UNITS = {"points": "{score}", "%": "%", "s": "s", "m": "m"}


def _finished(b: Builder) -> bool:
    return b.episode.status == "discharged"


def plans(b: Builder) -> None:
    """Add one CarePlan per plan version, with its goals and the certifications of that version."""
    ordered = sorted(b.episode.plans, key=lambda p: p.plan_version)
    latest = ordered[-1].plan_version if ordered else 0
    for plan in ordered:
        b.add(_care_plan(b, plan, latest))


def _care_plan(b: Builder, plan: Plan, latest: int) -> Resource:
    version = plan.plan_version
    status = ("completed" if _finished(b) else "active") if version == latest else "revoked"
    extensions: list[Resource] = [
        recorded(plan.event_version, plan.recorded_at, plan.recorded_by),
        b.episode_ext,
    ]
    certs = [c for c in b.episode.certifications if c.certified_plan == version]
    extensions += [_certification(b, cert) for cert in certs]
    timing: dict[str, Any] = {"frequency": plan.frequency_per_week, "period": 1, "periodUnit": "wk"}
    if plan.duration_weeks is not None:
        timing["boundsDuration"] = {"value": plan.duration_weeks, "unit": "wk", "system": UCUM, "code": "wk"}
    if plan.duration_visits is not None:
        timing["count"] = plan.duration_visits
    activities: list[Resource] = [
        {
            "detail": {
                "code": concept(CS_ACTIVITY, "treatment", "treatment frequency and duration"),
                "status": "scheduled",
                "scheduledTiming": {"repeat": timing},
            }
        }
    ]
    activities += [
        {
            "detail": {
                "code": concept(CS_ACTIVITY, "intervention", "planned intervention"),
                "status": "scheduled",
                "description": text,
            }
        }
        for text in plan.planned_interventions
    ]
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": resource_id("CarePlan", b.episode_id, "plan", version),
        "extension": extensions,
        "identifier": [{"system": SID_PLAN, "value": f"{b.episode_id}/v{version}"}],
        "status": status,
        "intent": "plan",
        "category": [concept(CS_CARE_PLAN, "plan-of-care", "plan of care")],
        "title": f"Plan of care v{version}",
        "subject": b.patient,
        "period": {"start": day(plan.established_on)},
        "created": day(plan.established_on),
        "author": b.role(plan.therapist_id, plan.credential),
        "goal": [_goal(b, plan, index) for index in range(len(plan.goals))],
        "activity": activities,
    }
    if version > 1:
        resource["replaces"] = [ref("CarePlan", resource_id("CarePlan", b.episode_id, "plan", version - 1))]
    if plan.diagnoses:
        resource["addresses"] = [b.condition(d) for d in plan.diagnoses]
    return resource


def _certification(b: Builder, cert: Certification) -> Resource:
    period = {"start": day(cert.period_start), "end": day(cert.period_end)}
    return complex_ext(
        "certification",
        [
            recorded(cert.event_version, cert.recorded_at, cert.recorded_by),
            sub("kind", "Code", cert.kind),
            sub("certifier", "Reference", b.practitioner(cert.certifier)),
            sub("signedOn", "Date", day(cert.signed_on) if cert.signed_on else None),
            sub("verbalOrderOn", "Date", day(cert.verbal_order_on) if cert.verbal_order_on else None),
            sub("period", "Period", period),
            sub("planVersion", "Integer", cert.plan_version),
            sub("delayReason", "String", cert.delay_reason),
        ],
    )


def _goal(b: Builder, plan: Plan, index: int) -> Resource:
    goal = plan.goals[index]
    resource: Resource = {
        "resourceType": "Goal",
        "id": resource_id("Goal", b.episode_id, plan.plan_version, goal.goal_id),
        "identifier": [{"system": SID_GOAL, "value": goal.goal_id}],
        "lifecycleStatus": "completed" if _finished(b) else "active",
        "category": [concept(CS_GOAL_TERM, goal.term, f"{goal.term}-term goal")],
        "description": {"text": goal.text},
        "subject": b.patient,
        "startDate": day(plan.established_on),
    }
    target: Resource = {}
    if goal.measure:
        target["measure"] = {"text": goal.measure}
    if goal.target:
        target["detailString"] = goal.target
    if goal.target_date:
        target["dueDate"] = day(goal.target_date)
    if target:
        resource["target"] = [target]
    return ref("Goal", b.add(resource), goal.goal_id)


def dosage_ext(name: str, dosage: Dosage, *, url: str | None = None) -> Resource:
    """Return a dosage as a complex extension (every element that is given)."""
    return complex_ext(
        name,
        [
            sub("sets", "Integer", dosage.sets),
            sub("reps", "Integer", dosage.reps),
            sub("load", "Decimal", dosage.load),
            sub("loadUnit", "Code", dosage.load_unit),
            sub("resistance", "String", dosage.resistance),
            sub("durationSeconds", "Integer", dosage.duration_seconds),
            sub("distanceM", "Integer", dosage.distance_m),
            sub("position", "String", dosage.position),
        ],
        url=url,
    )


def exercise_programme(b: Builder) -> None:
    """Add the exercise programme: a CarePlan with one activity per exercise and its history of changes."""
    if not b.episode.exercises:
        return
    activities = []
    for exercise in b.episode.exercises.values():
        changes = []
        for change in exercise.history:
            event = b.events[change.event_version]
            parts = [
                recorded(change.event_version, change.recorded_at, change.recorded_by),
                sub("kind", "Code", change.kind),
                sub("effectiveDate", "Date", day(change.effective_date)),
                sub("name", "String", getattr(event, "name", None)),
                sub("equipment", "String", getattr(event, "equipment", None)),
                (
                    dosage_ext("dosage", change.dosage, url="dosage")
                    if change.dosage is not None and not change.dosage.is_empty()
                    else None
                ),
                sub("reason", "String", change.reason),
            ]
            if change.kind == "added":
                parts += [
                    sub("bodyRegion", "String", exercise.body_region),
                    sub("movement", "String", exercise.movement),
                ]
            changes.append(complex_ext("exercise-change", parts))
        activities.append(
            {
                "detail": {
                    "extension": [ext("exercise-id", "String", exercise.exercise_id), *changes],
                    "code": concept(
                        CS_EXERCISE_CATEGORY, exercise.category, exercise.category.replace("_", " ")
                    ),
                    "status": "in-progress" if exercise.active and not _finished(b) else "stopped",
                    "description": f"{exercise.name}: {exercise.dosage.describe()}",
                }
            }
        )
    b.add(
        {
            "resourceType": "CarePlan",
            "id": resource_id("CarePlan", b.episode_id, "exercises"),
            "extension": [b.episode_ext],
            "status": "completed" if _finished(b) else "active",
            "intent": "plan",
            "category": [concept(CS_CARE_PLAN, "exercise-programme", "exercise programme")],
            "title": "Exercise programme",
            "subject": b.patient,
            "activity": activities,
        }
    )


def observations(b: Builder) -> None:
    """Add one Observation per outcome measure: LOINC where the catalogue has one, else careledger's code."""
    catalogue = instrument_catalogue()
    for outcome in sorted(b.episode.outcomes, key=lambda o: o.event_version):
        instrument = catalogue.get(outcome.instrument)
        name = instrument.name if instrument is not None else outcome.instrument
        codings = []
        if instrument is not None and instrument.loinc:
            codings.append(coding(LOINC, instrument.loinc, name))
        codings.append(coding(CS_INSTRUMENT, outcome.instrument, name))
        value: Resource = {"value": outcome.score}
        if instrument is not None:
            value["unit"] = instrument.unit
            if instrument.unit in UCUM_UNITS:
                value.update(system=UCUM, code=UCUM_UNITS[instrument.unit])
        resource: Resource = {
            "resourceType": "Observation",
            "id": resource_id("Observation", b.episode_id, outcome.event_version),
            "extension": [
                recorded(outcome.event_version, outcome.recorded_at, outcome.recorded_by),
                b.episode_ext,
            ],
            "status": "final",
            "category": [concept(OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": {"coding": codings, "text": name},
            "subject": b.patient,
            "effectiveDateTime": day(outcome.taken_on),
            "valueQuantity": value,
        }
        visit = b.episode.visits.get(outcome.taken_on)
        if visit is not None:
            resource["encounter"] = ref(
                "Encounter", resource_id("Encounter", b.episode_id, visit.event_version)
            )
        if outcome.measured_by:
            resource["performer"] = [b.practitioner(Provider(provider_id=outcome.measured_by))]
        if outcome.note:
            resource["note"] = [{"text": outcome.note}]
        b.add(resource)


def impressions(b: Builder) -> None:
    """Add progress reports and re-evaluations as ClinicalImpressions."""
    for report in b.episode.progress_reports:
        assessments = [
            complex_ext(
                "goal-assessment",
                [
                    sub("goal", "String", a.goal_id),
                    sub("status", "Code", a.status),
                    sub("note", "String", a.note),
                ],
            )
            for a in report.goal_assessments
        ]
        resource: Resource = {
            "resourceType": "ClinicalImpression",
            "id": resource_id("ClinicalImpression", b.episode_id, report.event_version),
            "extension": [
                recorded(report.event_version, report.recorded_at, report.recorded_by),
                b.episode_ext,
                *assessments,
            ],
            "status": "completed",
            "code": concept(CS_IMPRESSION, "progress-report", "progress report"),
            "subject": b.patient,
            "effectivePeriod": {"start": day(report.period_start), "end": day(report.period_end)},
            "date": day(report.report_date),
            "assessor": b.role(report.author_id, report.credential),
        }
        _texts(resource, report.assessment, report.plan)
        b.add(resource)
    for reeval in b.episode.reevaluations:
        resource = {
            "resourceType": "ClinicalImpression",
            "id": resource_id("ClinicalImpression", b.episode_id, reeval.event_version),
            "extension": [
                recorded(reeval.event_version, reeval.recorded_at, reeval.recorded_by),
                b.episode_ext,
            ],
            "status": "completed",
            "code": concept(CS_IMPRESSION, "reevaluation", "re-evaluation"),
            "subject": b.patient,
            "effectiveDateTime": day(reeval.evaluated_on),
            "date": day(reeval.evaluated_on),
            "assessor": b.role(reeval.provider_id, reeval.credential),
        }
        _texts(resource, reeval.findings, reeval.plan_changes)
        b.add(resource)


def _texts(resource: Resource, summary: str, plan: str) -> None:
    if summary:
        resource["summary"] = summary
    if plan:
        resource["note"] = [{"text": plan}]
