"""The claim lines of one visit: units, modifiers, pointers and amounts, with the reasons.

`price_visit` is pure: one visit's facts and the rule tables in, a `VisitBill`
out, with every modifier but KX (KX needs the year-to-date amounts, see
`domain.billing.threshold`; `domain.billing.bill` adds it). A code billed on several lines of
one date is one claim line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from domain.billing.ledger import Note, Severity, audit_minutes
from domain.billing.modifiers import (
    ASSISTANT_MODIFIERS,
    assistant_modifier,
    assistant_reason,
    discipline_modifier,
    effective_assistant_minutes,
    ncci_decisions,
    order_modifiers,
)
from domain.billing.units import CodeUnits, compute_units
from domain.records import VisitFields
from domain.values import Frozen, ServiceLine, UnitRule

if TYPE_CHECKING:
    from domain.billing.rules import BillingRules

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_POINTERS = 4


class ClaimLine(Frozen):
    """One code of one date of service as it goes on the claim, with the reasons."""

    date_of_service: date
    code: str
    units: int
    modifiers: tuple[str, ...]
    diagnosis_pointers: tuple[int, ...]
    rule: UnitRule
    minutes: int
    assistant_minutes: int
    billable: bool
    fee: Decimal | None
    allowed_amount: Decimal | None
    recorded_units: int | None
    recorded_modifiers: tuple[str, ...]
    explanation: tuple[str, ...]


class VisitBill(Frozen):
    """The claim lines of one visit and where the visit stands against the threshold."""

    date_of_service: date
    provider_id: str
    credential: str
    rule: UnitRule
    timed_minutes: int
    total_treatment_minutes: int
    timed_units: int
    lines: tuple[ClaimLine, ...]
    allowed_amount: Decimal
    amounts_complete: bool
    threshold_group: str
    year_to_date_before: Decimal = ZERO
    year_to_date_after: Decimal = ZERO
    threshold: Decimal | None = None
    kx: bool = False
    explanation: tuple[str, ...]
    notes: tuple[Note, ...]


@dataclass
class _Visit:
    """What the lines of one visit share while they are priced."""

    discipline: str
    visit: VisitFields
    rules: BillingRules
    rule: UnitRule
    pointers: tuple[int, ...]
    by_code: dict[str, list[ServiceLine]] = field(default_factory=lambda: defaultdict(list))
    pair_modifiers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    pair_reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    notes: list[Note] = field(default_factory=list)

    def note(self, rule_id: str, severity: Severity, message: str, source: str, code: str | None) -> None:
        self.notes.append(
            Note(
                rule_id=rule_id,
                severity=severity,
                message=message,
                source=source,
                date_of_service=self.visit.date_of_service,
                code=code,
            )
        )


def price_visit(
    discipline: str, diagnoses: int, rule: UnitRule, visit: VisitFields, rules: BillingRules
) -> VisitBill:
    """Compute the claim lines of one visit (every modifier but KX) and their allowed amounts."""
    pointers = tuple(range(1, min(MAX_POINTERS, diagnoses) + 1))
    ctx = _Visit(discipline=discipline, visit=visit, rules=rules, rule=rule, pointers=pointers)
    dos, lines = visit.date_of_service, tuple(visit.service_lines)
    units = compute_units(lines, rule, rules.catalogue)
    ledger = audit_minutes(lines, visit.total_treatment_minutes, dos, rules.catalogue)
    ctx.notes.extend(ledger.notes)
    for refusal in ledger.refusals:
        ctx.note("minutes.refused", "error", f"{refusal.field}: {refusal.problem}", "rules.md §4", None)
    for line in lines:
        ctx.by_code[line.code.upper()].append(line)
    if rules.profile.ncci_edits:
        billed = {u.code: u.units for u in units.lines}
        pairs = rules.pairs.pairs()
        for decision in ncci_decisions(ctx.by_code, billed, pairs, rules.profile.distinct_modifier, dos):
            ctx.pair_reasons[decision.column2].append(decision.reason)
            if decision.modifier:
                ctx.pair_modifiers[decision.column2].append(decision.modifier)
            if decision.note:
                ctx.notes.append(decision.note)
    claim = [_claim_line(ctx, coded) for coded in units.lines]
    known = [c.allowed_amount for c in claim if c.allowed_amount is not None]
    return VisitBill(
        date_of_service=dos,
        provider_id=visit.provider_id,
        credential=visit.credential,
        rule=rule,
        timed_minutes=units.total_timed_minutes,
        total_treatment_minutes=visit.total_treatment_minutes,
        timed_units=units.timed_units,
        lines=tuple(claim),
        allowed_amount=sum(known, ZERO),
        amounts_complete=len(known) == len(claim),
        threshold_group=rules.thresholds.group_of(discipline),
        explanation=units.explanation,
        notes=tuple(ctx.notes),
    )


def _claim_line(ctx: _Visit, coded: CodeUnits) -> ClaimLine:
    """Build one claim line: billability, modifiers and allowed amount, with reasons."""
    code, units, lines = coded.code, coded.units, ctx.by_code[coded.code]
    reasons = list(coded.explanation)
    assistant = sum(effective_assistant_minutes(line, ctx.visit.credential) for line in lines)
    billable = units > 0 and _payer_pays(ctx, code, reasons)
    modifiers = _modifiers(ctx, coded, assistant, reasons) if units > 0 else []
    fee = ctx.rules.fees.fee(code, ctx.visit.date_of_service.year) if ctx.rules.fees is not None else None
    allowed: Decimal | None = ZERO
    if billable and fee is None:
        allowed = None
        if ctx.rules.fees is not None:
            severity: Severity = "warning" if ctx.rules.profile.kx_threshold else "info"
            year = ctx.visit.date_of_service.year
            text = f"no fee for {code} in {year} in the fee schedule: its allowed amount is unknown"
            ctx.note("fees.missing", severity, text, "fee schedule", code)
    elif billable and fee is not None:
        amount = fee * units
        if any(m in ASSISTANT_MODIFIERS.values() for m in modifiers):
            amount = amount * ctx.rules.profile.assistant_allowed_percent / 100
        allowed = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    given = [line.units for line in lines if line.units is not None]
    recorded = sum(given) if given else None
    if recorded is not None and recorded != units:
        text = (
            f"{code}: the note bills {recorded} unit{'s' if recorded != 1 else ''}; its minutes support "
            f"{units} under the {ctx.rule.upper()} rule"
        )
        ctx.note(
            "units.recorded_differs", "warning", text, f"rules.md §{2 if ctx.rule == 'cms' else 3}", code
        )
    return ClaimLine(
        date_of_service=ctx.visit.date_of_service,
        code=code,
        units=units,
        modifiers=order_modifiers(modifiers),
        diagnosis_pointers=ctx.pointers,
        rule=ctx.rule,
        minutes=coded.minutes,
        assistant_minutes=assistant,
        billable=billable,
        fee=fee,
        allowed_amount=allowed,
        recorded_units=recorded,
        recorded_modifiers=tuple(dict.fromkeys(m for line in lines for m in line.modifiers)),
        explanation=tuple(reasons),
    )


def _payer_pays(ctx: _Visit, code: str, reasons: list[str]) -> bool:
    """Apply the payer's code policy: Medicare bundles 97010 and wants G0283 for 97014 (rules.md §1)."""
    info = ctx.rules.catalogue.codes[code]
    if not ctx.rules.profile.medicare_code_policy:
        return True
    if info.medicare_bundled:
        text = f"{code} is bundled by Medicare: not separately paid (rules.md §1)"
        reasons.append(text + ".")
        ctx.note("codes.medicare_bundled", "info", text, "rules.md §1", code)
        return False
    if info.medicare_alternative:
        text = (
            f"Medicare does not pay {code}; bill {info.medicare_alternative} for this service (rules.md §1)"
        )
        reasons.append(text + ".")
        ctx.note("codes.medicare_alternative", "warning", text, "rules.md §1", code)
        return False
    return True


def _modifiers(ctx: _Visit, coded: CodeUnits, assistant: int, reasons: list[str]) -> list[str]:
    """Give a line with units its distinct-service, discipline and assistant modifiers."""
    profile, code = ctx.rules.profile, coded.code
    modifiers = list(ctx.pair_modifiers[code])
    reasons.extend(reason + "." for reason in ctx.pair_reasons[code])
    if profile.discipline_modifiers:
        modifier = discipline_modifier(ctx.discipline)
        modifiers.append(modifier)
        reasons.append(f"{modifier}: the plan of care is {ctx.discipline} (rules.md §5).")
    if profile.assistant_modifiers:
        modifier_cq = assistant_modifier(ctx.discipline, coded.minutes, assistant)
        if modifier_cq:
            modifiers.append(modifier_cq)
        reason = assistant_reason(code, ctx.discipline, coded.minutes, assistant)
        if reason:
            reasons.append(reason + ".")
    return modifiers


__all__ = ["ClaimLine", "VisitBill", "price_visit"]
