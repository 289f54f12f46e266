"""The demo's OT left shoulder episode, with OTA-furnished visits."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from domain.demo.script import Script, visit_days
from domain.episode import commands as c

SHARED_VISIT = 6


def shoulder_episode(rng: random.Random, key: str, patient: str, start: date) -> Script:
    """An OT episode for a left rotator cuff repair, with OTA-furnished visits."""
    s = Script(key, user="front-desk@demo-clinic")
    s.add(
        start,
        c.OpenEpisode,
        patient_ref=patient,
        discipline="OT",
        payer={"payer_id": "medicare", "member_id": f"MBI{rng.randint(10**6, 10**7 - 1)}"},
        diagnoses=[
            {"code": "M75.122", "description": "complete rotator cuff tear, left shoulder"},
            {"code": "Z98.890", "description": "other specified postprocedural states"},
        ],
        referring_provider={"provider_id": "dr-kim", "credential": "MD"},
        certifying_provider={"provider_id": "dr-kim", "credential": "MD"},
        start_date=start,
    )
    ot, ota = "ot-nguyen", "ota-lopez"
    s.therapist = f"{ot}@demo-clinic"
    s.add(
        start,
        c.EstablishPlan,
        established_on=start,
        therapist_id=ot,
        credential="OT",
        goals=[
            {
                "goal_id": "G1",
                "term": "long",
                "text": "Don and doff overhead garments independently",
                "measure": "ADL performance",
                "target": "independent",
            },
            {
                "goal_id": "G2",
                "term": "short",
                "text": "Reach to shoulder-height shelf with 1 lb item",
                "measure": "functional reach",
                "target": "shoulder height, 1 lb",
            },
        ],
        frequency_per_week=2,
        duration_weeks=8,
        planned_interventions=[
            "97530 therapeutic activities",
            "97535 self-care training",
            "97110 therapeutic exercise",
        ],
    )
    s.add(
        start + timedelta(days=6),
        c.CertifyPlan,
        certifier={"provider_id": "dr-kim", "credential": "MD"},
        signed_on=start + timedelta(days=6),
        period_start=start,
        period_end=start + timedelta(days=27),
    )
    s.add(
        start,
        c.AddExercise,
        exercise_id="pulley",
        name="Overhead pulley, left shoulder flexion AAROM, seated",
        body_region="left shoulder",
        category="range_of_motion",
        movement="shoulder flexion",
        equipment="door pulley",
        dosage={"sets": 2, "reps": 15},
        effective_date=start,
    )
    s.add(
        start,
        c.AddExercise,
        exercise_id="shelf",
        name="Shelf reach, left arm, to waist-height shelf with 0 lb cup",
        body_region="left shoulder",
        category="functional",
        movement="forward reach",
        equipment="cups and shelf",
        dosage={"sets": 2, "reps": 10},
        effective_date=start,
    )
    s.add(start, c.RecordOutcome, instrument="QuickDASH", score="61.4", taken_on=start, measured_by=ot)
    days = visit_days(start, 12, (0, 3))
    reach: dict[str, Any] = {"sets": 2, "reps": 10}
    for n, day in enumerate(days, start=1):
        assistant = n % 2 == 0 and n > 1 and n != SHARED_VISIT
        provider, credential = (ota, "OTA") if assistant else (ot, "OT")
        if n == 1:
            lines: list[dict[str, Any]] = [{"code": "97166", "minutes": 40}, {"code": "97535", "minutes": 15}]
        elif n == SHARED_VISIT:
            # The OT and the OTA each furnish 12 of 97530's 24 minutes: one unit with CO and one
            # without, two claim lines of one code (docs/rules.md#cq-co).
            lines = [
                {"code": "97530", "minutes": 24, "assistant_minutes": 12},
                {"code": "97535", "minutes": 15},
            ]
        else:
            act = rng.choice([25, 28, 30])
            self_care = rng.choice([10, 12, 15])
            lines = [
                {"code": "97530", "minutes": act, "assistant_minutes": act if assistant else 0},
                {
                    "code": "97535",
                    "minutes": self_care,
                    "assistant_minutes": self_care if assistant else 0,
                },
            ]
        if n in (5, 9):
            reach = {"sets": 3, "reps": 10, "load": "1" if n == 5 else "2", "load_unit": "lb"}
            s.add(
                day,
                c.ProgressExercise,
                exercise_id="shelf",
                dosage=reach,
                effective_date=day,
                name="Shelf reach, left arm, to shoulder-height shelf with weighted cup",
                reason="reaches waist height without shoulder hike; progressed height and load",
            )
        timed = sum(int(line["minutes"]) for line in lines if line["code"] != "97166")
        s.add(
            day,
            c.RecordVisit,
            date_of_service=day,
            provider_id=provider,
            credential=credential,
            supervising_provider_id=ot if assistant else None,
            service_lines=lines,
            total_treatment_minutes=timed + (40 if n == 1 else 2),
            necessity=(
                "Skilled OT needed after left rotator cuff repair (M75.122): limited reach and pain "
                f"prevent dressing and kitchen tasks; visit {n} targets graded functional reach."
            ),
            exercises=[
                {
                    "exercise_id": "pulley",
                    "name": "Overhead pulley, left shoulder flexion AAROM, seated",
                    "dosage": {"sets": 2, "reps": 15},
                },
                {"exercise_id": "shelf", "name": "Shelf reach, left arm", "dosage": reach},
            ],
            skilled_interventions=[
                "graded overhead garment practice with compensatory strategy training",
                "cued scapular setting to avoid shoulder hike during reach",
            ],
            patient_response=f"Completed tasks with pain {max(1, 5 - n // 3)}/10; reach improved to "
            f"{'waist' if n < 5 else 'shoulder'} height.",
            narrative=f"One-on-one OT session {n}; practised dressing and kitchen reach tasks.",
        )
        if n == 10:
            # The recertification of the period from day 28 comes back signed on day 33, five days
            # after the period it renews ended, with no reason for the delay: the visits of days 28
            # and 31 are not validly certified (docs/rules.md#certification).
            s.add(
                start + timedelta(days=33),
                c.CertifyPlan,
                certifier={"provider_id": "dr-kim", "credential": "MD"},
                signed_on=start + timedelta(days=33),
                period_start=start + timedelta(days=28),
                period_end=start + timedelta(weeks=8),
            )
            s.add(
                day,
                c.RecordOutcome,
                instrument="QuickDASH",
                score="40.9",
                taken_on=day,
                measured_by=ot,
            )
            s.add(
                day,
                c.RecordProgressReport,
                report_date=day,
                period_start=start,
                period_end=day,
                author_id=ot,
                credential="OT",
                goal_assessments=[
                    {"goal_id": "G1", "status": "progressing", "note": "needs min assist"},
                    {"goal_id": "G2", "status": "met", "note": "1 lb to shoulder height"},
                ],
                assessment="Functional reach improving; dressing near independent.",
                plan="Continue graded ADL training.",
            )
    return s
