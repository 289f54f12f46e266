"""Plateaus and workload (docs/rules.md#documentation), and change from baseline against the MCID
(docs/rules.md#outcome-instruments).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.progression.dosage import Performed, band_level, plateaus, workload
from domain.progression.outcomes import at_risk, change_from_baseline
from domain.rules.catalogue import instrument_catalogue
from domain.values import Dosage

DAY = date(2026, 3, 2)


def marks(keys: str, regressed_at: int | None = None) -> list[Performed]:
    """One visit per character; equal characters are equal dosage and prescription."""
    return [
        Performed(DAY + timedelta(days=i), key, "pain flare" if i == regressed_at else None)
        for i, key in enumerate(keys)
    ]


def test_six_visits_at_the_same_dosage_make_a_plateau() -> None:
    [found] = plateaus(marks("aaaaaa"), 6)
    assert (found.start, found.end, found.visits, found.flagged) == (DAY, DAY + timedelta(days=5), 6, True)


def test_five_visits_are_not_yet_a_plateau() -> None:
    assert plateaus(marks("aaaaab"), 6) == []


def test_a_change_of_dosage_or_prescription_breaks_the_run() -> None:
    assert [p.visits for p in plateaus(marks("aaabbbbbbbcc"), 6)] == [7]


def test_a_run_that_starts_with_a_regression_is_explained_not_flagged() -> None:
    [found] = plateaus(marks("abbbbbb", regressed_at=1), 6)
    assert found.explained_by == "pain flare" and not found.flagged


def test_a_plateau_needs_at_least_two_visits() -> None:
    with pytest.raises(InvalidInput) as caught:
        plateaus(marks("aa"), 1)
    assert caught.value.field == "plateau_visits"


def test_workload_multiplies_volume_by_load_and_band_level() -> None:
    assert workload(Dosage(sets=3, reps=10)) == 30
    assert workload(Dosage(sets=3, reps=10, load=Decimal("2.5"), load_unit="lb")) == Decimal("75.0")
    assert workload(Dosage(sets=3, reps=12, resistance="red band")) == 36 * 3
    assert workload(Dosage(sets=3, duration_seconds=20)) == 60
    assert workload(Dosage()) is None


def test_band_colours_rank_from_light_to_heavy() -> None:
    assert [band_level(c) for c in ("yellow band", "Red", "black theraband", "purple")] == [2, 3, 6, None]


def instrument(name: str):  # type: ignore[no-untyped-def]
    found = instrument_catalogue().get(name)
    assert found is not None
    return found


def test_lefs_up_by_nine_reaches_its_mcid_and_eight_does_not() -> None:
    lefs = instrument("LEFS")
    assert change_from_baseline(lefs, Decimal(24), Decimal(33), first=False).verdict == "improved_past_mcid"
    eight = change_from_baseline(lefs, Decimal(24), Decimal(32), first=False)
    assert eight.verdict == "improved" and eight.reaches_mcid is False


def test_odi_improves_downwards_and_worsens_upwards() -> None:
    odi = instrument("ODI")
    better = change_from_baseline(odi, Decimal(42), Decimal(32), first=False)
    assert (str(better.change), str(better.improvement), better.reaches_mcid) == ("-10", "10", True)
    worse = change_from_baseline(odi, Decimal(42), Decimal(52), first=False)
    assert worse.verdict == "worsened_past_mcid" and worse.reaches_mcid is False
    assert change_from_baseline(odi, Decimal(42), Decimal(40), first=False).verdict == "improved"


def test_nprs_reaches_its_mcid_by_thirty_percent_of_the_baseline() -> None:
    nprs = instrument("NPRS")
    thirty = change_from_baseline(nprs, Decimal(5), Decimal("3.5"), first=False)
    assert thirty.percent == Decimal("30.0") and thirty.reaches_mcid


def test_the_baseline_itself_is_not_judged() -> None:
    first = change_from_baseline(instrument("LEFS"), Decimal(24), Decimal(24), first=True)
    assert first.verdict == "baseline" and first.reaches_mcid is None


def test_an_instrument_without_mcid_says_so() -> None:
    assert change_from_baseline(instrument("TUG"), Decimal(15), Decimal(11), first=False).verdict == "no_mcid"


def test_risk_thresholds_follow_the_better_direction() -> None:
    assert at_risk(instrument("TUG"), Decimal("13.5")) is True
    assert at_risk(instrument("TUG"), Decimal("13.4")) is False
    assert at_risk(instrument("Berg"), Decimal(44)) is True
    assert at_risk(instrument("Berg"), Decimal(45)) is False
    assert at_risk(instrument("LEFS"), Decimal(45)) is None
