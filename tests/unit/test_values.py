"""Value objects: frozen, constrained, and readable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.rules.catalogue import code_catalogue, instrument_catalogue
from domain.values import Dosage, ServiceLine


def test_dosage_is_described_the_way_a_therapist_writes_it() -> None:
    dosage = Dosage(sets=3, reps=10, load=Decimal("2.50"), load_unit="lb", position="supine")
    assert dosage.describe() == "3x10 @ 2.5 lb supine"
    assert Dosage().describe() == "no dosage" and Dosage().is_empty()


def test_service_line_codes_are_upper_cased() -> None:
    assert ServiceLine(code="g0283", minutes=10).code == "G0283"


def test_value_objects_forbid_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ServiceLine(code="97110", minutes=10, colour="red")  # type: ignore[call-arg]


def test_the_code_catalogue_separates_timed_from_untimed_codes() -> None:
    # docs/rules.md#timed-codes
    catalogue = code_catalogue()
    timed = {
        "97032",
        "97033",
        "97034",
        "97035",
        "97036",
        "97110",
        "97112",
        "97113",
        "97116",
        "97124",
        "97140",
        "97530",
        "97533",
        "97535",
        "97537",
        "97542",
        "97750",
        "97755",
        "97760",
        "97761",
        "97763",
        "97129",
        "97130",
        "97545",
        "97546",
    }
    assert {code for code, info in catalogue.codes.items() if info.timed} == timed
    # 97545 / 97546 are timed in units of 2 hours and 1 hour: outside the day's 15-minute pool
    assert {code for code in timed if not catalogue.codes[code].pooled} == {"97545", "97546"}
    assert catalogue.codes["97130"].add_on_to == ("97129",)
    assert catalogue.codes["97161"].kind == "evaluation" and not catalogue.codes["97161"].timed
    assert catalogue.codes["97010"].may_overlap and catalogue.codes["97010"].medicare_bundled
    assert catalogue.codes["97150"].kind == "group"
    assert catalogue.version and catalogue.effective


def test_the_instrument_catalogue_carries_range_direction_and_mcid() -> None:
    # docs/rules.md#outcome-instruments
    lefs = instrument_catalogue().get("LEFS")
    odi = instrument_catalogue().get("odi")
    assert lefs is not None and odi is not None
    assert (lefs.min, lefs.max, lefs.better, lefs.mcid) == (0, 80, "higher", 9)
    assert (odi.better, odi.mcid) == ("lower", 10)
