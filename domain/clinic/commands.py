"""The clinic's commands: JSON documents like the episodes' (docs/decisions/0010-clinic-identity.md).

Each names the `Clinic` method that decides it. They are kept apart from the
episode commands (`domain.episode.commands.COMMANDS`): they name no episode.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from domain.clinic.values import BillingProviderFields, PhysicianFields, RenderingProviderFields
from domain.values import Frozen, UserId, command_digest

CLINIC_COMMANDS: dict[str, type[ClinicCommand]] = {}


class ClinicCommand(Frozen):
    """Base of the clinic's commands: its id (for idempotency) and its author."""

    command: str
    command_id: UUID
    recorded_by: UserId

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register a concrete clinic command."""
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["command"].default
        if isinstance(name, str):
            CLINIC_COMMANDS[name] = cls

    def digest(self) -> str:
        """Return a hash of the command's canonical JSON, to tell a replay from a reuse."""
        return command_digest(self, self.command)


class RecordBillingProvider(ClinicCommand, BillingProviderFields):
    """Record the clinic's billing provider: name, NPI, tax id, taxonomy, address, place of service."""

    command: Literal["record_billing_provider"] = "record_billing_provider"


class RecordRenderingProvider(ClinicCommand, RenderingProviderFields):
    """Record a rendering provider: the provider_id visits name, their name, NPI and taxonomy."""

    command: Literal["record_rendering_provider"] = "record_rendering_provider"


class RecordPhysician(ClinicCommand, PhysicianFields):
    """Record a referring or certifying physician: the provider_id episodes name, name and NPI."""

    command: Literal["record_physician"] = "record_physician"
