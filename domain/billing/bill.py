"""Claim lines of an episode's visits: units, modifiers, diagnosis pointers, amounts, reasons.

Everything here is pure: the episode's facts and the rule tables in, a frozen
`EpisodeBill` out. The payer profile says which rules apply (docs/rules.md#eight-minute-rule,
docs/rules.md#modifiers);
each claim line carries the explanation of its units and modifiers, and each
remark a biller must act on is a `Note` (rule id, severity, message, source).

KX (docs/rules.md#modifiers) depends on the beneficiary's other episodes: the caller passes
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
from pathlib import Path
from typing import Protocol
from uuid import UUID

from pydantic import ValidationError

from domain.billing.claims import ClaimLine, VisitBill, price_visit
from domain.billing.ledger import Note
from domain.billing.modifiers import kx_reason, order_modifiers
from domain.billing.rules import BillingRules, billing_rules
from domain.billing.threshold import Accrual, Standing, ThresholdStatus, standings
from domain.billing.units import UnitResult, compute_units, parse_line
from domain.errors import InvalidInput
from domain.records import VisitFields
from domain.rules.sources import CPM5_MODIFIERS, cite
from domain.values import Diagnosis, Frozen, PayerRef, UnitRule


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
    # the claim can go out only when nothing blocks it: every reason it cannot, in words
    not_ready: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Tell whether nothing keeps the claim from going out (no error, KX decided everywhere)."""
        return not self.not_ready


def _not_ready(visits: Sequence[VisitBill], notes: Sequence[Note]) -> tuple[str, ...]:
    """Say what keeps a bill from going out: KX undetermined, and every error note."""
    reasons: list[str] = []
    undetermined = [v.date_of_service.isoformat() for v in visits if v.kx is None]
    if undetermined:
        reasons.append(f"KX is undetermined on {', '.join(undetermined)} (no threshold for the year)")
    for visit in visits:
        for note in visit.notes:
            if note.severity == "error":
                reasons.append(f"{visit.date_of_service}: {note.message}")
    reasons.extend(n.message for n in notes if n.severity == "error")
    return tuple(dict.fromkeys(reasons))


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
        rules.kx_on,
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
        tables=rules.tables([v.date_of_service for v in visits]),
        not_ready=_not_ready(visits, notes),
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
        lines.append(line)
    for code, given, computed in _written_and_computed(lines):
        if given and given != computed:
            notes.append(
                Note(
                    rule_id="modifiers.recorded_differs",
                    severity="warning",
                    message=f"{code}: the note lists modifiers {' '.join(sorted(given))}; "
                    f"the rules give {' '.join(sorted(computed)) or 'none'}",
                    source=cite("modifiers", CPM5_MODIFIERS),
                    date_of_service=visit.date_of_service,
                    code=code,
                )
            )
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


def _written_and_computed(lines: Sequence[ClaimLine]) -> list[tuple[str, set[str], set[str]]]:
    """Per code, the modifiers the note wrote and those its claim lines carry (both lines of a split)."""
    by_code: dict[str, tuple[set[str], set[str]]] = {}
    for line in lines:
        written, computed = by_code.setdefault(line.code, (set(), set()))
        written.update(line.recorded_modifiers)
        computed.update(line.modifiers)
    return [(code, w, c) for code, (w, c) in by_code.items()]


class Calculation(Frozen):
    """The claim lines of one date's service lines under a payer's rules (`careledger units`)."""

    date_of_service: date
    payer_id: str
    units: UnitResult
    lines: tuple[ClaimLine, ...]
    notes: tuple[Note, ...]

    def as_json(self) -> dict[str, object]:
        """Return the units, and each claim line with who furnished each unit and its CQ / CO decision."""
        return {
            **self.units.as_json(),
            "date_of_service": self.date_of_service.isoformat(),
            "payer_id": self.payer_id,
            "claim_lines": [
                line.model_dump(
                    mode="json",
                    include={
                        "code",
                        "units",
                        "modifiers",
                        "minutes",
                        "assistant_minutes",
                        "split",
                        "units_furnished",
                        "billable",
                    },
                )
                for line in self.lines
            ],
            "notes": [note.model_dump(mode="json") for note in self.notes],
        }


def calculate(
    texts: Sequence[str],
    day: date,
    payer_id: str = "medicare",
    discipline: str = "PT",
    rule: UnitRule | None = None,
    payer_dirs: Sequence[Path] = (),
) -> Calculation:
    """Price one date's service lines (CODE=MINUTES[/ASSISTANT]) under a payer's rules in force that day."""
    try:
        payer = PayerRef(payer_id=payer_id)
    except ValidationError as exc:  # a payer id no profile could have (too long, empty)
        problem = exc.errors(include_url=False)[0]["msg"]
        raise InvalidInput("payer", f"'{payer_id[:20]}' is not a payer id: {problem.lower()}") from None
    rules = billing_rules(payer, payer_dirs)
    lines = tuple(parse_line(text, rules.catalogue) for text in texts)
    for text, line in zip(texts, lines, strict=True):
        info = rules.catalogue.codes[line.code]
        if not info.in_force(day):
            raise InvalidInput(text, f"{line.code} is not a valid code on {day} (valid {info.validity()})")
    unit_rule: UnitRule = rule or rules.profile.unit_rule
    total = sum(line.minutes for line in lines)
    visit = VisitFields(
        date_of_service=day,
        provider_id="calculator",
        credential="OT" if discipline == "OT" else "SLP" if discipline == "SLP" else "PT",
        service_lines=lines,
        total_treatment_minutes=min(total, 1440),
    )
    priced = price_visit(discipline, 1, unit_rule, visit, rules)
    return Calculation(
        date_of_service=day,
        payer_id=rules.profile.payer_id,
        units=compute_units(lines, unit_rule, rules.catalogue),
        lines=priced.lines,
        notes=priced.notes,
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
    "Calculation",
    "ClaimLine",
    "EpisodeBill",
    "EpisodeFacts",
    "ThresholdStatus",
    "VisitBill",
    "accruals",
    "bill_episode",
    "bill_with_others",
    "billing_rules",
    "calculate",
    "facts_of",
]
