"""Properties of the unit rules and the minute ledger, each a named hypothesis test
(docs/rules.md#timed-codes, docs/rules.md#time-integrity).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.billing.ledger import audit_minutes, block_seconds
from domain.billing.units import chart_units, compute_units
from domain.values import ServiceLine
from tests.property.strategies import timed_blocks, timed_lines, unit_rules, untimed_lines

Lines = list[tuple[str, int]]


def per_code(lines: Lines) -> dict[str, int]:
    summed: dict[str, int] = {}
    for code, minutes in lines:
        summed[code] = summed.get(code, 0) + minutes
    return summed


def units(lines: Lines, rule: str = "cms") -> dict[str, int]:
    return {line.code: line.units for line in compute_units(lines, rule).lines}  # type: ignore[arg-type]


@given(timed_lines)
def test_cms_total_equals_the_chart_value_of_the_days_timed_minutes(lines: Lines) -> None:
    # docs/rules.md#eight-minute-rule, rules 1-2: units(T) over the day's timed minutes T.
    result = compute_units(lines, "cms")
    total = sum(m for _, m in lines)
    assert result.total_timed_minutes == total
    assert result.timed_units == chart_units(total)


@given(timed_lines)
def test_allocated_units_sum_to_the_days_total(lines: Lines) -> None:
    # docs/rules.md#eight-minute-rule: the leftover units are all given out, no more.
    assert sum(units(lines).values()) == chart_units(sum(m for _, m in lines))


@given(timed_lines)
def test_each_code_gets_its_whole_units_and_at_most_one_more(lines: Lines) -> None:
    # docs/rules.md#eight-minute-rule: >= 15 minutes at least one unit, >= 30 at least two...
    got = units(lines)
    for code, minutes in per_code(lines).items():
        assert minutes // 15 <= got[code] <= minutes // 15 + 1


@given(timed_lines)
def test_a_code_under_8_minutes_gets_a_unit_only_through_pooling_or_a_larger_remainder(lines: Lines) -> None:
    # docs/rules.md#eight-minute-rule, rules 4-5, 7: a short service earns a unit only with others' minutes
    # and by remainder.
    got, minutes = units(lines), per_code(lines)
    total = sum(minutes.values())
    for code, m in minutes.items():
        if m < 8 and got[code] == 1:
            assert total >= 8
            losers = [c for c in minutes if got[c] == minutes[c] // 15]
            assert all(minutes[c] % 15 <= m for c in losers)
    if len(minutes) == 1:
        ((code, m),) = minutes.items()
        assert (got[code] == 0) == (m < 8)


@given(timed_lines)
def test_leftover_units_go_to_the_largest_remainders(lines: Lines) -> None:
    # docs/rules.md#eight-minute-rule: no code without an extra unit has a larger remainder than one with it.
    got, minutes = units(lines), per_code(lines)
    winners = [c for c in minutes if got[c] > minutes[c] // 15]
    losers = [c for c in minutes if got[c] == minutes[c] // 15]
    for w in winners:
        assert all(minutes[loser] % 15 <= minutes[w] % 15 for loser in losers)


@given(st.data(), timed_lines, unit_rules)
def test_the_result_does_not_depend_on_the_order_of_the_lines(data: Any, lines: Lines, rule: str) -> None:
    shuffled = data.draw(st.permutations(lines))
    assert compute_units(shuffled, rule) == compute_units(lines, rule)  # type: ignore[arg-type]


@given(timed_lines, st.integers(0, 60), st.booleans())
def test_adding_minutes_to_a_day_never_lowers_its_total_units(
    lines: Lines, more: int, new_line: bool
) -> None:
    # docs/rules.md#eight-minute-rule: the day's units grow with its timed minutes (the chart is monotone).
    before = compute_units(lines, "cms").timed_units
    grown = [*lines, ("97530", more)] if new_line else [(lines[0][0], lines[0][1] + more), *lines[1:]]
    assert compute_units(grown, "cms").timed_units >= before
    assert compute_units(grown, "ama").timed_units >= compute_units(lines, "ama").timed_units


@given(timed_lines, timed_lines)
def test_ama_units_are_per_code_and_independent_of_other_lines(lines: Lines, others: Lines) -> None:
    # docs/rules.md#ama-midpoint-rule: units(m) per code, no pooling.
    alone = units(lines, "ama")
    together = units([*lines, *((c, m) for c, m in others if c not in alone)], "ama")
    for code, m in per_code(lines).items():
        assert alone[code] == together[code] == chart_units(m)


@given(timed_lines, untimed_lines, unit_rules)
def test_untimed_codes_never_change_timed_units(lines: Lines, untimed: Lines, rule: str) -> None:
    # docs/rules.md#timed-codes: untimed minutes never count toward the timed minutes; one unit per date each.
    plain = compute_units(lines, rule)  # type: ignore[arg-type]
    mixed = compute_units([*lines, *untimed], rule)  # type: ignore[arg-type]
    assert (mixed.timed_units, mixed.total_timed_minutes) == (plain.timed_units, plain.total_timed_minutes)
    assert {c: u for c, u in units([*lines, *untimed], rule).items() if c in per_code(lines)} == units(
        lines, rule
    )
    assert all(line.units == 1 for line in mixed.lines if not line.timed)


@given(timed_lines, unit_rules)
def test_allocation_is_deterministic(lines: Lines, rule: str) -> None:
    # docs/rules.md#eight-minute-rule: ties may go either way, but ours always the same way, explained the
    # same.
    first, second = compute_units(lines, rule), compute_units(list(lines), rule)  # type: ignore[arg-type]
    assert first == second
    assert first.explanation == second.explanation


@given(timed_lines)
def test_units_never_exceed_what_the_timed_minutes_allow(lines: Lines) -> None:
    # docs/rules.md#eight-minute-rule: total units for a day are bounded by the total timed minutes of that
    # day.
    result = compute_units(lines, "cms")
    assert result.timed_units * 15 <= result.total_timed_minutes + 7


@given(timed_lines, untimed_lines, st.integers(0, 300))
def test_the_minute_ledger_never_accepts_a_day_whose_billed_minutes_exceed_the_treatment_minutes(
    lines: Lines, untimed: Lines, total: int
) -> None:
    # docs/rules.md#time-integrity: timed minutes <= total treatment minutes.
    service = [ServiceLine(code=c, minutes=m) for c, m in [*lines, *untimed]]
    ledger = audit_minutes(service, total)
    billed = sum(m for _, m in lines)
    if billed > total:
        assert not ledger.accepted
    distinct_evaluations = {c for c, _ in untimed if c in ("97161", "97164")}
    assert ledger.accepted == (billed <= total and len(distinct_evaluations) <= 1)


@given(timed_blocks())
def test_the_minute_ledger_never_accepts_the_same_minutes_twice(lines: list[dict[str, Any]]) -> None:
    # docs/rules.md#time-integrity: where lines carry times, accepted non-supervised blocks never share a
    # minute.
    service = [ServiceLine.model_validate(line) for line in lines]
    ledger = audit_minutes(service, 24 * 60)
    if not ledger.accepted:
        return
    exclusive = [s for s in service if s.code not in ("97010", "97012", "97016", "G0283")]
    taken: set[int] = set()
    for line in exclusive:
        assert line.start is not None and line.end is not None
        first = line.start.hour * 60 + line.start.minute
        minutes = set(range(first, first + block_seconds(line.start, line.end) // 60))
        assert not taken & minutes
        taken |= minutes
        assert abs(block_seconds(line.start, line.end) - line.minutes * 60) <= 60
