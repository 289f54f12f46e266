"""The Medicare clocks as findings (docs/rules.md#plan-of-care): each rule's trigger and boundary, and the
same verdicts
as the continuity view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from domain.clocks.coverage import judge
from domain.clocks.periods import MEDICARE
from domain.demo import ReplayClock, synthetic_clinic
from domain.episode import commands as c
from domain.episode.aggregate import Episode
from domain.episode.application import Episodes
from domain.findings import CheckContext, check_episode
from projections.views.continuity import evaluate
from tests import builders as b
from tests.conftest import FixedClock
from tests.findings_chart import START, Chart, of_rule
from tests.readmodels import episode_key


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


def days(chart: Chart, count: int, first: int = 1, every: int = 2) -> Chart:
    """Record `count` well-documented visits, `every` days apart (their texts differ enough)."""
    for n in range(count):
        chart.visit(
            first + every * n,
            necessity=f"Right knee OA (M17.11) limits stairs; visit {n} of plan {n * 7919 % 997}.",
        )
    return chart


def clock_rules(chart: Chart, on: date | None = None) -> list[str]:
    return [
        f.rule_id
        for f in chart.findings()
        if f.rule_id.startswith("clock.") and (on is None or f.date_of_service == on)
    ]


def test_a_visit_before_any_plan_of_care_is_not_covered(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: treatment follows an established plan of care."""
    chart = Chart(app, plan=False).visit(1)
    assert "clock.no_plan" in clock_rules(chart)
    chart.app.handle(b.plan(chart.id, established_on=str(START)))
    assert "clock.no_plan" not in clock_rules(chart)


def test_a_visit_past_the_plans_duration_needs_a_new_plan(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: a plan of 8 weeks covers 56 days from its date."""
    chart = Chart(app).visit(55).visit(56)
    assert clock_rules(chart, START + timedelta(days=55)) == []
    assert "clock.past_plan_duration" in clock_rules(chart, START + timedelta(days=56))


def test_a_revised_plan_in_force_without_its_certification_is_at_risk(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: recertify when the plan changes significantly."""
    chart = Chart(app).visit(1)
    chart.app.handle(b.plan(chart.id, established_on=str(START + timedelta(days=3))))
    chart.visit(4)
    assert clock_rules(chart, START + timedelta(days=1)) == []
    assert clock_rules(chart, START + timedelta(days=4)) == ["clock.plan_not_recertified"]


def test_no_certification_within_the_30_days_is_pending_then_outside(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: certification due within 30 days of the first treatment day."""
    pending = Chart(app, certify=False).visit(1).visit(31)
    assert set(clock_rules(pending)) == {"clock.certification_pending"}
    late = Chart(app, certify=False).visit(1).visit(32)
    assert set(clock_rules(late)) == {"clock.visit_outside_certification"}


def test_a_certification_signed_after_30_days_is_late_unless_the_delay_is_explained(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: a delayed certification counts with a documented reason."""
    late = Chart(app, certify=False).visit(1)
    late.certify(START + timedelta(days=32))
    findings = late.findings()
    (episode_gap,) = of_rule(findings, "clock.certification_late")
    assert episode_gap.date_of_service is None and "signed 31 days after" in episode_gap.message
    assert [f.date_of_service for f in of_rule(findings, "clock.visit_outside_certification")] == [
        START + timedelta(days=1)
    ]
    explained = Chart(app, certify=False).visit(1)
    explained.certify(START + timedelta(days=32), delay_reason="physician on leave; signed on return")
    assert clock_rules(explained) == []


def test_a_verbal_order_needs_its_signature_within_14_days(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: a verbal order is signed within 14 days."""
    unsigned = Chart(app, certify=False).visit(1).visit(20)
    unsigned.do(
        c.CertifyPlan,
        certifier={"provider_id": "dr-1", "credential": "MD"},
        verbal_order_on=START + timedelta(days=1),
        period_start=START,
        period_end=START + timedelta(weeks=8),
    )
    assert "clock.verbal_order_unsigned" in clock_rules(unsigned)
    signed = Chart(app, certify=False).visit(1).visit(20)
    signed.do(
        c.CertifyPlan,
        certifier={"provider_id": "dr-1", "credential": "MD"},
        verbal_order_on=START + timedelta(days=1),
        signed_on=START + timedelta(days=10),
        period_start=START,
        period_end=START + timedelta(weeks=8),
    )
    assert clock_rules(signed) == []


def test_a_visit_after_the_certified_period_needs_recertification(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: a certification covers its period; a visit after it is uncovered."""
    chart = Chart(app, certify=False)
    chart.certify(START + timedelta(days=2), period_end=START + timedelta(days=20))
    chart.visit(20).visit(21)
    assert clock_rules(chart, START + timedelta(days=20)) == []
    assert clock_rules(chart, START + timedelta(days=21)) == ["clock.certification_expired"]


def test_visits_after_the_tenth_treatment_day_without_a_report_are_overdue(app: Episodes) -> None:
    """docs/rules.md#progress-reports (CMS BPM ch.15 §220.3 D): overdue from the 11th treatment day."""
    chart = days(Chart(app), 11)
    overdue = of_rule(chart.findings(), "clock.progress_report_overdue")
    assert [f.date_of_service for f in overdue] == [START + timedelta(days=21)]
    reported = days(Chart(app), 10)
    reported.do(
        c.RecordProgressReport,
        report_date=START + timedelta(days=19),
        period_start=START,
        period_end=START + timedelta(days=19),
        author_id="pt-1",
        credential="PT",
    )
    days(reported, 1, first=21)
    assert of_rule(reported.findings(), "clock.progress_report_overdue") == []


def test_a_commercial_payer_is_held_to_the_plan_but_not_to_medicares_clocks(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: certification and progress-report clocks are Medicare's; plan coverage is
    everyone's.
    """
    chart = days(Chart(app, certify=False, payer={"payer_id": "commercial-ama"}), 12)
    assert clock_rules(chart) == []
    uncovered = Chart(app, plan=False, payer={"payer_id": "commercial-ama"}).visit(1)
    assert clock_rules(uncovered) == ["clock.no_plan"]


# --- one judgement, two readers: the continuity view and the findings render the same verdicts ----------


def verdicts(episode: Episode) -> tuple[set[tuple[str, Any]], set[tuple[str, Any]]]:
    """What the continuity view and the checks each show, as (rule id, date) pairs, beside the judgement."""
    medicare = episode.payer.payer_id == "medicare"
    judged = judge(episode, medicare, MEDICARE)
    continuity = evaluate(episode, medicare, coverage=judged)
    rendered = {(g["code"], row["date_of_service"]) for row in continuity.visits for g in row["gaps"]}
    assert rendered == {(g.code, seen.day) for seen in judged.visits for g in seen.gaps}
    expected = {(g.rule_id, g.date_of_service or g.on) for g in judged.verdicts()}
    found = {
        (f.rule_id, f.date_of_service or f.on)
        for f in check_episode(episode, CheckContext.default())
        if f.rule_id.startswith("clock.") or f.rule_id == "necessity.missing"
    }
    return expected, found


def test_the_checks_and_the_continuity_view_agree_on_crafted_episodes(app: Episodes) -> None:
    """docs/rules.md#plan-of-care: one set of clock rules, two readers: findings and continuity name the same
    gaps.
    """
    charts = [
        days(Chart(app, certify=False), 12),
        Chart(app, plan=False).visit(1).visit(3, necessity=""),
        days(Chart(app, certify=False), 3),
    ]
    charts[2].certify(START + timedelta(days=40))
    expired = Chart(app, certify=False)
    expired.certify(START + timedelta(days=2), period_end=START + timedelta(days=10))
    charts.append(days(expired, 8))
    for chart in charts:
        gaps, found = verdicts(chart.episode)
        assert gaps == found and gaps


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_the_checks_and_the_continuity_view_agree_on_the_synthetic_clinic(seed: int) -> None:
    """docs/rules.md#plan-of-care: the same on the synthetic clinic's episodes (late certifications, late
    reports).
    """
    recorded = list(synthetic_clinic(8, seed=seed))
    clock = ReplayClock(recorded[0].at)
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    try:
        for item in recorded:
            clock.now = item.at
            application.handle(item.command)
        for episode_id in {episode_key(item) for item in recorded}:
            gaps, found = verdicts(application.get_episode(episode_id))
            assert gaps == found
    finally:
        application.close()
