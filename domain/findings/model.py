"""What a documentation check finds: a finding, the evidence behind it, and how findings sort.

A finding is a plain value: the rule that found it (a stable dotted id, see
`domain.rules.checks`), how serious it is, the visit (or the episode) it is
about, the events that prove it, a short quote of the offending text, the rule's
source, what is wrong and how to fix it. Findings sort most severe first, then
by date, rule id, subject and message, so any list of them has one order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.evidence import SEVERITIES, Evidence, Severity

SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
QUOTE_LENGTH = 160


@dataclass(frozen=True, slots=True)
class Finding:
    """A documentation gap a reviewer would act on, with the proof and the fix."""

    rule_id: str
    severity: Severity
    episode_id: str
    date_of_service: date | None
    on: date
    message: str
    fix: str
    source: str
    evidence: tuple[Evidence, ...]
    subject: str | None = None
    quote: str | None = None

    def sort_key(self) -> tuple[Any, ...]:
        """Most severe first, then date, rule id, subject and message."""
        return (
            SEVERITY_RANK[self.severity],
            self.on,
            self.rule_id,
            self.subject or "",
            self.message,
            self.episode_id,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready values (the `careledger check --json` shape)."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "date_of_service": self.date_of_service.isoformat() if self.date_of_service else None,
            "date": self.on.isoformat(),
            "subject": self.subject,
            "message": self.message,
            "quote": self.quote,
            "fix": self.fix,
            "source": self.source,
            "evidence": [e.as_dict() for e in self.evidence],
        }


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Return findings in their one order: most severe first, then date, rule id, subject."""
    return tuple(sorted(findings, key=Finding.sort_key))


def quote(text: str, length: int = QUOTE_LENGTH) -> str:
    """Shorten a text to a one-line quote of at most `length` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Count findings by severity (every severity present, zero included)."""
    found: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        found[finding.severity] += 1
    return found


__all__ = [
    "SEVERITIES",
    "Evidence",
    "Finding",
    "Severity",
    "counts",
    "quote",
    "sort_findings",
]
