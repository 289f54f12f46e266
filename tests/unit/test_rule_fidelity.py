"""The defects of rule fidelity, each at its rule's boundary (docs/rules.md): evaluations and
assistants, the evaluation that produces the plan, codes by date, add-on codes, MUE, KX undetermined.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from domain.billing.bill import bill_with_others, billing_rules, calculate
from domain.episode.application import Episodes
from domain.errors import InvalidInput
from tests import builders as b
from tests.conftest import FixedClock
from tests.findings_chart import START, Chart, of_rule


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


@pytest.mark.parametrize("code", ["97161", "97163", "97164"])
def test_an_assistant_cannot_furnish_an_evaluation_and_the_line_is_refused_naming_the_field(
    app: Episodes, code: str
) -> None:
    # CMS BPM ch.15 §230.1: evaluations and re-evaluations are the therapist's (as the re-evaluation
    # record written by a PTA is refused).
    discipline, assistant = "PT", "PTA"
    chart = Chart(app)
    lines = [{"code": code, "minutes": 30}]
    with pytest.raises(InvalidInput) as refused:
        app.handle(
            b.visit(
                chart.id,
                date_of_service=str(START + timedelta(days=3)),
                credential=assistant,
                supervising_provider_id="pt-1",
                service_lines=lines,
                total_treatment_minutes=30,
            )
        )
    assert refused.value.field == "service_lines.0.code" and "may not furnish an evaluation" in str(
        refused.value
    )
    with pytest.raises(InvalidInput) as shared:
        app.handle(
            b.visit(
                chart.id,
                date_of_service=str(START + timedelta(days=3)),
                credential=discipline,
                service_lines=[{"code": code, "minutes": 30, "assistant_minutes": 10}],
                total_treatment_minutes=30,
            )
        )
    assert shared.value.field == "service_lines.0.assistant_minutes"
    assert chart.episode.visits == {}


def test_an_evaluation_only_visit_before_the_plan_needs_no_plan_or_certification(app: Episodes) -> None:
    # The initial evaluation produces the plan (CMS BPM ch.15 §220.1.2): it is not at risk for lacking one.
    chart = Chart(app, plan=False, certify=False)
    chart.visit(0, service_lines=[{"code": "97162", "minutes": 45}], total_treatment_minutes=45)
    found = chart.findings()
    assert of_rule(found, "clock.no_plan") == []
    assert of_rule(found, "clock.visit_outside_certification") == []
    # a treatment visit before the plan still is
    chart.visit(2, necessity="Right knee OA (M17.11) limits stairs; second visit.")
    assert [f.date_of_service for f in of_rule(chart.findings(), "clock.no_plan")] == [
        START + timedelta(days=2)
    ]


def test_a_code_is_refused_outside_the_dates_it_is_valid_and_97129_exists_from_2020() -> None:
    with pytest.raises(InvalidInput, match="97129"):
        calculate(["97129=15"], date(2019, 6, 1)).lines  # noqa: B018
    in_2021 = calculate(["97129=15", "97130=15"], date(2021, 6, 1))
    assert [(x.code, x.units) for x in in_2021.lines] == [("97129", 1), ("97130", 1)]
    assert not [n for n in in_2021.notes if n.rule_id == "codes.add_on_without_primary"]


def test_an_add_on_code_without_its_primary_and_units_above_the_mue_are_remarked() -> None:
    alone = calculate(["97130=30"], date(2026, 3, 2))
    [note] = [n for n in alone.notes if n.rule_id == "codes.add_on_without_primary"]
    assert (
        note.severity == "error" and "97129" in note.message and "docs/rules.md#add-on-codes" in note.source
    )
    many = calculate(["97110=200"], date(2026, 3, 2))
    [mue] = [n for n in many.notes if n.rule_id == "units.above_mue"]
    assert "13 units" in mue.message and "edit of 12" in mue.message
    assert not [n for n in calculate(["97110=180"], date(2026, 3, 2)).notes if n.rule_id == "units.above_mue"]


def test_work_hardening_bills_units_of_two_hours_and_one_hour_outside_the_pool() -> None:
    result = calculate(["97545=150", "97546=90", "97110=8"], date(2026, 3, 2))
    units = {x.code: x.units for x in result.lines}
    # 97545: one unit once past its midpoint (61 minutes of 120); 97546: 90 minutes = 1 unit + 30
    # (not past the 30-minute midpoint of the second hour); 97110's 8 minutes are the day's pool.
    assert units == {"97545": 1, "97546": 1, "97110": 1}


def test_an_add_on_without_its_primary_is_a_finding_of_check(app: Episodes) -> None:
    chart = Chart(app)
    chart.visit(3, service_lines=[{"code": "97130", "minutes": 30}], total_treatment_minutes=30)
    [found] = of_rule(chart.findings(), "coding.add_on_without_primary")
    assert found.subject == "97130" and found.severity == "error"


def test_kx_for_a_year_without_a_threshold_is_undetermined_and_the_bill_is_not_ready(
    tmp_path: object,
) -> None:
    clock = FixedClock()
    clock.now = clock.now.replace(year=2031)
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    try:
        opened = b.open_episode(start_date="2031-03-01")
        app.handle(opened)
        app.handle(b.visit(opened.episode_id, date_of_service="2031-03-02"))
        episode = app.get_episode(opened.episode_id)
        bill = bill_with_others(episode, [], billing_rules(episode.payer))
    finally:
        app.close()
    [visit] = bill.visits
    assert visit.kx is None and bill.model_dump(mode="json")["visits"][0]["kx"] is None
    assert not any("KX" in line.modifiers for line in visit.lines)
    assert not bill.ready and "KX is undetermined on 2031-03-02" in bill.not_ready[0]
    assert "threshold.unknown_year" in [n.rule_id for n in bill.notes]
