"""Time, units, double counting and modifiers (docs/rules.md#time, docs/rules.md#double-counting,
docs/rules.md#modifier-use): for each rule a record that
triggers it and a close record that does not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.billing.threshold import Accrual
from domain.episode.application import Episodes
from domain.findings import CheckContext, check_episode
from tests.conftest import FixedClock
from tests.findings_chart import DESCRIPTION, ONE_ON_ONE, START, Chart, of_rule, rule_ids

MANUAL_AND_ACTIVITY = f"{ONE_ON_ONE} {DESCRIPTION} Floor-to-waist lifting task, 2x8."


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


def visit_rules(app: Episodes, payer: str = "medicare", **note: Any) -> set[str]:
    return rule_ids(Chart(app, payer={"payer_id": payer}).visit(1, **note).findings())


# --- docs/rules.md#time time --------------------------------------------------------------------------------


def test_a_note_without_minutes_misses_its_time(app: Episodes) -> None:
    """docs/rules.md#time: no minutes on the timed code and no total treatment minutes."""
    lines = [{"code": "97110", "minutes": 0}]
    findings = Chart(app).visit(1, service_lines=lines, total_treatment_minutes=0).findings()
    (missing,) = of_rule(findings, "time.missing")
    assert missing.severity == "error" and "97110 has no minutes" in missing.message
    assert "time.missing" not in visit_rules(
        app, service_lines=[{"code": "97110", "minutes": 8}], total_treatment_minutes=8
    )


def test_units_the_minutes_do_not_support_are_an_error(app: Episodes) -> None:
    """docs/rules.md#time, docs/rules.md#eight-minute-rule: 24 + 8 minutes support 2 units under the CMS rule,
    not the 3 the note bills.
    """
    lines = [{"code": "97110", "minutes": 24, "units": 2}, {"code": "97140", "minutes": 8, "units": 1}]
    findings = Chart(app).visit(1, service_lines=lines, total_treatment_minutes=35).findings()
    (over,) = of_rule(findings, "time.units_exceed_minutes")
    assert over.severity == "error" and over.subject == "97140"
    assert "bills 3 timed units (97110 × 2, 97140 × 1)" in over.message and "support 2" in over.message
    assert "careledger units 97110=24 97140=8" in over.fix
    right = [{"code": "97110", "minutes": 24, "units": 2}, {"code": "97140", "minutes": 8, "units": 0}]
    assert "time.units_exceed_minutes" not in visit_rules(
        app, service_lines=right, total_treatment_minutes=35
    )


def test_the_payers_unit_rule_decides_what_the_minutes_support(app: Episodes) -> None:
    """docs/rules.md#ama-midpoint-rule: 24 + 23 minutes bill 2 + 2 units under the AMA rule, 3 under CMS."""
    lines = [
        {"code": "97110", "minutes": 24, "units": 2},
        {"code": "97112", "minutes": 23, "units": 2},
        {"code": "97140", "minutes": 10},
    ]
    assert "time.units_exceed_minutes" in visit_rules(
        app, "medicare", service_lines=lines, total_treatment_minutes=60
    )
    ama = visit_rules(app, "commercial-ama", service_lines=lines, total_treatment_minutes=60)
    assert "time.units_exceed_minutes" not in ama


def test_an_untimed_code_bills_one_unit(app: Episodes) -> None:
    """docs/rules.md#timed-codes: an evaluation is one unit per date however long it took."""
    lines = [{"code": "97161", "minutes": 45, "units": 3}, {"code": "97110", "minutes": 15}]
    findings = Chart(app).visit(1, service_lines=lines, total_treatment_minutes=60).findings()
    (over,) = of_rule(findings, "time.units_exceed_minutes")
    assert "97161 is untimed: 1 unit per date, not 3" in over.message


def test_the_right_number_of_units_on_the_wrong_code_is_misallocated(app: Episodes) -> None:
    """docs/rules.md#eight-minute-rule (CPM5 example): 33 + 7 minutes are 97110 × 2 and 97140 × 1, not 97110 ×
    3.
    """
    wrong = [{"code": "97110", "minutes": 33, "units": 3}, {"code": "97140", "minutes": 7, "units": 0}]
    findings = Chart(app).visit(1, service_lines=wrong, total_treatment_minutes=40).findings()
    (moved,) = of_rule(findings, "time.units_misallocated")
    assert moved.subject == "97110" and "97110 × 2, 97140 × 1" in moved.message
    right = [{"code": "97110", "minutes": 33, "units": 2}, {"code": "97140", "minutes": 7, "units": 1}]
    assert "time.units_misallocated" not in visit_rules(app, service_lines=right, total_treatment_minutes=40)


def test_timed_minutes_above_the_total_in_a_stored_note_are_an_error(app: Episodes) -> None:
    """docs/rules.md#time, docs/rules.md#time-integrity: the ledger refuses such a note today; one stored
    before the check is still found.
    """
    chart = Chart(app).visit(1)
    episode = chart.episode
    day = START + timedelta(days=1)
    episode.visits[day] = episode.visits[day].model_copy(update={"total_treatment_minutes": 40})
    findings = check_episode(episode, CheckContext.default())
    (over,) = of_rule(findings, "time.timed_exceeds_total")
    assert "40 is less than the 50 timed minutes" in over.message
    assert of_rule(chart.findings(), "time.timed_exceeds_total") == []


# --- docs/rules.md#double-counting minutes counted twice ----------------------------------------------------


def test_services_adding_up_past_the_total_count_minutes_twice(app: Episodes) -> None:
    """docs/rules.md#double-counting, docs/rules.md#time-integrity: a 30-minute evaluation and 25 minutes of
    exercise in a 45-minute session.
    """
    lines = [{"code": "97161", "minutes": 30}, {"code": "97110", "minutes": 25}]
    findings = Chart(app).visit(1, service_lines=lines, total_treatment_minutes=45).findings()
    (twice,) = of_rule(findings, "minutes.double_counted")
    assert (
        twice.severity == "error"
        and "add up to 55 minutes" in twice.message
        and "10 minutes" in twice.message
    )
    assert "minutes.double_counted" not in visit_rules(app, service_lines=lines, total_treatment_minutes=55)


def test_overlapping_blocks_in_a_stored_note_count_minutes_twice(app: Episodes) -> None:
    """docs/rules.md#double-counting: two timed codes in the same minutes (a note the ledger would refuse
    today).
    """
    chart = Chart(app).visit(1)
    episode = chart.episode
    day = START + timedelta(days=1)
    overlapping = (
        {"code": "97110", "minutes": 30, "start": "09:00", "end": "09:30"},
        {"code": "97140", "minutes": 20, "start": "09:20", "end": "09:40"},
    )
    from domain.values import ServiceLine

    lines = tuple(ServiceLine.model_validate(x) for x in overlapping)
    episode.visits[day] = episode.visits[day].model_copy(update={"service_lines": lines})
    (twice,) = of_rule(check_episode(episode, CheckContext.default()), "minutes.double_counted")
    assert "97140 09:20-09:40 overlaps 97110 09:00-09:30" in twice.message


def test_group_time_overlapping_one_on_one_time_in_a_stored_note_is_not_one_on_one(app: Episodes) -> None:
    """docs/rules.md#one-on-one, docs/rules.md#timed-codes: 97150 and 97110 in the same minutes (a note the
    ledger would refuse today).
    """
    from domain.values import ServiceLine

    chart = Chart(app).visit(1)
    episode = chart.episode
    day = START + timedelta(days=1)
    overlapping = (
        {"code": "97110", "minutes": 30, "start": "09:00", "end": "09:30"},
        {"code": "97150", "minutes": 20, "start": "09:20", "end": "09:40"},
        {"code": "97140", "minutes": 10, "start": "09:40", "end": "09:50"},
    )
    lines = tuple(ServiceLine.model_validate(x) for x in overlapping)
    episode.visits[day] = episode.visits[day].model_copy(update={"service_lines": lines})
    findings = check_episode(episode, CheckContext.default())
    (group,) = of_rule(findings, "one_on_one.not_shown")
    assert group.subject == "97150" and "group therapy (97150)" in group.message
    assert not any("overlap" in f.message for f in of_rule(findings, "minutes.double_counted"))


# --- docs/rules.md#modifier-use modifiers -------------------------------------------------------------------


def lines_with(*modifiers: str, code: str = "97110", **more: Any) -> list[dict[str, Any]]:
    return [
        {"code": code, "minutes": 25, "modifiers": list(modifiers), **more},
        {"code": "97140", "minutes": 10},
    ]


def test_a_line_written_without_its_discipline_modifier_is_an_error(app: Episodes) -> None:
    """docs/rules.md#modifier-use, docs/rules.md#modifiers: GP on every PT line."""
    findings = Chart(app).visit(1, service_lines=lines_with("GO"), total_treatment_minutes=38).findings()
    (missing,) = of_rule(findings, "modifier.missing_discipline")
    assert "not GP" in missing.message and "GO is another discipline's" in missing.message
    assert "modifier.missing_discipline" not in visit_rules(
        app, service_lines=lines_with("GP"), total_treatment_minutes=38
    )


def test_a_line_without_modifiers_takes_careledgers_own_and_is_not_checked(app: Episodes) -> None:
    """docs/rules.md#modifier-use: the modifiers compared are the ones the note writes."""
    assert not {r for r in visit_rules(app) if r.startswith("modifier.")}


def test_an_assistants_service_without_cq_is_an_error_and_cq_without_one_a_warning(app: Episodes) -> None:
    """docs/rules.md#modifier-use, docs/rules.md#modifiers: CQ when a PTA furnished more than 10% of the
    minutes.
    """
    pta = {"provider_id": "pta-1", "credential": "PTA", "supervising_provider_id": "pt-1"}
    findings = (
        Chart(app).visit(1, service_lines=lines_with("GP"), total_treatment_minutes=38, **pta).findings()
    )
    assert [f.subject for f in of_rule(findings, "modifier.assistant_missing")] == ["97110"]
    assert "modifier.assistant_missing" not in visit_rules(
        app, service_lines=lines_with("GP", "CQ"), total_treatment_minutes=38, **pta
    )
    own = visit_rules(app, service_lines=lines_with("GP", "CQ"), total_treatment_minutes=38)
    assert "modifier.assistant_unsupported" in own
    within = lines_with("GP", "CQ", assistant_minutes=2)
    assert "modifier.assistant_unsupported" in visit_rules(
        app, service_lines=within, total_treatment_minutes=38
    )
    over = lines_with("GP", "CQ", assistant_minutes=3)
    assert "modifier.assistant_unsupported" not in visit_rules(
        app, service_lines=over, total_treatment_minutes=38
    )


def test_59_on_an_ncci_pair_without_distinct_blocks_is_an_error(app: Episodes) -> None:
    """docs/rules.md#modifier-use, docs/rules.md#modifiers: 97140 with 97530 only in separate 15-minute
    blocks.
    """
    lines = [
        {"code": "97530", "minutes": 20, "modifiers": ["GP"]},
        {"code": "97140", "minutes": 15, "modifiers": ["GP", "59"]},
    ]
    chart = Chart(app).visit(
        1, service_lines=lines, total_treatment_minutes=38, narrative=MANUAL_AND_ACTIVITY
    )
    (forced,) = of_rule(chart.findings(), "modifier.distinct_without_blocks")
    assert forced.subject == "97140" and "no start/end times" in forced.message
    timed = [
        {"code": "97530", "minutes": 20, "modifiers": ["GP"], "start": "09:00", "end": "09:20"},
        {"code": "97140", "minutes": 15, "modifiers": ["GP", "59"], "start": "09:20", "end": "09:35"},
    ]
    distinct = visit_rules(
        app, service_lines=timed, total_treatment_minutes=38, narrative=MANUAL_AND_ACTIVITY
    )
    assert "modifier.distinct_without_blocks" not in distinct


def test_59_where_no_ncci_edit_applies_reads_as_forcing_payment(app: Episodes) -> None:
    """docs/rules.md#modifier-use: no pair to bypass."""
    assert "modifier.distinct_unneeded" in visit_rules(
        app, service_lines=lines_with("GP", "59"), total_treatment_minutes=38
    )


def over_threshold(episode_id: str) -> CheckContext:
    """A context in which the beneficiary's other episodes already passed the 2026 threshold."""
    prior = Accrual(
        episode_id=episode_id, date_of_service=START, group="PT+SLP", amount=Decimal("2500.00"), complete=True
    )
    return CheckContext.default().with_others(prior_accruals=(prior,))


def test_a_line_written_without_kx_above_the_threshold_is_an_error(app: Episodes) -> None:
    """docs/rules.md#modifier-use, docs/rules.md#kx-threshold: claims above the threshold without KX
    are denied."""
    chart = Chart(app).visit(1, service_lines=lines_with("GP"), total_treatment_minutes=38)
    (missing,) = of_rule(chart.findings(over_threshold("other")), "modifier.kx_missing")
    assert "$2,480.00 threshold" in missing.message and missing.subject == "97110"
    assert of_rule(chart.findings(), "modifier.kx_missing") == []  # below the threshold
    written = Chart(app).visit(1, service_lines=lines_with("GP", "KX"), total_treatment_minutes=38)
    assert of_rule(written.findings(over_threshold("other")), "modifier.kx_missing") == []


def test_kx_without_a_necessity_statement_is_an_error(app: Episodes) -> None:
    """docs/rules.md#modifier-use, docs/rules.md#modifiers: KX attests necessity the record must show."""
    vague = Chart(app).visit(1, necessity="Continue therapy for knee pain.")
    (abuse,) = of_rule(vague.findings(over_threshold("other")), "modifier.kx_without_necessity")
    assert "necessity statement is vague" in abuse.message
    assert (
        of_rule(Chart(app).visit(1).findings(over_threshold("other")), "modifier.kx_without_necessity") == []
    )
    written = Chart(app).visit(
        1, necessity="", service_lines=lines_with("GP", "KX"), total_treatment_minutes=38
    )
    (below,) = of_rule(written.findings(), "modifier.kx_without_necessity")
    assert "the note writes KX on 97110" in below.message and "is missing" in below.message
