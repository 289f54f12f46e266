"""The minute ledger: no minute counted twice, timed <= total, blocks agree with minutes
(docs/rules.md#time-integrity).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from typing import Any
from uuid import UUID

import pytest

from domain.billing.ledger import audit_minutes
from domain.episode.application import Episodes
from domain.errors import InvalidInput
from domain.values import ServiceLine
from tests import builders as b
from tests.conftest import FixedClock


def line(
    code: str, minutes: int, start: str | None = None, end: str | None = None, **extra: Any
) -> ServiceLine:
    return ServiceLine(
        code=code,
        minutes=minutes,
        start=time.fromisoformat(start) if start else None,
        end=time.fromisoformat(end) if end else None,
        **extra,
    )


def test_timed_minutes_above_the_total_are_refused() -> None:
    # docs/rules.md#time-integrity: timed minutes <= total treatment minutes.
    ledger = audit_minutes([line("97110", 33), line("97140", 7)], 39)
    assert [r.field for r in ledger.refusals] == ["total_treatment_minutes"]
    assert "40 timed minutes" in ledger.refusals[0].problem


def test_untimed_and_supervised_minutes_are_kept_apart_from_timed_minutes() -> None:
    # docs/rules.md#timed-codes: untimed minutes count toward total treatment time, never toward timed
    # minutes.
    ledger = audit_minutes([line("97161", 40), line("97010", 10), line("97110", 20)], 60)
    assert (ledger.timed_minutes, ledger.untimed_minutes, ledger.supervised_minutes) == (20, 40, 10)
    assert ledger.accepted


def test_overlapping_timed_blocks_are_refused_naming_the_later_line() -> None:
    # docs/rules.md#time-integrity: no minute is counted in two timed codes.
    lines = [line("97110", 30, "10:00", "10:30"), line("97140", 15, "10:20", "10:35")]
    ledger = audit_minutes(lines, 45)
    assert [r.field for r in ledger.refusals] == ["service_lines.1.start"]
    assert "97140 10:20-10:35 overlaps 97110 10:00-10:30" in ledger.refusals[0].problem


def test_touching_blocks_do_not_overlap() -> None:
    lines = [line("97110", 30, "10:00", "10:30"), line("97140", 15, "10:30", "10:45")]
    assert audit_minutes(lines, 45).accepted


def test_a_timed_block_may_not_overlap_an_evaluation() -> None:
    # docs/rules.md#time-integrity: not in a timed code and an evaluation.
    lines = [line("97161", 30, "09:00", "09:30"), line("97110", 20, "09:25", "09:45")]
    assert [r.field for r in audit_minutes(lines, 60).refusals] == ["service_lines.1.start"]


def test_supervised_modalities_may_overlap_other_services() -> None:
    # docs/rules.md#time-integrity: only the supervised modalities (97010-97028, G0283) may overlap (NCCI
    # Policy Manual ch. XI).
    lines = [
        line("97110", 30, "10:00", "10:30"),
        line("G0283", 15, "10:10", "10:25"),
        line("97010", 10, "10:00", "10:10"),
    ]
    assert audit_minutes(lines, 30).accepted


def test_group_and_one_on_one_time_in_the_same_period_are_refused() -> None:
    # docs/rules.md#timed-codes, docs/rules.md#time-integrity: group 97150 and one-on-one minutes of the same
    # period are not both billable.
    lines = [line("97150", 30, "14:00", "14:30"), line("97110", 15, "14:15", "14:30")]
    ledger = audit_minutes(lines, 45)
    assert ledger.refusals and "group therapy (97150) and one-on-one" in ledger.refusals[0].problem


def test_group_and_one_on_one_time_without_times_is_a_billing_note() -> None:
    # docs/rules.md#time-integrity: without times the ledger cannot tell; it says so instead of refusing.
    ledger = audit_minutes([line("97150", 30), line("97110", 15)], 45)
    assert ledger.accepted
    assert [n.rule_id for n in ledger.notes] == ["minutes.group_and_one_on_one"]


def test_minutes_that_disagree_with_the_block_are_refused() -> None:
    # docs/rules.md#time-integrity, CMS BPM ch.15 §220.3 E: billing and the recorded time must agree.
    ledger = audit_minutes([line("97110", 33, "10:00", "10:30")], 40)
    assert [r.field for r in ledger.refusals] == ["service_lines.0.minutes"]
    assert "10:00-10:30 is 30 minutes" in ledger.refusals[0].problem


def test_minutes_within_a_minute_of_the_block_are_accepted() -> None:
    assert audit_minutes([line("97110", 31, "10:00", "10:30")], 40).accepted
    assert audit_minutes([line("97110", 29, "10:00:00", "10:29:40")], 40).accepted


def test_two_different_evaluations_on_one_date_are_refused() -> None:
    # docs/rules.md#timed-codes: only one of 97161-97164 per date.
    ledger = audit_minutes([line("97161", 30), line("97164", 20)], 50)
    assert [r.field for r in ledger.refusals] == ["service_lines.1.code"]


def test_total_below_the_services_minutes_is_noted() -> None:
    # docs/rules.md#timed-codes, docs/rules.md#time-integrity: untimed minutes count toward the total
    # treatment time.
    ledger = audit_minutes([line("97161", 40), line("97110", 20)], 30)
    assert ledger.accepted
    assert [n.rule_id for n in ledger.notes] == ["minutes.total_below_services"]


# --- the episode refuses at record time, through the same function -------------------------------


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


@pytest.fixture
def episode_id(app: Episodes) -> UUID:
    return app.handle(b.open_episode()).episode_id


def test_recording_overlapping_timed_lines_is_refused_and_stores_nothing(
    app: Episodes, episode_id: UUID
) -> None:
    lines = [
        {"code": "97110", "minutes": 30, "start": "10:00", "end": "10:30"},
        {"code": "97140", "minutes": 15, "start": "10:20", "end": "10:35"},
    ]
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as caught:
        app.handle(b.visit(episode_id, service_lines=lines, total_treatment_minutes=45))
    assert caught.value.field == "service_lines.1.start"
    assert "\n" not in str(caught.value)
    assert app.recorder.max_notification_id() == before


def test_recording_distinct_blocks_is_accepted(app: Episodes, episode_id: UUID) -> None:
    lines = [
        {"code": "97530", "minutes": 15, "start": "10:00", "end": "10:15"},
        {"code": "97140", "minutes": 15, "start": "10:15", "end": "10:30"},
    ]
    assert app.handle(b.visit(episode_id, service_lines=lines, total_treatment_minutes=30)).applied
