"""docs/rules.md#plan-of-care: the plan of care, certification and progress-report clocks, as findings.

Every verdict here is the clocks' own (`domain.clocks.coverage.judge`, the one
judgement the continuity view renders too); this module only words each one for
a reviewer, with the fix. The certification and progress-report rules apply to
payers that follow Medicare's clocks; plan coverage applies to every payer. The
necessity statement's verdict is worded by `domain.findings.necessity`.

Per visit: `clock.no_plan`, `clock.past_plan_duration`, `clock.plan_not_recertified`,
`clock.certification_pending`, `clock.visit_outside_certification` (no valid
certification covers the date), `clock.certification_expired` (after the last
certified day), `clock.progress_report_overdue` (furnished once a report was due
and before it was written). Per episode: `clock.certification_late`,
`clock.verbal_order_unsigned` (error; warning when a delay reason is recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from domain.clocks.coverage import NO_CERTIFICATION, NOT_VALIDLY_CERTIFIED, Coverage
from domain.clocks.periods import Gap
from domain.findings.model import Finding
from domain.findings.note import VisitNote
from domain.rules.checks import rule

# The visit verdicts worded elsewhere (domain.findings.necessity).
WORDED_ELSEWHERE = frozenset({"necessity.missing"})


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _certify(note: VisitNote) -> str:
    return f"careledger plan certify {note.short_id} --by ... --signed-on ... --from ... --to ..."


def _visit_finding(note: VisitNote, gap: Gap, report_every: int) -> Finding:
    """Word one visit's verdict for a reviewer, with the fix."""
    certify = _certify(note)
    if gap.rule_id == "clock.no_plan":
        message = f"The visit of {note.day} {gap.message}."
        fix = (
            "Treatment follows a plan of care: establish it on or before the first treatment "
            f"(careledger plan establish {note.short_id} plan.json); this visit is not covered without one."
        )
        subject = "plan"
    elif gap.rule_id == "clock.past_plan_duration":
        message = f"The visit is {gap.message}."
        fix = (
            "Re-evaluate and establish a revised plan with a new duration (careledger plan establish), then "
            "have it certified (careledger plan certify); visits past the plan's duration are not covered."
        )
        subject = "plan"
    elif gap.rule_id == "clock.plan_not_recertified" and gap.plan is not None:
        message = (
            f"Plan v{gap.plan.plan_version} ({gap.plan.established_on}) is in force but only "
            f"v{gap.certified_plan} is certified."
        )
        fix = (
            "If the plan changed significantly, have the new version certified: careledger plan certify "
            f"{note.short_id} --plan-version {gap.plan.plan_version} ..."
        )
        subject = "certification"
    elif gap.rule_id == "clock.certification_pending":
        message = _sentence(gap.message)
        fix = f"Have the plan of care certified by {gap.until} and record it: {certify}"
        subject = "certification"
    elif gap.rule_id == "clock.certification_expired":
        message = f"The visit is {gap.message}."
        fix = (
            "Recertify before treatment continues (at least every 90 days, or when the plan's duration runs "
            f"out): {certify}"
        )
        subject = "certification"
    elif gap.rule_id == "clock.progress_report_overdue":
        message = (
            f"The visit is treatment day {gap.period_day} of its progress-report period and no report was "
            f"written after day {report_every} before it."
        )
        fix = (
            "Write the progress report now (a therapist, never an assistant): progress toward each goal "
            f"and the plan (careledger report progress {note.short_id} report.json). Visits furnished while "
            "it is overdue are at risk."
        )
        subject = "progress report"
    elif gap.code == NOT_VALIDLY_CERTIFIED:
        message = f"The visit is {gap.message}."
        fix = (
            "A late certification counts only with the reason for the delay: record it with the documented "
            f"reason ({certify} --delay-reason '...'); until then the visit is at risk."
        )
        subject = "certification"
    elif gap.code == NO_CERTIFICATION:
        message = _sentence(gap.message)
        fix = (
            f"Have the plan of care certified and record it with the reason for the delay: {certify} "
            "--delay-reason '...'"
        )
        subject = "certification"
    else:
        message = f"The visit is {gap.message}."
        fix = f"Have a certification cover this date: {certify}"
        subject = "certification"
    return note.verdict(gap, message, fix, subject)


def _episode_finding(episode_id: str, gap: Gap) -> Finding:
    """Word one episode verdict (a late certification, an unsigned verbal order), with the fix."""
    short = episode_id[:8]
    if gap.rule_id == "clock.certification_late":
        fix = (
            "A certification signed after 30 days counts only with the reason for the delay: record the "
            f"certification with its documented reason (careledger plan certify {short} ... --delay-reason "
            "'...'); the visits it covers are at risk until then."
        )
    else:
        fix = (
            "Have the verbal order signed and record the signature date (careledger plan certify "
            f"{short} ... --signed-on DATE), with the reason if it is late."
        )
    if gap.on is None:
        raise ValueError(f"an episode verdict {gap.rule_id} needs its date")
    return Finding(
        rule_id=gap.rule_id,
        severity=gap.severity,
        episode_id=episode_id,
        date_of_service=None,
        on=gap.on,
        message=_sentence(gap.message),
        fix=fix,
        source=rule(gap.rule_id).source,
        evidence=gap.evidence,
        subject=f"certification #{gap.certification}",
    )


def check(episode_id: str, coverage: Coverage, notes: Mapping[date, VisitNote]) -> list[Finding]:
    """Word every verdict of the episode's judgement (docs/rules.md#plan-of-care) as a finding."""
    every = coverage.rules.progress_report_every
    found: list[Finding] = [
        _visit_finding(notes[seen.day], gap, every)
        for seen in coverage.visits
        for gap in seen.gaps
        if gap.rule_id not in WORDED_ELSEWHERE
    ]
    found.extend(_episode_finding(episode_id, gap) for gap in coverage.episode_gaps if not gap.summary)
    return found


__all__ = ["check"]
