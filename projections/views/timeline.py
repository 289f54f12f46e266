"""The episode timeline view: every fact in clinical-date order, with when it was recorded.

Pure: an episode in, `pv_timeline` rows out. One row per fact the episode holds
(opening, plans, certifications, visits, exercise changes, outcomes, progress
reports, re-evaluations, holds and resumptions, discharge, each correction,
addendum or void of a visit, and each payer's remittance of a visit's claim), ordered by the date
the fact is about and then by the order it was recorded. `lag_days` is how many
days after that date it was recorded (a late entry shows it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from domain.billing.remittance import remittance_words
from domain.records import Provenance, Visit

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode

Row = dict[str, Any]
_LAST = 1 << 30


def _entry(
    day: date,
    kind: str,
    summary: str,
    source: Provenance | None,
    *,
    ref: str | None = None,
    recorded_at: datetime | None = None,
    recorded_by: str | None = None,
    version: int | None = None,
) -> Row:
    at = source.recorded_at if source is not None else recorded_at
    return {
        "clinical_date": day,
        "kind": kind,
        "ref": ref,
        "summary": summary,
        "event_version": source.event_version if source is not None else version,
        "recorded_at": at,
        "recorded_by": source.recorded_by if source is not None else recorded_by,
        "lag_days": (at.date() - day).days if at is not None else None,
    }


def _visit_summary(episode: Episode, day: date) -> str:
    visit = episode.visits[day]
    lines = " ".join(f"{line.code}×{line.minutes}" for line in visit.service_lines)
    extra = f"; {len(visit.exercises)} exercises" if visit.exercises else ""
    return (
        f"visit by {visit.provider_id} ({visit.credential}): {lines}; "
        f"{visit.total_treatment_minutes} min total{extra}"
    )


def _entries(episode: Episode) -> list[Row]:
    dx = ", ".join(d.code for d in episode.diagnoses)
    rows = [
        _entry(
            episode.start_date,
            "opened",
            f"episode opened: {episode.discipline}, payer {episode.payer.payer_id}, diagnoses {dx}",
            None,
            recorded_at=episode.created_on,
            recorded_by=episode.opened_by,
            version=1,
        )
    ]
    for plan in episode.plans:
        duration = f"{plan.duration_weeks} weeks" if plan.duration_weeks else f"{plan.duration_visits} visits"
        rows.append(
            _entry(
                plan.established_on,
                "plan",
                f"plan of care v{plan.plan_version} by {plan.therapist_id} ({plan.credential}): "
                f"{plan.frequency_per_week}x/week for {duration}, {len(plan.goals)} goals",
                plan,
                ref=f"v{plan.plan_version}",
            )
        )
    for cert in episode.certifications:
        day = cert.signed_on or cert.verbal_order_on or cert.period_start
        how = f"signed {cert.signed_on}" if cert.signed_on else f"verbal order {cert.verbal_order_on}"
        rows.append(
            _entry(
                day,
                "certification",
                f"{cert.kind} certification of plan v{cert.certified_plan} by {cert.certifier.provider_id}: "
                f"{cert.period_start} to {cert.period_end}, {how}"
                + (f"; delay: {cert.delay_reason}" if cert.delay_reason else ""),
                cert,
                ref=cert.kind,
            )
        )
    for day in episode.visits:
        rows.append(_entry(day, "visit", _visit_summary(episode, day), episode.visits[day]))
    for voided in episode.voided_visits:
        day = voided.date_of_service
        lines = " ".join(f"{line.code}×{line.minutes}" for line in voided.service_lines)
        rows.append(_entry(day, "visit", f"visit by {voided.provider_id} (voided since): {lines}", voided))
    for visit in [*episode.visits.values(), *episode.voided_visits]:
        rows.extend(_amendment_entries(visit))
    for exercise in episode.exercises.values():
        for change in exercise.history:
            text = f"{change.kind} {exercise.exercise_id} ({change.name})"
            if change.dosage is not None:
                text += f": {change.dosage.describe()}"
            if change.reason:
                text += f"; reason: {change.reason}"
            rows.append(
                _entry(
                    change.effective_date, f"exercise_{change.kind}", text, change, ref=exercise.exercise_id
                )
            )
    for outcome in episode.outcomes:
        rows.append(
            _entry(
                outcome.taken_on,
                "outcome",
                f"{outcome.instrument} {outcome.score.normalize():f}",
                outcome,
                ref=outcome.instrument,
            )
        )
    for report in episode.progress_reports:
        rows.append(
            _entry(
                report.report_date,
                "progress_report",
                f"progress report by {report.author_id} ({report.credential}) for {report.period_start} "
                f"to {report.period_end}, {len(report.goal_assessments)} goals assessed",
                report,
            )
        )
    for reeval in episode.reevaluations:
        rows.append(
            _entry(
                reeval.evaluated_on,
                "reevaluation",
                f"re-evaluation by {reeval.provider_id} ({reeval.credential}): {reeval.findings}",
                reeval,
            )
        )
    for hold in episode.holds:
        rows.append(_entry(hold.start, "hold", f"put on hold: {hold.reason}", hold))
        if hold.end is not None and (
            episode.discharge is None or hold.end != episode.discharge.discharge_date
        ):
            rows.append(_entry(hold.end, "resumed", "treatment resumed", None))
    for remittance in episode.remittances:
        rows.append(
            _entry(
                remittance.date_of_service,
                "remittance",
                remittance_words(remittance),
                remittance,
                ref=remittance.claim_id,
            )
        )
    if episode.discharge is not None:
        d = episode.discharge
        rows.append(_entry(d.discharge_date, "discharge", f"discharged: {d.reason}", d))
    return rows


def _amendment_entries(visit: Visit) -> list[Row]:
    """One row per correction, addendum or void of a visit (docs/rules.md#amendments); a late entry is a visit
    row.
    """
    rows: list[Row] = []
    for amendment in visit.amendments:
        if amendment.kind == "late_entry":
            continue
        if amendment.kind == "correction":
            changed = ", ".join(
                f"{name} {amendment.previous.get(name)!r} -> {value!r}"
                for name, value in amendment.changes.items()
            )
            what = f"correction of the visit of {visit.date_of_service}: {changed}"
        elif amendment.kind == "addendum":
            what = f"addendum to the visit of {visit.date_of_service}: {amendment.text}"
        else:
            what = f"visit of {visit.date_of_service} voided"
        rows.append(
            _entry(
                visit.date_of_service,
                amendment.kind,
                f"{what}; reason: {amendment.reason}",
                amendment,
                ref=f"v{amendment.amends_version}",
            )
        )
    return rows


def timeline_rows(episode: Episode) -> dict[str, list[Row]]:
    """Return the episode's `pv_timeline` rows in clinical-date order."""
    episode_id = str(episode.id)
    rows = _entries(episode)
    rows.sort(key=lambda r: (r["clinical_date"], r["event_version"] or _LAST))
    for seq, row in enumerate(rows):
        row["episode_id"] = episode_id
        row["seq"] = seq
    return {"pv_timeline": rows}
