"""Outcome trajectories: change from baseline against the instrument's MCID
(docs/rules.md#outcome-instruments).

Each instrument says which direction is better; "improvement" is the change
signed so that a positive number is always better. The change reaches the
minimal clinically important difference when the improvement is at least the
MCID in points, or (for instruments that give one, e.g. NPRS) at least the MCID
percentage of the baseline. A change as large the other way is a clinically
important deterioration.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from domain.rules.catalogue import Instrument

Verdict = Literal[
    "baseline", "improved_past_mcid", "improved", "unchanged", "worsened", "worsened_past_mcid", "no_mcid"
]


@dataclass(frozen=True)
class Change:
    """A score compared with the baseline score of the same instrument."""

    change: Decimal
    improvement: Decimal
    percent: Decimal | None
    reaches_mcid: bool | None
    verdict: Verdict


def _exact(value: Decimal) -> Decimal:
    """Drop a whole number's trailing decimal zeros (10.0 -> 10), never writing an exponent."""
    return value.to_integral_value() if value == value.to_integral_value() else value


def change_from_baseline(instrument: Instrument, baseline: Decimal, score: Decimal, *, first: bool) -> Change:
    """Compare a score with the baseline in the instrument's better direction.

    (docs/rules.md#outcome-instruments)
    """
    change = score - baseline
    improvement = change if instrument.better == "higher" else -change
    percent = (improvement * 100 / abs(baseline)).quantize(Decimal("0.1")) if baseline else None
    if first:
        return Change(Decimal(0), Decimal(0), None, None, "baseline")
    if instrument.mcid is None and instrument.mcid_percent is None:
        verdict: Verdict = "no_mcid" if improvement else "unchanged"
        return Change(_exact(change), _exact(improvement), percent, None, verdict)
    reaches = _reaches(instrument, improvement, percent)
    worse = _reaches(instrument, -improvement, -percent if percent is not None else None)
    if reaches:
        verdict = "improved_past_mcid"
    elif worse:
        verdict = "worsened_past_mcid"
    elif improvement > 0:
        verdict = "improved"
    elif improvement < 0:
        verdict = "worsened"
    else:
        verdict = "unchanged"
    return Change(_exact(change), _exact(improvement), percent, reaches, verdict)


def _reaches(instrument: Instrument, improvement: Decimal, percent: Decimal | None) -> bool:
    if instrument.mcid is not None and improvement >= instrument.mcid:
        return True
    return instrument.mcid_percent is not None and percent is not None and percent >= instrument.mcid_percent


def at_risk(instrument: Instrument, score: Decimal) -> bool | None:
    """Tell whether a score is on the risk side of the instrument's threshold (e.g. TUG ≥ 13.5 s)."""
    if instrument.risk_threshold is None:
        return None
    if instrument.better == "lower":
        return score >= instrument.risk_threshold
    return score < instrument.risk_threshold
