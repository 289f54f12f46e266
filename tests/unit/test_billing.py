"""Claim lines of visits, pure: units, modifiers, pointers, amounts, KX and notes (docs/rules.md#timed-codes,
docs/rules.md#modifiers).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.billing.bill import EpisodeFacts, bill_episode, billing_rules
from domain.billing.threshold import Accrual
from domain.errors import InvalidInput
from domain.records import VisitFields
from domain.rules.catalogue import load_fee_schedule, payer_profiles
from domain.values import Diagnosis, PayerRef

MEDICARE = PayerRef(payer_id="medicare", unit_rule="cms")
COMMERCIAL = PayerRef(payer_id="commercial-ama", unit_rule="ama")


def visit(
    day: str, lines: list[dict[str, Any]], credential: str = "PT", total: int | None = None
) -> VisitFields:
    timed = sum(line["minutes"] for line in lines)
    return VisitFields.model_validate(
        {
            "date_of_service": day,
            "provider_id": "pt-1" if credential in ("PT", "OT", "SLP") else "pta-1",
            "credential": credential,
            "service_lines": lines,
            "total_treatment_minutes": total if total is not None else timed,
        }
    )


def facts(
    *visits: VisitFields, discipline: str = "PT", payer: PayerRef = MEDICARE, dx: int = 2
) -> EpisodeFacts:
    codes = ["M17.11", "Z96.651", "R26.89", "M25.561", "M62.81"][:dx]
    return EpisodeFacts(
        episode_id="e-1",
        patient_ref="MRN-1",
        discipline=discipline,
        payer=payer,
        diagnoses=tuple(Diagnosis(code=c) for c in codes),
        visits=visits,
    )


def lines_of(bill: Any, index: int = 0) -> dict[str, tuple[int, tuple[str, ...]]]:
    return {line.code: (line.units, line.modifiers) for line in bill.visits[index].lines}


def test_a_medicare_pt_visit_has_gp_on_every_line_and_cms_units() -> None:
    # docs/rules.md#eight-minute-rule worked example; docs/rules.md#modifiers GP.
    bill = bill_episode(
        facts(visit("2026-03-02", [{"code": "97110", "minutes": 33}, {"code": "97140", "minutes": 7}])),
        billing_rules(MEDICARE),
    )
    assert lines_of(bill) == {"97110": (2, ("GP",)), "97140": (1, ("GP",))}
    line = bill.visits[0].lines[0]
    assert line.date_of_service == date(2026, 3, 2) and line.rule == "cms"
    assert line.diagnosis_pointers == (1, 2)
    assert any(s.startswith("GP: the plan of care is PT") for s in line.explanation)


@pytest.mark.parametrize(("discipline", "modifier"), [("OT", "GO"), ("SLP", "GN")])
def test_ot_and_slp_lines_carry_go_and_gn(discipline: str, modifier: str) -> None:
    code = "97530" if discipline == "OT" else "92507"
    bill = bill_episode(
        facts(
            visit("2026-03-02", [{"code": code, "minutes": 30}], credential=discipline), discipline=discipline
        ),
        billing_rules(MEDICARE),
    )
    assert lines_of(bill)[code][1] == (modifier,)


def test_diagnosis_pointers_are_the_first_four_primary_first() -> None:
    bill = bill_episode(
        facts(visit("2026-03-02", [{"code": "97110", "minutes": 30}]), dx=5), billing_rules(MEDICARE)
    )
    assert bill.visits[0].lines[0].diagnosis_pointers == (1, 2, 3, 4)
    assert bill.diagnoses[0] == "M17.11"


def test_a_pta_visit_gets_cq_and_85_percent_of_the_fee() -> None:
    # docs/rules.md#modifiers: CQ when a PTA furnished the service; paid at 85%.
    bill = bill_episode(
        facts(visit("2026-03-02", [{"code": "97110", "minutes": 30}], credential="PTA")),
        billing_rules(MEDICARE),
    )
    line = bill.visits[0].lines[0]
    fee = load_fee_schedule("fee_schedule_example.toml").fee("97110", 2026)
    assert fee is not None
    assert line.modifiers == ("GP", "CQ") and line.assistant_minutes == 30
    assert line.allowed_amount == (fee * 2 * Decimal("0.85")).quantize(Decimal("0.01"))


def test_assistant_minutes_within_de_minimis_get_no_cq() -> None:
    bill = bill_episode(
        facts(
            visit(
                "2026-03-02",
                [
                    {"code": "97110", "minutes": 30, "assistant_minutes": 3},
                    {"code": "97112", "minutes": 15, "assistant_minutes": 2},
                ],
            )
        ),
        billing_rules(MEDICARE),
    )
    # Per unit (since 2022): 97110's remaining unit has 12 therapist minutes and 97112's 13, both
    # 8 or more, so neither carries CQ though the assistant's minutes are over 10% of 97112's.
    assert lines_of(bill) == {"97110": (2, ("GP",)), "97112": (1, ("GP",))}


def test_the_commercial_ama_payer_uses_the_per_code_rule_and_no_medicare_modifiers() -> None:
    # docs/rules.md#ama-midpoint-rule: 24 + 23 minutes bill 4 units under AMA.
    day = visit(
        "2026-03-02", [{"code": "97110", "minutes": 24}, {"code": "97112", "minutes": 23}], credential="PTA"
    )
    bill = bill_episode(facts(day, payer=COMMERCIAL), billing_rules(COMMERCIAL))
    assert lines_of(bill) == {"97110": (2, ("GP",)), "97112": (2, ("GP",))}
    assert bill.unit_rule == "ama" and bill.thresholds == ()


def test_97010_is_bundled_and_97014_is_g0283_for_medicare() -> None:
    # docs/rules.md#timed-codes: Medicare bundles 97010 and uses G0283 for unattended e-stim.
    day = visit(
        "2026-03-02",
        [
            {"code": "97110", "minutes": 30},
            {"code": "97010", "minutes": 10},
            {"code": "97014", "minutes": 15},
        ],
    )
    bill = bill_episode(facts(day), billing_rules(MEDICARE))
    by_code = {line.code: line for line in bill.visits[0].lines}
    assert not by_code["97010"].billable and by_code["97010"].allowed_amount == Decimal("0.00")
    assert not by_code["97014"].billable
    rules = {n.rule_id for n in bill.visits[0].notes}
    assert {"codes.medicare_bundled", "codes.medicare_alternative"} <= rules
    commercial = bill_episode(facts(day, payer=COMMERCIAL), billing_rules(COMMERCIAL))
    assert all(line.billable for line in commercial.visits[0].lines)


def test_ncci_pair_with_distinct_blocks_gets_59_and_without_them_a_note() -> None:
    # docs/rules.md#modifiers: 59 only for a pair in the table and distinct blocks.
    apart = [
        {"code": "97530", "minutes": 15, "start": "10:00", "end": "10:15"},
        {"code": "97140", "minutes": 15, "start": "10:15", "end": "10:30"},
    ]
    together = [{"code": "97530", "minutes": 15}, {"code": "97140", "minutes": 15}]
    bill = bill_episode(
        facts(visit("2026-03-02", apart), visit("2026-03-04", together)), billing_rules(MEDICARE)
    )
    assert lines_of(bill, 0)["97140"][1] == ("59", "GP")
    assert lines_of(bill, 1)["97140"][1] == ("GP",)
    assert [n.rule_id for n in bill.visits[1].notes] == ["modifiers.ncci_pair_not_distinct"]
    assert bill.visits[1].notes[0].source.endswith("docs/rules.md#ncci-pairs")


def test_kx_from_the_visit_that_passes_the_threshold_counting_other_episodes() -> None:
    # docs/rules.md#modifiers: per beneficiary and year, PT and SLP combined.
    prior = [
        Accrual(
            episode_id="slp",
            date_of_service=date(2026, 2, 2),
            group="PT+SLP",
            amount=Decimal("2400"),
            complete=True,
        )
    ]
    days = [visit(f"2026-03-0{d}", [{"code": "97110", "minutes": 30}]) for d in (2, 4, 6)]
    bill = bill_episode(facts(*days), billing_rules(MEDICARE), prior)
    assert [v.kx for v in bill.visits] == [False, True, True]
    assert lines_of(bill, 1)["97110"][1] == ("GP", "KX")
    status = bill.thresholds[0]
    assert (status.year, status.group, status.kx_from) == (2026, "PT+SLP", date(2026, 3, 4))
    assert (
        status.other_episodes == Decimal("2400")
        and status.total == status.other_episodes + status.this_episode
    )


def test_recorded_units_that_the_minutes_do_not_support_are_noted() -> None:
    # docs/rules.md#documentation (3): units inconsistent with time.
    day = visit(
        "2026-03-02",
        [{"code": "97110", "minutes": 24, "units": 2}, {"code": "97140", "minutes": 8, "units": 1}],
    )
    bill = bill_episode(facts(day), billing_rules(MEDICARE))
    notes = [n for n in bill.visits[0].notes if n.rule_id == "units.recorded_differs"]
    assert [n.code for n in notes] == ["97140"]
    assert "bills 1 unit; its minutes support 0 under the CMS rule" in notes[0].message


def test_recorded_modifiers_that_differ_are_noted() -> None:
    day = visit("2026-03-02", [{"code": "97110", "minutes": 30, "modifiers": ["GP", "KX"]}])
    bill = bill_episode(facts(day), billing_rules(MEDICARE))
    assert [n.rule_id for n in bill.visits[0].notes] == ["modifiers.recorded_differs"]


def test_a_missing_fee_leaves_the_amount_unknown_and_says_so() -> None:
    day = visit("2023-03-02", [{"code": "97110", "minutes": 30}])
    bill = bill_episode(facts(day), billing_rules(MEDICARE))
    assert bill.visits[0].lines[0].allowed_amount is None
    assert "fees.missing" in {n.rule_id for n in bill.visits[0].notes}
    assert "threshold.incomplete" in {n.rule_id for n in bill.notes}


def test_an_unknown_payer_gets_units_only_and_a_note() -> None:
    payer = PayerRef(payer_id="acme-health", unit_rule="ama")
    bill = bill_episode(
        facts(visit("2026-03-02", [{"code": "97110", "minutes": 24}]), payer=payer), billing_rules(payer)
    )
    assert lines_of(bill) == {"97110": (2, ())}
    assert "payer.no_profile" in {n.rule_id for n in bill.notes}


def test_every_bill_names_the_tables_it_used() -> None:
    bill = bill_episode(facts(), billing_rules(MEDICARE))
    assert set(bill.tables) == {"payer", "codes", "ncci_pairs", "mue", "thresholds", "fees", "charges"}
    assert "EXAMPLE" in bill.tables["fees"] and "fees.example" in {n.rule_id for n in bill.notes}
    assert "EXAMPLE" in bill.tables["charges"]


# --- payer profiles and fee schedules as data ---------------------------------------------------------


def test_the_shipped_payer_profiles_are_versioned_and_say_what_they_require() -> None:
    profiles = payer_profiles()
    medicare, commercial = profiles["medicare"], profiles["commercial-ama"]
    assert (medicare.unit_rule, commercial.unit_rule) == ("cms", "ama")
    assert medicare.discipline_modifiers and medicare.kx_threshold
    # CQ / CO are dated: none before 2020, on the whole service at 100% in 2020-2021, per unit at 85% after
    assert not medicare.on(date(2019, 12, 31)).assistant_modifiers
    in_2021 = medicare.on(date(2021, 6, 1))
    assert in_2021.assistant_modifiers and in_2021.assistant_test == "service"
    assert in_2021.assistant_allowed_percent == 100
    in_2022 = medicare.on(date(2022, 1, 1))
    assert in_2022.assistant_test == "unit" and in_2022.assistant_allowed_percent == 85
    assert medicare.ncci_edits
    assert not commercial.kx_threshold and not commercial.assistant_modifiers
    assert all(p.version and p.effective for p in profiles.values())


def test_the_example_fee_schedule_is_labelled_as_an_example() -> None:
    fees = load_fee_schedule("fee_schedule_example.toml")
    assert fees.example and "EXAMPLE" in fees.label
    assert {2024, 2025, 2026} <= set(fees.years)


PROFILE_HEAD = 'name = "Acme"\nversion = "1"\neffective = "2026-01-01"\n'
FEES_HEAD = (
    'version = "1"\neffective = "2026-01-01"\nsource = "contract"\nexample = false\nlabel = "our fees"\n'
)


def clinic_dir(tmp_path: Path, text: str, name: str = "acme.toml") -> tuple[Path, ...]:
    directory = tmp_path / "payers"
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)
    return (directory,)


def test_a_clinic_profile_with_a_misspelt_field_names_the_file_and_field(tmp_path: Path) -> None:
    dirs = clinic_dir(
        tmp_path,
        f'payer_id = "acme"\n{PROFILE_HEAD}unit_rule = "ama"\nkx_treshold = true\n',
    )
    with pytest.raises(InvalidInput) as caught:
        payer_profiles(dirs)
    assert str(caught.value).startswith(f"{dirs[0] / 'acme.toml'}: kx_treshold:")
    assert "\n" not in str(caught.value)


def test_a_clinic_profile_with_a_bad_value_names_the_file_and_field(tmp_path: Path) -> None:
    dirs = clinic_dir(
        tmp_path,
        'payer_id = "acme"\nname = "Acme"\nversion = "1"\neffective = "2026-01-01"\nunit_rule = "8min"\n',
    )
    with pytest.raises(InvalidInput, match=r"acme.toml: unit_rule:"):
        payer_profiles(dirs)


def test_a_clinic_fee_schedule_replaces_the_example(tmp_path: Path) -> None:
    dirs = clinic_dir(
        tmp_path,
        f'payer_id = "medicare"\n{PROFILE_HEAD}unit_rule = "cms"\n'
        'discipline_modifiers = true\nkx_threshold = true\nfee_schedule = "fees/ours.toml"\n',
        name="medicare.toml",
    )
    (dirs[0] / "fees").mkdir()
    (dirs[0] / "fees" / "ours.toml").write_text(f'{FEES_HEAD}[years.2026]\n97110 = "50.00"\n')
    rules = billing_rules(MEDICARE, dirs)
    bill = bill_episode(facts(visit("2026-03-02", [{"code": "97110", "minutes": 30}])), rules)
    assert bill.visits[0].lines[0].allowed_amount == Decimal("100.00")
    assert rules.profile.name == "Acme" and "fees.example" not in {n.rule_id for n in bill.notes}


def test_a_fee_schedule_with_an_unknown_code_names_the_file_and_year(tmp_path: Path) -> None:
    path = tmp_path / "fees.toml"
    path.write_text(f'{FEES_HEAD}[years.2026]\n97999 = "1.00"\n')
    with pytest.raises(InvalidInput, match=r"fees.toml: years.2026: '97999' is not in the code catalogue"):
        load_fee_schedule("fees.toml", (tmp_path,))
