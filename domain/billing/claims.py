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

from domain.billing.assistants import UnitShare, split_units, whole_service
from domain.billing.ledger import Note, Severity, audit_minutes
from domain.billing.modifiers import (
    ASSISTANT_MODIFIERS,
    discipline_modifier,
    effective_assistant_minutes,
    ncci_decisions,
    order_modifiers,
)
from domain.billing.units import CodeUnits, compute_units
from domain.records import VisitFields
from domain.rules.sources import (
    BPM15_ASSISTANT,
    CPM5_BUNDLED,
    CPM5_MODIFIERS,
    CPM5_TIMED,
    NCCI_ADD_ON,
    NCCI_MUE,
    cite,
)
from domain.values import Frozen, ServiceLine, UnitRule

if TYPE_CHECKING:
    from domain.billing.rules import BillingRules, DayRules

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
    # who furnished each unit of this line and why it does or does not carry CQ / CO
    units_furnished: tuple[UnitShare, ...] = ()
    # one of the two lines of a code whose units are split by CQ / CO
    split: bool = False
    # what the claim bills (the charge master's charge of one unit, and x units): never reduced
    unit_charge: Decimal | None = None
    charge: Decimal | None = None


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
    # KX on this visit's lines: None when it cannot be decided (no threshold for the year)
    kx: bool | None = False
    explanation: tuple[str, ...]
    notes: tuple[Note, ...]


@dataclass
class _Visit:
    """What the lines of one visit share while they are priced."""

    discipline: str
    visit: VisitFields
    rules: DayRules
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
    discipline: str, diagnoses: int, rule: UnitRule, visit: VisitFields, all_rules: BillingRules
) -> VisitBill:
    """Compute the claim lines of one visit (every modifier but KX) and their allowed amounts."""
    pointers = tuple(range(1, min(MAX_POINTERS, diagnoses) + 1))
    dos, lines = visit.date_of_service, tuple(visit.service_lines)
    day = all_rules.on(dos)
    ctx = _Visit(discipline=discipline, visit=visit, rules=day, rule=rule, pointers=pointers)
    rules = day
    units = compute_units(lines, rule, rules.catalogue)
    ledger = audit_minutes(lines, visit.total_treatment_minutes, dos, rules.catalogue)
    ctx.notes.extend(ledger.notes)
    for refusal in ledger.refusals:
        ctx.note(
            "minutes.refused", "error", f"{refusal.field}: {refusal.problem}", cite("time-integrity"), None
        )
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
    claim = [line for coded in units.lines for line in _claim_lines(ctx, coded)]
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
        threshold_group=all_rules.thresholds.group_of(discipline),
        explanation=units.explanation,
        notes=tuple(ctx.notes),
    )


def _claim_lines(ctx: _Visit, coded: CodeUnits) -> list[ClaimLine]:
    """Build a code's claim lines: one, or two when only some of its units carry CQ / CO."""
    code, units, lines = coded.code, coded.units, ctx.by_code[coded.code]
    reasons = list(coded.explanation)
    info = ctx.rules.catalogue.codes[code]
    assistant = sum(effective_assistant_minutes(line, ctx.visit.credential) for line in lines)
    billable = units > 0 and _payer_pays(ctx, code, reasons)
    modifiers = _modifiers(ctx, coded, reasons) if units > 0 else []
    shares = _shares(ctx, coded, assistant) if units > 0 else ()
    if shares:
        reasons.extend(f"Unit {s.unit} ({s.furnished_by}): {s.reason}." for s in shares)
    fee = ctx.rules.fee(code)
    if billable and fee is None and ctx.rules.fees is not None:
        severity: Severity = "warning" if ctx.rules.profile.kx_threshold else "info"
        year = ctx.visit.date_of_service.year
        text = f"no fee for {code} in {year} in the fee schedule: its allowed amount is unknown"
        ctx.note("fees.missing", severity, text, "fee schedule", code)
    given = [line.units for line in lines if line.units is not None]
    recorded = sum(given) if given else None
    if recorded is not None and recorded != units:
        text = (
            f"{code}: the note bills {recorded} unit{'s' if recorded != 1 else ''}; its minutes support "
            f"{units} under the {ctx.rule.upper()} rule"
        )
        anchor = "eight-minute-rule" if ctx.rule == "cms" else "ama-midpoint-rule"
        ctx.note("units.recorded_differs", "warning", text, cite(anchor, CPM5_TIMED), code)
    _day_limits(ctx, code, units, info.add_on_to)
    if assistant and info.is_evaluation:
        text = (
            f"{code} is an evaluation: an assistant cannot furnish it, yet {assistant} of its minutes are "
            "an assistant's"
        )
        ctx.note("assistant.evaluation", "error", text, cite("cq-co", BPM15_ASSISTANT), code)
    cq = ASSISTANT_MODIFIERS.get(ctx.discipline, "")
    groups: list[tuple[bool, tuple[UnitShare, ...], int]]
    if shares and 0 < sum(s.assistant_modifier for s in shares) < len(shares):
        marked = tuple(s for s in shares if s.assistant_modifier)
        plain = tuple(s for s in shares if not s.assistant_modifier)
        groups = [(False, plain, len(plain)), (True, marked, len(marked))]
        reasons.append(
            f"{code} is billed on two lines: {len(plain)} unit{'s' if len(plain) != 1 else ''} without "
            f"{cq} and {len(marked)} with {cq} (CQ / CO per unit since 2022)."
        )
    else:
        groups = [(bool(shares) and shares[0].assistant_modifier, shares, units)]
    result: list[ClaimLine] = []
    for with_cq, part, count in groups:
        line_modifiers = [*modifiers, cq] if with_cq else modifiers
        allowed: Decimal | None = ZERO
        if billable and fee is None:
            allowed = None
        elif billable and fee is not None:
            amount = fee * count
            if with_cq:
                amount = amount * ctx.rules.profile.assistant_allowed_percent / 100
            allowed = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        unit_charge = ctx.rules.charge(code) if billable else None
        result.append(
            ClaimLine(
                date_of_service=ctx.visit.date_of_service,
                code=code,
                units=count,
                modifiers=order_modifiers(line_modifiers),
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
                units_furnished=part,
                split=len(groups) > 1,
                unit_charge=unit_charge,
                charge=unit_charge * count if unit_charge is not None else None,
            )
        )
    return result


def _shares(ctx: _Visit, coded: CodeUnits, assistant: int) -> tuple[UnitShare, ...]:
    """Say, unit by unit, who furnished the code and whether the unit carries CQ / CO."""
    profile = ctx.rules.profile
    if not profile.assistant_modifiers or ctx.discipline not in ASSISTANT_MODIFIERS or not assistant:
        return ()
    info = ctx.rules.catalogue.codes[coded.code]
    if profile.assistant_test == "unit" and info.pooled:
        return split_units(coded.units, coded.minutes, assistant)
    why = "the test is on the whole service before 2022" if info.pooled else "an untimed or long-unit code"
    return whole_service(coded.units, coded.minutes, assistant, why)


def _day_limits(ctx: _Visit, code: str, units: int, primaries: tuple[str, ...]) -> None:
    """Remark units above the code's MUE and an add-on code billed without its primary code."""
    limit = ctx.rules.mue.limit(code)
    if limit is not None and units > limit:
        unverified = "" if ctx.rules.mue.verified else " (MUE table unverified)"
        text = (
            f"{code}: {units} units on one date, above its medically unlikely edit of {limit}: the units "
            f"above it are denied{unverified}"
        )
        ctx.note("units.above_mue", "warning", text, cite("mue", NCCI_MUE), code)
    if primaries and units > 0 and not any(ctx.by_code.get(p) for p in primaries):
        text = (
            f"{code} is an add-on code: it is billed only with {' or '.join(primaries)} on the same date, "
            "and none is on this visit"
        )
        ctx.note("codes.add_on_without_primary", "error", text, cite("add-on-codes", NCCI_ADD_ON), code)


def _payer_pays(ctx: _Visit, code: str, reasons: list[str]) -> bool:
    """Apply the payer's code policy: Medicare bundles 97010 and wants G0283 for 97014
    (docs/rules.md#timed-codes).
    """
    info = ctx.rules.catalogue.codes[code]
    if not ctx.rules.profile.medicare_code_policy:
        return True
    if info.medicare_bundled:
        text = f"{code} is bundled by Medicare: not separately paid"
        reasons.append(text + ".")
        ctx.note("codes.medicare_bundled", "info", text, cite("timed-codes", CPM5_BUNDLED), code)
        return False
    if info.medicare_alternative:
        text = f"Medicare does not pay {code}; bill {info.medicare_alternative} for this service"
        reasons.append(text + ".")
        ctx.note("codes.medicare_alternative", "warning", text, cite("timed-codes", CPM5_BUNDLED), code)
        return False
    return True


def _modifiers(ctx: _Visit, coded: CodeUnits, reasons: list[str]) -> list[str]:
    """Give a line with units its distinct-service and discipline modifiers (CQ / CO go by unit)."""
    profile, code = ctx.rules.profile, coded.code
    modifiers = list(ctx.pair_modifiers[code])
    reasons.extend(reason + "." for reason in ctx.pair_reasons[code])
    if profile.discipline_modifiers:
        modifier = discipline_modifier(ctx.discipline)
        modifiers.append(modifier)
        reasons.append(
            f"{modifier}: the plan of care is {ctx.discipline} "
            f"({cite('discipline-modifiers', CPM5_MODIFIERS)})."
        )
    return modifiers


__all__ = ["ClaimLine", "VisitBill", "price_visit"]
