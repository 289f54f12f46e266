"""A new year is data, not code (docs/rules.md#dated-tables): a clinic adds the 2027 KX threshold,
fee table and NCCI quarter as three files in its rules folder, and a 2027 visit is billed with them.

The visit is recorded in a real SQLite store whose clock stands in 2027, and billed
through the library as `careledger bill` bills it; the same visit is billed before
the files exist (KX undetermined, no fee, no pair) and after (each one in force).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from domain.billing.bill import bill_with_others, billing_rules
from domain.billing.rules import tables_in_force
from projections.store.root import Store, parse_location
from tests import builders as b

THRESHOLD = """\
version = "2027.1"
effective = "2027-01-01"
source = "CY 2027 PFS final rule (clinic's entry)"
[years]
2027 = "2550.00"
"""
FEES = """\
version = "clinic-2027"
effective = "2027-01-01"
source = "the clinic's 2027 contract"
extends = "fee_schedule_example.toml"
[years.2027]
97110 = "33.10"
97112 = "37.90"
"""
NCCI = """\
version = "2027.1"
effective = "2027-01-01"
source = "NCCI PTP edits, practitioner, 2027 Q1 (clinic's entry)"
[[edits]]
column1 = ["97112"]
column2 = ["97110"]
modifier_indicator = 0
verified = true
note = "a pair of the 2027 first quarter"
"""


@pytest.fixture
def visit_in_2027(tmp_path: Path) -> Store:
    store = Store(parse_location(str(tmp_path / "c.db")), clock=lambda: datetime(2027, 3, 31, 12, tzinfo=UTC))
    opened = b.open_episode(start_date="2027-03-01")
    store.app.handle(opened)
    store.app.handle(
        b.visit(
            opened.episode_id,
            date_of_service="2027-03-02",
            service_lines=[{"code": "97110", "minutes": 30}, {"code": "97112", "minutes": 15}],
            total_treatment_minutes=50,
        )
    )
    return store


def test_a_2027_threshold_fee_table_and_ncci_quarter_are_three_files_in_the_rules_folder(
    visit_in_2027: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    episode = visit_in_2027.app.get_episode(next(iter(visit_in_2027.app.episode_ids())))
    folder = tmp_path / "rules"
    folder.mkdir()
    monkeypatch.setenv("CARELEDGER_RULES_DIR", str(folder))

    before = bill_with_others(episode, [], billing_rules(episode.payer)).visits[0]
    assert before.kx is None  # no 2027 threshold: undetermined, never "no KX"
    assert {line.allowed_amount for line in before.lines} == {None}  # no 2027 fees
    assert not [n for n in before.notes if n.rule_id == "modifiers.ncci_pair_not_distinct"]

    for name, text in (("thresholds", THRESHOLD), ("fees", FEES), ("ncci", NCCI)):
        (folder / name).mkdir()
        (folder / name / "2027.toml").write_text(text, encoding="utf-8")
    rules = billing_rules(episode.payer)
    bill = bill_with_others(episode, [], rules)
    after = bill.visits[0]
    assert after.kx is False and after.threshold == 2550
    assert [(x.code, x.allowed_amount) for x in after.lines] == [
        ("97110", Decimal("66.20")),
        ("97112", Decimal("37.90")),
    ]
    [pair] = [n for n in after.notes if n.rule_id == "modifiers.ncci_pair_not_distinct"]
    assert pair.code == "97110" and "97112" in pair.message
    assert bill.ready and "2027.1" in bill.tables["ncci_pairs"]
    # a 2026 visit still uses the shipped quarter and the shipped 2026 threshold
    assert rules.on(date(2026, 6, 1)).pairs.version != "2027.1"
    listed = {t.table: t for t in tables_in_force(date(2027, 3, 2), ["medicare"])}
    assert str(folder / "ncci" / "2027.toml") == listed["ncci_pairs"].origin
    assert "2027: $2,550.00" in listed["thresholds"].detail
    assert "has 2027 amounts" in listed["fees medicare"].detail


def test_a_clinics_charge_master_in_the_rules_folder_replaces_the_shipped_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from domain.billing.bill import billing_rules
    from domain.billing.rules import tables_in_force
    from domain.rules.catalogue import RULES_DIR_ENV
    from domain.values import PayerRef

    (tmp_path / "charge_master.toml").write_text(
        'version = "clinic-2026"\neffective = "2026-01-01"\nsource = "the clinic"\n'
        '\n[years.2026]\n97110 = "80.00"\n'
    )
    monkeypatch.setenv(RULES_DIR_ENV, str(tmp_path))
    day = billing_rules(PayerRef(payer_id="medicare"), ()).on(date(2026, 3, 2))
    assert (day.charge("97110"), day.charge("97140")) == (Decimal("80.00"), None)
    listed = next(t for t in tables_in_force(date(2026, 3, 2), (), ()) if t.table == "charges")
    assert listed.version == "clinic-2026" and str(tmp_path) in listed.origin
