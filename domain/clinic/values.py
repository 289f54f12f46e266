"""The clinic's identity values: NPI (with its check digit), tax id, taxonomy, address, place of service."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from domain.values import Frozen, Identifier, Name

# The NPI's check digit is the Luhn check digit of the card-issuer prefix 80840 followed by
# the NPI's first nine digits (CMS, "Requirements for National Provider Identifier check digit").
NPI_PREFIX = "80840"


def luhn_valid(digits: str) -> bool:
    """Tell whether a string of digits ends in its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_check_digit(first_nine: str) -> str:
    """Return the check digit that completes a 9-digit NPI base."""
    return next(d for d in "0123456789" if luhn_valid(NPI_PREFIX + first_nine + d))


def _check_npi(value: str) -> str:
    if not luhn_valid(NPI_PREFIX + value):
        raise ValueError(
            f"{value} fails the NPI check digit (Luhn with prefix 80840; "
            f"{value[:9]} needs check digit {npi_check_digit(value[:9])})"
        )
    return value


# A National Provider Identifier: 10 digits, the last the check digit.
CheckedNpi = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{10}$"), AfterValidator(_check_npi)
]
# An employer identification number (EIN) or SSN, as 9 digits (a hyphen after the 2nd digit is dropped).
TaxId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2}-?[0-9]{7}$"),
    AfterValidator(lambda v: v.replace("-", "")),
]
# A Health Care Provider Taxonomy code (NUCC): 225100000X physical therapist, 261QR0400X rehab clinic.
Taxonomy = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[0-9]{3}[0-9A-Za-z]{6}[Xx]$")
]
# A CMS place-of-service code: 11 office, 22 on-campus outpatient hospital, 12 home...
PlaceOfService = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2}$")]
State = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
# The 837P wants the billing provider's ZIP+4: 9 digits (a hyphen after the 5th is dropped).
Zip = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}(-?[0-9]{4})?$"),
    AfterValidator(lambda v: v.replace("-", "")),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{10}$")]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=55)]


class Address(Frozen):
    """A street address in the United States."""

    line1: Line
    line2: Line | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=30)]
    state: State
    zip: Zip


class BillingProviderFields(Frozen):
    """The billing provider: the organisation (or person) the payer pays."""

    name: Name
    npi: CheckedNpi
    tax_id: TaxId
    taxonomy: Taxonomy
    address: Address
    place_of_service: PlaceOfService = "11"
    phone: Phone | None = None


class RenderingProviderFields(Frozen):
    """A therapist who furnishes visits (`provider_id` as the visits name them)."""

    provider_id: Identifier
    first_name: Name
    last_name: Name
    npi: CheckedNpi
    taxonomy: Taxonomy | None = None


class PhysicianFields(Frozen):
    """A referring or certifying physician (or NPP), by the `provider_id` the episodes give."""

    provider_id: Identifier
    first_name: Name
    last_name: Name
    npi: CheckedNpi
