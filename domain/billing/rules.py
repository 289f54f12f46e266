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

from domain.errors import InvalidInput
from domain.rules.catalogue import (
    CHARGE_MASTER,
    CHARGE_MASTER_EXAMPLE,
    CodeCatalogue,
    FeeSchedule,
    MueTable,
    NcciTable,
    PayerProfile,
    TherapyThresholds,
    code_catalogue,
    load_charge_master,
    load_fee_schedule,
    mue_versions,
    ncci_versions,
    payer_profile_files,
    payer_profiles,
    table_origin,
    therapy_thresholds,
    threshold_versions,
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
    charges: FeeSchedule | None = None

    def fee(self, code: str) -> Decimal | None:
        """Return the allowed amount of one unit of a code on this date, if the schedule has one."""
        return self.fees.fee(code, self.day.year) if self.fees is not None else None

    def charge(self, code: str) -> Decimal | None:
        """Return the billed charge of one unit of a code on this date, if the charge master has one."""
        return self.charges.fee(code, self.day.year) if self.charges is not None else None


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
            charges=load_charge_master(self.fee_dirs),
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
        charges = load_charge_master(self.fee_dirs)
        tables["charges"] = (
            f"{charges.version}{' EXAMPLE' if charges.example else ''} (effective {charges.effective})"
        )
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


class TableInForce(Frozen):
    """One rule table as it stands on a date: its version, dates and the file it came from."""

    table: str
    version: str
    effective: date
    origin: str
    detail: str = ""


def tables_in_force(
    day: date, payer_ids: Sequence[str] = (), payer_dirs: Sequence[Path] = ()
) -> list[TableInForce]:
    """List every rule table in force on a date of service, and where each came from."""
    dirs = tuple(payer_dirs)
    catalogue = code_catalogue()
    valid = sum(1 for info in catalogue.codes.values() if info.in_force(day))
    found = [
        TableInForce(
            table="codes",
            version=catalogue.version,
            effective=catalogue.effective,
            origin=table_origin("codes.toml"),
            detail=f"{valid} of {len(catalogue.codes)} codes valid on {day}",
        )
    ]
    for name, (origin, table) in (
        ("ncci_pairs", version_on(ncci_versions(), day)),
        ("mue", version_on(mue_versions(), day)),
    ):
        found.append(
            TableInForce(table=name, version=table.version, effective=table.effective, origin=origin)
        )
    thresholds = therapy_thresholds()
    amount = thresholds.years.get(day.year)
    groups = " and ".join(sorted(set(thresholds.groups.values())))
    found.append(
        TableInForce(
            table="thresholds",
            version=thresholds.version,
            effective=thresholds.effective,
            origin=", ".join(origin for origin, _ in threshold_versions()),
            detail=f"{day.year}: ${amount:,} for each of {groups}"
            if amount is not None
            else f"no threshold for {day.year}: KX is undetermined",
        )
    )
    files = payer_profile_files(dirs)
    for payer_id in payer_ids or sorted(files):
        if payer_id not in files:
            raise InvalidInput("payer", f"'{payer_id}' has no profile (known: {', '.join(sorted(files))})")
        origin, base = files[payer_id]
        profile = base.on(day)
        periods = [p for p in base.periods if p.in_force(day)]
        cq = (
            f"CQ/CO {profile.assistant_test} test, {profile.assistant_allowed_percent}%"
            if profile.assistant_modifiers
            else "no CQ/CO"
        )
        notes = "; ".join(p.note for p in periods if p.note)
        found.append(
            TableInForce(
                table=f"payer {payer_id}",
                version=profile.version,
                effective=periods[-1].effective_from if periods else profile.effective,
                origin=origin,
                detail=f"{profile.unit_rule} units; {cq}; KX {'on' if profile.kx_threshold else 'off'}"
                + (f" ({notes})" if notes else ""),
            )
        )
        if profile.fee_schedule:
            fees = load_fee_schedule(profile.fee_schedule, dirs)
            listed = "EXAMPLE, " if fees.example else ""
            has_year = "has" if day.year in fees.years else "has no"
            found.append(
                TableInForce(
                    table=f"fees {payer_id}",
                    version=fees.version,
                    effective=fees.effective,
                    origin=profile.fee_schedule,
                    detail=f"{listed}{has_year} {day.year} amounts",
                )
            )
    charges = load_charge_master(dirs)
    found.append(
        TableInForce(
            table="charges",
            version=charges.version,
            effective=charges.effective,
            origin=table_origin(CHARGE_MASTER_EXAMPLE if charges.example else CHARGE_MASTER),
            detail=f"{'EXAMPLE, ' if charges.example else ''}"
            f"{'has' if day.year in charges.years else 'has no'} {day.year} charges (what a claim bills)",
        )
    )
    return found


__all__ = ["BillingRules", "DayRules", "TableInForce", "billing_rules", "tables_in_force"]
