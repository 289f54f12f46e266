"""The 837P writer on the demo's shoulder: a code split by the CQ/CO per-unit rule stays two lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.billing.bill import bill_with_others, billing_rules
from domain.clinic.aggregate import Clinic
from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.demo.identity import demo_identity
from domain.episode.clinic_service import load_clinic, record_clinic_fact
from projections.interop.x12 import ReadyVisit, write_837p
from projections.store.root import Store, parse_location
from tests.x12check import pyx12_errors


def test_a_code_split_by_cq_co_is_two_service_lines_and_the_file_still_validates(tmp_path: Path) -> None:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    with Store(parse_location(str(tmp_path / "demo.db")), create=True, clock=clock) as store:
        for command in demo_identity():
            record_clinic_fact(store.app, command)
        for item in recorded:
            clock.now = item.at
            store.app.handle(item.command)
        episode = store.app.get_episode(demo_episode_ids()["shoulder"])
        clinic = load_clinic(store.app)
    assert isinstance(clinic, Clinic)
    bill = bill_with_others(episode, [], billing_rules(episode.payer, ()))
    visit = next(v for v in bill.visits if any(line.split for line in v.lines))
    lines = tuple(line for line in visit.lines if line.billable and line.units > 0)
    claim = write_837p(
        [ReadyVisit(bill, episode, visit, lines)], [], clinic, created=datetime(2026, 6, 1, 12, tzinfo=UTC)
    )
    assert pyx12_errors(claim.text) == []
    split = [line for line in lines if line.split]
    code = split[0].code
    service = [s.strip() for s in claim.text.split("~") if s.strip().startswith(f"SV1*HC:{code}")]
    assert len(service) == 2
    with_co = [s for s in service if ":CO" in s.split("*")[1]]
    assert len(with_co) == 1
    assert sum(int(s.split("*")[4]) for s in service) == sum(line.units for line in split)
    # each line bills the full charge of its units: CQ/CO lowers the payer's allowed amount, not the charge
    charges = {s.split("*")[2]: int(s.split("*")[4]) for s in service}
    unit_charge = {split[0].unit_charge}
    assert {(lambda c, u: round(float(c) / u, 2))(c, u) for c, u in charges.items()} == {
        float(x) for x in unit_charge
    }


def test_names_are_written_in_x12s_character_set_and_a_missing_contact_phone_is_refused(
    tmp_path: Path,
) -> None:
    from domain.clinic.commands import RecordBillingProvider, RecordRenderingProvider
    from domain.errors import InvalidInput

    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    identity = demo_identity()
    with Store(parse_location(str(tmp_path / "demo.db")), create=True, clock=clock) as store:
        for command in identity:
            if isinstance(command, RecordRenderingProvider) and command.provider_id == "pt-rivera":
                command = command.model_copy(update={"last_name": "Núñez*Rivera"})
            record_clinic_fact(store.app, command)
        for item in recorded:
            clock.now = item.at
            store.app.handle(item.command)
        episode = store.app.get_episode(demo_episode_ids()["knee"])
        clinic = load_clinic(store.app)
    assert isinstance(clinic, Clinic)
    bill = bill_with_others(episode, [], billing_rules(episode.payer, ()))
    visit = bill.visits[0]
    lines = tuple(line for line in visit.lines if line.billable and line.units > 0)
    ready = [ReadyVisit(bill, episode, visit, lines)]
    claim = write_837p(ready, [], clinic, created=datetime(2026, 6, 1, 12, tzinfo=UTC))
    assert "NM1*82*1*Nunez Rivera*Maria" in claim.text and pyx12_errors(claim.text) == []
    billing = next(c for c in identity if isinstance(c, RecordBillingProvider))
    assert clinic.billing_provider is not None
    clinic.billing_provider = clinic.billing_provider.model_copy(update={"phone": None})
    with pytest.raises(InvalidInput) as refused:
        write_837p(ready, [], clinic, created=datetime(2026, 6, 1, 12, tzinfo=UTC))
    assert refused.value.field == "billing_provider.phone" and billing.phone
