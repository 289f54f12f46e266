"""Exercise progression across visits: how much work a dosage is, and plateaus (docs/rules.md#documentation).

A defensible record shows "progression of dosage or complexity, or a documented
reason it did not progress" (docs/rules.md#documentation, denial reason 7). A plateau is a run of
consecutive visits at which an exercise was performed with the same dosage and
the same prescription (no progression, regression or change of variant in
between). A run that starts with a regression is explained by the regression's
reason (the therapist held the dosage on purpose) and is reported, not flagged.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import InvalidInput
from domain.records import ExerciseChange
from domain.values import Dosage

DEFAULT_PLATEAU_VISITS = 6

# Elastic band colours from lightest to heaviest (the common clinic sequence).
BAND_LEVELS = ("tan", "yellow", "red", "green", "blue", "black", "silver", "gold")


def band_level(resistance: str | None) -> int | None:
    """Return the rank (1 = lightest) of a band colour named in a resistance, if any."""
    if not resistance:
        return None
    words = resistance.lower().replace("-", " ").split()
    for level, colour in enumerate(BAND_LEVELS, start=1):
        if colour in words:
            return level
    return None


def workload(dosage: Dosage) -> Decimal | None:
    """Return one number for how much a dosage asks, for plotting; None if nothing is given.

    Volume is sets × reps (or × seconds, or × metres), times the load when there is
    one, times the band level when the resistance names a band colour.
    """
    sets = Decimal(dosage.sets or 1)
    if dosage.reps:
        volume = sets * dosage.reps
    elif dosage.duration_seconds:
        volume = sets * dosage.duration_seconds
    elif dosage.distance_m:
        volume = sets * dosage.distance_m
    elif dosage.sets:
        volume = sets
    else:
        volume = None
    factor = Decimal(1)
    if dosage.load is not None and dosage.load > 0:
        factor *= dosage.load
    level = band_level(dosage.resistance)
    if level is not None:
        factor *= level
    if volume is None:
        return factor if factor != 1 else None
    return volume * factor


@dataclass(frozen=True)
class Performed:
    """One visit at which an exercise was performed: the date and what identifies its dosage.

    `key` combines the dosage of the day and the prescription in force (so a
    change of variant without a change of numbers still breaks a run);
    `regression_reason` is set when the prescription in force came from a
    regression.
    """

    day: date
    key: Hashable
    regression_reason: str | None = None


@dataclass(frozen=True)
class Plateau:
    """A run of visits with no change in dosage or complexity."""

    start: date
    end: date
    visits: int
    explained_by: str | None

    @property
    def flagged(self) -> bool:
        """Tell whether the plateau is unexplained (a finding) rather than explained by a reason."""
        return self.explained_by is None


def dosage_key(dosage: Dosage) -> tuple[Any, ...]:
    """Return a dosage's values as a plain tuple (much cheaper to compare and hash than the model)."""
    return tuple(vars(dosage).values())


def performances(history: Sequence[ExerciseChange], done: Sequence[tuple[date, Dosage]]) -> list[Performed]:
    """Mark each visit an exercise was done at: its dosage under the prescription in force then.

    `history` is the exercise's changes in order (empty for an exercise the notes
    name without linking it); a visit's key changes with the dosage of the day or
    with the prescription in force, and a prescription that came from a regression
    carries its reason.
    """
    dates = [change.effective_date for change in history]
    marks: list[Performed] = []
    for day, dosage in done:
        index = bisect_right(dates, day) - 1
        in_force = history[index] if index >= 0 else None
        reason = in_force.reason if in_force is not None and in_force.kind == "regressed" else None
        marks.append(Performed(day, (dosage_key(dosage), index), reason))
    return marks


def plateaus(performed: Sequence[Performed], min_visits: int = DEFAULT_PLATEAU_VISITS) -> list[Plateau]:
    """Return every run of at least `min_visits` consecutive visits with the same key.

    (docs/rules.md#documentation)
    """
    if min_visits < 2:
        raise InvalidInput("plateau_visits", f"{min_visits} is too small; a plateau needs at least 2 visits")
    found: list[Plateau] = []
    run_start = 0
    for index in range(1, len(performed) + 1):
        if index < len(performed) and performed[index].key == performed[run_start].key:
            continue
        length = index - run_start
        if length >= min_visits:
            first = performed[run_start]
            found.append(Plateau(first.day, performed[index - 1].day, length, first.regression_reason))
        run_start = index
    return found
