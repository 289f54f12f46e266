"""rules.md §6: the plan of care, certification and progress-report clocks, as findings.

The same functions of `domain.clocks.periods` as the continuity view, applied the same
way (a test holds them to it), and the same judgement of each visit's plan and
certification coverage (`domain.clocks.coverage`): every continuity gap is a finding
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

from domain.clocks.coverage import (
    CERTIFICATION_PENDING,
    NO_CERTIFICATION,
    NOT_VALIDLY_CERTIFIED,
    VisitCoverage,
    judge,
)
from domain.clocks.periods import CertificationCheck, ClockRules, Gap
from domain.findings.model import Evidence, Finding
from domain.findings.note import VisitNote
from domain.rules.checks import rule

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode


def _plan(note: VisitNote, seen: VisitCoverage) -> Finding | None:
    gap, plan = seen.plan_gap, seen.plan
    if gap is None:
        return None
    if plan is None:
        return note.finding(
            "clock.no_plan",
            f"The visit of {seen.day} {gap.message}.",
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


def _certification(note: VisitNote, gap: Gap) -> Finding:
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
            gap.message[0].upper() + gap.message[1:] + ".",
            f"Have the plan of care certified by {gap.until} and record it: {certify}",
            subject="certification",
        )
    if gap.code == NO_CERTIFICATION:
        return note.finding(
            "clock.visit_outside_certification",
            gap.message[0].upper() + gap.message[1:] + ".",
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
    coverage = judge(episode, medicare, rules)
    found: list[Finding] = []
    for seen in coverage.visits:
        note = notes[seen.day]
        if (finding := _plan(note, seen)) is not None:
            found.append(finding)
        if seen.certification_gap is not None:
            found.append(_certification(note, seen.certification_gap))
        plan, cert = seen.plan, seen.certification
        if seen.not_recertified and plan is not None and cert is not None:
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
        report = seen.report
        if medicare and report.report_due and not report.report_present:
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
        found.extend(_episode_gaps(episode, coverage.checks))
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
