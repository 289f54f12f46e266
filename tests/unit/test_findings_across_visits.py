"""Checks across visits: progression and outcomes (docs/rules.md#progression), copied notes.

(docs/rules.md#cloned-notes)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from domain.episode import commands as c
from domain.episode.application import Episodes
from domain.findings import CheckContext, check_episode, with_other_episodes
from domain.findings.cloning import similar
from tests import builders as b
from tests.conftest import FixedClock
from tests.findings_chart import START, Chart, good_note, of_rule, rule_ids


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


STORIES = (
    "Walked to the mailbox and back without the cane.",
    "Climbed the porch steps twice with the rail this morning.",
    "Knee stiff after a long car ride to the coast.",
    "Gardened for an hour, kneeling on a cushion.",
    "Carried groceries up the back steps without stopping.",
    "Slept through the night for the first time since surgery.",
    "Danced at her granddaughter's wedding for two songs.",
    "Drove to the pharmacy and back without knee pain.",
)


def distinct(n: int) -> dict[str, Any]:
    """Texts of visit n that share little with other visits (so only the rule under test fires)."""
    story = STORIES[n % len(STORIES)]
    return {
        "necessity": f"Right knee osteoarthritis (M17.11): {story.lower()[:-1]} but stairs still limited.",
        "narrative": f"One-on-one throughout. {story} Patellar glides 3 x 60 s.",
        "patient_response": f"{story} Pain {n % 5}/10 afterwards.",
        "skilled_interventions": [f"cued visit {n} goals: {story}"],
    }


def visits(chart: Chart, count: int, **note: Any) -> Chart:
    for n in range(count):
        chart.visit(2 * n + 1, **{**distinct(n), **note})
    return chart


# --- docs/rules.md#progression progression ------------------------------------------------------------------


def test_six_visits_at_the_same_dosage_plateau_and_five_do_not(app: Episodes) -> None:
    """docs/rules.md#progression: the same exercise at the same dosage over N (6) visits, no reason."""
    six = visits(Chart(app), 6).findings()
    plateaus = of_rule(six, "progression.plateau")
    assert {f.subject for f in plateaus} == {"exercise slr", "exercise bridge", "exercise stance"}
    slr = next(f for f in plateaus if f.subject == "exercise slr")
    assert slr.date_of_service == START + timedelta(days=11) and "6 consecutive visits" in slr.message
    assert len([e for e in slr.evidence if e.what == "visit"]) == 6
    assert of_rule(visits(Chart(app), 5).findings(), "progression.plateau") == []


def test_a_progression_breaks_the_run_and_a_regression_explains_it(app: Episodes) -> None:
    """docs/rules.md#progression: a change of dosage or variant restarts the count; a regression's reason
    explains it.
    """
    chart = Chart(app)
    chart.do(
        c.ProgressExercise,
        exercise_id="slr",
        dosage={"sets": 3, "reps": 10, "load": "3", "load_unit": "lb"},
        effective_date=START + timedelta(days=6),
        reason="3x10 at 2 lb without lag",
    )
    chart.do(
        c.RegressExercise,
        exercise_id="bridge",
        dosage={"sets": 2, "reps": 8},
        effective_date=START,
        reason="low back flare; hold at 2x8 until pain settles",
    )
    findings = visits(chart, 8).findings()
    assert {f.subject for f in of_rule(findings, "progression.plateau")} == {"exercise stance"}


def test_the_checks_and_the_progression_view_flag_the_same_exercises(app: Episodes) -> None:
    """docs/rules.md#progression: one rule, two readers: the findings and the progression read model agree."""
    from projections.views.progression import progression_rows

    episode = visits(Chart(app), 7).episode
    flagged_view = {row["exercise_id"] for row in progression_rows(episode)["pv_exercise"] if row["plateau"]}
    found = of_rule(check_episode(episode, CheckContext.default()), "progression.plateau")
    assert {f.subject.removeprefix("exercise ") for f in found if f.subject} == flagged_view


def test_an_outcome_below_its_mcid_is_flat_and_one_past_it_is_not(app: Episodes) -> None:
    """docs/rules.md#progression, docs/rules.md#outcome-instruments: ODI 42 → 40 is within its MCID of 10; 42
    → 30 is past it.
    """
    flat = Chart(app).visit(1)
    flat.do(c.RecordOutcome, instrument="ODI", score="42", taken_on=START)
    flat.do(c.RecordOutcome, instrument="ODI", score="40", taken_on=START + timedelta(days=1))
    (finding,) = of_rule(flat.findings(), "progression.outcome_flat")
    assert finding.date_of_service is None and finding.on == START + timedelta(days=1)
    assert "ODI 42 → 40 (2 points better; MCID 10)" in finding.message
    better = Chart(app).visit(1)
    better.do(c.RecordOutcome, instrument="ODI", score="42", taken_on=START)
    better.do(c.RecordOutcome, instrument="ODI", score="30", taken_on=START + timedelta(days=1))
    assert of_rule(better.findings(), "progression.outcome_flat") == []


def test_an_instrument_without_an_mcid_is_not_judged_flat(app: Episodes) -> None:
    """docs/rules.md#outcome-instruments: TUG has a risk cut-off, not an MCID."""
    chart = Chart(app).visit(1)
    chart.do(c.RecordOutcome, instrument="TUG", score="14", taken_on=START)
    chart.do(c.RecordOutcome, instrument="TUG", score="14", taken_on=START + timedelta(days=1))
    assert of_rule(chart.findings(), "progression.outcome_flat") == []


# --- docs/rules.md#cloned-notes copied notes ----------------------------------------------------------------


def test_a_copied_narrative_flags_the_later_visit_only(app: Episodes) -> None:
    """docs/rules.md#cloned-notes: the later visit (by date of service) carries the finding."""
    copied = "One-on-one. Therapeutic exercise for the knee, patient tolerated well, continue plan of care."
    chart = Chart(app)
    chart.visit(1, **{**distinct(1), "narrative": copied + " Patellar glides."})
    chart.visit(3, **{**distinct(2), "narrative": copied + " Patellar glides."})
    (cloned,) = of_rule(chart.findings(), "note.cloned")
    assert cloned.date_of_service == START + timedelta(days=3) and cloned.subject == "narrative"
    assert "identical to that of the visit of 2026-09-02 (this episode)" in cloned.message
    assert {e.what for e in cloned.evidence} == {"visit", "earlier note"}


def test_a_late_entry_for_an_earlier_date_is_compared_by_its_date_of_service(app: Episodes) -> None:
    """docs/rules.md#cloned-notes, docs/rules.md#amendments: the visit written first but dated later is the
    copy.
    """
    copied = "One-on-one. Therapeutic exercise for the knee, patient tolerated well, continue plan of care."
    chart = Chart(app)
    chart.visit(5, **{**distinct(1), "narrative": copied + " Patellar glides."})
    note = {**distinct(2), "narrative": copied + " Patellar glides."}
    app.handle(b.late_entry(chart.id, date_of_service=str(START + timedelta(days=3)), **good_note(**note)))
    (cloned,) = of_rule(chart.findings(), "note.cloned")
    assert cloned.date_of_service == START + timedelta(days=5)


def words(n: int, prefix: str = "w") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def test_the_threshold_is_eighty_percent_of_shared_words() -> None:
    """docs/rules.md#cloned-notes: Jaccard 8/10 = 80% is near-identical; 11/14 (78%) is not."""
    a = frozenset([*words(8), "a1"])
    assert similar(a, frozenset([*words(8), "b1"]), 80) == 80
    b = frozenset([*words(11), "a1", "a2"])
    assert similar(b, frozenset([*words(11), "b1"]), 80) is None


def narrative_of(shared: list[str], own: list[str]) -> str:
    return " ".join(shared + own)


def test_a_note_at_the_threshold_is_flagged_and_one_just_below_is_not(app: Episodes) -> None:
    """docs/rules.md#cloned-notes: both sides of 80%, through the whole check."""
    shared = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    at = Chart(app)
    at.visit(1, **{**distinct(1), "narrative": narrative_of(shared, ["india"]) + " One-on-one, soft tissue."})
    at.visit(
        3, **{**distinct(2), "narrative": narrative_of(shared, ["juliet"]) + " One-on-one, soft tissue."}
    )
    (cloned,) = of_rule(at.findings(), "note.cloned")
    assert "84% the same" in cloned.message  # 11 shared of 13 words with the closing sentence
    below = Chart(app)
    below.visit(
        1, **{**distinct(1), "narrative": narrative_of(shared, ["india", "kilo", "lima"]) + " 1:1, stm."}
    )
    below.visit(
        3, **{**distinct(2), "narrative": narrative_of(shared, ["juliet", "mike", "oscar"]) + " 1:1, stm."}
    )
    assert of_rule(below.findings(), "note.cloned") == []


def test_short_texts_are_not_compared(app: Episodes) -> None:
    """docs/rules.md#cloned-notes: 4 distinct words cannot tell copying from coincidence; 5 can."""
    four = Chart(app)
    four.visit(1, **{**distinct(1), "patient_response": "Tolerated well, no pain."})
    four.visit(3, **{**distinct(2), "patient_response": "Tolerated well, no pain."})
    assert of_rule(four.findings(), "note.cloned") == []
    five = Chart(app)
    five.visit(1, **{**distinct(1), "patient_response": "Tolerated well, pain 2/10."})
    five.visit(3, **{**distinct(2), "patient_response": "Tolerated well, pain 2/10."})
    assert [f.subject for f in of_rule(five.findings(), "note.cloned")] == ["patient_response"]


def test_notes_copied_across_episodes_count_only_for_the_same_author(app: Episodes) -> None:
    """docs/rules.md#cloned-notes: the same author's note in another patient's episode; another author's is
    not a copy.
    """
    copied = {**distinct(1), "narrative": "One-on-one. Standard knee protocol session, tolerated well. STM."}
    first = Chart(app, patient_ref="MRN-1").visit(1, **copied)
    second = Chart(app, patient_ref="MRN-2").visit(3, **copied)
    other = Chart(app, patient_ref="MRN-3").visit(3, **{**copied, "provider_id": "pt-2"})
    episodes = [first.episode, second.episode, other.episode]
    context = with_other_episodes(second.episode, episodes, CheckContext.default())
    (cloned,) = of_rule(check_episode(second.episode, context), "note.cloned")
    assert f"episode {str(first.id)[:8]}, same author pt-1" in cloned.message
    assert any(e.episode_id == str(first.id) for e in cloned.evidence)
    context = with_other_episodes(other.episode, episodes, CheckContext.default())
    assert of_rule(check_episode(other.episode, context), "note.cloned") == []
    context = with_other_episodes(first.episode, episodes, CheckContext.default())
    assert of_rule(check_episode(first.episode, context), "note.cloned") == []  # it was written first


def test_a_correction_that_rewrites_a_copied_note_clears_the_finding(app: Episodes) -> None:
    """docs/rules.md#cloned-notes, docs/rules.md#amendments: the checks read the corrected note."""
    copied = "One-on-one. Therapeutic exercise for the knee, patient tolerated well, continue plan of care."
    chart = Chart(app)
    chart.visit(1, **{**distinct(1), "narrative": copied + " Glides."})
    chart.visit(3, **{**distinct(2), "narrative": copied + " Glides."})
    assert "note.cloned" in rule_ids(chart.findings())
    chart.do(
        c.CorrectVisit,
        date_of_service=str(START + timedelta(days=3)),
        changes={"narrative": "One-on-one. Step-downs from 6 inches with cues; patellar glides grade III."},
        reason="narrative was copied from the previous visit by mistake",
    )
    assert "note.cloned" not in rule_ids(chart.findings())


def test_many_notes_of_one_author_still_find_the_copy(app: Episodes) -> None:
    """docs/rules.md#cloned-notes: across episodes candidates come from MinHash bands; a copy among 40 notes
    is found.
    """
    charts = []
    for n in range(40):
        words_of_n = " ".join(f"{w}{n}" for w in ("river", "stone", "maple", "cloud", "ember", "frost"))
        charts.append(Chart(app, patient_ref=f"MRN-{n}").visit(1, **{**distinct(n), "narrative": words_of_n}))
    copy = charts[7].episode.visits[START + timedelta(days=1)].narrative
    late = Chart(app, patient_ref="MRN-late").visit(30, **{**distinct(3), "narrative": copy})
    episodes = [ch.episode for ch in (*charts, late)]
    context = with_other_episodes(late.episode, episodes, CheckContext.default())
    (cloned,) = of_rule(check_episode(late.episode, context), "note.cloned")
    assert f"episode {str(charts[7].id)[:8]}" in cloned.message


def test_unrelated_note_fields_are_compared_field_by_field(app: Episodes) -> None:
    """docs/rules.md#cloned-notes: a necessity statement is compared with necessity statements only."""
    text = "Right knee osteoarthritis limits stair climbing, needs progressed loading today."
    chart = Chart(app)
    chart.visit(1, **{**distinct(1), "necessity": text})
    chart.visit(3, **{**distinct(2), "narrative": f"One-on-one. {text} STM."})
    assert of_rule(chart.findings(), "note.cloned") == []
