"""An episode that records every kind of fact once, for the FHIR round-trip tests.

The demo has no hold, void, addendum, re-evaluation, regression, plan revision
or verbal order; this one has each, with times that move forward as they would
in a clinic, so the export → import → export round trip is tested on all of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from domain.demo import Recorded, ReplayClock
from domain.episode import commands as c
from projections.store.root import Store

NAMESPACE = uuid5(UUID(int=0), "careledger-fhir-scenario")
CERTIFIER = {"provider_id": "dr-lee", "name": "Dr. J. Lee", "npi": "1234567893", "credential": "MD"}


def _at(day: str, minute: int) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=18, minutes=minute, microseconds=123
    )


def scenario(name: str = "full", patient: str = "MRN-77") -> list[Recorded]:
    """Return the commands of a PT episode with every kind of fact, with the times they were recorded."""
    episode_id = uuid5(NAMESPACE, name)
    out: list[Recorded] = []

    def add(day: str, kind: type[c.Command], by: str = "pt-kim@clinic", **fields: Any) -> None:
        command_id = uuid5(NAMESPACE, f"{name}/{len(out)}")
        command = kind(command_id=command_id, recorded_by=by, episode_id=episode_id, **fields)
        out.append(Recorded(_at(day, len(out)), command))

    add(
        "2026-09-01",
        c.OpenEpisode,
        by="desk@clinic",
        patient_ref=patient,
        discipline="PT",
        payer={"payer_id": "medicare", "name": "Medicare Part B", "member_id": "1EG4TE5MK73"},
        diagnoses=[{"code": "M17.11", "description": "right knee osteoarthritis"}, {"code": "R26.2"}],
        referring_provider={"provider_id": "dr-ray", "name": "Dr. Ray"},
        certifying_provider=CERTIFIER,
        start_date="2026-09-01",
    )
    add(
        "2026-09-01",
        c.EstablishPlan,
        established_on="2026-09-01",
        therapist_id="pt-kim",
        credential="PT",
        goals=[
            {
                "goal_id": "G1",
                "term": "long",
                "text": "Climb 12 stairs",
                "measure": "stairs",
                "target": "12 reciprocal",
                "target_date": "2026-10-27",
            },
            {"goal_id": "G2", "term": "short", "text": "Flexion 110 degrees"},
        ],
        frequency_per_week=2,
        duration_weeks=8,
        duration_visits=16,
        planned_interventions=["therapeutic exercise", "gait training"],
        diagnoses=[{"code": "M17.11", "description": "right knee osteoarthritis"}],
    )
    add(
        "2026-09-01",
        c.AddExercise,
        exercise_id="slr",
        name="Straight leg raise, right hip flexion, supine",
        body_region="right hip",
        category="strengthening",
        movement="hip flexion",
        equipment="ankle weight",
        dosage={"sets": 3, "reps": 10, "load": "2.5", "load_unit": "lb", "position": "supine"},
        effective_date="2026-09-01",
        reason="quadriceps lag after TKA",
    )
    add(
        "2026-09-01",
        c.AddExercise,
        exercise_id="walk",
        name="Treadmill walk",
        category="gait",
        dosage={"duration_seconds": 300, "distance_m": 200},
        effective_date="2026-09-01",
    )
    add(
        "2026-09-02",
        c.RecordVisit,
        date_of_service="2026-09-02",
        provider_id="pt-kim",
        credential="PT",
        service_lines=[
            {
                "code": "97110",
                "minutes": 30,
                "start": "10:00",
                "end": "10:30",
                "units": 2,
                "modifiers": ["GP"],
            },
            {"code": "97140", "minutes": 15, "start": "10:30", "end": "10:45"},
            {"code": "97010", "minutes": 10},
        ],
        total_treatment_minutes=55,
        necessity="Knee flexion 95 degrees limits stairs after TKA.",
        exercises=[
            {
                "exercise_id": "slr",
                "name": "Straight leg raise",
                "dosage": {"sets": 3, "reps": 10, "load": "2.5", "load_unit": "lb"},
                "note": "lag 5°",
            },
            {"name": "Heel slides", "dosage": {"sets": 2, "reps": 15}},
        ],
        skilled_interventions=["cues for VMO activation", "joint mobilisation grade III"],
        patient_response="Pain 3/10 after, flexion 98 degrees.",
        narrative="One-on-one throughout. <b>bold</b> & 'quotes' <script>alert('x')</script>",
    )
    add(
        "2026-09-04",
        c.CertifyPlan,
        certifier=CERTIFIER,
        verbal_order_on="2026-09-03",
        period_start="2026-09-01",
        period_end="2026-10-27",
        delay_reason="physician away",
    )
    add(
        "2026-09-07",
        c.ProgressExercise,
        exercise_id="slr",
        dosage={"sets": 3, "reps": 12, "load": "4", "load_unit": "lb"},
        equipment="cuff weight",
        effective_date="2026-09-07",
        reason="no lag, 2 sets easy",
    )
    add(
        "2026-09-07",
        c.RecordVisit,
        by="pta-ng@clinic",
        date_of_service="2026-09-07",
        provider_id="pta-ng",
        credential="PTA",
        supervising_provider_id="pt-kim",
        service_lines=[
            {"code": "97110", "minutes": 38, "assistant_minutes": 38},
            {"code": "97116", "minutes": 9},
        ],
        total_treatment_minutes=47,
        necessity="Stair climbing limited by quadriceps weakness.",
        exercises=[
            {
                "exercise_id": "slr",
                "name": "Straight leg raise",
                "dosage": {"sets": 3, "reps": 12, "load": "4", "load_unit": "lb"},
            }
        ],
        skilled_interventions=["progressed load"],
        patient_response="Fatigued at set 3.",
    )
    add(
        "2026-09-09",
        c.RecordLateEntry,
        date_of_service="2026-09-08",
        provider_id="pt-kim",
        credential="PT",
        service_lines=[{"code": "97110", "minutes": 25}],
        total_treatment_minutes=25,
        necessity="Written late.",
        reason="dictation lost, rewritten from the treatment log",
    )
    add(
        "2026-09-10",
        c.CorrectVisit,
        date_of_service="2026-09-07",
        changes={"total_treatment_minutes": 50, "patient_response": "Fatigued at set 3; pain 2/10."},
        reason="timer log shows 50 minutes",
    )
    add(
        "2026-09-10",
        c.AddAddendum,
        date_of_service="2026-09-02",
        text="Patient also reported less swelling.",
        reason="information received after signing",
    )
    add(
        "2026-09-11",
        c.RecordVisit,
        date_of_service="2026-09-11",
        provider_id="pt-kim",
        credential="PT",
        service_lines=[{"code": "97110", "minutes": 20}],
        total_treatment_minutes=20,
        necessity="Wrong patient.",
    )
    add("2026-09-11", c.VoidVisit, date_of_service="2026-09-11", reason="entered on the wrong chart")
    add(
        "2026-09-11",
        c.RecordVisit,
        date_of_service="2026-09-11",
        provider_id="pt-kim",
        credential="PT",
        service_lines=[{"code": "97112", "minutes": 23}],
        total_treatment_minutes=23,
        necessity="Balance.",
    )
    add(
        "2026-09-11",
        c.CorrectVisit,
        date_of_service="2026-09-11",
        changes={"service_lines": [{"code": "97112", "minutes": 24}], "total_treatment_minutes": 24},
        reason="one more minute",
    )
    add(
        "2026-09-12",
        c.RegressExercise,
        exercise_id="walk",
        dosage={"duration_seconds": 240},
        effective_date="2026-09-12",
        reason="knee effusion",
    )
    add(
        "2026-09-12",
        c.RecordOutcome,
        instrument="LEFS",
        score="31.5",
        taken_on="2026-09-02",
        measured_by="pt-kim",
        note="baseline",
    )
    add("2026-09-12", c.RecordOutcome, instrument="odi", score="40", taken_on="2026-09-11")
    add("2026-09-14", c.HoldEpisode, start_date="2026-09-14", reason="hospital stay")
    add("2026-09-21", c.ResumeEpisode, resume_date="2026-09-21")
    add(
        "2026-09-21",
        c.RecordReEvaluation,
        evaluated_on="2026-09-21",
        provider_id="pt-kim",
        credential="PT",
        findings="Flexion 105 degrees after the stay",
        plan_changes="add balance work",
    )
    add(
        "2026-09-21",
        c.EstablishPlan,
        established_on="2026-09-21",
        therapist_id="pt-kim",
        credential="PT",
        goals=[
            {"goal_id": "G1", "term": "long", "text": "Climb 12 stairs"},
            {"goal_id": "G3", "term": "short", "text": "Single-leg stance 10 s"},
        ],
        frequency_per_week=3,
        duration_weeks=6,
    )
    add(
        "2026-09-22",
        c.CertifyPlan,
        certifier=CERTIFIER,
        signed_on="2026-09-22",
        period_start="2026-09-21",
        period_end="2026-11-01",
        plan_version=2,
    )
    add(
        "2026-09-23",
        c.RecordProgressReport,
        report_date="2026-09-23",
        period_start="2026-09-01",
        period_end="2026-09-23",
        author_id="pt-kim",
        credential="PT",
        goal_assessments=[
            {"goal_id": "G1", "status": "progressing", "note": "8 stairs"},
            {"goal_id": "G2", "status": "met"},
        ],
        assessment="Progressing after the hospital stay.",
        plan="Continue 3x/week.",
    )
    add(
        "2026-09-24",
        c.DiscontinueExercise,
        exercise_id="walk",
        effective_date="2026-09-24",
        reason="walking outdoors instead",
    )
    add("2026-09-30", c.HoldEpisode, start_date="2026-09-30", reason="travel")
    add(
        "2026-10-05",
        c.DischargeEpisode,
        discharge_date="2026-10-05",
        reason="did not return",
        summary="Discharged while on hold.",
    )
    return out


def load(store: Store, recorded: list[Recorded]) -> None:
    """Apply recorded commands with the clock at the time each was recorded."""
    clock = ReplayClock(recorded[0].at)
    saved = store.app.clock
    store.app.clock = clock
    try:
        for item in recorded:
            clock.now = item.at
            store.app.handle(item.command)
    finally:
        store.app.clock = saved


def episode_id(name: str = "full") -> UUID:
    """Return the id of the scenario's episode."""
    return uuid5(NAMESPACE, name)
