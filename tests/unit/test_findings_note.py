"""The checks of one note (docs/rules.md#necessity, docs/rules.md#exercises, docs/rules.md#one-on-one,
docs/rules.md#response, docs/rules.md#coding, docs/rules.md#narrative): for each rule, a note that triggers
it and a close note that does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.episode import commands as c
from domain.episode.application import Episodes
from tests.conftest import FixedClock
from tests.findings_chart import DESCRIPTION, ONE_ON_ONE, SLR, STANCE, START, Chart, of_rule, rule_ids


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


def found(app: Episodes, **note: object) -> set[str]:
    return rule_ids(Chart(app).visit(1, **note).findings())


def test_a_well_documented_note_has_no_finding(app: Episodes) -> None:
    """docs/rules.md#documentation: a note with every documentation element gives a reviewer nothing
    to deny."""
    assert Chart(app).visit(1).findings() == ()


# --- docs/rules.md#necessity necessity ----------------------------------------------------------------------


def test_a_note_without_a_necessity_statement_is_an_error(app: Episodes) -> None:
    """docs/rules.md#necessity: medical necessity missing."""
    findings = Chart(app).visit(1, necessity="").findings()
    (missing,) = of_rule(findings, "necessity.missing")
    assert missing.severity == "error" and missing.subject == "necessity"
    assert "careledger visit correct" in missing.fix and "dated today" in missing.fix


def test_a_short_statement_tied_to_a_diagnosis_and_a_function_is_enough(app: Episodes) -> None:
    """docs/rules.md#necessity: the boundary: a code and a function, nothing more, is not vague."""
    assert "necessity.vague" not in found(app, necessity="M17.11: limits stairs.")


def test_a_statement_that_names_no_functional_limitation_is_vague(app: Episodes) -> None:
    """docs/rules.md#necessity: tied to the diagnosis, but to no functional limitation."""
    findings = Chart(app).visit(1, necessity="Patient needs skilled therapy for knee pain.").findings()
    (vague,) = of_rule(findings, "necessity.vague")
    assert "names no functional limitation" in vague.message and "diagnosis" not in vague.message
    assert vague.quote == "Patient needs skilled therapy for knee pain."


def test_a_statement_that_ties_to_no_diagnosis_is_vague(app: Episodes) -> None:
    """docs/rules.md#necessity: a functional limitation, but no code, description word or condition of the
    episode.
    """
    findings = Chart(app).visit(1, necessity="Limits walking to 300 feet; needs graded loading.").findings()
    (vague,) = of_rule(findings, "necessity.vague")
    assert "ties to no diagnosis of the episode (M17.11 unilateral primary osteoarthritis" in vague.message


@pytest.mark.parametrize(
    "statement",
    [
        "M17.1 limits walking to 300 feet.",
        "Osteoarthritis limits walking to 300 feet.",
        "Knee limits walking to 300 feet.",
        "Status post TKA: walking limited to 300 feet.",
    ],
)
def test_a_diagnosis_ties_by_its_code_category_a_description_word_or_a_condition(
    app: Episodes, statement: str
) -> None:
    """docs/rules.md#necessity: what ties a statement to the diagnosis (lexicon `conditions`, ICD category
    M17).
    """
    assert "necessity.vague" not in found(app, necessity=statement)


# --- docs/rules.md#exercises exercises ----------------------------------------------------------------------


def test_a_stock_exercise_name_is_generic_even_when_the_programme_entry_is_specific(app: Episodes) -> None:
    """docs/rules.md#exercises: "LE strengthening" on the note is generic whatever the catalogue says."""
    findings = Chart(app).visit(1, exercises=[{**SLR, "name": "LE strengthening"}, STANCE]).findings()
    (generic,) = of_rule(findings, "exercise.generic")
    assert generic.subject == "exercise slr" and "stock phrase" in generic.message
    assert generic.quote == "LE strengthening"


def test_a_name_without_a_body_region_is_generic_unless_the_programme_gives_one(app: Episodes) -> None:
    """docs/rules.md#exercises: "Mini squats" names no region; a catalogue entry with one makes it
    specific."""
    unlinked = found(app, exercises=[{"name": "Mini squats", "dosage": {"sets": 2, "reps": 10}}, SLR, STANCE])
    assert "exercise.generic" in unlinked
    chart = Chart(app)
    chart.do(
        c.AddExercise,
        exercise_id="squat",
        name="Mini squats",
        category="strengthening",
        body_region="right knee",
        effective_date=START,
    )
    chart.visit(
        1, exercises=[{"exercise_id": "squat", "name": "Mini squats", "dosage": {"sets": 2}}, SLR, STANCE]
    )
    assert "exercise.generic" not in rule_ids(chart.findings())


def test_a_specific_exercise_without_dosage_misses_its_dosage(app: Episodes) -> None:
    """docs/rules.md#exercises: named specifically, but no sets, reps, load, duration or position."""
    findings = Chart(app).visit(1, exercises=[{**SLR, "dosage": {}}, STANCE]).findings()
    assert [f.subject for f in of_rule(findings, "exercise.dosage_missing")] == ["exercise slr"]
    assert "exercise.dosage_missing" not in found(
        app, exercises=[{**SLR, "dosage": {"position": "supine"}}, STANCE]
    )


# --- docs/rules.md#one-on-one one-on-one --------------------------------------------------------------------


def test_supervision_only_language_on_a_timed_code_is_an_error(app: Episodes) -> None:
    """docs/rules.md#one-on-one: "exercised independently ... while therapist supervised" is not one-on-one
    time.
    """
    note = "Pt exercised independently in gym while therapist supervised other patients."
    findings = Chart(app).visit(1, narrative=f"{note} {DESCRIPTION}").findings()
    (shown,) = of_rule(findings, "one_on_one.not_shown")
    assert shown.severity == "error" and shown.quote == f"{note} {DESCRIPTION}"
    assert "'exercised independently'" in shown.message and "'supervised other patients'" in shown.message


def test_independence_in_a_function_is_not_supervision_language(app: Episodes) -> None:
    """docs/rules.md#one-on-one: the boundary: "climbs stairs independently" describes the patient, not
    supervision.
    """
    narrative = f"{ONE_ON_ONE} {DESCRIPTION} Now climbs stairs independently."
    assert "one_on_one.not_shown" not in found(app, narrative=narrative)


def test_group_and_one_on_one_time_without_times_is_at_risk(app: Episodes) -> None:
    """docs/rules.md#one-on-one, docs/rules.md#time-integrity: 97150 and 97110 on one date without start/end
    times.
    """
    lines = [{"code": "97110", "minutes": 25}, {"code": "97150", "minutes": 20}]
    findings = Chart(app).visit(1, service_lines=lines, total_treatment_minutes=50).findings()
    assert [f.severity for f in of_rule(findings, "one_on_one.group_overlap")] == ["warning"]
    blocks = [
        {"code": "97110", "minutes": 25, "start": "09:00", "end": "09:25"},
        {"code": "97150", "minutes": 20, "start": "09:30", "end": "09:50"},
    ]
    assert "one_on_one.group_overlap" not in found(app, service_lines=blocks, total_treatment_minutes=50)


def test_a_group_session_billed_as_97150_is_not_held_against_the_one_on_one_codes(app: Episodes) -> None:
    """docs/rules.md#one-on-one, docs/rules.md#timed-codes: "group session" describes the 97150 service when
    the visit bills it.
    """
    blocks = [
        {"code": "97110", "minutes": 25, "start": "09:00", "end": "09:25"},
        {"code": "97150", "minutes": 20, "start": "09:30", "end": "09:50"},
        {"code": "97140", "minutes": 10, "start": "09:50", "end": "10:00"},
    ]
    narrative = f"{ONE_ON_ONE} {DESCRIPTION} Then a group session of three patients on the bikes."
    assert "one_on_one.not_shown" not in found(
        app, service_lines=blocks, total_treatment_minutes=60, narrative=narrative
    )
    assert "one_on_one.not_shown" in found(app, narrative=narrative)


def test_a_note_that_never_states_direct_contact_is_noted(app: Episodes) -> None:
    """docs/rules.md#one-on-one: direct one-on-one contact is an element of the note (info when unstated)."""
    findings = Chart(app).visit(1, narrative=DESCRIPTION).findings()
    (unstated,) = of_rule(findings, "one_on_one.unstated")
    assert unstated.severity == "info" and unstated.subject == "97110, 97112, 97140"
    assert "one_on_one.unstated" not in found(app, narrative=f"{DESCRIPTION} 1:1 throughout.")


# --- docs/rules.md#skilled skilled, docs/rules.md#response response -----------------------------------------


def test_no_skilled_intervention_is_an_error_unless_the_narrative_shows_the_skill(app: Episodes) -> None:
    """docs/rules.md#skilled: nothing says what the therapist's skill added."""
    findings = Chart(app).visit(1, skilled_interventions=[]).findings()
    assert [f.severity for f in of_rule(findings, "skilled.missing")] == ["error"]
    narrative = f"{ONE_ON_ONE} {DESCRIPTION} Cued hip hinge throughout."
    assert "skilled.missing" not in found(app, skilled_interventions=[], narrative=narrative)


def test_interventions_that_name_no_skill_are_vague(app: Episodes) -> None:
    """docs/rules.md#skilled: "instructed in HEP" says what was done, not the skill; adding a cue makes it
    skilled.
    """
    findings = Chart(app).visit(1, skilled_interventions=["instructed in HEP"]).findings()
    (vague,) = of_rule(findings, "skilled.vague")
    assert vague.quote == "instructed in HEP"
    both = ["instructed in HEP", "cued neutral spine during lifts"]
    assert "skilled.vague" not in found(app, skilled_interventions=both)


def test_a_missing_response_is_found_and_an_addendum_with_one_fixes_it(app: Episodes) -> None:
    """docs/rules.md#response, docs/rules.md#amendments: no patient response; the fix is an addendum dated
    today, which the checks read.
    """
    chart = Chart(app).visit(1, patient_response="")
    (missing,) = of_rule(chart.findings(), "response.missing")
    assert "careledger visit addendum" in missing.fix
    chart.do(
        c.AddAddendum,
        date_of_service=str(START.replace(day=2)),
        text="Response: pain 2/10 after the session, no effusion.",
        reason="response omitted",
    )
    assert "response.missing" not in rule_ids(chart.findings())


def test_a_stock_response_without_detail_is_noted(app: Episodes) -> None:
    """docs/rules.md#response: "Patient tolerated treatment" says nothing of pain, quality or change."""
    findings = Chart(app).visit(1, patient_response="Patient tolerated treatment.").findings()
    assert [f.severity for f in of_rule(findings, "response.vague")] == ["info"]
    assert "response.vague" not in found(app, patient_response="Patient tolerated treatment, pain 2/10.")


# --- docs/rules.md#coding coding, docs/rules.md#narrative narrative -----------------------------------------


def test_balance_work_billed_as_therapeutic_exercise_fits_another_code(app: Episodes) -> None:
    """docs/rules.md#coding: a balance exercise documented, most minutes 97110, no 97112 billed."""
    lines = [{"code": "97110", "minutes": 30}, {"code": "97140", "minutes": 10}]
    findings = Chart(app).visit(1, service_lines=lines, total_treatment_minutes=43).findings()
    (mismatch,) = of_rule(findings, "coding.mismatch")
    assert (
        mismatch.subject == "97112" and "'Single-leg stance on foam, right leg' (balance" in mismatch.message
    )
    assert "bills 97110 for 30 of its 40 timed minutes" in mismatch.message


def test_the_other_code_billed_or_named_leaves_the_coding_alone(app: Episodes) -> None:
    """docs/rules.md#coding: the boundary: 97112 billed, or the note explains why it is not."""
    assert "coding.mismatch" not in found(app)
    lines = [{"code": "97110", "minutes": 30}, {"code": "97140", "minutes": 10}]
    narrative = f"{ONE_ON_ONE} {DESCRIPTION} Foam stance under 8 minutes, so not billed as 97112."
    assert "coding.mismatch" not in found(
        app, service_lines=lines, total_treatment_minutes=43, narrative=narrative
    )


def test_joint_mobilisation_in_the_narrative_without_97140_fits_manual_therapy(app: Episodes) -> None:
    """docs/rules.md#coding: a signal phrase of 97140 in the text, billed as 97110."""
    lines = [{"code": "97110", "minutes": 38}, {"code": "97112", "minutes": 15}]
    narrative = f"{ONE_ON_ONE} Joint mobilisation to the tibiofemoral joint, grade III."
    findings = (
        Chart(app).visit(1, service_lines=lines, total_treatment_minutes=55, narrative=narrative).findings()
    )
    assert [f.subject for f in of_rule(findings, "coding.mismatch")] == ["97140"]


def test_a_code_that_nothing_in_the_note_describes_relies_on_the_code(app: Episodes) -> None:
    """docs/rules.md#narrative: 97140 billed and no technique, region or grade anywhere in the note."""
    findings = Chart(app).visit(1, narrative=ONE_ON_ONE).findings()
    (absent,) = of_rule(findings, "narrative.absent")
    assert absent.subject == "97140" and "manual therapy" in absent.message
    assert "narrative.absent" not in found(app, narrative=f"{ONE_ON_ONE} Soft tissue work to the quadriceps.")


def test_a_generic_exercise_does_not_describe_therapeutic_exercise(app: Episodes) -> None:
    """docs/rules.md#narrative: "LE strengthening" restates the code; a specific exercise describes 97110."""
    only_generic = [{"name": "LE strengthening", "dosage": {"sets": 3}}, STANCE]
    assert "narrative.absent" in found(app, exercises=only_generic)
    assert "narrative.absent" not in found(app, exercises=[SLR, STANCE])
