"""The demo's post-operative right knee: steady progression, LEFS past its MCID, PTA visits.

It also carries two amendments (rules.md §9): visit 9's note is a late entry,
written three days after the session, and visit 12's 97110 minutes (and total
minutes) are corrected four days later, so `audit --as-of` and `audit --changes`
have something to show.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from domain import commands as c
from domain.demo.script import Script, visit_days

LATE_VISIT = 9
CORRECTED_VISIT = 12


def knee_episode(rng: random.Random, key: str, patient: str, start: date) -> Script:
    """A post-operative right knee that progresses and improves."""
    s = Script(key, user="front-desk@demo-clinic")
    s.add(
        start,
        c.OpenEpisode,
        patient_ref=patient,
        discipline="PT",
        payer={"payer_id": "medicare", "member_id": f"MBI{rng.randint(10**6, 10**7 - 1)}"},
        diagnoses=[
            {"code": "Z96.651", "description": "presence of right artificial knee joint"},
            {"code": "M17.11", "description": "unilateral primary osteoarthritis, right knee"},
        ],
        referring_provider={"provider_id": "dr-osei", "name": "Dr. A. Osei", "credential": "MD"},
        certifying_provider={"provider_id": "dr-osei", "name": "Dr. A. Osei", "credential": "MD"},
        start_date=start,
    )
    days = visit_days(start, 24, (0, 2, 4))
    pt, pta = "pt-rivera", "pta-chen"
    s.therapist = f"{pt}@demo-clinic"
    s.add(
        start,
        c.EstablishPlan,
        established_on=start,
        therapist_id=pt,
        credential="PT",
        goals=[
            {
                "goal_id": "LTG1",
                "term": "long",
                "text": "Ascend and descend 12 stairs reciprocally with one rail",
                "measure": "stair negotiation",
                "target": "12 stairs reciprocal",
                "target_date": str(start + timedelta(weeks=8)),
            },
            {
                "goal_id": "LTG2",
                "term": "long",
                "text": "Walk 1,000 ft in the community without an assistive device",
                "measure": "gait distance",
                "target": "1000 ft no device",
            },
            {
                "goal_id": "STG1",
                "term": "short",
                "text": "Active right knee flexion 0-110 degrees",
                "measure": "goniometry",
                "target": "110 degrees",
                "target_date": str(start + timedelta(weeks=4)),
            },
            {
                "goal_id": "STG2",
                "term": "short",
                "text": "LEFS improves by at least 9 points",
                "measure": "LEFS",
                "target": "+9 points",
            },
        ],
        frequency_per_week=3,
        duration_weeks=10,
        planned_interventions=[
            "97110 therapeutic exercise",
            "97140 manual therapy",
            "97112 balance",
            "97116 gait training",
        ],
    )
    exercises: list[tuple[str, str, str, str, str, str, dict[str, Any]]] = [
        (
            "quad-set",
            "Quadriceps sets, right knee, supine with towel roll",
            "right knee",
            "strengthening",
            "isometric knee extension",
            "towel roll",
            {"sets": 3, "reps": 10, "duration_seconds": 5},
        ),
        (
            "heel-slide",
            "Heel slides, right knee flexion AAROM, supine with strap",
            "right knee",
            "range_of_motion",
            "knee flexion",
            "strap",
            {"sets": 2, "reps": 15},
        ),
        (
            "slr",
            "Straight leg raise, right hip flexion, supine, ankle weight",
            "right hip",
            "strengthening",
            "hip flexion with knee extended",
            "ankle weight",
            {"sets": 3, "reps": 10, "load": "1", "load_unit": "lb"},
        ),
        (
            "tke",
            "Terminal knee extension, right knee, standing with resistance band",
            "right knee",
            "strengthening",
            "knee extension 30-0 degrees",
            "resistance band",
            {"sets": 3, "reps": 12, "resistance": "yellow band"},
        ),
    ]
    for ex_id, name, region, category, movement, equipment, dosage in exercises:
        s.add(
            start,
            c.AddExercise,
            exercise_id=ex_id,
            name=name,
            body_region=region,
            category=category,
            movement=movement,
            equipment=equipment,
            dosage=dosage,
            effective_date=start,
            reason="initial home and clinic programme after evaluation",
        )
    s.add(start, c.RecordOutcome, instrument="LEFS", score="24", taken_on=start, measured_by=pt)
    current: dict[str, dict[str, Any]] = {e[0]: dict(e[6]) for e in exercises}
    names = {e[0]: e[1] for e in exercises}
    flexion = 78
    pain = 6
    added_balance = False
    for n, day in enumerate(days, start=1):
        if n == 4:
            s.add(
                day,
                c.CertifyPlan,
                certifier={"provider_id": "dr-osei", "credential": "MD"},
                signed_on=day,
                period_start=start,
                period_end=start + timedelta(weeks=10),
            )
        if n in (4, 8, 12, 16):
            step = n // 4
            current["slr"] = {"sets": 3, "reps": 10, "load": str(1 + step), "load_unit": "lb"}
            s.add(
                day,
                c.ProgressExercise,
                exercise_id="slr",
                dosage=current["slr"],
                effective_date=day,
                reason=f"3x10 pain-free with good control at {step} lb; load increased",
            )
            bands = ["red band", "green band", "blue band", "black band"]
            current["tke"] = {"sets": 3, "reps": 12, "resistance": bands[step - 1]}
            s.add(
                day,
                c.ProgressExercise,
                exercise_id="tke",
                dosage=current["tke"],
                effective_date=day,
                reason=f"full terminal extension without lag; resistance progressed to {bands[step - 1]}",
            )
        if n == 6:
            s.add(
                day,
                c.DiscontinueExercise,
                exercise_id="quad-set",
                effective_date=day,
                reason="quad activation adequate; replaced by closed-chain work",
            )
            current.pop("quad-set")
            s.add(
                day,
                c.AddExercise,
                exercise_id="step-up",
                name="Forward step-up, right leg leading, 4-inch step",
                body_region="right knee",
                category="functional",
                movement="step-up",
                equipment="4-inch step",
                dosage={"sets": 2, "reps": 10},
                effective_date=day,
                reason="progress to closed-chain functional strengthening for stairs",
            )
            current["step-up"] = {"sets": 2, "reps": 10}
            names["step-up"] = "Forward step-up, right leg leading, 4-inch step"
        if n in (10, 14, 18):
            height = {10: 6, 14: 8, 18: 8}[n]
            reps = {10: 10, 14: 10, 18: 15}[n]
            current["step-up"] = {
                "sets": 3,
                "reps": reps,
                "load": "0" if n < 18 else "5",
                "load_unit": "lb",
            }
            s.add(
                day,
                c.ProgressExercise,
                exercise_id="step-up",
                dosage=current["step-up"],
                name=f"Forward step-up, right leg leading, {height}-inch step",
                effective_date=day,
                reason=f"controlled eccentric lowering on previous height; progressed to {height}-inch step",
            )
            names["step-up"] = f"Forward step-up, right leg leading, {height}-inch step"
        if n == 8 and not added_balance:
            added_balance = True
            s.add(
                day,
                c.AddExercise,
                exercise_id="sls-foam",
                name="Single-leg stance on foam, right leg",
                body_region="right lower extremity",
                category="balance",
                movement="static single-leg balance",
                equipment="foam pad",
                dosage={"sets": 3, "duration_seconds": 20},
                effective_date=day,
                reason="balance deficit on foam (8 s) limits community ambulation",
            )
            current["sls-foam"] = {"sets": 3, "duration_seconds": 20}
            names["sls-foam"] = "Single-leg stance on foam, right leg"
        flexion = min(125, flexion + rng.randint(1, 3))
        pain = max(1, pain - (1 if n % 5 == 0 else 0))
        assistant = n in (7, 11, 15, 19, 22)
        provider, credential = (pta, "PTA") if assistant else (pt, "PT")
        lines: list[dict[str, Any]] = []
        if n == 1:
            lines.append({"code": "97162", "minutes": 35})
            lines.append({"code": "97110", "minutes": 23})
        else:
            ex_minutes = rng.choice([30, 31, 33, 35, 38])
            line: dict[str, Any] = {"code": "97110", "minutes": ex_minutes}
            if assistant:
                line["assistant_minutes"] = ex_minutes
            lines.append(line)
            manual = rng.choice([8, 10, 12, 15]) if n < 16 else 0
            if manual and not assistant:
                lines.append({"code": "97140", "minutes": manual})
            if "sls-foam" in current and n >= 8:
                bal = rng.choice([10, 12, 15])
                bline: dict[str, Any] = {"code": "97112", "minutes": bal}
                if assistant:
                    bline["assistant_minutes"] = bal
                lines.append(bline)
            if n <= 6:
                lines.append({"code": "97116", "minutes": rng.choice([8, 10, 12])})
        timed = sum(line["minutes"] for line in lines)
        performed = [
            {"exercise_id": ex_id, "name": names[ex_id], "dosage": dosage}
            for ex_id, dosage in current.items()
        ]
        total = timed + rng.choice([0, 3, 5])
        late: dict[str, Any] = {}
        if n == LATE_VISIT:
            late = {
                "lag_days": 3,
                "reason": "Note written after the weekend: the documentation system was down on Friday "
                "afternoon; written from the paper flow sheet.",
            }
        s.add(
            day,
            c.RecordLateEntry if n == LATE_VISIT else c.RecordVisit,
            **late,
            date_of_service=day,
            provider_id=provider,
            credential=credential,
            supervising_provider_id=pt if assistant else None,
            service_lines=lines,
            total_treatment_minutes=total,
            necessity=(
                f"Skilled PT required after right TKA (Z96.651): active knee flexion {flexion - 2} degrees "
                f"and quadriceps lag limit stair climbing and community walking; exercise dosage must be "
                f"progressed and monitored for effusion and pain ({pain}/10)."
            ),
            exercises=performed,
            skilled_interventions=[
                rng.choice(
                    [
                        "tactile cues for VMO activation during TKE",
                        "verbal cues to control eccentric lowering on step",
                        "monitored effusion and skin temperature before progressing load",
                    ]
                ),
                f"progressed dosage per criteria: pain <= {pain}/10 and no extensor lag",
                rng.choice(
                    [
                        "patellar mobilisations grade III to gain flexion",
                        "gait cueing for heel strike and knee extension at terminal stance",
                        "adjusted step height to keep knee valgus controlled",
                    ]
                ),
            ],
            patient_response=(
                f"Tolerated session well; pain {pain}/10 at rest, {pain + 1}/10 peak. "
                f"Active knee flexion {flexion} degrees after session (from {flexion - 2})."
            ),
            narrative=(
                f"Visit {n}: patient reports walking {200 + n * 35} ft at home with "
                f"{'a cane' if n < 10 else 'no device'}. Exercise performed one-on-one with PT "
                f"{'assistant' if assistant else ''} direct contact throughout; dosage as listed."
            ).replace("  ", " "),
        )
        if n == CORRECTED_VISIT:
            corrected = [dict(line) for line in lines]
            corrected[0]["minutes"] -= 5
            s.add(
                day,
                c.CorrectVisit,
                lag_days=4,
                date_of_service=day,
                changes={"service_lines": corrected, "total_treatment_minutes": total - 5},
                reason=(
                    f"97110 was entered as {lines[0]['minutes']} minutes; the treatment timer log shows "
                    f"{corrected[0]['minutes']} (total {total - 5}, not {total})."
                ),
            )
        if n == 10:
            s.add(day, c.RecordOutcome, instrument="LEFS", score="35", taken_on=day, measured_by=pt)
            s.add(
                day,
                c.RecordProgressReport,
                report_date=day,
                period_start=start,
                period_end=day,
                author_id=pt,
                credential="PT",
                goal_assessments=[
                    {
                        "goal_id": "STG1",
                        "status": "progressing",
                        "note": f"flexion {flexion} degrees",
                    },
                    {"goal_id": "STG2", "status": "met", "note": "LEFS 24 to 35 (+11)"},
                    {
                        "goal_id": "LTG1",
                        "status": "progressing",
                        "note": "8 stairs step-to with rail",
                    },
                    {"goal_id": "LTG2", "status": "progressing", "note": "600 ft with cane"},
                ],
                assessment="Steady gains in flexion, strength and gait; continue plan.",
                plan="Progress closed-chain strengthening and balance; wean cane.",
            )
        if n == 20:
            s.add(day, c.RecordOutcome, instrument="LEFS", score="47", taken_on=day, measured_by=pt)
            s.add(
                day,
                c.RecordProgressReport,
                report_date=day,
                period_start=days[10],
                period_end=day,
                author_id=pt,
                credential="PT",
                goal_assessments=[
                    {"goal_id": "STG1", "status": "met", "note": f"flexion {flexion} degrees"},
                    {
                        "goal_id": "LTG1",
                        "status": "progressing",
                        "note": "12 stairs reciprocal, two rails",
                    },
                    {"goal_id": "LTG2", "status": "met", "note": "1,000 ft without device"},
                ],
                assessment="Goals largely met; final phase for stair endurance.",
                plan="Two more weeks, then discharge to home programme.",
            )
    last = days[-1]
    s.add(last, c.RecordOutcome, instrument="LEFS", score="55", taken_on=last, measured_by=pt)
    s.add(
        last,
        c.DischargeEpisode,
        discharge_date=last,
        reason="goals met",
        summary="Independent with stairs and community ambulation; home programme issued.",
    )
    return s
