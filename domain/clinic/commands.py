"""The clinic's commands: JSON documents like the episodes' (docs/decisions/0010-clinic-identity.md).

Each names the `Clinic` method that decides it. They are kept apart from the
episode commands (`domain.episode.commands.COMMANDS`): they name no episode.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from domain.clinic.values import BillingProviderFields, PhysicianFields, RenderingProviderFields
from domain.values import CommandDocument

CLINIC_COMMANDS: dict[str, type[ClinicCommand]] = {}


class ClinicCommand(CommandDocument):
    """Base of the clinic's commands: its id (for idempotency) and its author."""

    registry: ClassVar[dict[str, Any]] = CLINIC_COMMANDS


class RecordBillingProvider(ClinicCommand, BillingProviderFields):
    """Record the clinic's billing provider: name, NPI, tax id, taxonomy, address, place of service."""

    command: Literal["record_billing_provider"] = "record_billing_provider"


class RecordRenderingProvider(ClinicCommand, RenderingProviderFields):
    """Record a rendering provider: the provider_id visits name, their name, NPI and taxonomy."""

    command: Literal["record_rendering_provider"] = "record_rendering_provider"


class RecordPhysician(ClinicCommand, PhysicianFields):
    """Record a referring or certifying physician: the provider_id episodes name, name and NPI."""

    command: Literal["record_physician"] = "record_physician"
