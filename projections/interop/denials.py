"""What payers denied, why in words, and how well `careledger check` predicted it (`careledger denials`).

A remitted line is **denied or reduced** when an adjustment other than the patient's share
(group PR) and the contract's (CARC 45, the fee schedule; 253, sequestration) takes money off it;
that adjustment's amount is what was denied. For each such line the report gives the reason codes
in words (domain/data/remittance_codes.toml, dated, with its source) and the findings `check` had
on the visit **as the record stood when the payer received the claim** (DTM*050; else when the
remittance was recorded): a note fixed by a later amendment still shows the finding that predicted
the denial. Per check rule: precision (of the remitted lines it flagged, how many were denied) and
recall (of the denied lines, how many it flagged), each with the dollars behind it.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.billing.remittance import denied_amount, is_denial, line_status
from domain.errors import InvalidInput
from domain.findings import CheckContext, check_episode
from domain.findings.engine import with_other_episodes

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode
    from domain.episode.application import Episodes
    from domain.findings.model import Finding
    from domain.records import RemitLine, Remittance


@dataclass(frozen=True)
class RemitCodes:
    """CARC and RARC descriptions, with the date and source of the list."""

    version: str
    as_of: str
    source: str
    groups: dict[str, str]
    carc: dict[str, str]
    rarc: dict[str, str]

    def reason(self, code: str) -> str:
        """Return a CARC's description."""
        return self.carc.get(code, "(no description shipped)")

    def remark(self, code: str) -> str:
        """Return a RARC's description."""
        return self.rarc.get(code, "(no description shipped)")


@cache
def remit_codes() -> RemitCodes:
    """Return the shipped CARC/RARC descriptions (domain/data/remittance_codes.toml)."""
    text = resources.files("domain").joinpath("data", "remittance_codes.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return RemitCodes(
        version=str(data["version"]),
        as_of=str(data["as_of"]),
        source=str(data["source"]),
        groups={str(k): str(v) for k, v in data["groups"].items()},
        carc={str(k): str(v) for k, v in data["carc"].items()},
        rarc={str(k): str(v) for k, v in data["rarc"].items()},
    )


def claim_moment(remittance: Remittance, timezone: Any) -> datetime:
    """The moment the claim's findings are taken at: the end of the day the payer received it
    (DTM*050, in the clinic's time zone), else when the remittance was recorded.
    """
    if remittance.claim_received_on is None:
        return remittance.recorded_at
    end = datetime.combine(remittance.claim_received_on + timedelta(days=1), time(0), tzinfo=timezone)
    return min(end - timedelta(microseconds=1), remittance.recorded_at)


class _FindingsAsOf:
    """check's findings of an episode as the store stood at a moment (every episode as of then).

    Each episode's recorded times are read once; an episode at a version is loaded once, and the
    findings of one set of versions are computed once, however many claims share them.
    """

    def __init__(self, app: Episodes, ids: list[UUID]) -> None:
        self.app = app
        self.ids = ids
        self.context = CheckContext.default(payer_dirs=app.payer_dirs)
        self.times = {i: [event.timestamp for event in app.history(i)] for i in ids}
        self.loaded: dict[tuple[UUID, int], Episode] = {}
        self.findings: dict[tuple[UUID, tuple[int, ...]], tuple[Finding, ...]] = {}

    def _at(self, episode_id: UUID, version: int) -> Episode:
        key = (episode_id, version)
        if key not in self.loaded:
            self.loaded[key] = self.app.get_episode(episode_id, version=version)
        return self.loaded[key]

    def of(self, episode_id: UUID, at: datetime) -> tuple[Finding, ...]:
        versions = tuple(bisect_right(self.times[i], at) for i in self.ids)
        key = (episode_id, versions)
        if key not in self.findings:
            mine = versions[self.ids.index(episode_id)]
            if not mine:
                self.findings[key] = ()
            else:
                episode = self._at(episode_id, mine)
                others = [
                    self._at(i, v) for i, v in zip(self.ids, versions, strict=True) if v and i != episode_id
                ]
                context = with_other_episodes(episode, others, self.context)
                self.findings[key] = check_episode(episode, context)
        return self.findings[key]


def _ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def denial_report(app: Episodes, since: date | None = None, payer: str | None = None) -> dict[str, Any]:
    """Return every remitted line (denied or not), the denied ones with reasons and the findings
    as of the claim, and the totals by reason and by check rule with precision and recall.
    """
    codes = remit_codes()
    ids = list(app.episode_ids())
    findings = _FindingsAsOf(app, ids)
    lines: list[dict[str, Any]] = []
    wanted = payer.strip().lower() if payer else None
    for episode_id in ids:
        episode = app.get_episode(episode_id)
        for remittance in episode.remittances:
            if since is not None and remittance.date_of_service < since:
                continue
            names = {
                remittance.payer_name.lower(),
                (remittance.payer_id or "").lower(),
                episode.payer.payer_id,
            }
            if wanted is not None and wanted not in names:
                continue
            at = claim_moment(remittance, app.timezone)
            on_visit = [
                f
                for f in findings.of(episode_id, at)
                if f.date_of_service in (None, remittance.date_of_service)
            ]
            for line in remittance.lines:
                lines.append(_line_row(episode, remittance, line, on_visit, at, codes))
    return {
        "codes": {"version": codes.version, "as_of": codes.as_of, "source": codes.source},
        "since": since.isoformat() if since else None,
        "payer": payer,
        **_totals(lines),
        "lines": lines,
    }


def _line_row(
    episode: Episode,
    remittance: Remittance,
    line: RemitLine,
    findings: Iterable[Finding],
    at: datetime,
    codes: RemitCodes,
) -> dict[str, Any]:
    denied = denied_amount(line)
    return {
        "episode_id": str(episode.id),
        "patient_ref": episode.patient_ref,
        "date_of_service": remittance.date_of_service.isoformat(),
        "claim_id": remittance.claim_id,
        "payer": remittance.payer_name,
        "code": line.code,
        "modifiers": list(line.modifiers),
        "charge": str(line.charge),
        "paid": str(line.paid),
        "denied": str(denied),
        "status": line_status(line),
        "adjustments": [
            {
                "group": a.group,
                "reason": a.reason,
                "amount": str(a.amount),
                "description": codes.reason(a.reason),
                "denial": is_denial(a),
            }
            for a in line.adjustments
        ],
        "remarks": [{"code": r, "description": codes.remark(r)} for r in line.remarks],
        "findings_as_of": at.isoformat(),
        "findings": sorted(
            ({"rule_id": f.rule_id, "severity": f.severity, "message": f.message} for f in findings),
            key=lambda f: (f["rule_id"], f["message"]),
        ),
        "recorded_at": remittance.recorded_at.isoformat(),
        "source_file": remittance.source_file,
    }


def _totals(lines: list[dict[str, Any]]) -> dict[str, Any]:
    codes = remit_codes()
    denied_lines = [row for row in lines if Decimal(row["denied"]) > 0]
    total_denied = sum((Decimal(row["denied"]) for row in denied_lines), Decimal(0))
    by_reason: dict[tuple[str, str], dict[str, Any]] = {}
    for row in denied_lines:
        for adjustment in row["adjustments"]:
            if adjustment["denial"]:
                key = (adjustment["group"], adjustment["reason"])
                entry = by_reason.setdefault(
                    key,
                    {
                        "group": key[0],
                        "reason": key[1],
                        "description": codes.reason(key[1]),
                        "lines": 0,
                        "amount": Decimal(0),
                    },
                )
                entry["lines"] += 1
                entry["amount"] += Decimal(adjustment["amount"])
    rules: dict[str, dict[str, Any]] = {}
    for row in lines:
        for rule_id in sorted({f["rule_id"] for f in row["findings"]}):
            entry = rules.setdefault(
                rule_id,
                {
                    "rule_id": rule_id,
                    "flagged_lines": 0,
                    "flagged_charge": Decimal(0),
                    "denied_lines": 0,
                    "denied_amount": Decimal(0),
                },
            )
            entry["flagged_lines"] += 1
            entry["flagged_charge"] += Decimal(row["charge"])
            if Decimal(row["denied"]) > 0:
                entry["denied_lines"] += 1
                entry["denied_amount"] += Decimal(row["denied"])
    by_rule = []
    for entry in sorted(rules.values(), key=lambda e: (-e["denied_amount"], e["rule_id"])):
        by_rule.append(
            {
                **entry,
                "flagged_charge": str(entry["flagged_charge"]),
                "denied_amount": str(entry["denied_amount"]),
                "precision": _ratio(entry["denied_lines"], entry["flagged_lines"]),
                "recall": _ratio(entry["denied_lines"], len(denied_lines)),
                "precision_dollars": _ratio(entry["denied_amount"], entry["flagged_charge"]),
                "recall_dollars": _ratio(entry["denied_amount"], total_denied),
            }
        )
    unseen = [row for row in denied_lines if not row["findings"]]
    return {
        "totals": {
            "lines": len(lines),
            "charge": str(sum((Decimal(r["charge"]) for r in lines), Decimal(0))),
            "paid": str(sum((Decimal(r["paid"]) for r in lines), Decimal(0))),
            "denied_lines": len(denied_lines),
            "denied": str(total_denied),
            "unseen_lines": len(unseen),
            "unseen_denied": str(sum((Decimal(r["denied"]) for r in unseen), Decimal(0))),
        },
        "by_reason": [
            {**entry, "amount": str(entry["amount"])}
            for entry in sorted(by_reason.values(), key=lambda e: (-e["amount"], e["group"], e["reason"]))
        ],
        "by_rule": by_rule,
    }


# --- the demo's remittance ---------------------------------------------------------------------------

# What the demo's payer does to a visit a finding of this rule flagged: (group, CARC, RARCs, whole visit?).
# The first that applies to a line decides it.
DEMO_DENIALS: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "time.units_exceed_minutes": ("CO", "151", ("N362",), False),
    "note.cloned": ("CO", "50", (), True),
    "modifier.missing_discipline": ("CO", "16", ("N822",), True),
    "modifier.assistant_missing": ("CO", "16", ("N822",), True),
}
# What it denies for reasons careledger cannot see, on the n-th visit (from 0) that check found clean.
DEMO_UNSEEN: dict[int, tuple[str, str, tuple[str, ...]]] = {
    2: ("CO", "29", ()),  # the time limit for filing had expired
    6: ("CO", "27", ("N30",)),  # coverage had ended
}


def demo_remittance(app: Episodes, payer_id: str = "medicare") -> str:
    """Return an 835 of the payer `payer_id` for every visit of the store billed to it.

    The payer pays each line its expected allowed amount less 20% coinsurance and denies lines
    for the reasons in `DEMO_DENIALS` on visits `check` flagged, and for eligibility and timely
    filing on visits it found clean (`DEMO_UNSEEN`), so `careledger denials` has both kinds.
    """
    from domain.billing.bill import bill_with_others, billing_rules
    from domain.episode.clinic_service import load_clinic
    from projections.interop.remit import ClaimToRemit, LineDecision, claim_to_remit, write_835

    clinic = load_clinic(app)
    if clinic is None or clinic.billing_provider is None:
        raise InvalidInput(
            "billing_provider", "no billing provider recorded (careledger clinic billing-provider)"
        )
    episodes = [app.get_episode(i) for i in app.episode_ids()]
    context = CheckContext.default(payer_dirs=app.payer_dirs)
    visits: list[tuple[Episode, Any, tuple[Finding, ...]]] = []
    for episode in episodes:
        if episode.payer.payer_id != payer_id:
            continue
        mine = [e for e in episodes if e.patient_ref == episode.patient_ref]
        bill = bill_with_others(episode, mine, billing_rules(episode.payer, app.payer_dirs))
        found = check_episode(episode, with_other_episodes(episode, episodes, context))
        for visit in bill.visits:
            on_visit = tuple(f for f in found if f.date_of_service == visit.date_of_service)
            visits.append((episode, visit, on_visit))
    visits.sort(key=lambda item: (item[1].date_of_service, str(item[0].id)))
    claims: list[ClaimToRemit] = []
    clean = 0
    last = None
    for episode, visit, on_visit in visits:
        lines = [line for line in visit.lines if line.billable and line.units > 0 and line.charge is not None]
        if not lines:
            continue
        decisions = {id(line): LineDecision() for line in lines}
        rules = {f.rule_id for f in on_visit}
        for rule_id, (group, carc, remarks, whole) in DEMO_DENIALS.items():
            if rule_id not in rules:
                continue
            if whole:
                for line in lines:
                    if not decisions[id(line)].adjustments:
                        decisions[id(line)] = LineDecision(
                            ((group, carc, line.charge or Decimal(0)),), remarks
                        )
            else:
                line = max(lines, key=lambda x: (x.units, x.code))
                unit = ((line.charge or Decimal(0)) / line.units).quantize(Decimal("0.01"))
                if not decisions[id(line)].adjustments:
                    decisions[id(line)] = LineDecision(((group, carc, unit),), remarks)
        if not on_visit:
            unseen = DEMO_UNSEEN.get(clean)
            clean += 1
            if unseen is not None:
                group, carc, remarks = unseen
                for line in lines:
                    decisions[id(line)] = LineDecision(((group, carc, line.charge or Decimal(0)),), remarks)
        claims.append(claim_to_remit(episode, visit, [(line, decisions[id(line)]) for line in lines]))
        last = visit.date_of_service if last is None else max(last, visit.date_of_service)
    if not claims or last is None:
        raise InvalidInput("payer", f"no visit of the store is billed to {payer_id}")
    provider = clinic.billing_provider
    from domain.rules.catalogue import payer_profiles

    profile = payer_profiles(app.payer_dirs).get(payer_id)
    name = profile.name if profile is not None else payer_id
    return write_835(
        claims,
        payer=(name or payer_id, payer_id.upper()),
        payee=(provider.name, provider.npi),
        paid_on=last + timedelta(days=30),
        trace_number=f"DEMO{last:%Y%m%d}",
    )
