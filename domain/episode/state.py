"""What an episode holds, declared once, and what a command brings besides its fields.

`EpisodeAttributes` is the runtime state of an `Episode` (the aggregate inherits
it): every attribute is declared and initialised here and changed only by the
events' `update` methods. The invariants (`domain.episode.invariants`) read it.
`CommandMeta` is what the application adds to a command's fields when it is
decided: identity, author, the recorded time and the clinic's calendar date then.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.records import (
    Certification,
    Discharge,
    Exercise,
    Hold,
    Outcome,
    Plan,
    ProgressReport,
    ReEvaluation,
    Remittance,
    Visit,
)
from domain.values import Diagnosis, PayerRef, Provider

EARLIEST_DATE = date(1990, 1, 1)


class CommandMeta(NamedTuple):
    """What the application adds to a command's fields: identity, author and time."""

    command_id: UUID
    command_digest: str
    recorded_by: str
    timestamp: datetime
    today: date


class EpisodeAttributes:
    """The state of an episode of care: its facts, as the events left them."""

    def __init__(self) -> None:
        self.patient_ref = ""
        # who opened the episode (the Opened event's author); None in a snapshot written before it was kept
        self.opened_by: str | None = None
        self.discipline = ""
        self.payer = PayerRef(payer_id="unknown")
        self.diagnoses: tuple[Diagnosis, ...] = ()
        self.referring_provider: Provider | None = None
        self.certifying_provider: Provider | None = None
        self.start_date = EARLIEST_DATE
        self.status = "active"
        self.plans: list[Plan] = []
        self.certifications: list[Certification] = []
        # A plain dict, or the notes of a snapshot read when first needed (domain/episode/lazy.py).
        self.visits: MutableMapping[date, Visit] = {}
        self.exercises: dict[str, Exercise] = {}
        self.outcomes: list[Outcome] = []
        self.progress_reports: list[ProgressReport] = []
        self.reevaluations: list[ReEvaluation] = []
        self.holds: list[Hold] = []
        self.discharge: Discharge | None = None
        self.commands: dict[str, str] = {}
        self.voided_visits: list[Visit] = []
        self.remittances: list[Remittance] = []

    @property
    def last_visit_date(self) -> date | None:
        """The latest date of service, if any visit is recorded."""
        return max(self.visits, default=None)

    def state_values(self) -> dict[str, Any]:
        """Return the episode's state attributes by name (`visits` as held, perhaps lazy)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}
