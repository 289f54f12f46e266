"""rules.md §6: the plan of care, certification and progress-report clocks, as findings.

The same functions of `domain.clocks` as the continuity view, applied the same
way (a test holds them to it), and the same judgement of each visit's plan and
certification coverage (`domain.coverage`): every continuity gap is a finding
here, with a fix. The certification and progress-report rules apply to payers that follow
Medicare's clocks; plan coverage applies to every payer. The necessity gap is
`necessity.missing` (domain.findings.necessity).

Per visit: `clock.no_plan`, `clock.past_plan_duration`, `clock.plan_not_recertified`,
`clock.certification_pending`, `clock.visit_outside_certification` (no valid
certification covers the date), `clock.certification_expired` (after the last
certified day), `clock.progress_report_overdue` (furnished once a report was due
and before it was written). Per episode: `clock.certification_late`,
`clock.verbal_order_unsigned` (error; warning when a delay reason is recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from domain.clocks import (
    CertificationCheck,
    ClockRules,
    check_certification,
    plan_in_force,
    progress_report_clock,
    treatment_days,
)
from domain.coverage import (
    CERTIFICATION_PENDING,
    NO_CERTIFICATION,
    NOT_VALIDLY_CERTIFIED,
    certification_gap,
    plan_gap,
)
from domain.findings.model import Evidence, Finding
from domain.findings.note import VisitNote
from domain.findings.rules import rule
from domain.records import Plan

if TYPE_CHECKING:
    from domain.episode import Episode


def _plan(note: VisitNote, plan: Plan | None, visits_under_plan: int) -> Finding | None:
    gap = plan_gap(plan, note.visit.date_of_service, visits_under_plan)
    if gap is None:
        return None
    if plan is None:
        return note.finding(
            "clock.no_plan",
            f"The visit of {note.visit.date_of_service} {gap.message}.",
            "Treatment follows a plan of care: establish it on or before the first treatment "
            f"(careledger plan establish {note.short_id} plan.json); this visit is not covered without one.",
            subject="plan",
        )
    return note.finding(
        "clock.past_plan_duration",
        f"The visit is {gap.message}.",
        "Re-evaluate and establish a revised plan with a new duration (careledger plan establish), then have "
        "it certified (careledger plan certify); visits past the plan's duration are not covered.",
        subject="plan",
        more=(Evidence(plan.event_version, "plan of care", plan.established_on),),
    )


def _certification(
    note: VisitNote,
    checks: Sequence[CertificationCheck],
    first: date | None,
    last: date | None,
    rules: ClockRules,
) -> Finding | None:
    gap = certification_gap(note.visit.date_of_service, checks, first, last, rules)
    if gap is None:
        return None
    message = gap.message[0].upper() + gap.message[1:] + "."
    certify = f"careledger plan certify {note.short_id} --by ... --signed-on ... --from ... --to ..."
    if gap.code == NOT_VALIDLY_CERTIFIED:
        return note.finding(
            "clock.visit_outside_certification",
            f"The visit is {gap.message}.",
            "A late certification counts only with the reason for the delay: record it with the documented "
            f"reason ({certify} --delay-reason '...'); until then the visit is at risk.",
            subject="certification",
        )
    if gap.code == CERTIFICATION_PENDING:
        return note.finding(
            "clock.certification_pending",
            message,
            f"Have the plan of care certified by {gap.until} and record it: {certify}",
            subject="certification",
        )
    if gap.code == NO_CERTIFICATION:
        return note.finding(
            "clock.visit_outside_certification",
            message,
            f"Have the plan of care certified and record it with the reason for the delay: {certify} "
            "--delay-reason '...'",
            subject="certification",
        )
    if gap.until is not None:
        return note.finding(
            "clock.certification_expired",
            f"The visit is {gap.message}.",
            "Recertify before treatment continues (at least every 90 days, or when the plan's duration runs "
            f"out): {certify}",
            subject="certification",
        )
    return note.finding(
        "clock.visit_outside_certification",
        f"The visit is {gap.message}.",
        f"Have a certification cover this date: {certify}",
        subject="certification",
    )


def check(episode: Episode, notes: dict[date, VisitNote], medicare: bool, rules: ClockRules) -> list[Finding]:
    """Judge every visit and certification of an episode against rules.md §6."""
    days = treatment_days(episode.visits, (r.evaluated_on for r in episode.reevaluations))
    first, last = (days[0], days[-1]) if days else (None, None)
    reports = progress_report_clock(days, (r.report_date for r in episode.progress_reports), rules)
    by_day = {d.day: d for d in reports.days}
    plans = {p.plan_version: p for p in episode.plans}
    checks = [
        check_certification(n, cert, plans.get(cert.certified_plan), first, last, rules)
        for n, cert in enumerate(episode.certifications, start=1)
    ]
    found: list[Finding] = []
    under_plan: dict[int, int] = {}
    for day in sorted(episode.visits):
        note = notes[day]
        plan = plan_in_force(episode.plans, day)
        if plan is not None:
            under_plan[plan.plan_version] = under_plan.get(plan.plan_version, 0) + 1
        if (gap := _plan(note, plan, under_plan.get(plan.plan_version, 0) if plan else 0)) is not None:
            found.append(gap)
        if not medicare:
            continue
        if (gap := _certification(note, checks, first, last, rules)) is not None:
            found.append(gap)
        valid = [c for c in checks if c.valid and c.covers(day)]
        cert = valid[-1] if valid else None
        if cert is not None and plan is not None and cert.certified_plan < plan.plan_version:
            found.append(
                note.finding(
                    "clock.plan_not_recertified",
                    f"Plan v{plan.plan_version} ({plan.established_on}) is in force but only "
                    f"v{cert.certified_plan} "
                    "is certified.",
                    "If the plan changed significantly, have the new version certified: "
                    "careledger plan certify "
                    f"{note.short_id} --plan-version {plan.plan_version} ...",
                    subject="certification",
                )
            )
        report = by_day[day]
        if report.report_due and not report.report_present:
            found.append(
                note.finding(
                    "clock.progress_report_overdue",
                    f"The visit is treatment day {report.period_day} of its progress-report period and no "
                    f"report was written by day {rules.progress_report_every}.",
                    "Write the progress report now (a therapist, never an assistant): progress toward each "
                    f"goal and the plan (careledger report progress {note.short_id} report.json). Visits "
                    "furnished while it is overdue are at risk.",
                    subject="progress report",
                )
            )
    if medicare:
        found.extend(_episode_gaps(episode, checks))
    return found


def _episode_gaps(episode: Episode, checks: Sequence[CertificationCheck]) -> list[Finding]:
    """Return a finding for each certification gap (late, or a verbal order not signed in time)."""
    found: list[Finding] = []
    short = str(episode.id)[:8]
    for check_ in checks:
        certification = episode.certifications[check_.index - 1]
        for gap in check_.gaps:
            rule_id = (
                "clock.certification_late"
                if gap.code == "certification_late"
                else "clock.verbal_order_unsigned"
            )
            info = rule(rule_id)
            fix = (
                "A certification signed after 30 days counts only with the reason for the delay: record the "
                "certification with its documented reason "
                f"(careledger plan certify {short} ... --delay-reason "
                "'...'); the visits it covers are at risk until then."
                if rule_id == "clock.certification_late"
                else "Have the verbal order signed and record the signature date (careledger plan certify "
                f"{short} ... --signed-on DATE), with the reason if it is late."
            )
            found.append(
                Finding(
                    rule_id=rule_id,
                    severity=gap.severity,
                    episode_id=str(episode.id),
                    date_of_service=None,
                    on=gap.on or check_.ordered_on,
                    message=gap.message[0].upper() + gap.message[1:] + ".",
                    fix=fix,
                    source=info.source,
                    evidence=(
                        Evidence(certification.event_version, "certification", certification.signed_on),
                    ),
                    subject=f"certification #{check_.index}",
                )
            )
    return found


__all__ = ["check"]
