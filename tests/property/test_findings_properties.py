"""The documentation checks' promises over many notes (docs/rules.md#documentation):

(a) a note built with every documentation element gives no finding;
(b) leaving out any one element gives exactly the finding of that element;
(c) the findings do not depend on the order of the lines, exercises or interventions in a note,
    nor on the order in which a day's events were recorded; and checking twice gives the same answer.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.episode import commands as c
from domain.episode.application import Episodes
from domain.findings import CheckContext, Finding, check_episode
from tests.conftest import FixedClock
from tests.findings_chart import BRIDGE, SLR, STANCE, START, Chart

DIAGNOSES = ("Right knee osteoarthritis (M17.11)", "M17.11 right knee OA", "Knee osteoarthritis")
FUNCTIONS = (
    "limits stair climbing to step-to with a rail",
    "limits walking to 300 feet",
    "prevents rising from a low chair without hands",
    "limits kneeling in the garden",
)
PLANS = ("needs progressed quadriceps loading", "needs graded strengthening monitored for effusion")
SKILLED = (
    "tactile cues for quadriceps activation during straight leg raises",
    "corrected hip hitching during straight leg raises",
    "progressed balance holds after steady 20 s holds",
    "monitored effusion before loading",
)
RESPONSES = (
    "Pain 3/10 after the session.",
    "Straight leg raise without extensor lag after cueing.",
    "Reports less stiffness; flexion 98 degrees.",
)
ONE_ON_ONE = (
    "Direct one-on-one throughout.",
    "Treated one-on-one for the whole session.",
    "Hands-on, 1:1 care.",
)
DESCRIPTIONS = (
    "Patellar glides, superior and inferior, 3 x 60 s, to gain flexion.",
    "Soft tissue work to the distal quadriceps around the scar.",
)
SLR_NAMES = (
    "Straight leg raise, right hip flexion, supine",
    "Straight leg raises, right leg, supine with ankle weight",
)
STOCK = ("Patient tolerated treatment.", "Tolerated well.")

# Each documentation element, and the one finding its absence gives.
ELEMENTS = {
    "necessity": "necessity.missing",
    "functional limitation": "necessity.vague",
    "diagnosis": "necessity.vague",
    "exercise name": "exercise.generic",
    "exercise dosage": "exercise.dosage_missing",
    "skilled intervention": "skilled.missing",
    "response": "response.missing",
    "response detail": "response.vague",
    "one-on-one contact": "one_on_one.unstated",
    "description of the service": "narrative.absent",
    "time": "time.missing",
}


@st.composite
def notes(draw: st.DrawFn) -> dict[str, Any]:
    """The parts of a complete note, in a drawn order."""
    lines = [
        {"code": "97110", "minutes": draw(st.integers(8, 40))},
        {"code": "97112", "minutes": draw(st.integers(8, 20))},
        {"code": "97140", "minutes": draw(st.integers(8, 15))},
    ]
    exercises = [
        {**SLR, "name": draw(st.sampled_from(SLR_NAMES))},
        {**BRIDGE, "dosage": {"sets": draw(st.integers(1, 4)), "reps": draw(st.integers(5, 15))}},
        STANCE,
    ]
    return {
        "diagnosis": draw(st.sampled_from(DIAGNOSES)),
        "function": draw(st.sampled_from(FUNCTIONS)),
        "plan": draw(st.sampled_from(PLANS)),
        "lines": draw(st.permutations(lines)),
        "extra": draw(st.integers(0, 10)),
        "exercises": draw(st.permutations(exercises)),
        "skilled": draw(st.lists(st.sampled_from(SKILLED), min_size=1, max_size=3, unique=True)),
        "response": draw(st.sampled_from(RESPONSES)),
        "one_on_one": draw(st.sampled_from(ONE_ON_ONE)),
        "description": draw(st.sampled_from(DESCRIPTIONS)),
        "stock": draw(st.sampled_from(STOCK)),
    }


def note_without(parts: dict[str, Any], element: str | None = None) -> dict[str, Any]:
    """The record_visit fields of the note, with one element left out."""
    necessity = f"{parts['diagnosis']}: {parts['function']}; {parts['plan']}."
    if element == "necessity":
        necessity = ""
    elif element == "functional limitation":
        necessity = f"{parts['diagnosis']}: {parts['plan']}."
    elif element == "diagnosis":
        necessity = f"{parts['function'].capitalize()}; {parts['plan']}."
    exercises = [dict(x) for x in parts["exercises"]]
    slr = next(x for x in exercises if x["exercise_id"] == "slr")
    if element == "exercise name":
        slr["name"] = "LE strengthening"
    elif element == "exercise dosage":
        slr["dosage"] = {}
    lines = [dict(x) for x in parts["lines"]]
    if element == "time":
        for line in lines:
            line["minutes"] = 0
    timed = sum(line["minutes"] for line in lines)
    narrative = [parts["one_on_one"], parts["description"]]
    if element == "one-on-one contact":
        narrative.remove(parts["one_on_one"])
    elif element == "description of the service":
        narrative.remove(parts["description"])
    response = parts["response"]
    if element == "response":
        response = ""
    elif element == "response detail":
        response = parts["stock"]
    return {
        "service_lines": lines,
        "total_treatment_minutes": timed + (parts["extra"] if element != "time" else 0),
        "necessity": necessity,
        "exercises": exercises,
        "skilled_interventions": [] if element == "skilled intervention" else parts["skilled"],
        "patient_response": response,
        "narrative": " ".join(narrative),
    }


def findings_of(note: dict[str, Any]) -> tuple[Finding, ...]:
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FixedClock())
    try:
        return Chart(app).visit(1, **note).findings()
    finally:
        app.close()


@given(notes())
def test_a_note_with_every_element_has_no_finding(parts: dict[str, Any]) -> None:
    """docs/rules.md#documentation: necessity tied to diagnosis and function, specific exercises with dosage,
    skilled care,
    response, time and direct contact: nothing for a reviewer to deny."""
    assert findings_of(note_without(parts)) == ()


@given(notes(), st.sampled_from(sorted(ELEMENTS)))
def test_leaving_out_one_element_gives_exactly_its_finding(parts: dict[str, Any], element: str) -> None:
    """docs/rules.md#documentation: each element is checked on its own; its absence is one finding of its
    rule.
    """
    assert [f.rule_id for f in findings_of(note_without(parts, element))] == [ELEMENTS[element]]


def comparable(findings: tuple[Finding, ...], versions: bool = False) -> list[tuple[Any, ...]]:
    """The findings without their episode's id, and without the event versions unless asked."""
    return [
        (
            f.rule_id,
            f.severity,
            f.date_of_service,
            f.on,
            f.subject,
            f.message,
            f.quote,
            f.fix.replace(f.episode_id[:8], "EPISODE"),
            f.evidence if versions else None,
        )
        for f in findings
    ]


@given(notes(), st.randoms(use_true_random=False), st.sampled_from([None, *sorted(ELEMENTS)]))
def test_findings_do_not_depend_on_the_order_within_a_note(
    parts: dict[str, Any], rng: random.Random, element: str | None
) -> None:
    """Order independence: the same note with its lines, exercises and interventions shuffled."""
    note = note_without(parts, element)
    shuffled = {**note}
    for key in ("service_lines", "exercises", "skilled_interventions"):
        items = list(note[key])
        rng.shuffle(items)
        shuffled[key] = items
    assert comparable(findings_of(note), versions=True) == comparable(findings_of(shuffled), versions=True)


@given(notes(), st.booleans(), st.sampled_from([None, *sorted(ELEMENTS)]))
def test_findings_do_not_depend_on_the_order_of_the_days_events(
    parts: dict[str, Any], progress_first: bool, element: str | None
) -> None:
    """Order independence: a progression effective on the visit's date, recorded before or after the note."""
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FixedClock())
    try:
        results = []
        for first in (progress_first, not progress_first):
            chart = Chart(app)
            for n in range(6):
                change = n == 3
                if change and first:
                    chart.do(
                        c.ProgressExercise,
                        exercise_id="slr",
                        dosage={"sets": 3, "reps": 12, "load": "3", "load_unit": "lb"},
                        effective_date=START + timedelta(days=2 * n + 1),
                        reason="3x10 at 2 lb without lag",
                    )
                chart.visit(2 * n + 1, **note_without(parts, element))
                if change and not first:
                    chart.do(
                        c.ProgressExercise,
                        exercise_id="slr",
                        dosage={"sets": 3, "reps": 12, "load": "3", "load_unit": "lb"},
                        effective_date=START + timedelta(days=2 * n + 1),
                        reason="3x10 at 2 lb without lag",
                    )
            results.append(check_episode(chart.episode, CheckContext.default()))
        assert comparable(results[0]) == comparable(results[1])
        assert check_episode(chart.episode, CheckContext.default()) == results[1]
    finally:
        app.close()
