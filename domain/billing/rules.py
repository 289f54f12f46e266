"""The rule tables one payer's bills depend on, loaded together (`BillingRules`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from domain.rules.catalogue import (
    CodeCatalogue,
    FeeSchedule,
    NcciTable,
    PayerProfile,
    TherapyThresholds,
    code_catalogue,
    load_fee_schedule,
    ncci_table,
    payer_profiles,
    therapy_thresholds,
)
from domain.values import Frozen, PayerRef


class BillingRules(Frozen):
    """Every table a bill depends on: the payer profile, codes, NCCI pairs, thresholds, fees."""

    profile: PayerProfile
    profile_found: bool = True
    catalogue: CodeCatalogue
    pairs: NcciTable
    thresholds: TherapyThresholds
    fees: FeeSchedule | None

    def tables(self) -> dict[str, str]:
        """Name the version and effective date of each table used."""
        tables = {
            "payer": f"{self.profile.payer_id} {self.profile.version} (effective {self.profile.effective})",
            "codes": f"{self.catalogue.version} (effective {self.catalogue.effective})",
            "ncci_pairs": f"{self.pairs.version} (effective {self.pairs.effective})",
            "thresholds": f"{self.thresholds.version} (effective {self.thresholds.effective})",
        }
        if self.fees is not None:
            label = " EXAMPLE" if self.fees.example else ""
            tables["fees"] = f"{self.fees.version}{label} (effective {self.fees.effective})"
        return tables


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
    fees = load_fee_schedule(profile.fee_schedule, dirs) if profile.fee_schedule else None
    return BillingRules(
        profile=profile,
        profile_found=found,
        catalogue=code_catalogue(),
        pairs=ncci_table(),
        thresholds=therapy_thresholds(),
        fees=fees,
    )


__all__ = ["BillingRules", "billing_rules"]
