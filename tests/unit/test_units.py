"""Units under the CMS 8-minute rule and the AMA per-code rule, from the rule text (docs/rules.md#timed-codes,
docs/rules.md#ama-midpoint-rule).
"""

from __future__ import annotations

import pytest

from domain.billing.units import chart_row, chart_units, compute_units
from domain.errors import InvalidInput
from domain.values import ServiceLine


def units_of(lines: list[tuple[str, int]], rule: str = "cms") -> dict[str, int]:
    result = compute_units(lines, rule)  # type: ignore[arg-type]
    return {line.code: line.units for line in result.lines}


# --- the chart (docs/rules.md#eight-minute-rule, CMS CPM ch.5 §20.2)
# -------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "units"),
    [(0, 7, 0), (8, 22, 1), (23, 37, 2), (38, 52, 3), (53, 67, 4), (68, 82, 5), (83, 97, 6), (98, 112, 7)],
)
def test_the_chart_rows_of_cpm5_give_their_units(low: int, high: int, units: int) -> None:
    # docs/rules.md#eight-minute-rule: 1 unit >= 8 through 22 minutes; 2: 23-37; ... the pattern continues.
    assert chart_units(low) == chart_units(high) == units
    if units:
        assert chart_row(units) == (low, high)


def test_the_chart_continues_past_its_printed_rows() -> None:
    # docs/rules.md#eight-minute-rule: "the pattern continues": 113-127 minutes are 8 units.
    assert chart_units(113) == chart_units(127) == 8
    assert chart_units(128) == 9


# --- CMS: the day's timed minutes, whole units, leftovers (docs/rules.md#eight-minute-rule)
# ------------------------


def test_cpm5_worked_example_33_minutes_97110_and_7_minutes_97140() -> None:
    # docs/rules.md#eight-minute-rule worked example: 40 minutes -> 3 units; 97110 two, 97140 one.
    result = compute_units([("97110", 33), ("97140", 7)], "cms")
    assert units_of([("97110", 33), ("97140", 7)]) == {"97110": 2, "97140": 1}
    assert (result.total_timed_minutes, result.timed_units, result.total_units) == (40, 3, 3)


def test_leftover_unit_goes_to_largest_remainder_not_most_minutes() -> None:
    # docs/rules.md#eight-minute-rule: 97110's 3 remaining minutes lose to 97140's 7.
    result = compute_units([("97110", 33), ("97140", 7)], "cms")
    sentence = next(s for s in result.explanation if s.startswith("97140 gets a leftover unit"))
    assert "7 remaining minutes rank 1st" in sentence and "97110 3" in sentence


def test_cpm5_example_24_minutes_97112_and_23_minutes_97110() -> None:
    # CMS CPM ch.5 §20.2: 47 minutes -> 3 units; 97112 (9 remaining) wins the leftover over 97110 (8).
    assert units_of([("97112", 24), ("97110", 23)]) == {"97110": 1, "97112": 2}


def test_a_code_of_fifteen_minutes_or_more_keeps_its_whole_units() -> None:
    # docs/rules.md#eight-minute-rule: do not pile all minutes onto one code.
    assert units_of([("97110", 40), ("97140", 15)]) == {"97110": 3, "97140": 1}


def test_a_code_with_8_to_14_minutes_can_end_with_no_unit() -> None:
    # docs/rules.md#eight-minute-rule: 36 minutes -> 2 units; both 14-minute codes outrank the 8-minute one.
    result = compute_units([("97110", 14), ("97140", 14), ("97112", 8)], "cms")
    assert {line.code: line.units for line in result.lines} == {"97110": 1, "97140": 1, "97112": 0}
    assert any(s.startswith("97112 gets 0 units") for s in result.explanation)


def test_short_services_pool_into_one_unit_for_the_one_with_most_minutes() -> None:
    # docs/rules.md#eight-minute-rule: services each of 7 minutes or less adding up to 8 or more earn one
    # unit.
    assert units_of([("97110", 5), ("97140", 4)]) == {"97110": 1, "97140": 0}
    assert units_of([("97110", 3), ("97140", 6), ("97530", 2)]) == {"97110": 0, "97140": 1, "97530": 0}


def test_a_single_service_under_8_minutes_is_not_billed() -> None:
    # docs/rules.md#eight-minute-rule.
    result = compute_units([("97110", 7)], "cms")
    assert result.timed_units == 0
    assert any("under 8" in s for s in result.explanation)


def test_ties_are_broken_by_total_minutes_then_code_and_explained() -> None:
    # docs/rules.md#eight-minute-rule: ties may go either way; ours is deterministic and explained.
    assert units_of([("97140", 22), ("97110", 7)]) == {"97110": 0, "97140": 2}
    result = compute_units([("97530", 7), ("97140", 7), ("97110", 7)], "cms")
    assert {line.code: line.units for line in result.lines} == {"97110": 1, "97140": 0, "97530": 0}
    tie = next(s for s in result.explanation if "tie at 7" in s)
    assert "more total minutes, then the lower code" in tie and tie.rstrip(").").count("97110") >= 2


def test_lines_of_the_same_code_are_summed_before_units() -> None:
    # docs/rules.md#eight-minute-rule: T is the sum of the day's timed minutes; one code is one claim line.
    result = compute_units([("97110", 20), ("97140", 9), ("97110", 13)], "cms")
    assert {line.code: (line.minutes, line.lines) for line in result.lines} == {
        "97110": (33, 2),
        "97140": (9, 1),
    }
    assert {line.code: line.units for line in result.lines} == {"97110": 2, "97140": 1}


def test_untimed_codes_bill_one_unit_and_stay_out_of_the_timed_minutes() -> None:
    # docs/rules.md#timed-codes: untimed codes bill one unit per date however long; their minutes are not
    # timed minutes.
    result = compute_units([("97161", 45), ("97010", 15), ("97150", 30), ("97110", 7)], "cms")
    assert result.total_timed_minutes == 7
    assert {line.code: line.units for line in result.lines} == {
        "97010": 1,
        "97110": 0,
        "97150": 1,
        "97161": 1,
    }
    assert result.timed_units == 0 and result.total_units == 3


def test_an_untimed_code_on_two_lines_is_still_one_unit() -> None:
    # docs/rules.md#timed-codes: one unit per date.
    assert units_of([("97150", 20), ("97150", 25)]) == {"97150": 1}


def test_service_lines_and_pairs_give_the_same_result() -> None:
    lines = [ServiceLine(code="97110", minutes=33), ServiceLine(code="97140", minutes=7, assistant_minutes=7)]
    assert compute_units(lines, "cms") == compute_units([("97110", 33), ("97140", 7)], "cms")


# --- AMA per code (docs/rules.md#ama-midpoint-rule) and the two rules side by side
# -----------------------------------


def test_ama_counts_each_code_on_its_own() -> None:
    # docs/rules.md#ama-midpoint-rule: units(m) per code, no pooling.
    assert units_of([("97110", 24), ("97112", 23)], "ama") == {"97110": 2, "97112": 2}
    assert units_of([("97110", 7), ("97140", 8)], "ama") == {"97110": 0, "97140": 1}


@pytest.mark.parametrize(
    ("lines", "cms", "ama"),
    [
        ([("97110", 24), ("97112", 23)], 3, 4),  # docs/rules.md#ama-midpoint-rule: AMA bills more
        (
            [("97110", 7), ("97140", 7), ("97530", 7)],
            1,
            0,
        ),  # docs/rules.md#ama-midpoint-rule: AMA bills fewer
        ([("97110", 33), ("97140", 7)], 3, 2),  # the CPM5 example under both rules
        ([("97110", 22), ("97140", 22)], 3, 2),  # each code just short of its midpoint under AMA
        ([("97110", 15), ("97140", 15)], 2, 2),  # whole units agree
    ],
)
def test_the_two_rules_side_by_side(lines: list[tuple[str, int]], cms: int, ama: int) -> None:
    assert compute_units(lines, "cms").timed_units == cms
    assert compute_units(lines, "ama").timed_units == ama


def test_ama_explains_the_midpoint_per_code() -> None:
    result = compute_units([("97110", 24), ("97140", 7)], "ama")
    assert any(
        "97110: 24 minutes = 1 whole unit + 9 remaining, which passes" in s for s in result.explanation
    )
    assert any("97140: 7 minutes" in s and "does not pass" in s for s in result.explanation)


# --- the explanation and the JSON shape -----------------------------------------------------------


def test_the_explanation_names_the_total_chart_row_and_each_code() -> None:
    result = compute_units([("97110", 33), ("97140", 7)], "cms")
    text = "\n".join(result.explanation)
    assert "Timed minutes of the date: 40" in text
    assert "chart row 38-52 minutes: 3 units" in text
    assert "97110: 33 minutes = 2 whole units (30 minutes) + 3 remaining" in text
    assert "97140: 7 minutes = 0 whole units + 7 remaining" in text
    assert text.splitlines()[-1] == "Units: 97110 × 2 and 97140 × 1 (3 timed, 0 untimed)."


def test_the_json_shape_has_the_documented_keys() -> None:
    shape = compute_units([("97110", 33), ("97161", 40)], "cms").as_json()
    assert set(shape) == {"rule", "total_timed_minutes", "timed_units", "total_units", "lines", "explanation"}
    timed, untimed = shape["lines"]  # type: ignore[misc]
    assert timed == {
        "code": "97110",
        "kind": "timed",
        "minutes": 33,
        "timed": True,
        "units": 2,
        "whole_units": 2,
        "remainder": 3,
    }
    assert untimed["whole_units"] is None and untimed["units"] == 1


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([("97999", 10)], "lines.0.code"),
        ([("97110", 10), ("99213", 5)], "lines.1.code"),
        ([("97110", -1)], "lines.0.minutes"),
        ([("97110", True)], "lines.0.minutes"),
    ],
)
def test_bad_lines_are_refused_naming_the_line(lines: list[tuple[str, int]], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_units(lines, "cms")
    assert caught.value.field == field


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(InvalidInput, match="rule"):
        compute_units([("97110", 10)], "medicaid")  # type: ignore[arg-type]
