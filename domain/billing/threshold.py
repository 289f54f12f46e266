"""The annual therapy threshold: year-to-date allowed amounts and when KX starts (docs/rules.md#modifiers).

Per beneficiary, calendar year and discipline group (PT and SLP together, OT
apart). Visits are taken in date order. A visit's year-to-date amount before it
is the group's allowed amounts from the beneficiary's other episodes dated on or
before it (same-date visits elsewhere count as already accrued, so both episodes
agree) plus this episode's earlier visits that year. The visit whose own allowed
amount takes the total above the threshold of its year, and every later visit of
that year, carries KX. Pure: amounts in, standings out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from domain.billing.ledger import Note
from domain.rules.catalogue import TherapyThresholds
from domain.rules.sources import CPM5_THRESHOLD, SSA_THRESHOLD, cite
from domain.values import Frozen

ZERO = Decimal("0.00")
SOURCE = cite("kx-threshold", SSA_THRESHOLD, CPM5_THRESHOLD)


class Accrual(Frozen):
    """One visit's allowed amount toward a beneficiary's threshold group."""

    episode_id: str
    date_of_service: date
    group: str
    amount: Decimal
    complete: bool


class Standing(Frozen):
    """Where one visit stands: the year-to-date amount before and after it, and KX."""

    date_of_service: date
    before: Decimal
    after: Decimal
    threshold: Decimal | None
    # None: the payer wants KX above the threshold, and the year's threshold is unknown
    kx: bool | None
    crossed: bool


class ThresholdStatus(Frozen):
    """The year-to-date allowed amount of one discipline group against its threshold."""

    year: int
    group: str
    threshold: Decimal | None
    threshold_unsure: bool
    other_episodes: Decimal
    this_episode: Decimal
    total: Decimal
    kx_from: date | None
    review_threshold: Decimal
    over_review_threshold: bool
    complete: bool


def standings(
    visits: Sequence[tuple[date, Decimal, bool]],
    group: str,
    prior: Sequence[Accrual],
    thresholds: TherapyThresholds,
    kx_enabled: bool | Callable[[date], bool],
) -> tuple[list[Standing], list[ThresholdStatus], list[Note]]:
    """Walk one episode's visits (date, allowed amount, complete?) in date order against the threshold.

    `kx_enabled` tells, per date of service, whether the payer wants KX above the
    threshold. Where it does and the year has no threshold, KX is undetermined
    (None), never false.
    """
    wants: Callable[[date], bool] = kx_enabled if callable(kx_enabled) else (lambda _day: kx_enabled)
    others = [a for a in prior if a.group == group]
    running: dict[int, Decimal] = defaultdict(lambda: ZERO)
    result: list[Standing] = []
    notes: list[Note] = []
    for dos, amount, _ in sorted(visits, key=lambda v: v[0]):
        year = dos.year
        earlier = sum(
            (a.amount for a in others if a.date_of_service.year == year and a.date_of_service <= dos), ZERO
        )
        before = earlier + running[year]
        after = before + amount
        running[year] += amount
        threshold = thresholds.years.get(year)
        kx: bool | None = False
        if wants(dos):
            kx = None if threshold is None else after > threshold
        crossed = bool(kx) and threshold is not None and before <= threshold
        result.append(
            Standing(
                date_of_service=dos, before=before, after=after, threshold=threshold, kx=kx, crossed=crossed
            )
        )
    statuses: list[ThresholdStatus] = []
    for year in sorted({dos.year for dos, _, _ in visits if wants(dos)}):
        threshold = thresholds.years.get(year)
        other = sum((a.amount for a in others if a.date_of_service.year == year), ZERO)
        complete = all(a.complete for a in others if a.date_of_service.year == year) and all(
            c for dos, _, c in visits if dos.year == year
        )
        total = other + running[year]
        kx_from = next((s.date_of_service for s in result if s.kx and s.date_of_service.year == year), None)
        over_review = total > thresholds.review_threshold
        statuses.append(
            ThresholdStatus(
                year=year,
                group=group,
                threshold=threshold,
                threshold_unsure=year in thresholds.unsure_years,
                other_episodes=other,
                this_episode=running[year],
                total=total,
                kx_from=kx_from,
                review_threshold=thresholds.review_threshold,
                over_review_threshold=over_review,
                complete=complete,
            )
        )
        notes.extend(_status_notes(year, group, threshold, complete, over_review, thresholds))
    return result, statuses, notes


def _status_notes(
    year: int,
    group: str,
    threshold: Decimal | None,
    complete: bool,
    over_review: bool,
    thresholds: TherapyThresholds,
) -> list[Note]:
    notes: list[Note] = []
    if threshold is None:
        notes.append(
            Note(
                rule_id="threshold.unknown_year",
                severity="warning",
                message=f"no therapy threshold for {year} in the thresholds table: KX is undetermined and "
                "the claim is not ready (add the year's threshold to the rules folder's thresholds/)",
                source=SOURCE,
            )
        )
    elif year in thresholds.unsure_years:
        notes.append(
            Note(
                rule_id="threshold.unsure",
                severity="info",
                message=f"the {year} threshold ${threshold:,.2f} comes from secondary sources; check it "
                "against the CMS final rule",
                source=SOURCE,
            )
        )
    if not complete:
        notes.append(
            Note(
                rule_id="threshold.incomplete",
                severity="warning",
                message=f"some {year} {group} services have no fee: the year-to-date amount is a lower bound "
                "and KX may be due earlier than shown",
                source=SOURCE,
            )
        )
    if over_review:
        notes.append(
            Note(
                rule_id="threshold.review",
                severity="info",
                message=f"the {year} {group} year-to-date amount is above the "
                f"${thresholds.review_threshold:,.2f} targeted medical review threshold",
                source=SOURCE,
            )
        )
    return notes


__all__ = ["Accrual", "Standing", "ThresholdStatus", "standings"]
