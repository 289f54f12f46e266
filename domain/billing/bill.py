"""Claim lines of an episode's visits: units, modifiers, diagnosis pointers, amounts, reasons.

Everything here is pure: the episode's facts and the rule tables in, a frozen
`EpisodeBill` out. The payer profile says which rules apply (rules.md §2-§5);
each claim line carries the explanation of its units and modifiers, and each
remark a biller must act on is a `Note` (rule id, severity, message, source).

KX (rules.md §5) depends on the beneficiary's other episodes: the caller passes
their allowed amounts as `Accrual`s (see `accruals`); this module never reads a
store. Semantics, per beneficiary, calendar year and discipline group (PT+SLP,
OT): visits are taken in date order; a visit's year-to-date amount before it is
the group's allowed amounts of the other episodes on or before its date plus
this episode's earlier visits that year; the visit whose own allowed amount
takes the total above the year's threshold, and every later visit of that year,
carries KX on each billable line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from domain.billing.claims import ClaimLine, VisitBill, price_visit
from domain.billing.ledger import Note
from domain.billing.modifiers import kx_reason, order_modifiers
from domain.billing.rules import BillingRules, billing_rules
from domain.billing.threshold import Accrual, Standing, ThresholdStatus, standings
from domain.records import VisitFields
from domain.values import Diagnosis, Frozen, PayerRef, UnitRule

if TYPE_CHECKING:
    pass


class BilledEpisode(Protocol):
    """What billing reads of an episode (the `Episode` aggregate is one)."""

    @property
    def id(self) -> UUID: ...
    @property
    def patient_ref(self) -> str: ...
    @property
    def discipline(self) -> str: ...
    @property
    def payer(self) -> PayerRef: ...
    @property
    def diagnoses(self) -> tuple[Diagnosis, ...]: ...
    @property
    def visits(self) -> Mapping[date, VisitFields]: ...


class EpisodeFacts(Frozen):
    """What a bill needs from an episode (read from the aggregate by `facts_of`)."""

    episode_id: str
    patient_ref: str
    discipline: str
    payer: PayerRef
    diagnoses: tuple[Diagnosis, ...]
    visits: tuple[VisitFields, ...]


def facts_of(episode: BilledEpisode) -> EpisodeFacts:
    """Read the facts a bill needs from an episode."""
    return EpisodeFacts(
        episode_id=str(episode.id),
        patient_ref=episode.patient_ref,
        discipline=episode.discipline,
        payer=episode.payer,
        diagnoses=tuple(episode.diagnoses),
        visits=tuple(episode.visits[d] for d in sorted(episode.visits)),
    )


class EpisodeBill(Frozen):
    """The claim lines of an episode's visits, threshold status, notes and the tables used."""

    episode_id: str
    patient_ref: str
    discipline: str
    payer_id: str
    payer_name: str
    unit_rule: UnitRule
    diagnoses: tuple[str, ...]
    visits: tuple[VisitBill, ...]
    thresholds: tuple[ThresholdStatus, ...]
    notes: tuple[Note, ...]
    tables: dict[str, str]


def _price(facts: EpisodeFacts, visit: VisitFields, rules: BillingRules) -> VisitBill:
    rule: UnitRule = facts.payer.unit_rule or rules.profile.unit_rule
    return price_visit(facts.discipline, len(facts.diagnoses), rule, visit, rules)


def accruals(facts: EpisodeFacts, rules: BillingRules) -> list[Accrual]:
    """Return each visit's allowed amount toward the threshold (for the patient's other bills)."""
    result: list[Accrual] = []
    for visit in facts.visits:
        priced = _price(facts, visit, rules)
        result.append(
            Accrual(
                episode_id=facts.episode_id,
                date_of_service=priced.date_of_service,
                group=priced.threshold_group,
                amount=priced.allowed_amount,
                complete=priced.amounts_complete,
            )
        )
    return result


def bill_episode(facts: EpisodeFacts, rules: BillingRules, prior: Sequence[Accrual] = ()) -> EpisodeBill:
    """Compute the claim lines of every visit, with KX from the year-to-date amounts."""
    priced = [_price(facts, v, rules) for v in sorted(facts.visits, key=lambda v: v.date_of_service)]
    group = rules.thresholds.group_of(facts.discipline)
    walked, statuses, kx_notes = standings(
        [(v.date_of_service, v.allowed_amount, v.amounts_complete) for v in priced],
        group,
        prior,
        rules.thresholds,
        rules.profile.kx_threshold,
    )
    visits = [_with_standing(visit, standing, group) for visit, standing in zip(priced, walked, strict=True)]
    notes: list[Note] = []
    if not rules.profile_found:
        notes.append(
            Note(
                rule_id="payer.no_profile",
                severity="warning",
                message=f"payer '{facts.payer.payer_id}' has no profile: only units are computed; add a "
                "profile file to CARELEDGER_PAYERS_DIR for its modifiers and fees",
                source="payer profiles",
            )
        )
    if rules.fees is not None and rules.fees.example:
        notes.append(
            Note(
                rule_id="fees.example",
                severity="info",
                message=f"allowed amounts come from the {rules.fees.label}; replace it with your own",
                source="fee schedule",
            )
        )
    notes.extend(kx_notes)
    return EpisodeBill(
        episode_id=facts.episode_id,
        patient_ref=facts.patient_ref,
        discipline=facts.discipline,
        payer_id=rules.profile.payer_id,
        payer_name=rules.profile.name,
        unit_rule=facts.payer.unit_rule or rules.profile.unit_rule,
        diagnoses=tuple(d.code for d in facts.diagnoses),
        visits=tuple(visits),
        thresholds=tuple(statuses),
        notes=tuple(notes),
        tables=rules.tables(),
    )


def _with_standing(visit: VisitBill, standing: Standing, group: str) -> VisitBill:
    """Add the year-to-date standing to a visit, KX on its billable lines, and modifier checks."""
    lines: list[ClaimLine] = []
    notes = list(visit.notes)
    for line in visit.lines:
        if standing.kx and line.billable and line.units > 0 and standing.threshold is not None:
            reason = kx_reason(group, visit.date_of_service.year, standing.after, standing.threshold)
            line = line.model_copy(
                update={
                    "modifiers": order_modifiers((*line.modifiers, "KX")),
                    "explanation": (*line.explanation, reason + "."),
                }
            )
        if line.recorded_modifiers and set(line.recorded_modifiers) != set(line.modifiers):
            notes.append(
                Note(
                    rule_id="modifiers.recorded_differs",
                    severity="warning",
                    message=f"{line.code}: the note lists modifiers {' '.join(line.recorded_modifiers)}; "
                    f"the rules give {' '.join(line.modifiers) or 'none'}",
                    source="rules.md §5",
                    date_of_service=visit.date_of_service,
                    code=line.code,
                )
            )
        lines.append(line)
    return visit.model_copy(
        update={
            "lines": tuple(lines),
            "year_to_date_before": standing.before,
            "year_to_date_after": standing.after,
            "threshold": standing.threshold,
            "kx": standing.kx,
            "notes": tuple(notes),
        }
    )


def bill_with_others(
    episode: BilledEpisode, others: Iterable[BilledEpisode], rules: BillingRules
) -> EpisodeBill:
    """Bill an episode, counting the beneficiary's other episodes with the same payer toward KX."""
    facts = facts_of(episode)
    group = rules.thresholds.group_of(facts.discipline)
    prior: list[Accrual] = []
    for other in others:
        if str(other.id) == facts.episode_id or other.patient_ref != facts.patient_ref:
            continue
        if other.payer.payer_id != facts.payer.payer_id:
            continue
        if rules.thresholds.group_of(other.discipline) != group:
            continue
        prior.extend(accruals(facts_of(other), rules))
    return bill_episode(facts, rules, prior)


__all__ = [
    "Accrual",
    "BilledEpisode",
    "BillingRules",
    "ClaimLine",
    "EpisodeBill",
    "EpisodeFacts",
    "ThresholdStatus",
    "VisitBill",
    "accruals",
    "bill_episode",
    "bill_with_others",
    "billing_rules",
    "facts_of",
]
