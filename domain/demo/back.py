"""The demo's low-back episode: copied notes, no progression, late progress report."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from domain.demo.script import Script, visit_days
from domain.episode import commands as c


def back_episode(rng: random.Random, key: str, patient: str, start: date) -> Script:
    """A low-back episode whose notes are copied and whose dosage never changes."""
    s = Script(key, user="front-desk@demo-clinic")
    s.add(
        start,
        c.OpenEpisode,
        patient_ref=patient,
        discipline="PT",
        payer={"payer_id": "medicare", "member_id": f"MBI{rng.randint(10**6, 10**7 - 1)}"},
        diagnoses=[{"code": "M54.50", "description": "low back pain, unspecified"}],
        referring_provider={"provider_id": "dr-patel", "credential": "DO"},
        certifying_provider={"provider_id": "dr-patel", "credential": "DO"},
        start_date=start,
    )
    pt = "pt-brooks"
    s.therapist = f"{pt}@demo-clinic"
    s.add(
        start,
        c.EstablishPlan,
        established_on=start,
        therapist_id=pt,
        credential="PT",
        goals=[
            {"goal_id": "G1", "term": "long", "text": "Decrease pain", "measure": "NPRS"},
            {"goal_id": "G2", "term": "long", "text": "Improve function", "measure": "ODI"},
        ],
        frequency_per_week=2,
        duration_weeks=8,
        planned_interventions=["therapeutic exercise", "manual therapy"],
    )
    generic = [
        ("lb-strength", "LE strengthening", None, "strengthening", {}),
        (
            "core",
            "Core stabilisation, supine bracing with march",
            "lumbar spine",
            "motor_control",
            {"sets": 2, "reps": 10},
        ),
        (
            "bridge",
            "Bridging, bilateral, supine",
            "hips and lumbar spine",
            "strengthening",
            {"sets": 2, "reps": 10},
        ),
    ]
    for ex_id, name, region, category, dosage in generic:
        s.add(
            start,
            c.AddExercise,
            exercise_id=ex_id,
            name=name,
            body_region=region,
            category=category,
            dosage=dosage,
            effective_date=start,
        )
    s.add(start, c.RecordOutcome, instrument="ODI", score="42", taken_on=start, measured_by=pt)
    days = visit_days(start, 14, (1, 3))
    copied_necessity = "Patient needs skilled therapy for back pain."
    copied_narrative = "Therapeutic exercises performed. Patient tolerated treatment. Continue plan of care."
    for n, day in enumerate(days, start=1):
        if n == 1:
            lines: list[dict[str, Any]] = [{"code": "97161", "minutes": 30}, {"code": "97110", "minutes": 15}]
        else:
            lines = [
                {"code": "97110", "minutes": 24, "units": 2},
                {"code": "97140", "minutes": 8, "units": 1},
            ]
            if n in (5, 9):
                lines[0] = {"code": "97110", "minutes": 22, "units": 2}
        timed = sum(int(line["minutes"]) for line in lines)
        s.add(
            day,
            c.RecordVisit,
            date_of_service=day,
            provider_id=pt,
            credential="PT",
            service_lines=lines,
            total_treatment_minutes=timed + 5,
            necessity=copied_necessity,
            exercises=[
                {"exercise_id": ex_id, "name": name, "dosage": dosage}
                for ex_id, name, _, _, dosage in generic
            ],
            skilled_interventions=["instructed in HEP"] if n != 7 else [],
            patient_response="" if n % 3 == 0 else "Patient tolerated treatment.",
            narrative=(
                copied_narrative
                if n not in (6, 11)
                else "Pt exercised independently in gym while therapist supervised other patients."
            ),
        )
        if n == 13:
            s.add(
                day,
                c.RecordProgressReport,
                report_date=day,
                period_start=start,
                period_end=day,
                author_id=pt,
                credential="PT",
                goal_assessments=[
                    {"goal_id": "G1", "status": "progressing"},
                    {"goal_id": "G2", "status": "progressing"},
                ],
                assessment="Patient is progressing.",
                plan="Continue plan of care.",
            )
    s.add(days[-1], c.RecordOutcome, instrument="ODI", score="40", taken_on=days[-1], measured_by=pt)
    # The certification comes back signed 36 days after the first treatment: late
    # (docs/rules.md#plan-of-care).
    s.add(
        start + timedelta(days=36),
        c.CertifyPlan,
        certifier={"provider_id": "dr-patel", "credential": "DO"},
        signed_on=start + timedelta(days=36),
        period_start=start,
        period_end=start + timedelta(weeks=8),
    )
    return s
