"""Audit reconstruction: the episode as of a recorded time, what changed, and one visit's versions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from domain.episode import commands as c
from domain.episode.application import Episodes
from domain.episode.audit import last_version_at, moment
from domain.errors import InvalidInput
from tests import builders as b
from tests.conftest import NOW, FixedClock

DOS = date(2026, 9, 2)


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


@pytest.mark.parametrize(
    ("at", "expected"),
    [(0, 0), (9, 0), (10, 1), (15, 1), (20, 2), (55, 5), (70, 7), (71, 7), (1000, 7)],
)
def test_the_last_version_recorded_at_or_before_a_time_is_found(at: int, expected: int) -> None:
    times = {v: NOW + timedelta(minutes=10 * v) for v in range(1, 8)}  # version v recorded at minute 10v
    reads: list[int] = []

    def recorded_at(version: int) -> datetime:
        reads.append(version)
        return times[version]

    assert last_version_at(NOW + timedelta(minutes=at), 7, recorded_at) == expected
    assert len(reads) <= 4  # a binary search: 1 + ceil(log2(7))


def test_an_episode_with_no_versions_has_nothing_as_of_any_time() -> None:
    assert last_version_at(NOW, 0, lambda v: NOW) == 0


def test_a_date_means_the_end_of_that_day_in_the_given_zone() -> None:
    zone = timezone(timedelta(hours=-5))
    assert moment("2026-03-30", "as_of", zone) == datetime(2026, 3, 30, 23, 59, 59, 999999, tzinfo=zone)


def test_a_time_without_offset_is_in_the_given_zone_and_one_with_an_offset_is_kept() -> None:
    zone = timezone(timedelta(hours=2))
    assert moment("2026-03-30T17:30", "as_of", zone) == datetime(2026, 3, 30, 17, 30, tzinfo=zone)
    assert moment("2026-03-30T17:30:05Z", "as_of", zone) == datetime(2026, 3, 30, 17, 30, 5, tzinfo=UTC)
    assert moment(" 2026-03-30T17:30+01:00 ", "as_of").utcoffset() == timedelta(hours=1)


def test_a_time_without_offset_defaults_to_the_local_zone() -> None:
    parsed = moment("2026-03-30T12:00", "since")
    assert parsed.tzinfo is not None
    assert parsed.replace(tzinfo=None) == datetime(2026, 3, 30, 12, 0)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "30/03/2026", ""])
def test_a_time_that_is_not_iso_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^since: .* is not a date"):
        moment(text, "since")


def build(app: Episodes, clock: FixedClock) -> tuple[UUID, list[datetime]]:
    """Open, record a visit, correct it, add an addendum, record a late entry, void it; one hour apart."""
    episode_id = app.handle(b.open_episode()).episode_id
    commands: list[c.Command] = [
        b.visit(episode_id),
        b.correction(episode_id, {"total_treatment_minutes": 50}, reason="total mis-typed"),
        b.command(c.AddAddendum, episode_id, date_of_service="2026-09-02", text="No soreness", reason="call"),
        b.late_entry(episode_id, date_of_service="2026-09-04", reason="EMR down"),
        b.command(c.VoidVisit, episode_id, date_of_service="2026-09-04", reason="wrong patient"),
    ]
    times = [clock.now]
    for command in commands:
        clock.now += timedelta(hours=1)
        times.append(clock.now)
        app.handle(command)
    return episode_id, times


def test_the_episode_as_of_a_time_holds_exactly_what_was_recorded_by_then(
    app: Episodes, clock: FixedClock
) -> None:
    episode_id, times = build(app, clock)
    before_correction = app.episode_as_of(episode_id, times[2] - timedelta(seconds=1))
    assert before_correction.version == 2
    assert before_correction.visits[DOS].total_treatment_minutes == 45
    assert app.episode_as_of(episode_id, times[2]).visits[DOS].total_treatment_minutes == 50
    late = app.episode_as_of(episode_id, times[4])
    assert date(2026, 9, 4) in late.visits
    assert date(2026, 9, 4) not in app.episode_as_of(episode_id, times[5]).visits


def test_the_episode_as_of_a_time_before_it_was_opened_is_refused(app: Episodes, clock: FixedClock) -> None:
    episode_id, times = build(app, clock)
    with pytest.raises(InvalidInput, match=r"^as_of: .* is before episode .* was opened"):
        app.episode_as_of(episode_id, times[0] - timedelta(seconds=1))


def test_changes_list_each_amendment_with_author_reason_and_each_field_before_and_after(
    app: Episodes, clock: FixedClock
) -> None:
    episode_id, times = build(app, clock)
    report = app.changes_between(episode_id, times[1])
    assert (report.from_version, report.to_version) == (2, 6)
    kinds = [(e.kind, e.version, e.amends_version) for e in report.amendments]
    assert kinds == [("correction", 3, 2), ("addendum", 4, 2), ("late_entry", 5, 5), ("void", 6, 5)]
    correction = report.amendments[0]
    assert (correction.recorded_by, correction.reason, correction.recorded_at) == (
        "tester",
        "total mis-typed",
        times[2],
    )
    assert [(ch.field, ch.before, ch.after) for ch in correction.changes] == [
        ("total_treatment_minutes", 45, 50)
    ]
    assert report.recorded == ()
    assert "visit" not in correction.as_dict()


def test_changes_in_a_window_leave_out_what_came_before_and_after_it(
    app: Episodes, clock: FixedClock
) -> None:
    episode_id, times = build(app, clock)
    report = app.changes_between(episode_id, times[2], times[4])
    assert [e.kind for e in report.amendments] == ["addendum", "late_entry"]
    everything = app.changes_between(episode_id, times[0] - timedelta(days=1))
    assert [f.event for f in everything.recorded] == ["Opened", "VisitRecorded"]
    with pytest.raises(InvalidInput, match=r"^until: "):
        app.changes_between(episode_id, times[3], times[2])


def test_a_visit_history_lists_every_version_with_who_when_why(app: Episodes, clock: FixedClock) -> None:
    episode_id, _ = build(app, clock)
    clock.now += timedelta(hours=1)
    app.handle(b.visit(episode_id, date_of_service="2026-09-04", total_treatment_minutes=41))
    history = app.visit_history(episode_id, date(2026, 9, 4))
    assert [(e.kind, e.version) for e in history] == [("late_entry", 5), ("void", 6), ("recorded", 7)]
    assert history[1].visit is None and history[1].reason == "wrong patient"
    assert history[2].visit is not None and history[2].visit["total_treatment_minutes"] == 41
    first = app.visit_history(episode_id, DOS)
    assert [e.kind for e in first] == ["recorded", "correction", "addendum"]
    assert first[1].visit is not None and first[1].visit["total_treatment_minutes"] == 50
    assert first[2].changes[0].after == "No soreness"
    with pytest.raises(InvalidInput, match=r"^date_of_service: no visit on 2026-09-09"):
        app.visit_history(episode_id, date(2026, 9, 9))
