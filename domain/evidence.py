"""What proves a verdict: the events behind it, and how serious it is.

The vocabulary shared by every rule that judges the record: the clocks
(`domain.clocks.coverage`) and the documentation checks (`domain.findings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from domain.records import Visit

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One event that proves a finding: its version, what it recorded, and its clinical date.

    `episode_id` is set when the event belongs to another episode (a note copied
    from another patient's record by the same author).
    """

    version: int
    what: str
    on: date | None = None
    episode_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the evidence as JSON-ready values."""
        found: dict[str, Any] = {
            "version": self.version,
            "what": self.what,
            "date": self.on.isoformat() if self.on else None,
        }
        if self.episode_id is not None:
            found["episode_id"] = self.episode_id
        return found

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Evidence:
        """Read evidence back from its JSON values."""
        on = values.get("date")
        return cls(
            version=int(values["version"]),
            what=str(values["what"]),
            on=date.fromisoformat(on) if on else None,
            episode_id=values.get("episode_id"),
        )


def entry_evidence(visit: Visit) -> tuple[Evidence, ...]:
    """Return the events that make a visit's note what it is now: its entry and its corrections."""
    entry = "late entry" if any(a.kind == "late_entry" for a in visit.amendments) else "visit"
    found = [Evidence(visit.event_version, entry, visit.date_of_service)]
    found += [
        Evidence(a.event_version, "correction", visit.date_of_service)
        for a in visit.amendments
        if a.kind == "correction"
    ]
    return tuple(found)


def with_more(evidence: tuple[Evidence, ...], *more: Evidence) -> tuple[Evidence, ...]:
    """Return evidence and more events, each once, in order (another episode's last)."""
    if not more:
        return evidence
    return tuple(sorted({*evidence, *more}, key=lambda e: (e.episode_id or "", e.version, e.what)))


__all__ = ["SEVERITIES", "Evidence", "Severity", "entry_evidence", "with_more"]
