"""Modifiers from the rule text (docs/rules.md#modifiers): GP/GO/GN, CQ/CO, 59 with the NCCI pairs, KX
thresholds.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from domain.billing.assistants import whole_service
from domain.billing.modifiers import (
    discipline_modifier,
    effective_assistant_minutes,
    ncci_decisions,
    order_modifiers,
)
from domain.billing.threshold import Accrual, standings
from domain.rules.catalogue import ncci_table, therapy_thresholds
from domain.values import ServiceLine


@pytest.mark.parametrize(("discipline", "modifier"), [("PT", "GP"), ("OT", "GO"), ("SLP", "GN")])
def test_each_discipline_has_its_therapy_modifier(discipline: str, modifier: str) -> None:
    # docs/rules.md#modifiers: each therapy line carries the discipline of its plan of care.
    assert discipline_modifier(discipline) == modifier


@pytest.mark.parametrize(
    ("minutes", "assistant", "expected"),
    [
        (30, 30, True),  # wholly by a PTA
        (30, 4, True),  # in part: 4 of 30 is more than 10%
        (30, 3, False),  # exactly 10% is de minimis
        (30, 0, False),
        (40, 5, True),
        (40, 4, False),
    ],
)
def test_on_the_whole_service_cq_needs_more_than_ten_percent_of_the_minutes(
    minutes: int, assistant: int, expected: bool
) -> None:
    # docs/rules.md#modifiers: "in part" means the assistant's own minutes exceed 10% of the service's (de
    # minimis).
    # Before 2022 (and for untimed services) the test is on the whole service: every unit or none.
    shares = whole_service(2, minutes, assistant, "before 2022")
    assert [s.assistant_modifier for s in shares] == [expected, expected]


def test_a_line_on_an_assistants_visit_is_the_assistants_unless_told_otherwise() -> None:
    whole = ServiceLine(code="97110", minutes=30)
    part = ServiceLine(code="97110", minutes=30, assistant_minutes=10)
    assert effective_assistant_minutes(whole, "PTA") == 30
    assert effective_assistant_minutes(whole, "PT") == 0
    assert effective_assistant_minutes(part, "PT") == effective_assistant_minutes(part, "PTA") == 10


def test_modifiers_are_ordered_distinct_service_discipline_assistant_kx() -> None:
    assert order_modifiers(["KX", "CQ", "GP", "59"]) == ("59", "GP", "CQ", "KX")
    assert order_modifiers(["GP", "GP"]) == ("GP",)


# --- 59 and the NCCI pair table (docs/rules.md#modifiers)
# -------------------------------------------------------


def block(code: str, minutes: int, start: str | None = None, end: str | None = None) -> ServiceLine:
    return ServiceLine(
        code=code,
        minutes=minutes,
        start=time.fromisoformat(start) if start else None,
        end=time.fromisoformat(end) if end else None,
    )


def decide(lines: list[ServiceLine], billed: dict[str, int]) -> list[tuple[str, str | None, str | None]]:
    by_code: dict[str, list[ServiceLine]] = {}
    for item in lines:
        by_code.setdefault(item.code, []).append(item)
    decisions = ncci_decisions(by_code, billed, ncci_table().pairs(), "59", date(2026, 3, 2))
    return [(d.column2, d.modifier, d.note.rule_id if d.note else None) for d in decisions]


def test_97140_with_97530_in_separate_15_minute_blocks_gets_59() -> None:
    # docs/rules.md#modifiers: 97140 with 97530 allowed only when performed in separate 15-minute blocks.
    lines = [block("97530", 20, "10:00", "10:20"), block("97140", 15, "10:20", "10:35")]
    assert decide(lines, {"97530": 1, "97140": 1}) == [("97140", "59", None)]


def test_97140_with_97530_without_times_gets_a_note_not_a_modifier() -> None:
    # docs/rules.md#modifiers, docs/rules.md#documentation (10): 59 without distinct blocks is a modifier used
    # to force payment.
    lines = [block("97530", 20), block("97140", 15)]
    assert decide(lines, {"97530": 1, "97140": 1}) == [("97140", None, "modifiers.ncci_pair_not_distinct")]


def test_97140_shorter_than_a_15_minute_block_gets_no_59() -> None:
    lines = [block("97530", 33, "10:00", "10:33"), block("97140", 7, "10:33", "10:40")]
    assert decide(lines, {"97530": 2, "97140": 1}) == [("97140", None, "modifiers.ncci_pair_not_distinct")]


def test_a_pair_whose_column_2_bills_no_unit_needs_nothing() -> None:
    assert decide([block("97530", 30), block("97140", 5)], {"97530": 2, "97140": 0}) == []


def test_codes_that_are_no_pair_get_no_distinct_service_modifier() -> None:
    assert decide([block("97110", 30), block("97140", 15)], {"97110": 2, "97140": 1}) == []


def test_the_pair_table_holds_the_pairs_of_rules_md_and_says_they_are_unverified() -> None:
    # docs/rules.md#modifiers: versioned data; unsure of column order and modifier indicators.
    table = ncci_table()
    pairs = {(a, b) for a, b, _ in table.pairs()}
    expected = {
        ("97530", "97140"),
        ("97530", "97116"),
        ("97530", "97164"),
        ("97161", "97140"),
        ("97162", "97140"),
        ("97163", "97140"),
        ("97110", "97164"),
        ("97112", "97164"),
        ("97113", "97164"),
        ("97116", "97164"),
        ("97140", "97164"),
        ("97150", "97110"),
        ("97150", "97112"),
        ("97150", "97116"),
        ("97150", "97164"),
    }
    assert pairs == expected
    assert table.version and table.effective and not any(edit.verified for edit in table.edits)


# --- KX: the annual threshold (docs/rules.md#modifiers)
# -----------------------------------------------------------


def test_the_thresholds_of_rules_md_are_data_by_year() -> None:
    # docs/rules.md#kx-threshold: 2022 $2,150; 2023 $2,230; 2024 $2,330; 2025 $2,410; 2026 $2,480;
    # review $3,000. 2018-2021 are careledger's reading of the final rules, marked unsure.
    thresholds = therapy_thresholds()
    assert {y: str(a) for y, a in thresholds.years.items() if y >= 2022} == {
        2022: "2150.00",
        2023: "2230.00",
        2024: "2330.00",
        2025: "2410.00",
        2026: "2480.00",
    }
    assert thresholds.review_threshold == Decimal("3000.00")
    assert thresholds.group_of("PT") == thresholds.group_of("SLP") != thresholds.group_of("OT")
    assert set(thresholds.unsure_years) == {2018, 2019, 2020, 2021, 2025, 2026}


def visits(*amounts: tuple[str, str]) -> list[tuple[date, Decimal, bool]]:
    return [(date.fromisoformat(d), Decimal(a), True) for d, a in amounts]


def test_kx_starts_with_the_visit_that_passes_the_threshold_and_stays_for_the_year() -> None:
    # docs/rules.md#modifiers: KX above the threshold of the date of service's year.
    walked, statuses, _ = standings(
        visits(
            ("2026-03-02", "2400.00"), ("2026-03-04", "80.00"), ("2026-03-06", "0.01"), ("2026-03-09", "50")
        ),
        "PT+SLP",
        [],
        therapy_thresholds(),
        kx_enabled=True,
    )
    assert [s.kx for s in walked] == [False, False, True, True]  # 2480.00 is not above 2480.00
    assert [s.crossed for s in walked] == [False, False, True, False]
    assert statuses[0].kx_from == date(2026, 3, 6) and statuses[0].total == Decimal("2530.01")


def test_the_threshold_resets_each_calendar_year() -> None:
    walked, statuses, _ = standings(
        visits(("2025-12-29", "2500"), ("2026-01-05", "100")), "PT+SLP", [], therapy_thresholds(), True
    )
    assert [s.kx for s in walked] == [True, False]
    assert [(s.year, s.threshold) for s in statuses] == [
        (2025, Decimal("2410.00")),
        (2026, Decimal("2480.00")),
    ]


def test_other_episodes_of_the_group_count_up_to_the_visits_date() -> None:
    # docs/rules.md#modifiers: per beneficiary, PT and SLP combined.
    prior = [
        Accrual(
            episode_id="slp",
            date_of_service=date(2026, 2, 1),
            group="PT+SLP",
            amount=Decimal("2450"),
            complete=True,
        ),
        Accrual(
            episode_id="slp",
            date_of_service=date(2026, 5, 1),
            group="PT+SLP",
            amount=Decimal("900"),
            complete=True,
        ),
        Accrual(
            episode_id="ot",
            date_of_service=date(2026, 1, 5),
            group="OT",
            amount=Decimal("5000"),
            complete=True,
        ),
    ]
    walked, statuses, _ = standings(
        visits(("2026-03-02", "20"), ("2026-03-04", "20")), "PT+SLP", prior, therapy_thresholds(), True
    )
    assert [(s.before, s.kx) for s in walked] == [(Decimal("2450"), False), (Decimal("2470"), True)]
    assert statuses[0].other_episodes == Decimal("3350") and statuses[0].over_review_threshold


def test_a_year_without_a_threshold_gives_no_kx_and_a_note() -> None:
    walked, _, notes = standings(visits(("2031-03-02", "9000")), "OT", [], therapy_thresholds(), True)
    assert not walked[0].kx
    assert "threshold.unknown_year" in [n.rule_id for n in notes]


def test_a_payer_without_kx_never_gets_it() -> None:
    walked, statuses, _ = standings(visits(("2026-03-02", "9000")), "PT+SLP", [], therapy_thresholds(), False)
    assert not walked[0].kx and statuses == []
