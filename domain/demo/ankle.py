"""The demo's right ankle sprain on a commercial payer that uses the AMA rule."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from domain.demo.script import Script, visit_days
from domain.episode import commands as c


def ankle_episode(rng: random.Random, key: str, patient: str, start: date) -> Script:
    """A short commercial (AMA rule) episode for a right ankle sprain."""
    s = Script(key, user="front-desk@demo-clinic")
    s.add(
        start,
        c.OpenEpisode,
        patient_ref=patient,
        discipline="PT",
        payer={"payer_id": "commercial-ama", "name": "Example commercial payer"},
        diagnoses=[{"code": "S93.401A", "description": "sprain of unspecified ligament of right ankle"}],
        start_date=start,
    )
    pt = "pt-rivera"
    s.therapist = f"{pt}@demo-clinic"
    s.add(
        start,
        c.EstablishPlan,
        established_on=start,
        therapist_id=pt,
        credential="PT",
        goals=[
            {
                "goal_id": "G1",
                "term": "long",
                "text": "Return to running 3 miles without pain",
                "measure": "running tolerance",
                "target": "3 miles",
            }
        ],
        frequency_per_week=2,
        duration_visits=6,
    )
    s.add(
        start,
        c.AddExercise,
        exercise_id="calf",
        name="Calf raises, right ankle plantarflexion, standing",
        body_region="right ankle",
        category="strengthening",
        movement="plantarflexion",
        dosage={"sets": 3, "reps": 12},
        effective_date=start,
    )
    s.add(
        start,
        c.AddExercise,
        exercise_id="wobble",
        name="Wobble board balance, right leg",
        body_region="right ankle",
        category="balance",
        movement="single-leg balance",
        equipment="wobble board",
        dosage={"sets": 3, "duration_seconds": 30},
        effective_date=start,
    )
    s.add(start, c.RecordOutcome, instrument="LEFS", score="48", taken_on=start, measured_by=pt)
    days = visit_days(start, 6, (1, 4))
    for n, day in enumerate(days, start=1):
        lines: list[dict[str, Any]] = (
            [
                {"code": "97161", "minutes": 25},
                {"code": "97110", "minutes": 24},
                {"code": "97112", "minutes": 23},
            ]
            if n == 1
            else [{"code": "97110", "minutes": 24}, {"code": "97112", "minutes": 23}]
        )
        if n == 4:
            s.add(
                day,
                c.ProgressExercise,
                exercise_id="calf",
                effective_date=day,
                dosage={"sets": 3, "reps": 15, "load": "10", "load_unit": "lb"},
                name="Single-leg calf raises, right, holding 10 lb",
                reason="3x12 double-leg easy",
            )
        s.add(
            day,
            c.RecordVisit,
            date_of_service=day,
            provider_id=pt,
            credential="PT",
            service_lines=lines,
            total_treatment_minutes=sum(int(x["minutes"]) for x in lines) + 3,
            necessity=(
                "Skilled PT for right ankle sprain (S93.401A): single-leg balance 6 s and pain on "
                f"push-off limit running; visit {n} progresses proprioceptive loading."
            ),
            exercises=[
                {
                    "exercise_id": "calf",
                    "name": "Calf raises, right ankle",
                    "dosage": {"sets": 3, "reps": 12 if n < 4 else 15},
                },
                {
                    "exercise_id": "wobble",
                    "name": "Wobble board balance, right leg",
                    "dosage": {"sets": 3, "duration_seconds": 30},
                },
            ],
            skilled_interventions=["perturbation training on wobble board with graded cues"],
            patient_response=f"Balance hold {8 + n * 4} s; push-off pain {max(0, 4 - n)}/10.",
            narrative=f"Visit {n}, one-on-one throughout.",
        )
    s.add(days[-1], c.RecordOutcome, instrument="LEFS", score="66", taken_on=days[-1], measured_by=pt)
    s.add(days[-1], c.DischargeEpisode, discharge_date=days[-1], reason="goals met")
    return s
