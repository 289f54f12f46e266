"""Modifiers of therapy claim lines, each a pure rule with its reason (docs/rules.md#discipline-modifiers).

- GP / GO / GN: the discipline of the plan of care, on every therapy line.
- CQ / CO: a PTA / OTA furnished more than 10% of a unit's (or the service's) minutes,
  decided unit by unit in `domain.billing.assistants`.
- 59 (or XE/XS/XP/XU): only for an NCCI pair in the versioned pair table, only
  where its modifier indicator allows one, and only when the lines' start/end
  times show distinct, non-overlapping blocks; otherwise a note, not a modifier.
- KX: once the beneficiary's year-to-date allowed amount for the discipline group
  passes the threshold of the date of service's year (see `domain.billing.bill`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from domain.billing.ledger import Note, block_seconds, block_text, blocks_overlap, has_block
from domain.rules.catalogue import NcciPair
from domain.rules.sources import CPM5_THRESHOLD, NCCI_PTP, SSA_THRESHOLD, cite
from domain.values import ASSISTANTS, Frozen, ServiceLine

DISCIPLINE_MODIFIERS: dict[str, str] = {"PT": "GP", "OT": "GO", "SLP": "GN"}
ASSISTANT_MODIFIERS: dict[str, str] = {"PT": "CQ", "OT": "CO"}
MODIFIER_ORDER = ("59", "XE", "XS", "XP", "XU", "GP", "GO", "GN", "CQ", "CO", "KX")
PAIR_SOURCE = cite("ncci-pairs", NCCI_PTP)


def discipline_modifier(discipline: str) -> str:
    """Return GP, GO or GN for the plan of care's discipline (docs/rules.md#modifiers)."""
    return DISCIPLINE_MODIFIERS[discipline]


def effective_assistant_minutes(line: ServiceLine, credential: str) -> int:
    """Return the minutes of a line furnished by an assistant.

    A line's own `assistant_minutes` count when given; on a visit furnished by a
    PTA/OTA (the visit's credential) a line without them was furnished wholly by
    the assistant.
    """
    if line.assistant_minutes:
        return line.assistant_minutes
    return line.minutes if credential in ASSISTANTS else 0


def order_modifiers(modifiers: Sequence[str]) -> tuple[str, ...]:
    """Put modifiers in claim order: distinct-service, discipline, assistant, KX."""
    unique = dict.fromkeys(modifiers)
    rank = {m: i for i, m in enumerate(MODIFIER_ORDER)}
    return tuple(sorted(unique, key=lambda m: (rank.get(m, len(rank)), m)))


class PairDecision(Frozen):
    """What the NCCI pair table says about two codes billed on one date."""

    column1: str
    column2: str
    modifier: str | None
    reason: str
    note: Note | None


def _block_minutes(lines: Sequence[ServiceLine]) -> int:
    return sum(block_seconds(x.start, x.end) for x in lines if x.start and x.end) // 60


def _blocks(lines: Sequence[ServiceLine]) -> str:
    return ", ".join(block_text(line) for line in lines)


def ncci_decisions(
    lines_by_code: Mapping[str, Sequence[ServiceLine]],
    billed: Mapping[str, int],
    pairs: Sequence[NcciPair],
    distinct_modifier: str,
    date_of_service: date | None = None,
) -> list[PairDecision]:
    """Decide the distinct-service modifier for each NCCI pair billed on one date (docs/rules.md#modifiers).

    A pair counts only when both codes bill at least one unit. The modifier goes
    on the column-2 code, and only when the edit allows one and every line of both
    codes has start/end times, no block of one overlaps a block of the other, and
    each code's blocks add up to the edit's minimum (15 minutes for 97140 with 97530).
    """
    decisions: list[PairDecision] = []
    for first, second, edit in pairs:
        if billed.get(first, 0) < 1 or billed.get(second, 0) < 1:
            continue
        one, two = lines_by_code[first], lines_by_code[second]
        unverified = "" if edit.verified else " (pair table unverified: column order and modifier indicator)"
        if edit.modifier_indicator == 0:
            decisions.append(
                _bundled(first, second, "the edit allows no modifier", unverified, date_of_service)
            )
            continue
        if not all(has_block(line) for line in (*one, *two)):
            decisions.append(
                _bundled(
                    first,
                    second,
                    "the record has no start/end times showing them in distinct blocks",
                    unverified,
                    date_of_service,
                )
            )
            continue
        if any(blocks_overlap(a, b) for a in one for b in two):
            decisions.append(
                _bundled(first, second, "their time blocks overlap", unverified, date_of_service)
            )
            continue
        short = [
            code
            for code, code_lines in ((first, one), (second, two))
            if _block_minutes(code_lines) < edit.min_block_minutes
        ]
        if short:
            decisions.append(
                _bundled(
                    first,
                    second,
                    f"{' and '.join(short)} did not fill a separate {edit.min_block_minutes}-minute block",
                    unverified,
                    date_of_service,
                )
            )
            continue
        decisions.append(
            PairDecision(
                column1=first,
                column2=second,
                modifier=distinct_modifier,
                reason=f"{distinct_modifier}: {second} with {first} is an NCCI pair; the record shows "
                f"distinct blocks ({second} {_blocks(two)}; {first} {_blocks(one)}){unverified} "
                f"({PAIR_SOURCE})",
                note=None,
            )
        )
    return decisions


def _bundled(first: str, second: str, why: str, unverified: str, on: date | None) -> PairDecision:
    message = (
        f"{second} with {first} is an NCCI pair and {why}: no distinct-service modifier; "
        f"the payer will bundle {second} into {first}{unverified}"
    )
    return PairDecision(
        column1=first,
        column2=second,
        modifier=None,
        reason=message,
        note=Note(
            rule_id="modifiers.ncci_pair_not_distinct",
            severity="warning",
            message=message,
            source=PAIR_SOURCE,
            date_of_service=on,
            code=second,
        ),
    )


def kx_reason(group: str, year: int, after: Decimal, threshold: Decimal) -> str:
    """Explain why a visit's lines carry KX."""
    return (
        f"KX: the {year} {group} allowed amount is ${after:,.2f} with this visit, above the "
        f"${threshold:,.2f} threshold; KX attests the services are medically necessary and the record "
        f"must show it ({cite('kx-threshold', SSA_THRESHOLD, CPM5_THRESHOLD)})"
    )


__all__ = [
    "ASSISTANT_MODIFIERS",
    "DISCIPLINE_MODIFIERS",
    "PairDecision",
    "discipline_modifier",
    "effective_assistant_minutes",
    "kx_reason",
    "ncci_decisions",
    "order_modifiers",
]
