"""The demo knee's exercise programme: what changes at which visit, and why (docs/rules.md#progression).

Every exercise is progressed at least every 5 visits, or discontinued with the
reason, the way a post-operative programme moves; so the knee shows no plateau.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.demo.script import Script
from domain.episode import commands as c

Change = tuple[str, str, dict[str, Any], str | None, str]
# The programme's changes by visit: (kind, exercise id, dosage, new name or None, reason). Every
# exercise changes at least every 5 visits or is stopped with a reason (docs/rules.md#progression).
CHANGES: dict[int, list[Change]] = {
    4: [
        (
            "progress",
            "slr",
            {"sets": 3, "reps": 10, "load": "2", "load_unit": "lb"},
            None,
            "3x10 pain-free with good control at 1 lb; load increased",
        ),
        (
            "progress",
            "tke",
            {"sets": 3, "reps": 12, "resistance": "red band"},
            None,
            "full terminal extension without lag; resistance progressed to red band",
        ),
        (
            "progress",
            "heel-slide",
            {"sets": 3, "reps": 15, "duration_seconds": 5},
            None,
            "flexion gaining 2-3 degrees a visit; added a 5 s hold at end range",
        ),
    ],
    8: [
        (
            "progress",
            "slr",
            {"sets": 3, "reps": 10, "load": "3", "load_unit": "lb"},
            None,
            "3x10 pain-free with good control at 2 lb; load increased",
        ),
        (
            "progress",
            "tke",
            {"sets": 3, "reps": 12, "resistance": "green band"},
            None,
            "full terminal extension without lag; resistance progressed to green band",
        ),
        (
            "progress",
            "heel-slide",
            {"sets": 3, "reps": 15, "duration_seconds": 10},
            "Heel slides with overpressure, right knee flexion, supine with strap",
            "end-range hold tolerated; overpressure with the strap and 10 s holds",
        ),
    ],
    10: [
        (
            "progress",
            "step-up",
            {"sets": 3, "reps": 10},
            "Forward step-up, right leg leading, 6-inch step",
            "controlled eccentric lowering from 4 inches; progressed to a 6-inch step",
        ),
    ],
    12: [
        (
            "progress",
            "slr",
            {"sets": 3, "reps": 10, "load": "4", "load_unit": "lb"},
            None,
            "3x10 pain-free with good control at 3 lb; load increased",
        ),
        (
            "progress",
            "tke",
            {"sets": 3, "reps": 12, "resistance": "blue band"},
            None,
            "full terminal extension without lag; resistance progressed to blue band",
        ),
        (
            "progress",
            "heel-slide",
            {"sets": 3, "reps": 15, "duration_seconds": 10},
            "Heel slides, right knee flexion AROM, seated with towel under the foot",
            "active flexion past 100 degrees; moved to active seated slides",
        ),
        (
            "progress",
            "sls-foam",
            {"sets": 3, "duration_seconds": 30},
            None,
            "20 s holds steady on foam; hold time increased to 30 s",
        ),
    ],
    14: [
        (
            "progress",
            "step-up",
            {"sets": 3, "reps": 10},
            "Forward step-up, right leg leading, 8-inch step",
            "controlled eccentric lowering from 6 inches; progressed to an 8-inch step",
        ),
    ],
    16: [
        (
            "progress",
            "slr",
            {"sets": 3, "reps": 10, "load": "5", "load_unit": "lb"},
            None,
            "3x10 pain-free with good control at 4 lb; load increased",
        ),
        (
            "progress",
            "tke",
            {"sets": 3, "reps": 12, "resistance": "black band"},
            None,
            "full terminal extension without lag; resistance progressed to black band",
        ),
        (
            "discontinue",
            "heel-slide",
            {},
            None,
            "active flexion 112 degrees meets the STG1 range; range kept with the stationary bike",
        ),
        (
            "add",
            "bike",
            {"duration_seconds": 600, "resistance": "level 2"},
            "Stationary bike, full revolutions, seat set for 110 degrees knee flexion",
            "flexion allows full revolutions; cycling for range and endurance",
        ),
        (
            "progress",
            "sls-foam",
            {"sets": 3, "duration_seconds": 20},
            "Single-leg stance on foam, right leg, eyes closed",
            "30 s holds steady with eyes open; progressed to eyes closed",
        ),
    ],
    18: [
        (
            "progress",
            "step-up",
            {"sets": 3, "reps": 15, "load": "5", "load_unit": "lb"},
            None,
            "3x10 on the 8-inch step without fatigue; 3x15 holding 5 lb",
        ),
    ],
    20: [
        (
            "discontinue",
            "slr",
            {},
            None,
            "5 lb straight leg raise without extensor lag; open-chain hip work replaced by step work",
        ),
        (
            "progress",
            "tke",
            {"sets": 3, "reps": 15, "resistance": "black band"},
            None,
            "black band 3x12 without lag; repetitions increased for endurance",
        ),
        (
            "progress",
            "bike",
            {"duration_seconds": 900, "resistance": "level 3"},
            None,
            "10 minutes at level 2 without knee pain; 15 minutes at level 3",
        ),
        (
            "progress",
            "sls-foam",
            {"sets": 3, "duration_seconds": 30},
            "Single-leg stance on foam, right leg, with ball toss",
            "eyes-closed stance steady; dual-task balance with a ball toss",
        ),
    ],
    22: [
        (
            "progress",
            "step-up",
            {"sets": 3, "reps": 12, "load": "5", "load_unit": "lb"},
            "Lateral step-up, right leg leading, 8-inch step",
            "forward step-ups mastered; lateral step-ups for frontal-plane control on stairs",
        ),
    ],
}

ADDED: dict[int, list[tuple[str, str, str, str, str, str, dict[str, Any], str]]] = {
    6: [
        (
            "step-up",
            "Forward step-up, right leg leading, 4-inch step",
            "right knee",
            "strengthening",
            "closed-chain knee extension (step-up)",
            "4-inch step",
            {"sets": 2, "reps": 10},
            "progress to closed-chain strengthening for stairs",
        ),
    ],
    8: [
        (
            "sls-foam",
            "Single-leg stance on foam, right leg",
            "right lower extremity",
            "balance",
            "static single-leg balance",
            "foam pad",
            {"sets": 3, "duration_seconds": 20},
            "balance deficit on foam (8 s) limits community ambulation",
        ),
    ],
}


def programme(
    s: Script, n: int, day: date, current: dict[str, dict[str, Any]], names: dict[str, str]
) -> None:
    """Record the programme's changes effective on visit n (docs/rules.md#progression), before its note."""
    if n == 6:
        s.add(
            day,
            c.DiscontinueExercise,
            exercise_id="quad-set",
            effective_date=day,
            reason="quad activation adequate; replaced by closed-chain work",
        )
        current.pop("quad-set")
    for ex_id, name, region, category, movement, equipment, dosage, reason in ADDED.get(n, []):
        s.add(
            day,
            c.AddExercise,
            exercise_id=ex_id,
            name=name,
            body_region=region,
            category=category,
            movement=movement,
            equipment=equipment,
            dosage=dosage,
            effective_date=day,
            reason=reason,
        )
        current[ex_id] = dict(dosage)
        names[ex_id] = name
    for kind, ex_id, dosage, new_name, reason in CHANGES.get(n, []):
        if kind == "discontinue":
            s.add(day, c.DiscontinueExercise, exercise_id=ex_id, effective_date=day, reason=reason)
            current.pop(ex_id)
            continue
        if kind == "add":
            s.add(
                day,
                c.AddExercise,
                exercise_id=ex_id,
                name=new_name,
                body_region="right knee",
                category="endurance",
                movement="cycling",
                equipment="stationary bike",
                dosage=dosage,
                effective_date=day,
                reason=reason,
            )
        else:
            s.add(
                day,
                c.ProgressExercise,
                exercise_id=ex_id,
                dosage=dosage,
                name=new_name,
                effective_date=day,
                reason=reason,
            )
        current[ex_id] = dict(dosage)
        if new_name:
            names[ex_id] = new_name
