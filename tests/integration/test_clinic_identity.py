"""The clinic's identity as recorded facts, on real stores (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.clinic.values import luhn_valid, npi_check_digit
from domain.episode.clinic_service import load_clinic, parse_clinic_command, record_clinic_fact
from domain.errors import InvalidInput
from projections.store.root import Store, parse_location
from projections.views.projector import Projector
from tests.conftest import FixedClock


@pytest.fixture
def store(db_url: str, clock: FixedClock) -> Iterator[Store]:
    opened = Store(parse_location(db_url), clock=clock)
    yield opened
    opened.close()


def billing(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "command": "record_billing_provider",
        "command_id": str(uuid4()),
        "recorded_by": "office-manager",
        "name": "Riverbend Physical Therapy (fictitious)",
        "npi": "1999000015",
        "tax_id": "00-0000001",
        "taxonomy": "261QR0400X",
        "address": {"line1": "100 Example Way", "city": "Springfield", "state": "IL", "zip": "62701-0001"},
    }
    document.update(changes)
    return document


def test_the_npi_check_digit_is_luhn_over_80840_and_the_npi() -> None:
    assert npi_check_digit("123456789") == "3"  # CMS's worked example: 1234567893
    assert luhn_valid("80840" + "1234567893")
    assert not luhn_valid("80840" + "1234567894")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"npi": "1999000016"}, "npi"),
        ({"npi": "199900001"}, "npi"),
        ({"tax_id": "12345"}, "tax_id"),
        ({"taxonomy": "PT"}, "taxonomy"),
        ({"place_of_service": "office"}, "place_of_service"),
        (
            {"address": {"line1": "1 A St", "city": "Springfield", "state": "Illinois", "zip": "62701"}},
            "address.state",
        ),
    ],
)
def test_a_wrong_identity_fact_is_refused_naming_the_field_and_nothing_is_stored(
    store: Store, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        record_clinic_fact(store.app, parse_clinic_command(billing(**changes)))
    assert refused.value.field == field
    assert load_clinic(store.app) is None


def test_a_changed_npi_is_a_new_fact_and_as_of_shows_the_old_one(store: Store, clock: FixedClock) -> None:
    first = record_clinic_fact(store.app, parse_clinic_command(billing()))
    before_change = clock.now
    clock.now += timedelta(days=30)
    record_clinic_fact(store.app, parse_clinic_command(billing(npi="1999000023")))
    now = load_clinic(store.app)
    then = load_clinic(store.app, before_change)
    assert now is not None and then is not None and now.billing_provider and then.billing_provider
    assert (then.billing_provider.npi, now.billing_provider.npi) == ("1999000015", "1999000023")
    assert now.billing_provider.recorded.recorded_by == "office-manager"
    assert then.version == first.version and now.version == first.version + 1
    assert load_clinic(store.app, before_change - timedelta(seconds=1)) is None


def test_replaying_a_clinic_command_changes_nothing(store: Store) -> None:
    command = parse_clinic_command(billing())
    first = record_clinic_fact(store.app, command)
    again = record_clinic_fact(store.app, command)
    assert first.applied and not again.applied and again.version == first.version


def test_clinic_facts_leave_the_episode_read_models_and_episode_list_alone(store: Store) -> None:
    record_clinic_fact(store.app, parse_clinic_command(billing()))
    projector = Projector(store)
    try:
        projector.catch_up()
    finally:
        projector.close()
    assert list(store.app.episode_ids()) == []
