"""CQ / CO unit by unit (docs/rules.md#cq-co): CMS's billing examples and the method's arithmetic.

The examples are CMS's "Billing Examples Using CQ/CO Modifiers for Services
Furnished In Whole or In Part by PTAs and OTAs" (CY 2022 PFS final rule); the
properties hold for every split of a code's minutes between therapist and
assistant.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.assistants import split_units
from domain.billing.bill import calculate
from domain.billing.units import chart_units
from domain.errors import InvalidInput

IN_2026 = date(2026, 3, 2)


def billed(*lines: str, on: date = IN_2026) -> list[tuple[str, int, tuple[str, ...]]]:
    return [(x.code, x.units, x.modifiers) for x in calculate(lines, on).lines]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # 38 minutes, 3 by the PTA: the therapist's 35 make two full units; the third unit's 8
        # minutes are 5 by the therapist (under 8) and 3 by the PTA (over 10%): CQ.
        ("97110=38/3", [("97110", 2, ("GP",)), ("97110", 1, ("GP", "CQ"))]),
        # 68 minutes, 6 by the PTA: four therapist units, the fifth carries CQ.
        ("97110=68/6", [("97110", 4, ("GP",)), ("97110", 1, ("GP", "CQ"))]),
        # PT 30 and PTA 15: two therapist units, one assistant unit.
        ("97110=45/15", [("97110", 2, ("GP",)), ("97110", 1, ("GP", "CQ"))]),
        # PT 12 and PTA 12: two units remain, each furnished 9-14 minutes: one with CQ, one without.
        ("97110=24/12", [("97110", 1, ("GP",)), ("97110", 1, ("GP", "CQ"))]),
        # 15 minutes, 2 by the PTA: the therapist alone furnished 13 (8 or more): no CQ.
        ("97112=15/2", [("97112", 1, ("GP",))]),
        # wholly by the PTA
        ("97110=30/30", [("97110", 2, ("GP", "CQ"))]),
    ],
)
def test_cms_billing_examples_of_one_code(
    line: str, expected: list[tuple[str, int, tuple[str, ...]]]
) -> None:
    assert billed(line) == expected


def test_cms_example_of_two_codes_an_assistant_shared() -> None:
    # PTA 23 and PT 13 minutes of 97110, PT 30 minutes of 97140: 66 minutes, 4 units. 97110's full
    # 15 assistant minutes are a CQ unit; its remaining unit has 13 therapist minutes: no CQ.
    assert billed("97110=36/23", "97140=30") == [
        ("97110", 1, ("GP",)),
        ("97110", 1, ("GP", "CQ")),
        ("97140", 2, ("GP",)),
    ]


def test_the_line_with_cq_is_paid_at_85_percent_from_2022_and_in_full_before() -> None:
    # SSA §1834(v): the payment differential starts on 2022-01-01; CQ is required from 2020-01-01.
    now = calculate(["97110=45/15"], IN_2026).lines
    assert [x.allowed_amount for x in now] == [
        (now[0].fee or Decimal(0)) * 2,
        ((now[1].fee or Decimal(0)) * Decimal("0.85")).quantize(Decimal("0.01")),
    ]
    in_2021 = calculate(["97110=45/15"], date(2021, 6, 1)).lines
    # 2020-2021: the test is on the whole service (15 of 45 minutes: over 10%), every unit, paid in full
    assert [(x.units, x.modifiers) for x in in_2021] == [(3, ("GP", "CQ"))]
    in_2019 = calculate(["97110=45/15"], date(2019, 6, 1)).lines
    assert [(x.units, x.modifiers) for x in in_2019] == [(3, ("GP",))]


def test_each_unit_says_who_furnished_it_and_why() -> None:
    result = calculate(["97110=24/12"], IN_2026).as_json()
    units = [u for line in result["claim_lines"] for u in line["units_furnished"]]  # type: ignore[attr-defined]
    assert [(u["furnished_by"], u["assistant_modifier"]) for u in units] == [
        ("therapist", False),
        ("assistant", True),
    ]
    assert all("9 to 14" in u["reason"] for u in units)


def test_assistant_minutes_above_the_lines_minutes_are_refused_naming_the_text() -> None:
    with pytest.raises(InvalidInput, match="97110=10/12"):
        calculate(["97110=10/12"], IN_2026)


@given(minutes=st.integers(1, 120), data=st.data(), extra=st.integers(0, 1))
def test_units_with_and_without_cq_add_up_and_cq_never_exceeds_the_assistants_minutes(
    minutes: int, data: st.DataObject, extra: int
) -> None:
    helper = data.draw(st.integers(0, minutes))
    # a code's units: its whole 15-minute units, and one more when it wins a leftover unit of the day
    units = minutes // 15 + (extra if minutes % 15 else 0)
    shares = split_units(units, minutes, helper)
    assert len(shares) == units
    marked = [s for s in shares if s.assistant_modifier]
    # a unit with CQ always has assistant minutes behind it, a unit without CQ therapist minutes
    assert len(marked) <= -(-helper // 15)
    assert all(s.assistant_minutes > 0 for s in marked)
    assert sum(s.therapist_minutes + s.assistant_minutes for s in shares) <= minutes
    if helper == 0:
        assert not marked
    if helper == minutes:
        assert len(marked) == units
    # the units the 8-minute rule gives the code alone are never fewer than its whole units
    assert chart_units(minutes) >= minutes // 15


@given(minutes=st.integers(8, 120), data=st.data())
def test_the_amount_lies_between_the_all_assistant_and_all_therapist_prices(
    minutes: int, data: st.DataObject
) -> None:
    helper = data.draw(st.integers(0, minutes))
    lines = calculate([f"97110={minutes}/{helper}"], IN_2026).lines
    fee = lines[0].fee or Decimal(0)
    units = sum(x.units for x in lines)
    amount = sum((x.allowed_amount or Decimal(0)) for x in lines)
    assert (fee * units * Decimal("0.85")).quantize(Decimal("0.01")) - Decimal("0.01") <= amount
    assert amount <= fee * units
