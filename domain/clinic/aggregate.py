"""The clinic aggregate: one per store, its identity facts as events (docs/decisions/0010-clinic-identity.md).

Event topics (`domain.clinic.aggregate:Clinic.BillingProviderRecorded`) are
stored in every row: never rename or move these classes without registering the
old topic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate

from domain.clinic.values import BillingProviderFields, PhysicianFields, RenderingProviderFields
from domain.recording import CommandMeta, record_event
from domain.values import Frozen, UserId

# The topics of the clinic's events (what the episode read models skip).
CLINIC_TOPICS = "domain.clinic."

# The store's one clinic.
CLINIC_ID = uuid5(UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8"), "https://careledger.invalid/clinic")


class Recorded(Frozen):
    """Who recorded a fact of the clinic, and when."""

    event_version: int
    recorded_at: datetime
    recorded_by: str


class BillingProvider(BillingProviderFields):
    """The billing provider as the clinic last recorded it."""

    recorded: Recorded


class RenderingProvider(RenderingProviderFields):
    """A rendering provider as the clinic last recorded them."""

    recorded: Recorded


class Physician(PhysicianFields):
    """A referring or certifying physician as the clinic last recorded them."""

    recorded: Recorded


class Clinic(BaseAggregate[UUID]):
    """The clinic's identity: its billing provider, rendering providers and physicians."""

    class Event(Frozen, CanMutateAggregate[UUID]):
        """Base of the clinic's events: which command made it, and who."""

        originator_id: UUID
        originator_version: int
        timestamp: datetime
        command_id: UUID
        command_digest: str
        recorded_by: UserId

        def apply(self, aggregate: Any) -> None:
            clinic: Clinic = aggregate
            clinic.commands[str(self.command_id)] = self.command_digest
            self.update(clinic)

        def update(self, clinic: Clinic) -> None:
            """Change the clinic's state; overridden by each event."""

        def recorded(self) -> Recorded:
            """Return who recorded this event, and when."""
            return Recorded(
                event_version=self.originator_version,
                recorded_at=self.timestamp,
                recorded_by=self.recorded_by,
            )

    class Started(Event, CanInitAggregate[UUID]):
        """The store's clinic began recording its identity (with its first fact)."""

        originator_topic: str

    class BillingProviderRecorded(Event, BillingProviderFields):
        """The billing provider's name, NPI, tax id, taxonomy, address and place of service."""

        def update(self, clinic: Clinic) -> None:
            clinic.billing_provider = BillingProvider(
                **self.model_dump(include=set(BillingProviderFields.model_fields)), recorded=self.recorded()
            )

    class RenderingProviderRecorded(Event, RenderingProviderFields):
        """A rendering provider's name, NPI and taxonomy."""

        def update(self, clinic: Clinic) -> None:
            clinic.providers[self.provider_id] = RenderingProvider(
                **self.model_dump(include=set(RenderingProviderFields.model_fields)), recorded=self.recorded()
            )

    class PhysicianRecorded(Event, PhysicianFields):
        """A referring or certifying physician's name and NPI."""

        def update(self, clinic: Clinic) -> None:
            clinic.physicians[self.provider_id] = Physician(
                **self.model_dump(include=set(PhysicianFields.model_fields)), recorded=self.recorded()
            )

    def __init__(self) -> None:
        self.commands: dict[str, str] = {}
        self.billing_provider: BillingProvider | None = None
        self.providers: dict[str, RenderingProvider] = {}
        self.physicians: dict[str, Physician] = {}

    @classmethod
    def start(cls, meta: CommandMeta) -> Clinic:
        """Start the store's clinic (its first command does)."""
        clinic: Clinic = cls._create(
            cls.Started,
            id=CLINIC_ID,
            timestamp=meta.timestamp,
            command_id=meta.command_id,
            command_digest=meta.command_digest,
            recorded_by=meta.recorded_by,
        )
        return clinic

    def record_billing_provider(self, fields: BillingProviderFields, meta: CommandMeta) -> None:
        """Record the billing provider (a later record replaces it from its recorded time on)."""
        self._record(self.BillingProviderRecorded, meta, fields, BillingProviderFields)

    def record_rendering_provider(self, fields: RenderingProviderFields, meta: CommandMeta) -> None:
        """Record a rendering provider's identity."""
        self._record(self.RenderingProviderRecorded, meta, fields, RenderingProviderFields)

    def record_physician(self, fields: PhysicianFields, meta: CommandMeta) -> None:
        """Record a referring or certifying physician's identity."""
        self._record(self.PhysicianRecorded, meta, fields, PhysicianFields)

    def _record(
        self, event_class: type[Clinic.Event], meta: CommandMeta, fields: Frozen, fields_class: type[Frozen]
    ) -> None:
        values = {name: getattr(fields, name) for name in fields_class.model_fields}
        record_event(self, event_class, meta, values)

    def as_dict(self) -> dict[str, Any]:
        """Return the clinic's identity as JSON-ready values."""
        return {
            "version": self.version,
            "billing_provider": (
                self.billing_provider.model_dump(mode="json") if self.billing_provider else None
            ),
            "rendering_providers": {k: v.model_dump(mode="json") for k, v in sorted(self.providers.items())},
            "physicians": {k: v.model_dump(mode="json") for k, v in sorted(self.physicians.items())},
        }
