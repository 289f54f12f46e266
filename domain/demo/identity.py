"""The demo clinic's identity: realistic, valid and obviously fictitious.

Every NPI is in the 199900xxxx range with a correct check digit (none is any
real provider's), the tax id starts with 00 (no EIN does) and the address is on
"Example Way". Recorded before the demo's first episode.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from domain.clinic.commands import (
    ClinicCommand,
    RecordBillingProvider,
    RecordPhysician,
    RecordRenderingProvider,
)
from domain.clinic.values import Address

RECORDED_BY = "office-manager"
PT, OT = "225100000X", "225X00000X"
PTA, OTA = "225200000X", "224Z00000X"

# provider id -> (first name, last name, NPI, taxonomy)
THERAPISTS = {
    "pt-rivera": ("Maria", "Rivera", "1999000023", PT),
    "pta-chen": ("Wei", "Chen", "1999000031", PTA),
    "pt-brooks": ("Jordan", "Brooks", "1999000049", PT),
    "ot-nguyen": ("Linh", "Nguyen", "1999000056", OT),
    "ota-lopez": ("Sofia", "Lopez", "1999000064", OTA),
}
PHYSICIANS = {
    "dr-osei": ("Ama", "Osei", "1999000072"),
    "dr-kim": ("Daniel", "Kim", "1999000080"),
    "dr-patel": ("Priya", "Patel", "1999000098"),
}


def _id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://careledger.invalid/demo/clinic/{name}")


def demo_identity() -> list[ClinicCommand]:
    """Return the commands that record the demo clinic's billing provider, therapists and physicians."""
    commands: list[ClinicCommand] = [
        RecordBillingProvider(
            command_id=_id("billing-provider"),
            recorded_by=RECORDED_BY,
            name="Riverbend Physical Therapy (fictitious)",
            npi="1999000015",
            tax_id="000000001",
            taxonomy="261QR0400X",
            address=Address(line1="100 Example Way", city="Springfield", state="IL", zip="627010001"),
            place_of_service="11",
            phone="2175550100",
        )
    ]
    for provider_id, (first, last, npi, taxonomy) in THERAPISTS.items():
        commands.append(
            RecordRenderingProvider(
                command_id=_id(provider_id),
                recorded_by=RECORDED_BY,
                provider_id=provider_id,
                first_name=first,
                last_name=last,
                npi=npi,
                taxonomy=taxonomy,
            )
        )
    for provider_id, (first, last, npi) in PHYSICIANS.items():
        commands.append(
            RecordPhysician(
                command_id=_id(provider_id),
                recorded_by=RECORDED_BY,
                provider_id=provider_id,
                first_name=first,
                last_name=last,
                npi=npi,
            )
        )
    return commands
