"""docs/rules.md#modifier-use, docs/rules.md#modifiers: KX above the annual therapy threshold, and KX without
necessity.

KX depends on the beneficiary's other episodes (their allowed amounts count
toward the threshold), so these checks take each visit's facts (`KxVisit`) and
the other episodes' amounts (`Accrual`s) rather than the episode itself: the
engine builds them from an episode, and the findings read model stores them per
visit so a query can add the other episodes. The walk is `domain.billing.threshold`'s.

- `modifier.kx_missing` (error): the year-to-date amount is above the threshold
  with this visit, and a billable line is written with modifiers but without KX.
- `modifier.kx_without_necessity` (error): the visit's lines carry KX (given by
  the threshold, or written on the note) and its necessity statement is missing
  or vague (docs/rules.md#necessity): KX attests a necessity the record does not show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.billing.bill import BillingRules
from domain.billing.threshold import Accrual, Standing, standings
from domain.findings.model import Evidence, Finding
from domain.rules.checks import rule

RULE_IDS = ("modifier.kx_missing", "modifier.kx_without_necessity")


@dataclass(frozen=True, slots=True)
class KxVisit:
    """What the KX checks need of one visit."""

    date_of_service: date
    allowed_amount: Decimal
    complete: bool
    necessity: str
    billable: tuple[str, ...]
    written_kx: tuple[str, ...]
    written_without_kx: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-ready values stored in the read model."""
        return {
            "billable": list(self.billable),
            "written_kx": list(self.written_kx),
            "written_without_kx": list(self.written_without_kx),
            "evidence": [[e.version, e.what] for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class KxEpisode:
    """An episode's visits as the KX checks see them, and whose threshold they count toward."""

    episode_id: str
    patient_ref: str
    payer_id: str
    discipline: str
    visits: tuple[KxVisit, ...]

    def accruals(self, group: str) -> list[Accrual]:
        """Return this episode's allowed amounts toward the beneficiary's threshold group."""
        return [
            Accrual(
                episode_id=self.episode_id,
                date_of_service=v.date_of_service,
                group=group,
                amount=v.allowed_amount,
                complete=v.complete,
            )
            for v in self.visits
        ]


def check(episode: KxEpisode, prior: Sequence[Accrual], rules: BillingRules) -> list[Finding]:
    """Walk the visits against the threshold and check KX on each (docs/rules.md#modifiers,
    docs/rules.md#modifier-use).
    """
    visits = sorted(episode.visits, key=lambda v: v.date_of_service)
    group = rules.thresholds.group_of(episode.discipline)
    walked, _, _ = standings(
        [(v.date_of_service, v.allowed_amount, v.complete) for v in visits],
        group,
        prior,
        rules.thresholds,
        rules.profile.kx_threshold,
    )
    found: list[Finding] = []
    for visit, standing in zip(visits, walked, strict=True):
        kx = standing.kx and bool(visit.billable)
        where = _where(group, standing)
        if (kx or visit.written_kx) and visit.necessity != "ok":
            why = where if kx else f"the note writes KX on {', '.join(visit.written_kx)}"
            found.append(
                _finding(
                    episode,
                    visit,
                    "modifier.kx_without_necessity",
                    f"KX is on this visit's lines ({why}) but its necessity statement is {visit.necessity}: "
                    "KX attests that the services are medically necessary, and the record must show it.",
                    "Complete the necessity statement before billing with KX: why the care is still needed, "
                    "tied to the diagnosis and a functional limitation (see the necessity finding of this "
                    "visit for the command). KX without documented necessity is treated as abuse.",
                    "KX",
                )
            )
        if kx and visit.written_without_kx:
            codes = ", ".join(visit.written_without_kx)
            found.append(
                _finding(
                    episode,
                    visit,
                    "modifier.kx_missing",
                    f"{where}, but {codes} {'is' if len(visit.written_without_kx) == 1 else 'are'} written "
                    "without KX: above the threshold a line without KX is denied.",
                    "Add KX to every billable line from this visit on for the rest of the year "
                    "(careledger bill "
                    "shows where KX starts and why), or leave the note's modifiers empty and let careledger "
                    "give them; make sure the necessity statement supports it.",
                    codes,
                )
            )
    return found


def _where(group: str, standing: Standing) -> str:
    if standing.threshold is None:
        return f"the {standing.date_of_service.year} threshold is unknown"
    return (
        f"the {standing.date_of_service.year} {group} allowed amount reaches "
        f"${standing.after:,.2f} with this "
        f"visit, above the ${standing.threshold:,.2f} threshold"
    )


def _finding(
    episode: KxEpisode, visit: KxVisit, rule_id: str, message: str, fix: str, subject: str
) -> Finding:
    info = rule(rule_id)
    return Finding(
        rule_id=rule_id,
        severity=info.severity,
        episode_id=episode.episode_id,
        date_of_service=visit.date_of_service,
        on=visit.date_of_service,
        message=message,
        fix=fix,
        source=info.source,
        evidence=visit.evidence,
        subject=subject,
    )


__all__ = ["RULE_IDS", "KxEpisode", "KxVisit", "check"]
