"""Is a visit covered: by a plan of care in force and within its duration, and by a valid certification.

One judgement of rules.md §6 (BPM15 §220.1), shared by the continuity view
(`projections/continuity.py`, one row per visit) and the documentation findings
(`domain/findings/clocks.py`, one finding per gap), so the two never disagree on
which visits are covered. `judge` walks an episode's visits once and says, for
each, the plan in force, the valid certification, the gaps and where the visit
stands in its progress-report period; the callers word the gaps for their
readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from domain.clocks.periods import (
    RULE_CERT_PERIOD,
    RULE_PLAN,
    RULE_RECERT,
    CertificationCheck,
    ClockRules,
    Gap,
    ReportClock,
    ReportDay,
    certification_due_by,
    check_certification,
    plan_end,
    plan_in_force,
    progress_report_clock,
    treatment_days,
)
from domain.records import Certification, Plan, ProgressReport, ReEvaluation

# The gap codes a visit's coverage can have.
NO_PLAN = "no_plan"
PAST_PLAN_DURATION = "past_plan_duration"
NOT_VALIDLY_CERTIFIED = "not_validly_certified"
CERTIFICATION_PENDING = "certification_pending"
NO_CERTIFICATION = "no_certification"
OUTSIDE_CERTIFIED_PERIOD = "outside_certified_period"
PLAN_GAPS = (NO_PLAN, PAST_PLAN_DURATION)


def plan_gap(plan: Plan | None, day: date, visits_under_plan: int) -> Gap | None:
    """Judge a visit against the plan in force on its date (`visits_under_plan` counts it)."""
    if plan is None:
        return Gap(NO_PLAN, "error", day, "precedes any established plan of care", RULE_PLAN)
    end = plan_end(plan)
    if end is not None and day > end:
        why = f"after plan v{plan.plan_version}'s {plan.duration_weeks} weeks (to {end})"
    elif plan.duration_visits is not None and visits_under_plan > plan.duration_visits:
        why = (
            f"visit {visits_under_plan} under plan v{plan.plan_version}, "
            f"past its {plan.duration_visits} planned visits"
        )
    else:
        return None
    return Gap(PAST_PLAN_DURATION, "error", day, why, RULE_RECERT)


def certification_gap(
    day: date,
    checks: Sequence[CertificationCheck],
    first: date | None,
    last: date | None,
    rules: ClockRules,
) -> Gap | None:
    """Judge a visit against the episode's certifications (`first`, `last`: its treatment days)."""
    covering = [c for c in checks if c.covers(day)]
    if any(c.valid for c in covering):
        return None
    if covering:
        cert = covering[0]
        status = cert.status.replace("_", " ")
        return Gap(
            NOT_VALIDLY_CERTIFIED,
            "error",
            day,
            f"covered only by certification #{cert.index}, which is {status}",
            RULE_CERT_PERIOD,
        )
    if not checks:
        due = certification_due_by(first or day, rules)
        if last is not None and last <= due:
            return Gap(
                CERTIFICATION_PENDING,
                "warning",
                day,
                f"no certification is recorded yet; it is timely if signed by {due}",
                RULE_CERT_PERIOD,
                until=due,
            )
        return Gap(
            NO_CERTIFICATION,
            "error",
            day,
            f"no certification is recorded, and none was signed within {rules.certification_within_days} "
            f"days of the first treatment day ({first or day})",
            RULE_CERT_PERIOD,
        )
    through = max((c.end for c in checks if c.valid), default=None)
    if through is not None and day > through:
        return Gap(
            OUTSIDE_CERTIFIED_PERIOD,
            "error",
            day,
            f"after the certified period, which ended on {through}",
            RULE_CERT_PERIOD,
            until=through,
        )
    return Gap(OUTSIDE_CERTIFIED_PERIOD, "error", day, "outside every certified period", RULE_CERT_PERIOD)


@dataclass(frozen=True)
class VisitCoverage:
    """One visit judged against §6: its plan, its certification, its gaps, its report period."""

    day: date
    plan: Plan | None
    plan_gap: Gap | None
    # The latest valid certification covering the date (whatever the payer).
    certification: CertificationCheck | None
    # Medicare's clocks only (None for other payers): the certification gap, and
    # whether the plan in force is newer than the one the certification covers.
    certification_gap: Gap | None
    not_recertified: bool
    report: ReportDay


@dataclass(frozen=True)
class Coverage:
    """An episode judged against §6: its treatment days, clocks, certifications and visits."""

    days: list[date]
    reports: ReportClock
    checks: list[CertificationCheck]
    visits: list[VisitCoverage]  # in date order


class CoveredEpisode(Protocol):
    """What the clocks read of an episode (the `Episode` aggregate is one)."""

    @property
    def visits(self) -> Mapping[date, object]: ...
    @property
    def reevaluations(self) -> Sequence[ReEvaluation]: ...
    @property
    def progress_reports(self) -> Sequence[ProgressReport]: ...
    @property
    def plans(self) -> Sequence[Plan]: ...
    @property
    def certifications(self) -> Sequence[Certification]: ...


def judge(episode: CoveredEpisode, medicare: bool, rules: ClockRules) -> Coverage:
    """Judge every visit of an episode: plan coverage for every payer, certification for Medicare's."""
    days = treatment_days(episode.visits, (r.evaluated_on for r in episode.reevaluations))
    first, last = (days[0], days[-1]) if days else (None, None)
    reports = progress_report_clock(days, (r.report_date for r in episode.progress_reports), rules)
    by_day = {d.day: d for d in reports.days}
    plans = {p.plan_version: p for p in episode.plans}
    checks = [
        check_certification(n, cert, plans.get(cert.certified_plan), first, last, rules)
        for n, cert in enumerate(episode.certifications, start=1)
    ]
    visits: list[VisitCoverage] = []
    under_plan: dict[int, int] = {}
    for day in sorted(episode.visits):
        plan = plan_in_force(episode.plans, day)
        if plan is not None:
            under_plan[plan.plan_version] = under_plan.get(plan.plan_version, 0) + 1
        valid = [c for c in checks if c.valid and c.covers(day)]
        cert = valid[-1] if valid else None
        newer_plan = cert is not None and plan is not None and cert.certified_plan < plan.plan_version
        visits.append(
            VisitCoverage(
                day=day,
                plan=plan,
                plan_gap=plan_gap(plan, day, under_plan[plan.plan_version] if plan else 0),
                certification=cert,
                certification_gap=certification_gap(day, checks, first, last, rules) if medicare else None,
                not_recertified=medicare and newer_plan,
                report=by_day[day],
            )
        )
    return Coverage(days, reports, checks, visits)


__all__ = [
    "CERTIFICATION_PENDING",
    "NOT_VALIDLY_CERTIFIED",
    "NO_CERTIFICATION",
    "NO_PLAN",
    "OUTSIDE_CERTIFIED_PERIOD",
    "PAST_PLAN_DURATION",
    "PLAN_GAPS",
    "Coverage",
    "VisitCoverage",
    "certification_gap",
    "judge",
    "plan_gap",
]
