"""CQ / CO: which units of a service a PTA or OTA furnished (docs/rules.md#cq-co).

Medicare wants CQ (PT) or CO (OT) on a service furnished in whole or in part by
a therapy assistant beyond the 10% de minimis, from 2020-01-01, and pays such a
service at 85% from 2022-01-01 (SSA §1834(v)). From 2022 the de minimis test is
applied to each 15-minute unit of a timed code (CY 2022 physician fee schedule
final rule; CMS "Billing Examples Using CQ/CO Modifiers"). `split_units` encodes
CMS's method, for the units a code already has under the unit rule:

1. each full 15 minutes the therapist furnished alone is a unit without CQ, each
   full 15 minutes the assistant furnished alone a unit with CQ;
2. a single remaining unit carries CQ when the assistant's remaining minutes are
   more than 10% of that unit's minutes, unless the therapist alone furnished 8
   or more of them;
3. when two units remain and each of them furnished 9 to 14 of the remaining
   minutes, one unit carries CQ and one does not.

CMS's examples do not cover two remaining units where one of the two furnished
fewer than 9 minutes (the code won a leftover unit of the day's pool); careledger
gives one of them to the therapist's remaining minutes without CQ and the other
to the assistant's, with CQ when they are more than 10% of the remaining minutes.
So a unit with CQ always has assistant minutes behind it, and a unit without CQ
therapist minutes. Minutes the two furnished together count as the therapist's:
a line's `assistant_minutes` are the assistant's minutes alone.

Before 2022 (and for untimed services, and codes whose unit is not 15 minutes)
the test is on the whole service: every unit carries CQ when the assistant
furnished more than 10% of its minutes (`whole_service`).
"""

from __future__ import annotations

from typing import Literal

from domain.billing.units import UNIT_MINUTES
from domain.values import Frozen

DE_MINIMIS_PERCENT = 10
THERAPIST_EXCEPTION = 8
SPLIT_LOW, SPLIT_HIGH = 9, 14

FurnishedBy = Literal["therapist", "assistant", "therapist and assistant"]


class UnitShare(Frozen):
    """One unit of a code: who furnished its minutes, and whether it carries CQ / CO, and why."""

    unit: int
    furnished_by: FurnishedBy
    therapist_minutes: int
    assistant_minutes: int
    assistant_modifier: bool
    reason: str


def _more_than_de_minimis(assistant: int, total: int) -> bool:
    return total > 0 and assistant * 100 > total * DE_MINIMIS_PERCENT


def _by(therapist: int, assistant: int) -> FurnishedBy:
    if therapist and assistant:
        return "therapist and assistant"
    return "assistant" if assistant else "therapist"


def split_units(units: int, minutes: int, assistant_minutes: int) -> tuple[UnitShare, ...]:
    """Decide CQ / CO unit by unit for a timed code billed `units` for `minutes`, of which the
    assistant furnished `assistant_minutes` alone (CMS's per-unit method, module docstring)."""
    assistant = max(0, min(assistant_minutes, minutes))
    therapist = minutes - assistant
    shares: list[UnitShare] = []

    def add(t: int, a: int, cq: bool, reason: str) -> None:
        shares.append(
            UnitShare(
                unit=len(shares) + 1,
                furnished_by=_by(t, a),
                therapist_minutes=t,
                assistant_minutes=a,
                assistant_modifier=cq,
                reason=reason,
            )
        )

    full_t, rest_t = divmod(therapist, UNIT_MINUTES)
    full_a, rest_a = divmod(assistant, UNIT_MINUTES)
    full_t = min(full_t, units)
    full_a = min(full_a, units - full_t)
    for _ in range(full_t):
        add(UNIT_MINUTES, 0, False, "15 minutes the therapist furnished alone: no CQ")
    for _ in range(full_a):
        add(0, UNIT_MINUTES, True, "15 minutes the assistant furnished alone: CQ")
    remaining = units - full_t - full_a
    pool = rest_t + rest_a
    if remaining == 1:
        if rest_t >= THERAPIST_EXCEPTION:
            add(
                rest_t,
                rest_a,
                False,
                f"the remaining unit: the therapist alone furnished {rest_t} of its {pool} minutes, "
                "8 or more: no CQ",
            )
        elif _more_than_de_minimis(rest_a, pool):
            add(
                rest_t,
                rest_a,
                True,
                f"the remaining unit: the assistant furnished {rest_a} of its {pool} minutes, "
                "more than 10%: CQ",
            )
        else:
            add(
                rest_t,
                rest_a,
                False,
                f"the remaining unit: the assistant furnished {rest_a} of its {pool} minutes, "
                "10% or less: no CQ",
            )
    elif remaining >= 2:
        both_in_range = SPLIT_LOW <= rest_t <= SPLIT_HIGH and SPLIT_LOW <= rest_a <= SPLIT_HIGH
        if both_in_range:
            why = (
                f"two units remain and the therapist ({rest_t}) and the assistant ({rest_a}) each "
                "furnished 9 to 14 of their minutes: one unit without CQ"
            )
            add(rest_t, 0, False, why)
            add(0, rest_a, True, why.replace("without CQ", "with CQ"))
        else:
            add(
                rest_t,
                0,
                False,
                f"two units remain: one for the therapist's {rest_t} remaining minutes, without CQ",
            )
            cq = _more_than_de_minimis(rest_a, pool)
            add(
                0,
                rest_a,
                cq,
                f"two units remain: one for the assistant's {rest_a} of the {pool} remaining minutes, "
                + ("more than 10%: CQ" if cq else "10% or less: no CQ"),
            )
        for _ in range(remaining - 2):
            add(0, 0, False, "a unit beyond the minutes of either: no CQ")
    return tuple(shares)


def whole_service(units: int, minutes: int, assistant_minutes: int, why: str) -> tuple[UnitShare, ...]:
    """Decide CQ / CO on the whole service: every unit carries it when the assistant furnished more
    than 10% of the minutes (before 2022, untimed services, codes whose unit is not 15 minutes)."""
    cq = _more_than_de_minimis(assistant_minutes, minutes)
    verdict = "more than 10%: CQ" if cq else "10% or less: no CQ"
    reason = (
        f"the assistant furnished {assistant_minutes} of the service's {minutes} minutes, {verdict} "
        f"on every unit ({why})"
    )
    return tuple(
        UnitShare(
            unit=n,
            furnished_by=_by(minutes - assistant_minutes, assistant_minutes),
            therapist_minutes=minutes - assistant_minutes,
            assistant_minutes=assistant_minutes,
            assistant_modifier=cq,
            reason=reason,
        )
        for n in range(1, units + 1)
    )


__all__ = ["DE_MINIMIS_PERCENT", "UnitShare", "split_units", "whole_service"]
