"""The episode's invariants: each is refused with a message naming the field, and nothing stored.

Runs the application on eventsourcing's in-memory recorder (a real recorder, no
mocks), with a clock fixed at 2026-11-20.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.episode import commands as c
from domain.episode.application import Episodes
from domain.errors import CommandConflict, EpisodeNotFound, InvalidInput
from tests import builders as b
from tests.conftest import FixedClock


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


@pytest.fixture
def episode_id(app: Episodes) -> UUID:
    return app.handle(b.open_episode()).episode_id


def refused(app: Episodes, command: c.Command, field: str) -> InvalidInput:
    """Apply a command that must be refused on `field`; check that nothing was stored."""
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as caught:
        app.handle(command)
    assert caught.value.field == field, str(caught.value)
    assert "\n" not in str(caught.value)
    assert app.recorder.max_notification_id() == before
    return caught.value


def test_timed_minutes_above_total_treatment_minutes_are_refused(app: Episodes, episode_id: UUID) -> None:
    # docs/rules.md#time-integrity: timed minutes <= total treatment minutes.
    error = refused(app, b.visit(episode_id, total_treatment_minutes=39), "total_treatment_minutes")
    assert "40 timed minutes" in str(error)


def test_untimed_minutes_do_not_count_against_the_timed_total(app: Episodes, episode_id: UUID) -> None:
    # docs/rules.md#timed-codes: untimed codes never add to the timed minutes.
    lines = [{"code": "97161", "minutes": 45}, {"code": "97110", "minutes": 10}]
    result = app.handle(b.visit(episode_id, service_lines=lines, total_treatment_minutes=10))
    assert result.applied


def test_unknown_code_is_refused_naming_the_line(app: Episodes, episode_id: UUID) -> None:
    lines = [{"code": "97110", "minutes": 20}, {"code": "97999", "minutes": 5}]
    error = refused(app, b.visit(episode_id, service_lines=lines), "service_lines.1.code")
    assert "97999" in str(error)


def test_evaluation_code_of_another_discipline_is_refused(app: Episodes, episode_id: UUID) -> None:
    lines = [{"code": "97165", "minutes": 40}]
    refused(app, b.visit(episode_id, service_lines=lines, total_treatment_minutes=40), "service_lines.0.code")


def test_assistant_minutes_cannot_exceed_the_line(app: Episodes, episode_id: UUID) -> None:
    lines = [{"code": "97110", "minutes": 20, "assistant_minutes": 21}]
    refused(app, b.visit(episode_id, service_lines=lines), "service_lines.0.assistant_minutes")


def test_a_block_must_end_after_it_starts(app: Episodes, episode_id: UUID) -> None:
    lines = [{"code": "97110", "minutes": 20, "start": "10:20", "end": "10:00"}]
    refused(app, b.visit(episode_id, service_lines=lines), "service_lines.0.end")


@pytest.mark.parametrize(
    ("dos", "problem"),
    [("2026-08-31", "before the episode start"), ("2026-11-21", "in the future")],
)
def test_date_of_service_must_lie_between_start_and_today(
    app: Episodes, episode_id: UUID, dos: str, problem: str
) -> None:
    error = refused(app, b.visit(episode_id, date_of_service=dos), "date_of_service")
    assert problem in str(error)


def test_a_second_visit_on_the_same_date_is_refused(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.visit(episode_id))
    refused(app, b.visit(episode_id), "date_of_service")


def test_a_visit_after_the_discharge_date_is_refused(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.visit(episode_id, date_of_service="2026-09-02"))
    app.handle(b.command(c.DischargeEpisode, episode_id, discharge_date="2026-09-10", reason="goals met"))
    refused(app, b.visit(episode_id, date_of_service="2026-09-11"), "date_of_service")
    # A note for a date on or before the discharge may still be written late.
    assert app.handle(b.visit(episode_id, date_of_service="2026-09-09")).applied


def test_discharge_cannot_predate_the_last_visit(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.visit(episode_id, date_of_service="2026-09-12"))
    command = b.command(c.DischargeEpisode, episode_id, discharge_date="2026-09-10", reason="goals met")
    refused(app, command, "discharge_date")


def test_a_visit_inside_a_hold_is_refused_until_resumed(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.command(c.HoldEpisode, episode_id, start_date="2026-09-05", reason="surgery"))
    refused(app, b.visit(episode_id, date_of_service="2026-09-08"), "date_of_service")
    app.handle(b.command(c.ResumeEpisode, episode_id, resume_date="2026-09-15"))
    refused(app, b.visit(episode_id, date_of_service="2026-09-14"), "date_of_service")
    assert app.handle(b.visit(episode_id, date_of_service="2026-09-15")).applied
    assert app.handle(b.visit(episode_id, date_of_service="2026-09-04")).applied


def test_an_exercise_change_must_name_an_exercise_of_the_episode(app: Episodes, episode_id: UUID) -> None:
    command = b.command(
        c.ProgressExercise,
        episode_id,
        exercise_id="squat",
        dosage={"sets": 3},
        effective_date="2026-09-03",
        reason="stronger",
    )
    refused(app, command, "exercise_id")


def test_a_visit_cannot_perform_an_unknown_exercise(app: Episodes, episode_id: UUID) -> None:
    exercises = [{"exercise_id": "nope", "name": "Squat", "dosage": {"sets": 2}}]
    refused(app, b.visit(episode_id, exercises=exercises), "exercises.0.exercise_id")


def test_a_progression_must_change_the_prescription(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.add_exercise(episode_id))
    same = {"sets": 3, "reps": 10, "load": "2", "load_unit": "lb"}
    command = b.command(
        c.ProgressExercise,
        episode_id,
        exercise_id="slr",
        dosage=same,
        effective_date="2026-09-03",
        reason="x",
    )
    refused(app, command, "dosage")


def test_a_discontinued_exercise_is_not_performed_after_it_stopped(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.add_exercise(episode_id))
    stop = b.command(
        c.DiscontinueExercise, episode_id, exercise_id="slr", effective_date="2026-09-05", reason="goal met"
    )
    app.handle(stop)
    exercises = [{"exercise_id": "slr", "name": "SLR", "dosage": {"sets": 3}}]
    refused(
        app, b.visit(episode_id, date_of_service="2026-09-06", exercises=exercises), "exercises.0.exercise_id"
    )
    assert app.handle(b.visit(episode_id, date_of_service="2026-09-04", exercises=exercises)).applied


def test_an_exercise_id_is_added_once(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.add_exercise(episode_id))
    refused(app, b.add_exercise(episode_id), "exercise_id")


@pytest.mark.parametrize(("instrument", "score"), [("LEFS", "81"), ("LEFS", "-1"), ("NPRS", "10.5")])
def test_a_score_must_lie_inside_its_instrument_range(
    app: Episodes, episode_id: UUID, instrument: str, score: str
) -> None:
    command = b.command(
        c.RecordOutcome, episode_id, instrument=instrument, score=score, taken_on="2026-09-02"
    )
    refused(app, command, "score")


def test_an_unknown_instrument_is_refused(app: Episodes, episode_id: UUID) -> None:
    command = b.command(c.RecordOutcome, episode_id, instrument="FOO", score="3", taken_on="2026-09-02")
    refused(app, command, "instrument")


def test_an_instrument_is_stored_under_its_catalogue_name(app: Episodes, episode_id: UUID) -> None:
    command = b.command(c.RecordOutcome, episode_id, instrument="lefs", score="30", taken_on="2026-09-02")
    app.handle(command)
    assert app.get_episode(episode_id).outcomes[0].instrument == "LEFS"


def _progress_report(episode_id: UUID, **fields: Any) -> c.RecordProgressReport:
    values: dict[str, Any] = {
        "report_date": "2026-09-20",
        "period_start": "2026-09-01",
        "period_end": "2026-09-20",
        "author_id": "pt-1",
        "credential": "PT",
        "goal_assessments": [{"goal_id": "G1", "status": "progressing"}],
    }
    values.update(fields)
    return b.command(c.RecordProgressReport, episode_id, **values)


def test_an_assistant_may_not_write_a_progress_report(app: Episodes, episode_id: UUID) -> None:
    # docs/rules.md#modifiers, docs/rules.md#plan-of-care: an assistant may not write a progress report.
    app.handle(b.plan(episode_id))
    error = refused(app, _progress_report(episode_id, author_id="pta-1", credential="PTA"), "credential")
    assert "assistant" in str(error)
    assert app.handle(_progress_report(episode_id)).applied


def test_a_progress_report_assesses_goals_of_the_plan(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.plan(episode_id))
    command = _progress_report(episode_id, goal_assessments=[{"goal_id": "G9", "status": "met"}])
    refused(app, command, "goal_assessments.0.goal_id")


def test_a_credential_must_fit_the_discipline(app: Episodes, episode_id: UUID) -> None:
    refused(app, b.visit(episode_id, provider_id="ot-1", credential="OT"), "credential")


def test_a_plan_needs_a_duration(app: Episodes, episode_id: UUID) -> None:
    refused(app, b.plan(episode_id, duration_weeks=None), "duration_weeks")


def test_certification_needs_a_plan_and_records_initial_then_recertification(
    app: Episodes, episode_id: UUID
) -> None:
    def certify() -> c.CertifyPlan:
        return b.command(
            c.CertifyPlan,
            episode_id,
            certifier={"provider_id": "dr-1", "credential": "MD"},
            signed_on="2026-09-05",
            period_start="2026-09-01",
            period_end="2026-11-29",
        )

    refused(app, certify(), "plan_version")
    app.handle(b.plan(episode_id))
    app.handle(certify())
    app.handle(certify())
    kinds = [cert.kind for cert in app.get_episode(episode_id).certifications]
    assert kinds == ["initial", "recertification"]


def test_the_same_command_twice_is_a_no_op(app: Episodes, episode_id: UUID) -> None:
    command = b.visit(episode_id)
    first = app.handle(command)
    second = app.handle(command)
    assert first.applied and not second.applied
    assert second.version == first.version
    assert len(app.history(episode_id)) == 2


def test_a_reused_command_id_with_another_payload_is_rejected(app: Episodes, episode_id: UUID) -> None:
    command = b.visit(episode_id)
    app.handle(command)
    changed = command.model_copy(update={"total_treatment_minutes": 50})
    with pytest.raises(CommandConflict):
        app.handle(changed)


def test_opening_without_an_episode_id_derives_it_from_the_command_id(app: Episodes) -> None:
    command = b.open_episode(episode_id=None)
    first = app.handle(command)
    again = app.handle(command)
    assert first.episode_id == again.episode_id and not again.applied


def test_opening_an_existing_episode_id_with_a_new_command_is_refused(
    app: Episodes, episode_id: UUID
) -> None:
    refused(app, b.open_episode(episode_id=episode_id), "episode_id")


def test_a_command_on_an_unknown_episode_names_it(app: Episodes) -> None:
    missing = uuid4()
    with pytest.raises(EpisodeNotFound, match=str(missing)):
        app.handle(b.visit(missing))


def test_the_payer_profile_supplies_the_unit_rule(app: Episodes) -> None:
    medicare = app.handle(b.open_episode()).episode_id
    commercial = app.handle(b.open_episode(payer={"payer_id": "commercial-ama"})).episode_id
    assert app.get_episode(medicare).payer.unit_rule == "cms"
    assert app.get_episode(commercial).payer.unit_rule == "ama"
    refused(app, b.open_episode(payer={"payer_id": "acme"}), "payer.unit_rule")
    explicit = app.handle(b.open_episode(payer={"payer_id": "acme", "unit_rule": "ama"})).episode_id
    assert app.get_episode(explicit).payer.unit_rule == "ama"


def test_recorded_times_keep_increasing_when_the_clock_steps_back(
    app: Episodes, episode_id: UUID, clock: FixedClock
) -> None:
    clock.now -= timedelta(hours=1)
    app.handle(b.visit(episode_id))
    first, second = app.history(episode_id)
    assert second.timestamp > first.timestamp


def test_a_replayed_fact_keeps_the_recorded_time_given_and_never_goes_back_in_time(
    app: Episodes, clock: FixedClock
) -> None:
    from datetime import UTC, datetime

    earlier = datetime(2026, 9, 1, 17, 30, tzinfo=UTC)
    opened = app.handle(b.open_episode(), recorded_at=earlier)
    episode = app.get_episode(opened.episode_id)
    assert episode.created_on == earlier and app.clock is clock  # the application's clock is untouched
    visit = b.visit(opened.episode_id, date_of_service="2026-09-01")
    with pytest.raises(InvalidInput, match=r"^recorded_at: .* is not after the episode's last recorded time"):
        app.handle(visit, recorded_at=earlier)
    with pytest.raises(InvalidInput, match=r"^recorded_at: give a time with its offset"):
        app.handle(visit, recorded_at=datetime(2026, 9, 2, 9, 0))
    later = datetime(2026, 9, 1, 18, 0, tzinfo=UTC)
    assert app.handle(visit, recorded_at=later).version == 2
    assert app.get_episode(opened.episode_id).modified_on == later
