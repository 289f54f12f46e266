"""Is a visit covered: by a plan of care in force and within its duration, by a valid certification,
by a necessity statement, by progress reports on time. One judgement, every reader.

`judge` walks an episode's visits once against docs/rules.md#plan-of-care (CMS BPM ch.15 §220.1-220.3)
and docs/rules.md#necessity's necessity statement and returns every verdict (`Gap`): per visit (the
plan, the certification, a plan newer than its certification, the necessity
statement, an overdue progress report) and per episode (late certifications,
unsigned verbal orders, each late report's period). Each verdict carries its
documentation rule id, severity, the rule in words, its evidence and the facts a
reader words. The continuity view (`projections/views/continuity.py`), the
documentation findings (`domain/findings/clocks.py`, `necessity.py`) and the
audit packet render these verdicts; none of them decides again.

The certification and progress-report rules are Medicare's; they apply when the
payer follows Medicare's clocks (`domain.rules.catalogue.follows_medicare_clocks`).
Plan coverage and the necessity statement apply to every payer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from domain.clocks.periods import (
    RULE_CERT_PERIOD,
    RULE_NECESSITY,
    RULE_PLAN,
    RULE_PROGRESS,
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
from domain.evidence import Evidence, entry_evidence, with_more
from domain.records import Certification, Plan, ProgressReport, ReEvaluation, Visit
from domain.rules.catalogue import code_catalogue

# The gap codes of the continuity view, and the documentation rule each one breaks.
NO_PLAN = "no_plan"
PAST_PLAN_DURATION = "past_plan_duration"
NOT_VALIDLY_CERTIFIED = "not_validly_certified"
CERTIFICATION_PENDING = "certification_pending"
NO_CERTIFICATION = "no_certification"
OUTSIDE_CERTIFIED_PERIOD = "outside_certified_period"
PLAN_NOT_RECERTIFIED = "plan_not_recertified"
NECESSITY_MISSING = "necessity_missing"
PROGRESS_REPORT_OVERDUE = "progress_report_overdue"
PLAN_GAPS = (NO_PLAN, PAST_PLAN_DURATION)


def plan_gap(
    plan: Plan | None, day: date, visits_under_plan: int, proof: tuple[Evidence, ...] = ()
) -> Gap | None:
    """Judge a visit against the plan in force on its date (`visits_under_plan` counts it)."""
    if plan is None:
        return Gap(
            NO_PLAN,
            "error",
            day,
            "precedes any established plan of care",
            RULE_PLAN,
            rule_id="clock.no_plan",
            evidence=proof,
            date_of_service=day,
        )
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
    return Gap(
        PAST_PLAN_DURATION,
        "error",
        day,
        why,
        RULE_RECERT,
        rule_id="clock.past_plan_duration",
        evidence=with_more(proof, Evidence(plan.event_version, "plan of care", plan.established_on)),
        date_of_service=day,
        plan=plan,
    )


def certification_gap(
    day: date,
    checks: Sequence[CertificationCheck],
    first: date | None,
    last: date | None,
    rules: ClockRules,
    proof: tuple[Evidence, ...] = (),
) -> Gap | None:
    """Judge a visit against the episode's certifications (`first`, `last`: its treatment days)."""
    covering = [c for c in checks if c.covers(day)]
    if any(c.valid for c in covering):
        return None
    lapsed = next((c for c in checks if c.uncertified and c.uncertified[0] <= day <= c.uncertified[1]), None)
    if lapsed is not None:
        return Gap(
            NOT_VALIDLY_CERTIFIED,
            "error",
            day,
            f"between certification #{lapsed.renews}'s period and recertification #{lapsed.index}, "
            f"signed late ({lapsed.ordered_on}) with no reason for the delay",
            RULE_CERT_PERIOD,
            rule_id="clock.visit_outside_certification",
            certification=lapsed.index,
            evidence=proof,
            date_of_service=day,
        )
    if covering:
        cert = covering[0]
        status = cert.status.replace("_", " ")
        return Gap(
            NOT_VALIDLY_CERTIFIED,
            "error",
            day,
            f"covered only by certification #{cert.index}, which is {status}",
            RULE_CERT_PERIOD,
            rule_id="clock.visit_outside_certification",
            certification=cert.index,
            evidence=proof,
            date_of_service=day,
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
                rule_id="clock.certification_pending",
                evidence=proof,
                date_of_service=day,
            )
        return Gap(
            NO_CERTIFICATION,
            "error",
            day,
            f"no certification is recorded, and none was signed within {rules.certification_within_days} "
            f"days of the first treatment day ({first or day})",
            RULE_CERT_PERIOD,
            rule_id="clock.visit_outside_certification",
            evidence=proof,
            date_of_service=day,
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
            rule_id="clock.certification_expired",
            evidence=proof,
            date_of_service=day,
        )
    return Gap(
        OUTSIDE_CERTIFIED_PERIOD,
        "error",
        day,
        "outside every certified period",
        RULE_CERT_PERIOD,
        rule_id="clock.visit_outside_certification",
        evidence=proof,
        date_of_service=day,
    )


@dataclass(frozen=True)
class VisitCoverage:
    """One visit judged: its plan, its valid certification, its report period, and its verdicts."""

    day: date
    plan: Plan | None
    # The latest valid certification covering the date (whatever the payer).
    certification: CertificationCheck | None
    report: ReportDay
    # Every verdict about the visit, in the continuity view's order: plan, certification,
    # plan newer than its certification, necessity statement, overdue progress report.
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class Coverage:
    """An episode judged: its treatment days, clocks, certifications, visits and episode verdicts."""

    medicare: bool
    rules: ClockRules
    days: list[date]
    reports: ReportClock
    checks: list[CertificationCheck]
    visits: list[VisitCoverage]  # in date order
    # Verdicts about the episode (Medicare's clocks): late certifications and unsigned
    # verbal orders, then each late report's period (a summary of the visits' verdicts).
    episode_gaps: tuple[Gap, ...]
    # The last day a valid certification covers, and why the episode needs recertifying
    # (Medicare's clocks; the caller says whether it is still active).
    certified_through: date | None
    recertification_reasons: tuple[str, ...]

    @property
    def certification_due_by(self) -> date | None:
        """The last day an initial certification is timely (Medicare's clocks, once treatment began)."""
        return certification_due_by(self.days[0], self.rules) if self.days and self.medicare else None

    def verdicts(self) -> list[Gap]:
        """Every verdict that stands on its own: each visit's, then the episode's (no summaries)."""
        return [*(g for v in self.visits for g in v.gaps), *(g for g in self.episode_gaps if not g.summary)]


class CoveredEpisode(Protocol):
    """What the clocks read of an episode (the `Episode` aggregate is one)."""

    @property
    def visits(self) -> Mapping[date, Visit]: ...
    @property
    def reevaluations(self) -> Sequence[ReEvaluation]: ...
    @property
    def progress_reports(self) -> Sequence[ProgressReport]: ...
    @property
    def plans(self) -> Sequence[Plan]: ...
    @property
    def certifications(self) -> Sequence[Certification]: ...


def judge(episode: CoveredEpisode, medicare: bool, rules: ClockRules) -> Coverage:
    """Judge every visit of an episode: plan and necessity for every payer, Medicare's clocks for its."""
    days = treatment_days(episode.visits, (r.evaluated_on for r in episode.reevaluations))
    first, last = (days[0], days[-1]) if days else (None, None)
    reports = progress_report_clock(days, (r.report_date for r in episode.progress_reports), rules)
    by_day = {d.day: d for d in reports.days}
    plans = {p.plan_version: p for p in episode.plans}
    checks: list[CertificationCheck] = []
    for n, recorded in enumerate(episode.certifications, start=1):
        earlier = [c for c in checks if c.valid and c.start < recorded.period_start]
        renews = max(earlier, key=lambda c: c.end) if earlier else None
        plan_of = plans.get(recorded.certified_plan)
        checks.append(check_certification(n, recorded, plan_of, first, last, rules, renews=renews))
    visits: list[VisitCoverage] = []
    under_plan: dict[int, int] = {}
    for day in sorted(episode.visits):
        visit = episode.visits[day]
        proof = entry_evidence(visit)
        plan = plan_in_force(episode.plans, day)
        if plan is not None:
            under_plan[plan.plan_version] = under_plan.get(plan.plan_version, 0) + 1
        valid = [c for c in checks if c.valid and c.covers(day)]
        cert = valid[-1] if valid else None
        report = by_day[day]
        # the initial evaluation produces the plan: a visit that is only that needs no plan or
        # certification in force (docs/rules.md#plan-of-care)
        evaluation_only = plan is None and _evaluation_only(visit)
        gaps = (
            []
            if evaluation_only
            else [plan_gap(plan, day, under_plan[plan.plan_version] if plan else 0, proof)]
        )
        if medicare and not evaluation_only:
            gaps.append(certification_gap(day, checks, first, last, rules, proof))
            if cert is not None and plan is not None and cert.certified_plan < plan.plan_version:
                gaps.append(_not_recertified(day, plan, cert.certified_plan, proof))
        if not visit.necessity.strip():
            gaps.append(
                Gap(
                    NECESSITY_MISSING,
                    "error",
                    day,
                    "no medical-necessity statement",
                    RULE_NECESSITY,
                    rule_id="necessity.missing",
                    evidence=proof,
                    date_of_service=day,
                )
            )
        if medicare and report.overdue:
            gaps.append(
                Gap(
                    PROGRESS_REPORT_OVERDUE,
                    "error",
                    day,
                    f"treatment day {report.period_day} of the period with no progress report written "
                    f"before it (one is due every {rules.progress_report_every} treatment days)",
                    RULE_PROGRESS,
                    rule_id="clock.progress_report_overdue",
                    evidence=proof,
                    date_of_service=day,
                    period_day=report.period_day,
                )
            )
        visits.append(VisitCoverage(day, plan, cert, report, tuple(g for g in gaps if g is not None)))
    episode_gaps: tuple[Gap, ...] = ()
    if medicare:
        episode_gaps = (*(g for c in checks for g in c.gaps), *reports.gaps())
    through = max((c.end for c in checks if c.valid), default=None)
    reasons = _recertification_reasons(episode.plans, checks, last, through) if medicare else ()
    return Coverage(medicare, rules, days, reports, checks, visits, episode_gaps, through, reasons)


def _evaluation_only(visit: Visit) -> bool:
    """Tell whether a visit bills only an initial evaluation (no treatment, no re-evaluation)."""
    catalogue = code_catalogue()
    kinds = {info.kind for line in visit.service_lines if (info := catalogue.get(line.code)) is not None}
    return kinds == {"evaluation"}


def _recertification_reasons(
    plans: Sequence[Plan], checks: Sequence[CertificationCheck], last: date | None, through: date | None
) -> tuple[str, ...]:
    """Say why treatment needs a recertification: it ran past the certified period, or the plan changed."""
    reasons: list[str] = []
    if last is not None and through is not None and last > through:
        reasons.append(f"treatment on {last} runs past the certified period ending {through}")
    valid = [c for c in checks if c.valid]
    if valid and plans:
        latest = max(plans, key=lambda p: p.plan_version)
        if latest.plan_version > max(c.certified_plan for c in valid):
            reasons.append(f"plan v{latest.plan_version} ({latest.established_on}) is not certified")
    return tuple(reasons)


def _not_recertified(day: date, plan: Plan, certified: int, proof: tuple[Evidence, ...]) -> Gap:
    return Gap(
        PLAN_NOT_RECERTIFIED,
        "warning",
        day,
        f"plan v{plan.plan_version} ({plan.established_on}) is in force but only v{certified} is certified; "
        "recertify if the change is significant",
        RULE_RECERT,
        rule_id="clock.plan_not_recertified",
        evidence=proof,
        date_of_service=day,
        plan=plan,
        certified_plan=certified,
    )


__all__ = [
    "CERTIFICATION_PENDING",
    "NECESSITY_MISSING",
    "NOT_VALIDLY_CERTIFIED",
    "NO_CERTIFICATION",
    "NO_PLAN",
    "OUTSIDE_CERTIFIED_PERIOD",
    "PAST_PLAN_DURATION",
    "PLAN_GAPS",
    "PLAN_NOT_RECERTIFIED",
    "PROGRESS_REPORT_OVERDUE",
    "Coverage",
    "CoveredEpisode",
    "VisitCoverage",
    "certification_gap",
    "judge",
    "plan_gap",
]
