"""A deterministic demo clinic, as commands with the times they were recorded.

`demo_clinic()` builds four episodes that differ in the ways that matter:

- a post-operative right knee (PT, Medicare) that progresses steadily, improves
  its LEFS past the clinically important change, has its progress report on
  time and some visits furnished by a PTA;
- a low-back episode (PT, Medicare) with the weaknesses a reviewer catches:
  copied notes, the same exercises at the same dosage visit after visit, missing
  patient responses, a flat ODI and a progress report written late;
- a left shoulder (OT, Medicare) with visits furnished by an OTA;
- a right ankle (PT, a commercial payer on the AMA per-code rule).

`synthetic_clinic(n)` draws n episodes from the same templates with a seeded
random generator, for benchmarks and load tests. Everything here is pure: the
same arguments give the same commands, ids and times.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain import commands as c
from domain.application import derived_episode_id

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://careledger.invalid/demo")
RECORDED_AT = time(17, 30)


@dataclass
class Recorded:
    """A command and the moment it was recorded."""

    at: datetime
    command: c.Command


@dataclass
class Script:
    """Builds one episode's commands in clinical order."""

    key: str
    user: str
    therapist: str | None = None
    commands: list[Recorded] = field(default_factory=list)
    episode_id: UUID | None = None

    def _id(self) -> UUID:
        return uuid5(DEMO_NAMESPACE, f"{self.key}/{len(self.commands)}")

    def add(
        self, on: date, kind: type[c.Command], lag_days: int = 0, by: str | None = None, **fields: Any
    ) -> None:
        """Append a command recorded on `on` (plus `lag_days`) at the end of the day, by `by`."""
        at = datetime.combine(on + timedelta(days=lag_days), RECORDED_AT, tzinfo=UTC)
        at += timedelta(seconds=len(self.commands))
        command_id = self._id()
        build: Any = kind
        command: c.Command
        author = by or self._author(fields)
        if kind is c.OpenEpisode:
            self.episode_id = derived_episode_id(command_id)
            command = build(command_id=command_id, recorded_by=author, **fields)
        else:
            command = build(command_id=command_id, recorded_by=author, episode_id=self.episode_id, **fields)
        self.commands.append(Recorded(at, command))

    def _author(self, fields: dict[str, Any]) -> str:
        for key in ("provider_id", "author_id", "therapist_id", "measured_by"):
            if fields.get(key):
                return f"{fields[key]}@demo-clinic"
        return self.therapist or self.user


def _visit_days(start: date, count: int, weekdays: tuple[int, ...]) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def _dosage(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


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
    days = _visit_days(start, 24, (0, 2, 4))
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
        s.add(
            day,
            c.RecordVisit,
            date_of_service=day,
            provider_id=provider,
            credential=credential,
            supervising_provider_id=pt if assistant else None,
            service_lines=lines,
            total_treatment_minutes=timed + rng.choice([0, 3, 5]),
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
    days = _visit_days(start, 14, (1, 3))
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
    # The certification comes back signed 36 days after the first treatment: late (rules.md §6).
    s.add(
        start + timedelta(days=36),
        c.CertifyPlan,
        certifier={"provider_id": "dr-patel", "credential": "DO"},
        signed_on=start + timedelta(days=36),
        period_start=start,
        period_end=start + timedelta(weeks=8),
    )
    return s


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
        period_end=start + timedelta(weeks=8),
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
    days = _visit_days(start, 12, (0, 3))
    reach: dict[str, Any] = {"sets": 2, "reps": 10}
    for n, day in enumerate(days, start=1):
        assistant = n % 2 == 0 and n > 1
        provider, credential = (ota, "OTA") if assistant else (ot, "OT")
        if n == 1:
            lines: list[dict[str, Any]] = [{"code": "97166", "minutes": 40}, {"code": "97535", "minutes": 15}]
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
    days = _visit_days(start, 6, (1, 4))
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


class ReplayClock:
    """A clock set to each recorded time in turn, so a replayed demo keeps its dates."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


Template = Callable[[random.Random, str, str, date], Script]
TEMPLATES: tuple[Template, ...] = (knee_episode, back_episode, shoulder_episode, ankle_episode)


def demo_clinic(seed: int = 20260302) -> list[Recorded]:
    """Return the demo clinic's commands in the order they were recorded."""
    rng = random.Random(seed)
    scripts = [
        knee_episode(rng, f"demo-{seed}/knee", "PT-1001", date(2026, 3, 2)),
        back_episode(rng, f"demo-{seed}/back", "PT-1002", date(2026, 3, 3)),
        shoulder_episode(rng, f"demo-{seed}/shoulder", "OT-2001", date(2026, 4, 6)),
        ankle_episode(rng, f"demo-{seed}/ankle", "PT-1003", date(2026, 5, 5)),
    ]
    return sorted((r for s in scripts for r in s.commands), key=lambda r: r.at)


def demo_episode_ids(seed: int = 20260302) -> dict[str, UUID]:
    """Return the demo's episode ids by name (knee, back, shoulder, ankle)."""
    ids: dict[str, UUID] = {}
    for recorded in demo_clinic(seed):
        command = recorded.command
        if isinstance(command, c.OpenEpisode):
            name = str(command.patient_ref)
            ids[{"PT-1001": "knee", "PT-1002": "back", "OT-2001": "shoulder", "PT-1003": "ankle"}[name]] = (
                derived_episode_id(command.command_id)
            )
    return ids


def synthetic_clinic(episodes: int, seed: int = 7) -> Iterator[Recorded]:
    """Yield the commands of `episodes` episodes drawn from the demo's templates.

    Episodes start on different days over two years before 2026-06-01 and are
    yielded one after another (each episode's commands in order).
    """
    rng = random.Random(seed)
    first = date(2024, 6, 3)
    for index in range(episodes):
        template = TEMPLATES[index % len(TEMPLATES)]
        start = first + timedelta(days=rng.randint(0, 640))
        patient = f"SYN-{seed}-{index:07d}"
        yield from template(rng, f"synthetic-{seed}/{index}", patient, start).commands
