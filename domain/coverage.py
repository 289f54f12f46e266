"""Is a visit covered: by a plan of care in force and within its duration, and by a valid certification.

One judgement of rules.md §6 (BPM15 §220.1), shared by the continuity view
(`projections/continuity.py`, one row per visit) and the documentation findings
(`domain/findings/clocks.py`, one finding per gap), so the two never disagree on
which visits are covered. Each function returns the gap, or None when the visit
is covered; the callers word it for their readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.clocks import (
    RULE_CERT_PERIOD,
    RULE_PLAN,
    RULE_RECERT,
    CertificationCheck,
    ClockRules,
    Gap,
    certification_due_by,
    plan_end,
)
from domain.records import Plan

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


__all__ = [
    "CERTIFICATION_PENDING",
    "NOT_VALIDLY_CERTIFIED",
    "NO_CERTIFICATION",
    "NO_PLAN",
    "OUTSIDE_CERTIFIED_PERIOD",
    "PAST_PLAN_DURATION",
    "PLAN_GAPS",
    "certification_gap",
    "plan_gap",
]
