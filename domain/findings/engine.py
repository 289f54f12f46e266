"""The documentation checks of an episode (docs/rules.md#plan-of-care, docs/rules.md#documentation): a pure
function from an episode to findings.

`check_episode(episode, context)` reads the episode's current state (corrections
applied, voided visits gone, docs/rules.md#amendments), prices each visit with the billing
engine (units, modifiers, minute ledger, `domain.billing.bill`), builds each visit's
note once (`VisitNote`) and runs every family of checks on it, then the checks
across visits (progression, outcomes, clocks, copied notes, KX). The result is
sorted (most severe first, then date, rule id) and depends neither on the order
of the lines, exercises or interventions within a note nor on anything but the
episode and the context.

`analyse` is the part that needs only the episode; the findings read model
stores it, and adds the checks that need other episodes (copied notes by the same
author, KX across the beneficiary's episodes) when it is queried, with the same
functions (`combine`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from domain.billing.bill import BillingRules, VisitBill, accruals, facts_of
from domain.billing.claims import price_visit
from domain.billing.ledger import audit_minutes
from domain.clocks.coverage import NECESSITY_MISSING, Coverage, judge
from domain.findings import (
    clocks,
    coding,
    contact,
    exercises,
    kx,
    modifiers,
    necessity,
    progression,
    skilled,
    timing,
)
from domain.findings.cloning import NoteSignature, clone_findings, note_signature
from domain.findings.context import CheckContext
from domain.findings.model import Finding, sort_findings
from domain.findings.note import Performed, VisitNote
from domain.records import Visit
from domain.values import UnitRule

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode


@dataclass(frozen=True)
class Analysis:
    """What the checks find in one episode alone, and what they keep for the cross-episode checks."""

    episode_id: str
    findings: tuple[Finding, ...]
    notes: tuple[NoteSignature, ...]
    kx: kx.KxEpisode


def _performed_order(item: Performed) -> tuple[str, str, str]:
    return (item.done.exercise_id or "", item.done.name, item.done.model_dump_json())


PRICE_MEMO = 8192


def _priced(
    context: CheckContext, episode: Episode, visit: Visit, rules: BillingRules, unit_rule: UnitRule
) -> VisitBill:
    """Price a visit with the billing engine, once per distinct set of what the price depends on.

    Units, modifiers (but KX), allowed amounts and the NCCI and ledger notes depend
    on the payer, the discipline, the number of diagnoses, the credential, the
    service lines, the total minutes and the fee year, not on the day: visits that
    share those share one `VisitBill`. Its dates are those of the first visit
    priced, so the checks read its units, modifiers, amounts and notes, never its dates.
    """
    pointers = len(episode.diagnoses)
    key = (
        episode.payer.payer_id,
        unit_rule,
        episode.discipline,
        min(pointers, 4),
        visit.credential,
        visit.total_treatment_minutes,
        visit.service_lines,
        visit.date_of_service.year,
    )
    memo = context.prices
    found = memo.get(key)
    if found is None:
        if len(memo) >= PRICE_MEMO:
            memo.clear()
        found = memo[key] = price_visit(episode.discipline, pointers, unit_rule, visit, rules)
    return found


def _kx_visit(note: VisitNote, bill: VisitBill, necessity_problem: necessity.Problem) -> kx.KxVisit:
    billable = [line for line in bill.lines if line.billable and line.units > 0]
    return kx.KxVisit(
        date_of_service=note.visit.date_of_service,
        allowed_amount=bill.allowed_amount,
        complete=bill.amounts_complete,
        necessity=necessity_problem,
        billable=tuple(line.code for line in billable),
        written_kx=tuple(line.code for line in billable if "KX" in line.recorded_modifiers),
        written_without_kx=tuple(
            line.code for line in billable if line.recorded_modifiers and "KX" not in line.recorded_modifiers
        ),
        evidence=note.evidence(),
    )


def analyse(episode: Episode, context: CheckContext, coverage: Coverage | None = None) -> Analysis:
    """Run every check that needs only this episode; keep its notes and KX facts for the others.

    `coverage` is the clocks' judgement of the episode (`domain.clocks.coverage.judge`,
    made here unless the caller already has it): its verdicts are worded as findings.
    """
    episode_id = str(episode.id)
    if coverage is None:
        coverage = judge(episode, context.medicare_clocks(episode.payer), context.clock_rules)
    missing = {
        seen.day: gap for seen in coverage.visits for gap in seen.gaps if gap.code == NECESSITY_MISSING
    }
    rules = context.billing(episode.payer)
    catalogue = rules.catalogue
    words = context.words
    # the claim lines of each visit (units, modifiers, notes); KX is checked apart (domain.findings.kx)
    unit_rule: UnitRule = episode.payer.unit_rule or rules.profile.unit_rule
    bills = {day: _priced(context, episode, visit, rules, unit_rule) for day, visit in episode.visits.items()}
    diagnoses = necessity.DiagnosisWords.of(
        (*episode.diagnoses, *(d for plan in episode.plans for d in plan.diagnoses)), words
    )
    notes: dict[date, VisitNote] = {}
    for day in sorted(episode.visits):
        visit = episode.visits[day]
        performed = sorted(
            (
                Performed(p, episode.exercises.get(p.exercise_id) if p.exercise_id else None)
                for p in visit.exercises
            ),
            key=_performed_order,
        )
        notes[day] = VisitNote(
            episode_id=episode_id,
            visit=visit,
            bill=bills[day],
            ledger=audit_minutes(visit.service_lines, visit.total_treatment_minutes, day, catalogue),
            exercises=tuple(performed),
            words_of=words,
        )
    found: list[Finding] = []
    kx_visits: list[kx.KxVisit] = []
    for day, note in notes.items():
        stated = necessity.check(note, diagnoses, missing.get(day))
        visit_found = [
            *stated.findings,
            *exercises.check(note),
            *timing.check(note, catalogue),
            *contact.check(note, catalogue),
            *skilled.check(note),
            *coding.check(note, catalogue),
            *modifiers.check(note, episode.discipline, rules),
        ]
        kx_visits.append(_kx_visit(note, bills[day], stated.problem))
        found.extend(visit_found)
    outcome_text = "; ".join(s.text for s in progression.outcome_summaries(episode.outcomes))
    found.extend(
        progression.check_plateaus(
            list(notes.values()), episode.exercises, context.plateau_visits, outcome_text
        )
    )
    found.extend(progression.check_outcomes(episode_id, episode.outcomes))
    found.extend(clocks.check(episode_id, coverage, notes))
    signatures = tuple(
        note_signature(note, words.stopwords, context.clone_min_words) for note in notes.values()
    )
    kx_episode = kx.KxEpisode(
        episode_id=episode_id,
        patient_ref=episode.patient_ref,
        payer_id=episode.payer.payer_id,
        discipline=episode.discipline,
        visits=tuple(kx_visits),
    )
    found.extend(kx.check(kx_episode, (), rules))  # KX as if the beneficiary had no other episode
    return Analysis(episode_id, sort_findings(found), signatures, kx_episode)


def combine(analysis: Analysis, context: CheckContext) -> tuple[Finding, ...]:
    """Add the checks that read other episodes to an episode's own findings.

    Copied notes are compared with the other episodes' notes; KX, found for the
    episode alone by `analyse`, is walked again with the beneficiary's other
    episodes' amounts when there are any.
    """
    pool = (*analysis.notes, *context.peer_notes)
    copied = clone_findings(pool, context.clone_percent, {analysis.episode_id})
    own = analysis.findings
    if context.prior_accruals:
        payer = context.billing_for(analysis.kx.payer_id)
        own = (
            *(f for f in own if f.rule_id not in kx.RULE_IDS),
            *kx.check(analysis.kx, context.prior_accruals, payer),
        )
    return sort_findings((*own, *copied))


def check_episode(episode: Episode, context: CheckContext) -> tuple[Finding, ...]:
    """Return every finding of an episode, most severe first (docs/rules.md#plan-of-care,
    docs/rules.md#documentation).
    """
    return combine(analyse(episode, context), context)


def with_other_episodes(episode: Episode, others: Iterable[Episode], context: CheckContext) -> CheckContext:
    """Return the context with the notes of the same authors and the beneficiary's amounts elsewhere.

    Notes: every visit of another episode by one of this episode's providers
    (docs/rules.md#cloned-notes). Amounts: the visits of the same patient's other episodes with
    the same payer and threshold group, as `bill_with_others` counts them (docs/rules.md#modifiers).
    """
    authors = {visit.provider_id for visit in episode.visits.values()}
    rules = context.billing(episode.payer)
    group = rules.thresholds.group_of(episode.discipline)
    peers: list[NoteSignature] = []
    prior = []
    for other in others:
        if other.id == episode.id:
            continue
        if authors & {visit.provider_id for visit in other.visits.values()}:
            peers.extend(analyse(other, context).notes)
        same_beneficiary = (
            other.patient_ref == episode.patient_ref and other.payer.payer_id == episode.payer.payer_id
        )
        if same_beneficiary and rules.thresholds.group_of(other.discipline) == group:
            prior.extend(accruals(facts_of(other), rules))
    return context.with_others(tuple(peers), tuple(prior))


__all__ = ["Analysis", "analyse", "check_episode", "combine", "with_other_episodes"]
