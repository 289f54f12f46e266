"""The internal review report: an episode's findings grouped by rule, the money they put at risk, the fix.

The payer packet (`projections.interop.packet`) is the record as a payer's reviewer
reads it; this report is the clinic's own pre-billing review and never goes to the
payer. One row per rule, with the visits it hits; a visit's money is its allowed
amount on the bill (`domain.billing.bill`): the visits an error hits would be denied
as billed, the visits only warnings hit are at risk in review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.findings import RULES, SEVERITIES
from projections.interop.packet.gather import PacketData, gather
from projections.interop.packet.render import badge, date_range, e, money, section, table, when
from projections.interop.packet.style import html_page

if TYPE_CHECKING:
    from projections.store.root import Store

ZERO = Decimal("0")


@dataclass(frozen=True)
class RuleRow:
    """One rule's findings on the episode: the visits it hits, the money on them, the fix."""

    rule_id: str
    severity: str
    title: str
    count: int
    visits: tuple[date, ...]
    episode_level: bool
    at_risk: Decimal
    message: str
    fix: str
    source: str


@dataclass(frozen=True)
class Review:
    """The review of one episode: its rows by rule and the money at stake."""

    data: PacketData
    rows: tuple[RuleRow, ...]
    counts: dict[str, int]
    denied: Decimal
    denied_visits: int
    at_risk: Decimal
    at_risk_visits: int
    amounts_complete: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the review as JSON-ready values."""
        episode = self.data.episode
        return {
            "episode_id": str(episode.id),
            "patient_ref": episode.patient_ref,
            "version": episode.version,
            "counts": self.counts,
            "denied": {"visits": self.denied_visits, "allowed_amount": str(self.denied)},
            "at_risk": {"visits": self.at_risk_visits, "allowed_amount": str(self.at_risk)},
            "amounts_complete": self.amounts_complete,
            "rules": [
                {
                    "rule_id": r.rule_id,
                    "severity": r.severity,
                    "title": r.title,
                    "findings": r.count,
                    "visits": [str(d) for d in r.visits],
                    "episode_level": r.episode_level,
                    "allowed_amount_at_risk": str(r.at_risk),
                    "message": r.message,
                    "fix": r.fix,
                    "source": r.source,
                }
                for r in self.rows
            ],
        }


def review(
    store: Store, episode_id: UUID, as_of: datetime | None = None, now: datetime | None = None
) -> Review:
    """Review an episode (as it stands, or as it stood at recorded time `as_of`)."""
    data = gather(store, episode_id, as_of, now)
    allowed = {v.date_of_service: v.allowed_amount for v in data.bill.visits}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for finding in data.findings["findings"]:
        grouped.setdefault(finding["rule_id"], []).append(finding)
    rows = []
    for rule_id, found in grouped.items():
        days = sorted({date.fromisoformat(str(f["date_of_service"])) for f in found if f["date_of_service"]})
        severity = min((f["severity"] for f in found), key=SEVERITIES.index)
        known = RULES.get(rule_id)
        rows.append(
            RuleRow(
                rule_id=rule_id,
                severity=severity,
                title=known.title if known else rule_id,
                count=len(found),
                visits=tuple(days),
                episode_level=any(not f["date_of_service"] for f in found),
                at_risk=sum((allowed.get(d, ZERO) for d in days), ZERO),
                message=found[0]["message"],
                fix=found[0]["fix"],
                source=found[0]["source"],
            )
        )
    rows.sort(key=lambda r: (SEVERITIES.index(r.severity), -r.at_risk, -len(r.visits), r.rule_id))
    denied_days = {d for r in rows if r.severity == "error" for d in r.visits}
    risky_days = {d for r in rows if r.severity == "warning" for d in r.visits} - denied_days
    return Review(
        data=data,
        rows=tuple(rows),
        counts=dict(data.findings["counts"]),
        denied=sum((allowed.get(d, ZERO) for d in denied_days), ZERO),
        denied_visits=len(denied_days),
        at_risk=sum((allowed.get(d, ZERO) for d in risky_days), ZERO),
        at_risk_visits=len(risky_days),
        amounts_complete=all(v.amounts_complete for v in data.bill.visits),
    )


def spans(days: tuple[date, ...]) -> str:
    """Name a set of visit dates briefly: `2026-03-03, 2026-03-05 … 2026-04-16 (14 visits)`."""
    if not days:
        return "the episode"
    if len(days) <= 3:
        return ", ".join(str(d) for d in days)
    return f"{days[0]}, {days[1]} … {days[-1]} ({len(days)} visits)"


def verdict(r: Review) -> str:
    """Say in one line what the review found and what is at stake."""
    c = r.counts
    found = f"{c.get('error', 0)} errors, {c.get('warning', 0)} warnings, {c.get('info', 0)} info"
    lower = "" if r.amounts_complete else " (some fees unknown: a lower bound)"
    return (
        f"{found} under {len(r.rows)} rules. Would be denied as billed: {r.denied_visits} visits, "
        f"{money(r.denied)} allowed; at risk in review: {r.at_risk_visits} more visits, "
        f"{money(r.at_risk)}{lower}."
    )


def review_html(r: Review) -> str:
    """Return the review as one self-contained HTML document (inline CSS, made to print)."""
    data = r.data
    episode = data.episode
    rows = [
        [
            badge(x.severity, x.severity),
            f"<strong>{e(x.title)}</strong><br><code>{e(x.rule_id)}</code><br>{e(x.message)}",
            e(spans(x.visits)) + (" and the episode" if x.episode_level and x.visits else ""),
            money(x.at_risk) if x.visits else "-",
            e(x.fix),
            e(x.source),
        ]
        for x in r.rows
    ]
    state = (
        f"as it stood at {e(when(data.as_of))} (version {episode.version} of {data.current_version})"
        if data.as_of is not None
        else f"as it stands (version {episode.version}, last recorded {e(when(episode.modified_on))})"
    )
    body = (
        "<header>"
        f"<h1>Pre-billing review: episode {e(episode.id)}</h1>"
        f'<p class="lead">Patient {e(episode.patient_ref)} · {e(episode.discipline)} · payer '
        f"{e(episode.payer.name or episode.payer.payer_id)} · {e(date_range(data))}</p>"
        f"<p><strong>Internal: the clinic's own review, not for the payer.</strong> The record {state}; "
        f"prepared {e(when(data.generated_at))}. Scope: {e(data.findings_scope)}.</p></header>"
        + section("verdict", "What is at stake", f'<p class="verdict">{e(verdict(r))}</p>')
        + section(
            "rules",
            "Findings by rule",
            table(["", "rule", "visits", "at risk", "fix", "source"], rows, (3,))
            if rows
            else "<p>No finding.</p>",
        )
    )
    title = f"Review — {episode.patient_ref} — episode {str(episode.id)[:8]}"
    running = f"Internal review · patient {episode.patient_ref} · episode {str(episode.id)[:8]}"
    return html_page(e(title), running, body)


__all__ = ["Review", "RuleRow", "review", "review_html", "spans", "verdict"]
