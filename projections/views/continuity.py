"""The medical-necessity continuity view: is every visit covered, and what do the clocks say.

Pure: an episode in, `pv_continuity` rows (one per visit) and one
`pv_continuity_clock` row out. For each visit: the plan of care in force and
whether the visit is within its duration, whether a certification valid on that
date covers it, whether it states its medical necessity, and where it stands in
its progress-report period. For the episode: the clocks (treatment days left
until the next progress report, the last certified day, recertification needed)
and the gaps, each with the rule behind it (rules.md §6, domain/clocks.py).

The certification and progress-report rules are Medicare's (BPM15); they are
applied to episodes whose payer follows them (`medicare_rules`). Plan coverage
and the necessity statement are checked for every payer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.clocks.coverage import PLAN_GAPS, judge
from domain.clocks.periods import (
    MEDICARE,
    RULE_NECESSITY,
    RULE_PROGRESS,
    RULE_RECERT,
    CertificationCheck,
    ClockRules,
    Gap,
    certification_due_by,
)
from domain.records import Plan, Visit

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode

Row = dict[str, Any]


@dataclass(frozen=True)
class Continuity:
    """The continuity of one episode: per-visit rows, the clock row, and every gap."""

    visits: list[Row]
    clock: Row
    gaps: list[Gap]

    @property
    def errors(self) -> int:
        """Count the gaps that put claims at risk."""
        return sum(1 for gap in self.gaps if gap.severity == "error")

    @property
    def warnings(self) -> int:
        """Count the gaps to watch."""
        return sum(1 for gap in self.gaps if gap.severity == "warning")


def _grouped(per_visit: list[Gap]) -> list[Gap]:
    """Fold visit gaps of the same code into one gap naming every date."""
    groups: dict[str, list[Gap]] = {}
    for gap in per_visit:
        groups.setdefault(gap.code, []).append(gap)
    out: list[Gap] = []
    for code, gaps in groups.items():
        first = gaps[0]
        if len(gaps) == 1:
            out.append(
                Gap(
                    code, first.severity, first.on, first.message, first.rule, (first.on,) if first.on else ()
                )
            )
            continue
        dates = tuple(g.on for g in gaps if g.on is not None)
        message = f"{len(gaps)} visits ({dates[0]} to {dates[-1]}): {first.message}"
        out.append(Gap(code, first.severity, first.on, message, first.rule, dates))
    return out


def _visit_row(
    episode_id: str,
    visit: Visit,
    treatment_day: int,
    period_day: int,
    report: tuple[bool, bool],
    plan: Plan | None,
    cert: CertificationCheck | None,
    gaps: list[Gap],
) -> Row:
    return {
        "episode_id": episode_id,
        "date_of_service": visit.date_of_service,
        "treatment_day": treatment_day,
        "period_day": period_day,
        "plan_version": plan.plan_version if plan is not None else None,
        "plan_covered": not any(g.code in PLAN_GAPS for g in gaps),
        "certification": cert.index if cert is not None else None,
        "certified": cert is not None,
        "necessity": bool(visit.necessity.strip()),
        "report_due": report[0],
        "report_present": report[1],
        "gaps": [{k: v for k, v in g.as_dict().items() if k != "dates"} for g in gaps],
        "event_version": visit.event_version,
    }


def evaluate(episode: Episode, medicare_rules: bool, rules: ClockRules = MEDICARE) -> Continuity:
    """Judge every visit of an episode and its clocks against rules.md §6."""
    episode_id = str(episode.id)
    coverage = judge(episode, medicare_rules, rules)
    rows: list[Row] = []
    visit_gaps: list[Gap] = []
    for seen in coverage.visits:
        day, plan, cert, report = seen.day, seen.plan, seen.certification, seen.report
        visit = episode.visits[day]
        gaps = [g for g in (seen.plan_gap, seen.certification_gap) if g is not None]
        if seen.not_recertified and plan is not None and cert is not None:
            gaps.append(
                Gap(
                    "plan_not_recertified",
                    "warning",
                    day,
                    f"plan v{plan.plan_version} ({plan.established_on}) is in force but only "
                    f"v{cert.certified_plan} is certified; recertify if the change is significant",
                    RULE_RECERT,
                )
            )
        if not visit.necessity.strip():
            gaps.append(
                Gap("necessity_missing", "error", day, "no medical-necessity statement", RULE_NECESSITY)
            )
        visit_gaps.extend(gaps)  # an overdue report is listed once per period, not per visit
        report_flags = (report.report_due, report.report_present)
        if medicare_rules and report.report_due and not report.report_present:
            gaps.append(
                Gap(
                    "progress_report_overdue",
                    "error",
                    day,
                    f"treatment day {report.period_day} of the period without a progress report "
                    f"(due by day {rules.progress_report_every})",
                    RULE_PROGRESS,
                )
            )
        rows.append(
            _visit_row(
                episode_id, visit, report.treatment_day, report.period_day, report_flags, plan, cert, gaps
            )
        )
    episode_gaps = _grouped(visit_gaps)
    reports = coverage.reports
    if medicare_rules:
        episode_gaps = [g for c in coverage.checks for g in c.gaps] + reports.gaps() + episode_gaps
    episode_gaps.sort(key=lambda g: (g.on or date.min, g.code))
    clock = _clock_row(episode, medicare_rules, coverage.days, coverage.checks, reports.due_in, rules)
    clock["gaps"] = [g.as_dict() for g in episode_gaps]
    clock["errors"] = sum(1 for g in episode_gaps if g.severity == "error")
    clock["warnings"] = sum(1 for g in episode_gaps if g.severity == "warning")
    return Continuity(rows, clock, episode_gaps)


def _clock_row(
    episode: Episode,
    medicare_rules: bool,
    days: list[date],
    checks: list[CertificationCheck],
    report_due_in: int,
    rules: ClockRules,
) -> Row:
    first, last = (days[0], days[-1]) if days else (None, None)
    valid = [c for c in checks if c.valid]
    through = max((c.end for c in valid), default=None)
    reasons: list[str] = []
    if medicare_rules and last is not None and through is not None and last > through:
        reasons.append(f"treatment on {last} runs past the certified period ending {through}")
    if medicare_rules and valid and episode.plans:
        latest = max(episode.plans, key=lambda p: p.plan_version)
        if latest.plan_version > max(c.certified_plan for c in valid):
            reasons.append(f"plan v{latest.plan_version} ({latest.established_on}) is not certified")
    active = episode.status != "discharged"
    return {
        "episode_id": str(episode.id),
        "medicare_rules": medicare_rules,
        "status": episode.status,
        "first_treatment_day": first,
        "last_treatment_day": last,
        "treatment_days": len(days),
        "report_due_in": report_due_in if medicare_rules and active else None,
        "last_report": max((r.report_date for r in episode.progress_reports), default=None),
        "certification_due_by": certification_due_by(first, rules) if first and medicare_rules else None,
        "certified_through": through,
        "recertification_needed": bool(reasons) and active,
        "recertification_reasons": reasons,
        "certifications": [
            {
                "index": c.index,
                "kind": c.kind,
                "certified_plan": c.certified_plan,
                "ordered_on": c.ordered_on.isoformat(),
                "reference_day": c.reference_day.isoformat(),
                "status": c.status,
                "valid": c.valid,
                "start": c.start.isoformat(),
                "end": c.end.isoformat(),
                "signature_due": c.signature_due.isoformat() if c.signature_due else None,
            }
            for c in checks
        ],
    }


def continuity_rows(episode: Episode, medicare_rules: bool) -> dict[str, list[Row]]:
    """Return the episode's `pv_continuity` and `pv_continuity_clock` rows."""
    result = evaluate(episode, medicare_rules)
    return {"pv_continuity": result.visits, "pv_continuity_clock": [result.clock]}
