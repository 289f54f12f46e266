"""The Medicare clocks of docs/rules.md#plan-of-care as pure functions: treatment days, progress reports,
certification.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.clocks.periods import (
    as_of,
    certification_due_by,
    check_certification,
    plan_end,
    plan_in_force,
    progress_report_clock,
    treatment_days,
)
from domain.records import Certification, Plan

FIRST = date(2026, 3, 2)
PROVENANCE: dict[str, Any] = {
    "event_version": 2,
    "recorded_at": datetime(2026, 3, 2, tzinfo=UTC),
    "recorded_by": "t",
}


def days(n: int, start: date = FIRST) -> list[date]:
    """n treatment days, one every other calendar day."""
    return [start + timedelta(days=2 * i) for i in range(n)]


def plan(
    established: date = FIRST, weeks: int | None = 12, visits: int | None = None, version: int = 1
) -> Plan:
    return Plan(
        established_on=established,
        therapist_id="pt-1",
        credential="PT",
        goals=({"goal_id": "G1", "term": "long", "text": "Climb stairs"},),  # type: ignore[arg-type]
        frequency_per_week=2,
        duration_weeks=weeks,
        duration_visits=visits,
        plan_version=version,
        **PROVENANCE,
    )


def cert(
    signed: date | None,
    *,
    verbal: date | None = None,
    start: date = FIRST,
    end: date = FIRST + timedelta(days=120),
    kind: str = "initial",
    reason: str = "",
    plan_version: int = 1,
) -> Certification:
    return Certification(
        certifier={"provider_id": "dr-1"},  # type: ignore[arg-type]
        signed_on=signed,
        verbal_order_on=verbal,
        period_start=start,
        period_end=end,
        delay_reason=reason,
        kind=kind,  # type: ignore[arg-type]
        certified_plan=plan_version,
        **PROVENANCE,
    )


# --- treatment days ----------------------------------------------------------------------


def test_a_reevaluation_day_is_a_treatment_day_and_a_date_counts_once() -> None:
    visits = [date(2026, 3, 2), date(2026, 3, 4)]
    assert treatment_days(visits, [date(2026, 3, 4), date(2026, 3, 3)]) == [
        date(2026, 3, 2),
        date(2026, 3, 3),
        date(2026, 3, 4),
    ]


# --- progress reports (docs/rules.md#plan-of-care: at least once every 10 treatment days) --------------


def test_a_report_on_the_10th_treatment_day_is_on_time() -> None:
    ten = days(10)
    clock = progress_report_clock(ten, [ten[9]])
    assert clock.gaps() == []
    assert clock.days[9].report_due and clock.days[9].report_present
    assert clock.due_in == 10


def test_an_11th_treatment_day_without_a_report_is_a_gap_dated_that_day() -> None:
    # CMS BPM ch.15 §220.3 D: the report may follow the 10th treatment day; it is overdue once an
    # 11th treatment day comes without one, and the verdict belongs to that 11th day, not the 10th.
    eleven = days(11)
    clock = progress_report_clock(eleven, [])
    [gap] = clock.gaps()
    assert gap.code == "progress_report_late" and gap.on == eleven[10]
    assert "missing" in gap.message and "docs/rules.md#progress-reports" in gap.rule
    assert gap.dates == (eleven[10],)
    assert [d.report_due for d in clock.days] == [False] * 9 + [True, True]
    assert [d.overdue for d in clock.days] == [False] * 10 + [True]
    assert clock.due_in == -1
    assert progress_report_clock(eleven[:10], []).gaps() == []


def test_a_report_written_at_the_11th_visit_is_late_on_that_visit() -> None:
    eleven = days(11)
    clock = progress_report_clock(eleven, [eleven[10]])
    [gap] = clock.gaps()
    assert gap.on == eleven[10] and gap.dates == (eleven[10],)
    assert not clock.days[9].overdue and clock.days[10].overdue


def test_nine_treatment_days_without_a_report_are_not_yet_late() -> None:
    clock = progress_report_clock(days(9), [])
    assert clock.gaps() == [] and clock.due_in == 1


def test_a_report_on_the_13th_treatment_day_is_late_by_three() -> None:
    thirteen = days(13)
    clock = progress_report_clock(thirteen, [thirteen[12]])
    [gap] = clock.gaps()
    assert gap.on == thirteen[10]
    assert f"written on {thirteen[12]} (treatment day 13 of the period)" in gap.message
    assert gap.dates == (thirteen[10], thirteen[11], thirteen[12])


def test_an_early_report_starts_the_next_period_on_the_next_treatment_day() -> None:
    twenty = days(20)
    clock = progress_report_clock(twenty, [twenty[8]])  # on treatment day 9
    assert clock.days[9].period_day == 1
    assert clock.days[18].period_day == 10 and clock.days[18].report_due
    assert [g.on for g in clock.gaps()] == [twenty[19]]  # the 11th treatment day of the second period


def test_a_report_between_treatment_days_closes_the_period_before_it() -> None:
    twelve = days(12)
    between = twelve[7] + timedelta(days=1)  # after treatment day 8, before day 9
    clock = progress_report_clock(twelve, [between])
    assert clock.days[8].period_day == 1
    assert clock.gaps() == []


def test_a_report_the_day_after_the_10th_treatment_day_is_on_time_and_resets_the_clock() -> None:
    # CMS BPM ch.15 §220.3 D: written after the 10th treatment day, before an 11th: on time.
    ten = days(10)
    clock = progress_report_clock([*ten, ten[-1] + timedelta(days=3)], [ten[-1] + timedelta(days=1)])
    assert clock.gaps() == []
    assert clock.days[10].period_day == 1 and clock.due_in == 9


def test_the_first_period_starts_with_the_first_treatment_day() -> None:
    clock = progress_report_clock(days(3), [FIRST - timedelta(days=5)])
    assert [d.period_day for d in clock.days] == [1, 2, 3]


# --- certification timeliness (docs/rules.md#plan-of-care: within 30 days of the first treatment day) --


def test_a_certification_signed_on_day_30_is_timely() -> None:
    check = check_certification(1, cert(FIRST + timedelta(days=30)), plan(), FIRST, FIRST)
    assert check.status == "timely" and check.valid and check.gaps == ()


def test_a_certification_signed_on_day_31_is_late() -> None:
    check = check_certification(1, cert(FIRST + timedelta(days=31)), plan(), FIRST, FIRST)
    assert check.status == "late" and not check.valid
    [gap] = check.gaps
    assert gap.code == "certification_late" and "31 days" in gap.message and "docs/rules.md#" in gap.rule


def test_a_late_certification_with_a_documented_reason_is_delayed_and_valid() -> None:
    late = cert(FIRST + timedelta(days=45), reason="physician on leave; request faxed on day 3")
    check = check_certification(1, late, plan(), FIRST, FIRST)
    assert check.status == "delayed" and check.valid and check.gaps == ()


def test_a_verbal_order_in_time_counts_when_signed_within_14_days() -> None:
    verbal = FIRST + timedelta(days=20)
    check = check_certification(1, cert(verbal + timedelta(days=14), verbal=verbal), plan(), FIRST, FIRST)
    assert check.status == "timely" and check.valid and check.signature_due == verbal + timedelta(days=14)


def test_a_verbal_order_signed_on_day_15_is_not_valid() -> None:
    verbal = FIRST + timedelta(days=20)
    check = check_certification(1, cert(verbal + timedelta(days=15), verbal=verbal), plan(), FIRST, FIRST)
    assert check.status == "signed_late" and not check.valid
    assert [g.code for g in check.gaps] == ["verbal_order_unsigned"]


def test_an_unsigned_verbal_order_is_pending_until_14_days_have_passed() -> None:
    verbal = FIRST + timedelta(days=5)
    pending = check_certification(1, cert(None, verbal=verbal), plan(), FIRST, verbal + timedelta(days=14))
    assert pending.status == "pending_signature" and pending.valid and pending.gaps == ()
    overdue = check_certification(1, cert(None, verbal=verbal), plan(), FIRST, verbal + timedelta(days=15))
    assert not overdue.valid and [g.code for g in overdue.gaps] == ["verbal_order_unsigned"]


def test_the_initial_certification_deadline_is_30_days_after_the_first_treatment() -> None:
    assert certification_due_by(FIRST) == FIRST + timedelta(days=30)


# --- the certified period (docs/rules.md#plan-of-care: plan duration or 90 days, the shorter) ------------


def test_a_certification_covers_at_most_90_calendar_days_from_the_first_treatment() -> None:
    check = check_certification(1, cert(FIRST, end=FIRST + timedelta(days=200)), plan(weeks=30), FIRST, FIRST)
    assert check.end == FIRST + timedelta(days=89)
    assert check.covers(FIRST + timedelta(days=89))
    assert not check.covers(FIRST + timedelta(days=90))  # a visit one day past expiry


def test_a_shorter_plan_duration_ends_the_certified_period_first() -> None:
    check = check_certification(1, cert(FIRST), plan(weeks=4), FIRST, FIRST)
    assert check.end == FIRST + timedelta(days=27) == plan_end(plan(weeks=4))


def test_the_certifications_own_period_end_is_respected_when_shortest() -> None:
    check = check_certification(1, cert(FIRST, end=FIRST + timedelta(days=40)), plan(), FIRST, FIRST)
    assert check.end == FIRST + timedelta(days=40)


def test_a_recertification_is_measured_from_the_first_day_of_its_own_period() -> None:
    start = FIRST + timedelta(days=90)
    recert = cert(
        start + timedelta(days=30), start=start, end=start + timedelta(days=200), kind="recertification"
    )
    check = check_certification(2, recert, plan(weeks=52), FIRST, start)
    assert check.reference_day == start and check.valid
    assert check.end == start + timedelta(days=89)
    late = cert(start + timedelta(days=31), start=start, kind="recertification")
    assert check_certification(2, late, plan(weeks=52), FIRST, start).status == "late"


def test_the_plan_in_force_is_the_latest_established_on_or_before_the_date() -> None:
    plans = [plan(version=1), plan(established=FIRST + timedelta(days=20), version=2)]
    assert plan_in_force(plans, FIRST - timedelta(days=1)) is None
    assert plan_in_force(plans, FIRST + timedelta(days=19)) == plans[0]
    assert plan_in_force(plans, FIRST + timedelta(days=20)) == plans[1]


@pytest.mark.parametrize(("today", "expires_in", "expired"), [(10, 5, False), (15, 0, False), (16, -1, True)])
def test_the_certification_clock_reads_against_today(today: int, expires_in: int, expired: bool) -> None:
    reading = as_of(
        FIRST + timedelta(days=today),
        expires=FIRST + timedelta(days=15),
        certification_due=None,
        certified=True,
        active=True,
    )
    assert reading.certification_expires_in_days == expires_in and reading.certification_expired is expired


def test_an_initial_certification_is_overdue_only_after_its_deadline_while_active() -> None:
    due = certification_due_by(FIRST)
    late = as_of(due + timedelta(days=1), expires=None, certification_due=due, certified=False, active=True)
    assert late.initial_certification_overdue
    assert not as_of(
        due, expires=None, certification_due=due, certified=False, active=True
    ).initial_certification_overdue
    done = as_of(due + timedelta(days=1), expires=None, certification_due=due, certified=False, active=False)
    assert not done.initial_certification_overdue


# --- domain/coverage.py: is a visit covered by its plan and a valid certification
# (docs/rules.md#plan-of-care) ---


def test_a_visit_without_a_plan_or_past_its_duration_is_not_covered() -> None:
    from domain.clocks.coverage import NO_PLAN, PAST_PLAN_DURATION, plan_gap

    day = FIRST + timedelta(days=3)
    missing = plan_gap(None, day, 0)
    assert missing is not None and missing.code == NO_PLAN and missing.on == day
    assert plan_gap(plan(weeks=4), FIRST + timedelta(days=27), 1) is None  # 4 weeks = 28 days, day 0 included
    after = plan_gap(plan(weeks=4), FIRST + timedelta(days=28), 1)
    assert after is not None and after.code == PAST_PLAN_DURATION and "(to 2026-03-29)" in after.message
    by_visits = plan(weeks=None, visits=8)
    assert plan_gap(by_visits, FIRST + timedelta(days=40), 8) is None
    ninth = plan_gap(by_visits, FIRST + timedelta(days=40), 9)
    assert ninth is not None and ninth.code == PAST_PLAN_DURATION and "visit 9" in ninth.message


def test_a_visit_is_judged_against_every_certification() -> None:
    from domain.clocks.coverage import (
        CERTIFICATION_PENDING,
        NO_CERTIFICATION,
        NOT_VALIDLY_CERTIFIED,
        OUTSIDE_CERTIFIED_PERIOD,
        certification_gap,
    )
    from domain.clocks.periods import MEDICARE

    treated = days(10)
    first, last = treated[0], treated[-1]
    timely = check_certification(
        1, cert(FIRST + timedelta(days=5), end=FIRST + timedelta(days=30)), plan(), first, last
    )
    late = check_certification(1, cert(FIRST + timedelta(days=40)), plan(), first, last)
    assert timely.valid and not late.valid

    assert certification_gap(FIRST + timedelta(days=10), [timely], first, last, MEDICARE) is None
    invalid = certification_gap(FIRST + timedelta(days=10), [late], first, last, MEDICARE)
    assert invalid is not None and invalid.code == NOT_VALIDLY_CERTIFIED and "late" in invalid.message

    expired = certification_gap(FIRST + timedelta(days=31), [timely], first, last, MEDICARE)
    assert expired is not None and expired.code == OUTSIDE_CERTIFIED_PERIOD
    assert expired.until == FIRST + timedelta(days=30)  # the last certified day: the findings call it expired

    before = check_certification(1, cert(FIRST, start=FIRST + timedelta(days=20)), plan(), first, last)
    outside = certification_gap(FIRST + timedelta(days=2), [before], first, last, MEDICARE)
    assert outside is not None and outside.code == OUTSIDE_CERTIFIED_PERIOD and outside.until is None

    pending = certification_gap(first, [], first, last, MEDICARE)
    assert pending is not None and pending.code == CERTIFICATION_PENDING and pending.severity == "warning"
    assert pending.until == certification_due_by(first)
    overdue = certification_gap(first, [], first, first + timedelta(days=31), MEDICARE)
    assert overdue is not None and overdue.code == NO_CERTIFICATION and overdue.severity == "error"
