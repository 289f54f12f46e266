"""The demo's post-operative right knee: steady progression, LEFS past its MCID, PTA visits.

The knee is the well-documented episode: each note ties the TKA to the day's
functional limitation, names every exercise with its dosage, says what the
therapist's skill added and how the patient responded, describes every billed
code, and is written for that visit (knee_notes.py); the programme progresses or
stops each exercise with a reason (knee_programme.py). `careledger check` finds
nothing to fix in it (docs/rules.md#plan-of-care, docs/rules.md#documentation).

It also carries two amendments (docs/rules.md#amendments): visit 9's note is a late entry,
written three days after the session, and visit 12's 97110 minutes (and total
minutes) are corrected four days later, so `audit --as-of` and `audit --changes`
have something to show.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from domain.demo.knee_notes import GAIT, MANUAL, MONITORING, PHASES, SESSIONS, WITHOUT_MANUAL
from domain.demo.knee_programme import programme
from domain.demo.script import Script, visit_days
from domain.episode import commands as c

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
        programme(s, n, day, current, names)
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
        monitoring = rng.choice(MONITORING)
        technique = rng.choice(range(3))
        billed = {line["code"] for line in lines}
        session = SESSIONS[n - 1]
        late: dict[str, Any] = {}
        if n == LATE_VISIT:
            late = {
                "lag_days": 3,
                "reason": "Note written after the weekend: the documentation system was down on Friday "
                "afternoon; written from the paper flow sheet.",
            }
        narrative = [session.report]
        if n in GAIT:
            narrative.append(GAIT[n])
        narrative.append(f"Direct one-on-one with the {credential} throughout; exercise dosage as listed.")
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
                f"Skilled PT after right TKA (Z96.651), week {2 + (day - start).days // 7} after surgery: "
                f"{session.limitation}; needs {PHASES[min(3, (n - 1) // 6)]}."
            ),
            exercises=performed,
            skilled_interventions=[
                session.cue,
                monitoring,
                MANUAL[technique] if "97140" in billed else WITHOUT_MANUAL[technique],
            ],
            patient_response=(
                f"{session.response}. Pain {pain}/10 at rest, {pain + 1}/10 at worst; active knee flexion "
                f"{flexion} degrees."
            ),
            narrative=" ".join(narrative),
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
