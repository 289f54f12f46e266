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
from typing import TYPE_CHECKING, Any

from domain.billing.bill import BillingRules, VisitBill, accruals, facts_of
from domain.billing.claims import price_visit
from domain.billing.ledger import audit_minutes
from domain.clocks.coverage import NECESSITY_MISSING, Coverage, judge
from domain.clocks.periods import Gap
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


def _in_order(performed: list[Performed]) -> list[Performed]:
    """Sort a visit's exercises by `_performed_order`, writing an exercise's JSON only to break a tie."""
    short = [(item.done.exercise_id or "", item.done.name) for item in performed]
    if len(set(short)) < len(short):
        return sorted(performed, key=_performed_order)
    return [item for _, item in sorted(zip(short, performed, strict=True), key=lambda pair: pair[0])]


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


@dataclass(frozen=True, slots=True)
class _VisitWork:
    """What the checks derived from one visit alone, and the inputs it was derived from."""

    visit: Visit
    catalogue: tuple[Any, ...]
    missing: Gap | None
    note: VisitNote
    found: tuple[Finding, ...]
    kx: kx.KxVisit
    signature: NoteSignature


class VisitMemo:
    """One episode's per-visit findings, kept between its derivations (the projector keeps one per episode).

    A visit's own findings (necessity, exercises, timing, contact, skilled care,
    coding, modifiers), its KX facts and its compared texts depend on the visit's
    record, the catalogue entries of the exercises it performed, the clocks'
    necessity verdict for its day, and what the whole episode shares (payer,
    discipline, diagnoses, the rule tables). Records are replaced, never changed,
    when an event changes them (a correction, an addendum, a progressed exercise),
    so a visit whose record and entries are the same objects and whose verdict and
    shared inputs are equal is not derived again. A property test holds an episode
    analysed with its memo after every command equal to one analysed afresh.
    """

    __slots__ = ("_shared", "_visits")

    def __init__(self) -> None:
        self._shared: tuple[Any, ...] | None = None
        self._visits: dict[date, _VisitWork] = {}

    def start(self, shared: tuple[Any, ...]) -> dict[date, _VisitWork]:
        """Return the kept visits when the episode's shared inputs are unchanged (else forget them)."""
        if (
            self._shared is None
            or len(self._shared) != len(shared)
            or not all(a is b or a == b for a, b in zip(self._shared, shared, strict=True))
        ):
            self._visits = {}
        self._shared = shared
        return self._visits

    def keep(self, visits: dict[date, _VisitWork]) -> None:
        """Keep this derivation's visits (a voided visit's work is dropped with it)."""
        self._visits = visits


def _same(work: _VisitWork, visit: Visit, catalogue: tuple[Any, ...], missing: Gap | None) -> bool:
    return (
        work.visit is visit
        and len(work.catalogue) == len(catalogue)
        and all(a is b for a, b in zip(work.catalogue, catalogue, strict=True))
        and work.missing == missing
    )


def analyse(
    episode: Episode, context: CheckContext, coverage: Coverage | None = None, memo: VisitMemo | None = None
) -> Analysis:
    """Run every check that needs only this episode; keep its notes and KX facts for the others.

    `coverage` is the clocks' judgement of the episode (`domain.clocks.coverage.judge`,
    made here unless the caller already has it): its verdicts are worded as findings.
    `memo` keeps each visit's own findings between calls for the same episode, so only
    the visits an event changed are derived again (see `VisitMemo`).
    """
    episode_id = str(episode.id)
    if coverage is None:
        coverage = judge(episode, context.medicare_clocks(episode.payer), context.clock_rules)
    missing = {
        seen.day: gap for seen in coverage.visits for gap in seen.gaps if gap.code == NECESSITY_MISSING
    }
    rules = context.billing(episode.payer)
    words = context.words
    # the claim lines of each visit (units, modifiers, notes); KX is checked apart (domain.findings.kx)
    unit_rule: UnitRule = episode.payer.unit_rule or rules.profile.unit_rule
    diagnoses = necessity.DiagnosisWords.of(
        (*episode.diagnoses, *(d for plan in episode.plans for d in plan.diagnoses)), words
    )
    shared = (
        context,
        rules,
        words,
        episode_id,
        episode.payer,
        unit_rule,
        episode.discipline,
        len(episode.diagnoses),
        diagnoses,
    )
    kept = memo.start(shared) if memo is not None else {}
    done: dict[date, _VisitWork] = {}
    for day in sorted(episode.visits):
        visit = episode.visits[day]
        entries = tuple(
            episode.exercises.get(p.exercise_id) if p.exercise_id else None for p in visit.exercises
        )
        gap = missing.get(day)
        work = kept.get(day)
        if work is None or not _same(work, visit, entries, gap):
            work = _visit_work(context, episode, visit, entries, gap, diagnoses, rules, unit_rule)
        done[day] = work
    if memo is not None:
        memo.keep(done)
    notes = {day: work.note for day, work in done.items()}
    found: list[Finding] = [f for work in done.values() for f in work.found]
    kx_visits = [work.kx for work in done.values()]
    outcome_text = "; ".join(s.text for s in progression.outcome_summaries(episode.outcomes))
    found.extend(
        progression.check_plateaus(
            list(notes.values()), episode.exercises, context.plateau_visits, outcome_text
        )
    )
    found.extend(progression.check_outcomes(episode_id, episode.outcomes))
    found.extend(clocks.check(episode_id, coverage, notes))
    signatures = tuple(work.signature for work in done.values())
    kx_episode = kx.KxEpisode(
        episode_id=episode_id,
        patient_ref=episode.patient_ref,
        payer_id=episode.payer.payer_id,
        discipline=episode.discipline,
        visits=tuple(kx_visits),
    )
    found.extend(kx.check(kx_episode, (), rules))  # KX as if the beneficiary had no other episode
    return Analysis(episode_id, sort_findings(found), signatures, kx_episode)


def _visit_work(
    context: CheckContext,
    episode: Episode,
    visit: Visit,
    entries: tuple[Any, ...],
    gap: Gap | None,
    diagnoses: necessity.DiagnosisWords,
    rules: BillingRules,
    unit_rule: UnitRule,
) -> _VisitWork:
    """Derive one visit's note, its own findings, its KX facts and its compared texts."""
    catalogue = rules.catalogue
    day = visit.date_of_service
    bill = _priced(context, episode, visit, rules, unit_rule)
    note = VisitNote(
        episode_id=str(episode.id),
        visit=visit,
        bill=bill,
        ledger=audit_minutes(visit.service_lines, visit.total_treatment_minutes, day, catalogue),
        exercises=tuple(_in_order([Performed(p, e) for p, e in zip(visit.exercises, entries, strict=True)])),
        words_of=context.words,
    )
    stated = necessity.check(note, diagnoses, gap)
    found = (
        *stated.findings,
        *exercises.check(note),
        *timing.check(note, catalogue),
        *contact.check(note, catalogue),
        *skilled.check(note),
        *coding.check(note, catalogue),
        *modifiers.check(note, episode.discipline, rules),
    )
    signature = note_signature(note, context.words.stopwords, context.clone_min_words)
    return _VisitWork(visit, entries, gap, note, found, _kx_visit(note, bill, stated.problem), signature)


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


__all__ = ["Analysis", "VisitMemo", "analyse", "check_episode", "combine", "with_other_episodes"]
