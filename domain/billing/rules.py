"""The rule tables one payer's bills depend on, loaded together (`BillingRules`).

Every table is dated (docs/rules.md#dated-tables): the payer profile has periods,
the NCCI pair table and the MUE table have versions by quarter, the thresholds and
fees have years, and codes have the dates they are valid on. `BillingRules.on(day)`
gives the tables in force on one date of service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.rules.catalogue import (
    CodeCatalogue,
    FeeSchedule,
    MueTable,
    NcciTable,
    PayerProfile,
    TherapyThresholds,
    code_catalogue,
    load_fee_schedule,
    mue_versions,
    ncci_versions,
    payer_profiles,
    therapy_thresholds,
    version_on,
)
from domain.values import Frozen, PayerRef


class DayRules(Frozen):
    """The tables in force on one date of service."""

    day: date
    profile: PayerProfile
    catalogue: CodeCatalogue
    pairs: NcciTable
    mue: MueTable
    fees: FeeSchedule | None

    def fee(self, code: str) -> Decimal | None:
        """Return the allowed amount of one unit of a code on this date, if the schedule has one."""
        return self.fees.fee(code, self.day.year) if self.fees is not None else None


class BillingRules(Frozen):
    """Every table a payer's bills depend on: profile, codes, NCCI pairs, MUE, thresholds, fees."""

    profile: PayerProfile
    profile_found: bool = True
    catalogue: CodeCatalogue
    pair_versions: tuple[NcciTable, ...]
    mue_versions: tuple[MueTable, ...]
    thresholds: TherapyThresholds
    fee_dirs: tuple[Path, ...] = ()

    @property
    def fees(self) -> FeeSchedule | None:
        """The fee schedule of the profile's undated part (a period may name another)."""
        return self._fees(self.profile)

    def _fees(self, profile: PayerProfile) -> FeeSchedule | None:
        if not profile.fee_schedule:
            return None
        return load_fee_schedule(profile.fee_schedule, self.fee_dirs)

    def on(self, day: date) -> DayRules:
        """Return the tables in force on a date of service."""
        profile = self.profile.on(day)
        return DayRules(
            day=day,
            profile=profile,
            catalogue=self.catalogue,
            pairs=version_on(tuple(("", t) for t in self.pair_versions), day)[1],
            mue=version_on(tuple(("", t) for t in self.mue_versions), day)[1],
            fees=self._fees(profile),
        )

    def kx_on(self, day: date) -> bool:
        """Tell whether the payer wants KX above the threshold on a date of service."""
        return self.profile.on(day).kx_threshold

    def tables(self, days: Sequence[date] = ()) -> dict[str, str]:
        """Name the version and effective date of each table used for the given dates of service."""
        profile = self.profile
        periods = [p for p in profile.periods if any(p.in_force(d) for d in days)]
        tables = {
            "payer": f"{profile.payer_id} {profile.version} (effective {profile.effective})"
            + "".join(
                f"; period from {p.effective_from}{f' to {p.effective_to}' if p.effective_to else ''}"
                for p in periods
            ),
            "codes": f"{self.catalogue.version} (effective {self.catalogue.effective})",
            "thresholds": f"{self.thresholds.version} (effective {self.thresholds.effective})",
        }
        tables["ncci_pairs"] = _used(self.pair_versions, days)
        tables["mue"] = _used(self.mue_versions, days)
        schedules = [self._fees(profile.on(d)) for d in days] if days else [self.fees]
        named = dict.fromkeys(
            f"{f.version}{' EXAMPLE' if f.example else ''} (effective {f.effective})"
            for f in schedules
            if f is not None
        )
        if named:
            tables["fees"] = "; ".join(named)
        return tables


def _used(versions: tuple[NcciTable, ...] | tuple[MueTable, ...], days: Sequence[date]) -> str:
    """Name the versions of a dated table in force on the given dates (the newest without dates)."""
    tables: list[NcciTable | MueTable] = list(versions)
    chosen: list[NcciTable | MueTable] = []
    for day in days:
        chosen.append(next((t for t in reversed(tables) if t.effective <= day), tables[0]))
    used = {f"{t.version} (effective {t.effective})": t.effective for t in chosen or [tables[-1]]}
    return "; ".join(sorted(used, key=lambda k: used[k]))


def billing_rules(payer: PayerRef, payer_dirs: Sequence[Path] = ()) -> BillingRules:
    """Load the tables for a payer: its profile (shipped or a clinic's) and the files it names."""
    dirs = tuple(payer_dirs)
    profile = payer_profiles(dirs).get(payer.payer_id)
    found = profile is not None
    if profile is None:
        profile = PayerProfile(
            payer_id=payer.payer_id,
            name=payer.name or payer.payer_id,
            version="none",
            effective=date(1990, 1, 1),
            unit_rule=payer.unit_rule or "cms",
        )
    return BillingRules(
        profile=profile,
        profile_found=found,
        catalogue=code_catalogue(),
        pair_versions=tuple(t for _, t in ncci_versions()),
        mue_versions=tuple(t for _, t in mue_versions()),
        thresholds=therapy_thresholds(),
        fee_dirs=dirs,
    )


__all__ = ["BillingRules", "DayRules", "billing_rules"]
