"""Amendments of a visit (docs/rules.md#amendments): appended, referencing what they amend, with who and why.

Runs the application on eventsourcing's in-memory recorder with a clock the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from domain.episode import commands as c
from domain.episode.application import Episodes
from domain.errors import InvalidInput
from domain.records import EpisodeState
from tests import builders as b
from tests.conftest import FixedClock

DOS = date(2026, 9, 2)


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


@pytest.fixture
def episode_id(app: Episodes, clock: FixedClock) -> UUID:
    episode_id = app.handle(b.open_episode()).episode_id
    clock.now += timedelta(minutes=1)
    app.handle(b.visit(episode_id))  # version 2: 33 min 97110 + 7 min 97140, total 45
    clock.now += timedelta(days=1)
    return episode_id


def refused(app: Episodes, command: c.Command, field: str) -> InvalidInput:
    """Apply a command that must be refused on `field`; check that nothing was stored."""
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as caught:
        app.handle(command)
    assert caught.value.field == field, str(caught.value)
    assert app.recorder.max_notification_id() == before
    return caught.value


def test_a_correction_changes_the_current_visit_and_keeps_the_original_event(
    app: Episodes, episode_id: UUID
) -> None:
    # docs/rules.md#amendments: the original entry is never altered; the correction is appended with who and
    # why.
    result = app.handle(b.correction(episode_id, {"total_treatment_minutes": 50}, reason="typo in total"))
    assert result.event == "VisitCorrected" and result.version == 3
    visit = app.get_episode(episode_id).visits[DOS]
    assert visit.total_treatment_minutes == 50
    assert visit.event_version == 2  # the visit's provenance is still its entry
    (mark,) = visit.amendments
    assert (mark.kind, mark.amends_version, mark.event_version) == ("correction", 2, 3)
    assert (mark.recorded_by, mark.reason) == ("tester", "typo in total")
    assert mark.previous == {"total_treatment_minutes": 45} and mark.changes == {
        "total_treatment_minutes": 50
    }
    original = app.history(episode_id)[1]
    assert type(original).__name__ == "VisitRecorded" and original.total_treatment_minutes == 45  # type: ignore[attr-defined]


def test_a_correction_is_refused_when_the_corrected_note_breaks_an_invariant(
    app: Episodes, episode_id: UUID
) -> None:
    # docs/rules.md#time-integrity: timed minutes <= total; the would-be visit is checked like a new one.
    error = refused(
        app, b.correction(episode_id, {"total_treatment_minutes": 39}), "changes.total_treatment_minutes"
    )
    assert "40 timed minutes" in str(error)
    lines = [{"code": "97110", "minutes": 30}, {"code": "97999", "minutes": 5}]
    refused(app, b.correction(episode_id, {"service_lines": lines}), "changes.service_lines.1.code")
    refused(app, b.correction(episode_id, {"credential": "OT"}), "changes.credential")
    performed = [{"exercise_id": "nope", "name": "Unknown exercise"}]
    refused(app, b.correction(episode_id, {"exercises": performed}), "changes.exercises.0.exercise_id")
    refused(
        app, b.correction(episode_id, {"total_treatment_minutes": "50"}), "changes.total_treatment_minutes"
    )
    assert app.get_episode(episode_id).visits[DOS].total_treatment_minutes == 45


def test_a_correction_cannot_move_a_visit_to_another_date(app: Episodes, episode_id: UUID) -> None:
    error = refused(
        app, b.correction(episode_id, {"date_of_service": "2026-09-03"}), "changes.date_of_service"
    )
    assert "void it and record it" in str(error)


def test_a_correction_of_a_field_a_visit_does_not_have_is_refused(app: Episodes, episode_id: UUID) -> None:
    error = refused(app, b.correction(episode_id, {"minutes": 30}), "changes.minutes")
    assert "correctable: provider_id" in str(error)


def test_a_correction_that_changes_nothing_is_refused(app: Episodes, episode_id: UUID) -> None:
    refused(app, b.correction(episode_id, {"total_treatment_minutes": 45}), "changes")


def test_an_amendment_needs_a_reason() -> None:
    with pytest.raises(InvalidInput, match=r"^reason: "):
        c.parse_command(
            {
                "command": "void_visit",
                "command_id": "00000000-0000-0000-0000-000000000001",
                "recorded_by": "tester",
                "episode_id": "00000000-0000-0000-0000-000000000002",
                "date_of_service": "2026-09-02",
                "reason": "  ",
            }
        )


def test_an_amendment_names_its_visit_by_date_or_entry_version_and_both_must_agree(
    app: Episodes, episode_id: UUID
) -> None:
    by_version = b.command(
        c.AddAddendum, episode_id, amends_version=2, text="Home programme issued", reason="r"
    )
    assert app.handle(by_version).applied
    both = b.command(c.VoidVisit, episode_id, date_of_service="2026-09-02", amends_version=1, reason="r")
    error = refused(app, both, "amends_version")
    assert "recorded at version 2, not 1" in str(error)
    refused(app, b.command(c.VoidVisit, episode_id, reason="r"), "date_of_service")
    refused(
        app, b.command(c.VoidVisit, episode_id, date_of_service="2026-09-05", reason="r"), "date_of_service"
    )
    refused(app, b.command(c.VoidVisit, episode_id, amends_version=1, reason="r"), "amends_version")


def test_an_addendum_is_listed_on_the_visit_with_its_author_time_and_reason(
    app: Episodes, episode_id: UUID, clock: FixedClock
) -> None:
    command = c.AddAddendum(
        command_id=uuid4(),
        recorded_by="pt-2",
        episode_id=episode_id,
        date_of_service=DOS,
        text="Phoned the patient: no soreness the next day.",
        reason="follow-up call",
    )
    app.handle(command)
    (mark,) = app.get_episode(episode_id).visits[DOS].amendments
    assert (mark.kind, mark.text, mark.recorded_by, mark.recorded_at) == (
        "addendum",
        "Phoned the patient: no soreness the next day.",
        "pt-2",
        clock.now,
    )


def test_a_voided_visit_leaves_the_current_record_and_frees_its_date(app: Episodes, episode_id: UUID) -> None:
    app.handle(
        b.command(c.VoidVisit, episode_id, date_of_service="2026-09-02", reason="wrong patient's chart")
    )
    episode = app.get_episode(episode_id)
    assert DOS not in episode.visits
    (voided,) = episode.voided_visits
    assert voided.amendments[-1].kind == "void" and voided.amendments[-1].reason == "wrong patient's chart"
    again = app.handle(b.visit(episode_id, total_treatment_minutes=40))
    assert again.applied and app.get_episode(episode_id).visits[DOS].event_version == again.version
    assert [type(e).__name__ for e in app.history(episode_id)][1:] == [
        "VisitRecorded",
        "VisitVoided",
        "VisitRecorded",
    ]


def test_a_voided_visit_cannot_be_amended(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.command(c.VoidVisit, episode_id, date_of_service="2026-09-02", reason="entered in error"))
    error = refused(app, b.correction(episode_id, {"total_treatment_minutes": 50}), "date_of_service")
    assert "was voided (version 3)" in str(error)


def test_a_late_entry_is_a_visit_marked_late_with_its_reason(app: Episodes, episode_id: UUID) -> None:
    # docs/rules.md#amendments: a note entered later keeps both dates and says why.
    result = app.handle(b.late_entry(episode_id, reason="EMR down on the day", date_of_service="2026-09-04"))
    assert result.event == "LateEntryRecorded"
    visit = app.get_episode(episode_id).visits[date(2026, 9, 4)]
    assert visit.total_treatment_minutes == 45
    (mark,) = visit.amendments
    assert (mark.kind, mark.amends_version, mark.reason) == (
        "late_entry",
        result.version,
        "EMR down on the day",
    )
    corrected = b.correction(episode_id, {"narrative": "Late note, corrected."}, date_of_service="2026-09-04")
    assert app.handle(corrected).applied


def test_a_late_entry_on_its_date_of_service_is_refused(app: Episodes, clock: FixedClock) -> None:
    episode_id = app.handle(b.open_episode()).episode_id
    today = clock.now.astimezone().date().isoformat()
    error = refused(app, b.late_entry(episode_id, date_of_service=today), "date_of_service")
    assert "not a late entry" in str(error)


def test_a_late_entry_is_checked_like_a_new_visit(app: Episodes, episode_id: UUID) -> None:
    refused(app, b.late_entry(episode_id), "date_of_service")  # a visit is already recorded on 2026-09-02
    refused(
        app,
        b.late_entry(episode_id, date_of_service="2026-09-05", total_treatment_minutes=30),
        "total_treatment_minutes",
    )


def test_a_visit_can_be_corrected_after_the_discharge(app: Episodes, episode_id: UUID) -> None:
    app.handle(b.command(c.DischargeEpisode, episode_id, discharge_date="2026-09-30", reason="goals met"))
    assert app.handle(b.correction(episode_id, {"patient_response": "Tolerated well, pain 2/10."})).applied


def test_an_amendment_sent_twice_is_applied_once(app: Episodes, episode_id: UUID) -> None:
    command = b.correction(episode_id, {"total_treatment_minutes": 50})
    assert app.handle(command).applied
    assert not app.handle(command).applied
    assert len(app.get_episode(episode_id).visits[DOS].amendments) == 1


def test_a_snapshot_taken_before_amendments_existed_still_loads(app: Episodes, episode_id: UUID) -> None:
    state = app.get_episode(episode_id).state().model_dump(mode="json")
    state.pop("voided_visits")
    for visit in state["visits"].values():
        visit.pop("amendments")
    old = EpisodeState.model_validate(state)
    assert old.voided_visits == [] and old.visits[DOS].amendments == ()
