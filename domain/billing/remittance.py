"""What a payer did to a claim line (its 835 remittance), in careledger's words: paid, reduced or denied.

A line is **denied or reduced** when an adjustment other than the patient's share (group PR) and
the contract's (CARC 45, the fee schedule; 253, sequestration) takes money off it; that
adjustment's amount is what was denied (docs/billing.md#835).
"""

from __future__ import annotations

from decimal import Decimal

from domain.records import RemitAdjustment, RemitLine, Remittance

# Adjustments that are the contract, not a denial: the fee schedule's reduction and sequestration.
CONTRACTUAL = frozenset({"45", "253"})


def is_denial(adjustment: RemitAdjustment) -> bool:
    """Tell whether an adjustment denies or reduces payment (not the patient's share or the contract)."""
    return adjustment.group != "PR" and adjustment.reason not in CONTRACTUAL


def denied_amount(line: RemitLine) -> Decimal:
    """Return the dollars an adjustment denied on a line."""
    return sum((a.amount for a in line.adjustments if is_denial(a)), Decimal(0))


def line_status(line: RemitLine) -> str:
    """Word what the payer did to a line: paid, reduced or denied."""
    if denied_amount(line) <= 0:
        return "paid"
    return "denied" if line.paid <= 0 else "reduced"


def line_words(line: RemitLine) -> str:
    """One line's outcome: `97110 GP paid $53.60` or `97530 GO denied $154.00 (CO-50)`."""
    label = " ".join([line.code, *line.modifiers])
    status = line_status(line)
    reasons = ", ".join(f"{a.group}-{a.reason}" for a in line.adjustments if is_denial(a))
    remarks = ", ".join(line.remarks)
    why = f" ({reasons}{'; ' + remarks if remarks else ''})" if reasons else ""
    if status == "paid":
        return f"{label} paid ${line.paid:,.2f}"
    return f"{label} {status} ${denied_amount(line):,.2f}, paid ${line.paid:,.2f}{why}"


def remittance_words(remittance: Remittance) -> str:
    """One remittance in a sentence: payer, claim, what was paid, and each line's outcome."""
    lines = "; ".join(line_words(line) for line in remittance.lines)
    return (
        f"remittance from {remittance.payer_name} for claim {remittance.claim_id} "
        f"(payer's {remittance.payer_claim_control_number}): charged ${remittance.charge:,.2f}, "
        f"paid ${remittance.paid:,.2f}: {lines}"
    )


def remittances_on(remittances: list[Remittance], day: object) -> list[Remittance]:
    """Return the remittances of a date of service, oldest first."""
    return [r for r in remittances if r.date_of_service == day]
