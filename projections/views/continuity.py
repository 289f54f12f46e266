"""The medical-necessity continuity view: is every visit covered, and what do the clocks say.

Pure: an episode in, `pv_continuity` rows (one per visit) and one
`pv_continuity_clock` row out. It renders the one judgement of the episode,
`domain.clocks.coverage.judge` (docs/rules.md#plan-of-care, docs/rules.md#necessity): for each visit, the plan
of
care in force and whether the visit is within its duration, the valid
certification, the necessity statement and where it stands in its
progress-report period, with its verdicts; for the episode, the clocks
(treatment days left until the next progress report, the last certified day,
recertification needed) and every gap, each with the rule behind it. Nothing is
decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.clocks.coverage import (
    NECESSITY_MISSING,
    PLAN_GAPS,
    PROGRESS_REPORT_OVERDUE,
    Coverage,
    VisitCoverage,
    judge,
)
from domain.clocks.periods import MEDICARE, CertificationCheck, ClockRules, Gap

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
    for gaps in groups.values():
        first = gaps[0]
        if len(gaps) == 1:
            out.append(replace(first, dates=(first.on,) if first.on else ()))
            continue
        dates = tuple(g.on for g in gaps if g.on is not None)
        message = f"{len(gaps)} visits ({dates[0]} to {dates[-1]}): {first.message}"
        out.append(replace(first, message=message, dates=dates))
    return out


def _visit_row(episode_id: str, seen: VisitCoverage, event_version: int) -> Row:
    plan, cert, report, gaps = seen.plan, seen.certification, seen.report, seen.gaps
    return {
        "episode_id": episode_id,
        "date_of_service": seen.day,
        "treatment_day": report.treatment_day,
        "period_day": report.period_day,
        "plan_version": plan.plan_version if plan is not None else None,
        "plan_covered": not any(g.code in PLAN_GAPS for g in gaps),
        "certification": cert.index if cert is not None else None,
        "certified": cert is not None,
        "necessity": not any(g.code == NECESSITY_MISSING for g in gaps),
        "report_due": report.report_due,
        "report_present": report.report_present,
        "gaps": [{k: v for k, v in g.as_dict().items() if k != "dates"} for g in gaps],
        "event_version": event_version,
    }


def evaluate(
    episode: Episode, medicare_rules: bool, rules: ClockRules = MEDICARE, coverage: Coverage | None = None
) -> Continuity:
    """Render the judgement of an episode (made here unless given) as its continuity rows and gaps."""
    judged = coverage if coverage is not None else judge(episode, medicare_rules, rules)
    episode_id = str(episode.id)
    rows: list[Row] = []
    visit_gaps: list[Gap] = []
    for seen in judged.visits:
        # an overdue report is listed once per late period (an episode gap), not once per visit
        visit_gaps.extend(g for g in seen.gaps if g.code != PROGRESS_REPORT_OVERDUE)
        rows.append(_visit_row(episode_id, seen, episode.visits[seen.day].event_version))
    episode_gaps = [*judged.episode_gaps, *_grouped(visit_gaps)]
    episode_gaps.sort(key=lambda g: (g.on or date.min, g.code))
    clock = _clock_row(episode, judged)
    clock["gaps"] = [g.as_dict() for g in episode_gaps]
    clock["errors"] = sum(1 for g in episode_gaps if g.severity == "error")
    clock["warnings"] = sum(1 for g in episode_gaps if g.severity == "warning")
    return Continuity(rows, clock, episode_gaps)


def _certification(c: CertificationCheck) -> Row:
    return {
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


def _clock_row(episode: Episode, judged: Coverage) -> Row:
    days = judged.days
    first, last = (days[0], days[-1]) if days else (None, None)
    active = episode.status != "discharged"
    return {
        "episode_id": str(episode.id),
        "medicare_rules": judged.medicare,
        "status": episode.status,
        "first_treatment_day": first,
        "last_treatment_day": last,
        "treatment_days": len(days),
        "report_due_in": judged.reports.due_in if judged.medicare and active else None,
        "last_report": max((r.report_date for r in episode.progress_reports), default=None),
        "certification_due_by": judged.certification_due_by,
        "certified_through": judged.certified_through,
        "recertification_needed": bool(judged.recertification_reasons) and active,
        "recertification_reasons": list(judged.recertification_reasons),
        "certifications": [_certification(c) for c in judged.checks],
    }


def continuity_rows(episode: Episode, medicare_rules: bool) -> dict[str, list[Row]]:
    """Return the episode's `pv_continuity` and `pv_continuity_clock` rows."""
    result = evaluate(episode, medicare_rules)
    return {"pv_continuity": result.visits, "pv_continuity_clock": [result.clock]}
