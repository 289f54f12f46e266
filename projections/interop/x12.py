"""ASC X12 005010X222A1 professional claims (837P) from the billing engine's claim lines.

One claim (CLM) per date of service of each episode, one service line (SV1) per
claim line: a code whose units are split by the CQ/CO per-unit rule stays two
lines. The billed amount is the charge master's charge, never the fee schedule's
expected allowed amount (docs/billing.md#charges). A visit that is not ready is
left out and listed with the reason: an error finding of `careledger check` on
its date or on the whole episode, an undetermined KX, a missing charge, member
id or NPI (docs/billing.md#837p).

careledger keeps no patient demographics: the subscriber's name is the opaque
patient reference, and the billing system that sends the file adds the name,
address and birth date its payer needs (2010BA N3/N4/DMG).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from domain.billing.bill import bill_with_others, billing_rules
from domain.errors import InvalidInput
from domain.findings import CheckContext, check_episode
from domain.findings.engine import with_other_episodes

if TYPE_CHECKING:
    from domain.billing.bill import EpisodeBill
    from domain.billing.claims import ClaimLine, VisitBill
    from domain.clinic.aggregate import BillingProvider, Clinic
    from domain.episode.aggregate import Episode

IMPLEMENTATION = "005010X222A1"
MAX_LINES = 50
MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
# Claim filing indicator (SBR09) by payer id; anything else is commercial insurance.
FILING = {"medicare": "MB", "medicaid": "MC"}


@dataclass(frozen=True)
class LeftOut:
    """A visit that was not put on the file, and why."""

    episode_id: str
    patient_ref: str
    date_of_service: date
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """Return JSON-ready values."""
        return {
            "episode_id": self.episode_id,
            "patient_ref": self.patient_ref,
            "date_of_service": self.date_of_service.isoformat(),
            "reasons": list(self.reasons),
        }


@dataclass
class ClaimFile:
    """An 837P interchange: its text, the claims and lines on it and the visits left out."""

    text: str = ""
    claims: list[tuple[str, date, tuple[ClaimLine, ...]]] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """Return how many service lines the file bills."""
        return sum(len(lines) for _, _, lines in self.claims)


def _clean(text: str, limit: int = 60) -> str:
    """Return text in X12's character set (accents dropped: "Núñez" -> "Nunez"), without its
    delimiters, trimmed to the element's length.
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    for delimiter in "*:~^":
        text = text.replace(delimiter, " ")
    return " ".join(text.split())[:limit]


def money(amount: Decimal) -> str:
    """Return an amount as X12 writes it: dollars and cents, no sign for thousands ("1234.50")."""
    return format(amount.quantize(Decimal("0.01")), "f")


# The claim id careledger writes in CLM01 and a payer's 835 echoes in CLP01: the episode id's
# first eight hex digits and the date of service (one claim per visit).
CLAIM_ID = re.compile(r"^([0-9a-f]{8})-(\d{8})$")


def claim_id(episode_id: object, date_of_service: date) -> str:
    """Return the claim id of an episode's visit on a date of service (`CLAIM_ID`)."""
    return f"{str(episode_id)[:8]}-{date_of_service:%Y%m%d}"


class _Segments:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, *elements: str) -> None:
        parts = list(elements)
        while parts and parts[-1] == "":
            parts.pop()
        self.items.append("*".join(parts))


@dataclass(frozen=True)
class ReadyVisit:
    """A visit that can be claimed: its episode, its bill and the lines it bills."""

    bill: EpisodeBill
    episode: Episode
    visit: VisitBill
    lines: tuple[ClaimLine, ...]


def _visit_reasons(
    episode: Episode, clinic: Clinic, visit: VisitBill, errors: dict[date | None, list[str]]
) -> list[str]:
    reasons = [*errors.get(None, []), *errors.get(visit.date_of_service, [])]
    if visit.kx is None:
        reasons.append("KX is undetermined (no therapy threshold for the year)")
    reasons += [note.message for note in visit.notes if note.severity == "error"]
    lines = [line for line in visit.lines if line.billable and line.units > 0]
    reasons += [f"{line.code} has no charge in the charge master" for line in lines if line.charge is None]
    if not lines:
        reasons.append("no billable unit")
    if not episode.payer.member_id:
        reasons.append("the payer's member id is not recorded")
    rendering = _rendering_id(episode, visit)
    if rendering not in clinic.providers:
        reasons.append(f"rendering provider {rendering} has no NPI recorded (careledger clinic provider)")
    referring = episode.referring_provider
    if referring is not None and not (referring.npi or referring.provider_id in clinic.physicians):
        reasons.append(
            f"referring provider {referring.provider_id} has no NPI recorded (careledger clinic physician)"
        )
    if len(lines) > MAX_LINES:
        reasons.append(f"{len(lines)} lines, more than the {MAX_LINES} one claim holds")
    return list(dict.fromkeys(reasons))


def _rendering_id(episode: Episode, visit: VisitBill) -> str:
    """The rendering provider: the supervising therapist when the note names one, else who furnished it."""
    note = next((v for v in episode.visits.values() if v.date_of_service == visit.date_of_service), None)
    supervising = getattr(note, "supervising_provider_id", None)
    return str(supervising or visit.provider_id)


def sort_out(
    episodes: Sequence[Episode],
    others: dict[str, list[Episode]],
    clinic: Clinic,
    payer_dirs: tuple[Path, ...] = (),
    since: date | None = None,
) -> tuple[list[ReadyVisit], list[LeftOut]]:
    """Return the visits that can be claimed and those left out (with the reasons)."""
    ready: list[ReadyVisit] = []
    left: list[LeftOut] = []
    context = CheckContext.default(payer_dirs=payer_dirs)
    for episode in episodes:
        mine = others.get(episode.patient_ref, [])
        bill = bill_with_others(episode, mine, billing_rules(episode.payer, payer_dirs))
        findings = check_episode(episode, with_other_episodes(episode, mine, context))
        errors: dict[date | None, list[str]] = {}
        for finding in findings:
            if finding.severity == "error":
                errors.setdefault(finding.date_of_service, []).append(f"{finding.rule_id}: {finding.message}")
        for visit in bill.visits:
            if since is not None and visit.date_of_service < since:
                continue
            lines = tuple(line for line in visit.lines if line.billable and line.units > 0)
            reasons = _visit_reasons(episode, clinic, visit, errors)
            if reasons:
                left.append(
                    LeftOut(str(episode.id), episode.patient_ref, visit.date_of_service, tuple(reasons))
                )
            else:
                ready.append(ReadyVisit(bill, episode, visit, lines))
    return ready, left


def write_837p(
    ready: Iterable[ReadyVisit],
    left: list[LeftOut],
    clinic: Clinic,
    *,
    created: datetime,
    control_number: int = 1,
    receiver: tuple[str, str] = ("CLEARINGHOUSE", "CLEARINGHOUSE"),
    usage: str = "P",
) -> ClaimFile:
    """Return the 837P interchange of the ready visits (envelopes, billing provider, one claim each)."""
    provider = clinic.billing_provider
    if provider is None:
        raise InvalidInput(
            "billing_provider", "no billing provider recorded (careledger clinic billing-provider)"
        )
    if provider.phone is None:
        raise InvalidInput(
            "billing_provider.phone", "the 837P's submitter contact needs the billing provider's phone"
        )
    if not 1 <= control_number <= 999_999_999:
        raise InvalidInput("control_number", f"{control_number} is not between 1 and 999999999")
    result = ClaimFile(left_out=list(left))
    sender = provider.npi
    day, time = created.strftime("%Y%m%d"), created.strftime("%H%M")
    control = f"{control_number:09d}"
    envelope = [
        "ISA*00*          *00*          *ZZ*"
        f"{sender:<15}*ZZ*{_clean(receiver[0], 15):<15}*{created:%y%m%d}*{time}"
        f"*^*00501*{control}*0*{usage}*:",
        f"GS*HC*{sender}*{_clean(receiver[0], 15)}*{day}*{time}*{control_number}*X*{IMPLEMENTATION}",
    ]
    body = _Segments()
    body.add("ST", "837", "0001", IMPLEMENTATION)
    body.add("BHT", "0019", "00", control, day, time, "CH")
    body.add("NM1", "41", "2", _clean(provider.name), "", "", "", "", "46", sender)
    body.add("PER", "IC", _clean(provider.name), "TE", provider.phone)
    body.add("NM1", "40", "2", _clean(receiver[1]), "", "", "", "", "46", _clean(receiver[0], 80))
    _billing_provider(body, provider)
    hl = 1
    for item in ready:
        hl += 1
        _claim(body, item, clinic, provider, hl)
        result.claims.append((item.bill.episode_id, item.visit.date_of_service, item.lines))
    body.add("SE", str(len(body.items) + 1), "0001")
    segments = [*envelope, *body.items, f"GE*1*{control_number}", f"IEA*1*{control}"]
    result.text = "~\n".join(segments) + "~\n"
    return result


def _billing_provider(body: _Segments, provider: BillingProvider) -> None:
    body.add("HL", "1", "", "20", "1")
    body.add("PRV", "BI", "PXC", provider.taxonomy)
    body.add("NM1", "85", "2", _clean(provider.name), "", "", "", "", "XX", provider.npi)
    _address(body, provider.address.line1, provider.address.line2)
    body.add("N4", _clean(provider.address.city, 30), provider.address.state, provider.address.zip)
    body.add("REF", "EI", provider.tax_id)


def _address(body: _Segments, line1: str, line2: str | None) -> None:
    body.add("N3", _clean(line1, 55), _clean(line2, 55) if line2 else "")


def _claim(body: _Segments, item: ReadyVisit, clinic: Clinic, provider: BillingProvider, hl: int) -> None:
    episode, bill, visit = item.episode, item.bill, item.visit
    payer = episode.payer
    body.add("HL", str(hl), "1", "22", "0")
    body.add("SBR", "P", "18", "", "", "", "", "", "", FILING.get(payer.payer_id, "CI"))
    body.add(
        "NM1",
        "IL",
        "1",
        _clean(episode.patient_ref, 60),
        "",
        "",
        "",
        "",
        "MI",
        _clean(payer.member_id or "", 80),
    )
    body.add(
        "NM1",
        "PR",
        "2",
        _clean(payer.name or payer.payer_id),
        "",
        "",
        "",
        "",
        "PI",
        _clean(payer.payer_id, 80).upper(),
    )
    total = sum((line.charge or Decimal(0) for line in item.lines), Decimal(0))
    body.add(
        "CLM",
        claim_id(bill.episode_id, visit.date_of_service),
        money(total),
        "",
        "",
        f"{provider.place_of_service}:B:1",
        "Y",
        "A",
        "Y",
        "Y",
    )
    codes = [code.replace(".", "") for code in bill.diagnoses[:MAX_DIAGNOSES]]
    body.add("HI", *(f"{'ABK' if n == 0 else 'ABF'}:{code}" for n, code in enumerate(codes)))
    referring = episode.referring_provider
    if referring is not None:
        known = clinic.physicians.get(referring.provider_id)
        npi = referring.npi or (known.npi if known else "")
        last = known.last_name if known else (referring.name or referring.provider_id)
        first = known.first_name if known else ""
        body.add("NM1", "DN", "1", _clean(last, 60), _clean(first, 35), "", "", "", "XX", npi)
    rendering = clinic.providers[_rendering_id(episode, visit)]
    body.add(
        "NM1",
        "82",
        "1",
        _clean(rendering.last_name, 60),
        _clean(rendering.first_name, 35),
        "",
        "",
        "",
        "XX",
        rendering.npi,
    )
    if rendering.taxonomy:
        body.add("PRV", "PE", "PXC", rendering.taxonomy)
    for number, line in enumerate(item.lines, start=1):
        body.add("LX", str(number))
        procedure = ":".join(["HC", line.code, *line.modifiers[:MAX_MODIFIERS]])
        pointers = ":".join(str(p) for p in line.diagnosis_pointers[:4])
        body.add("SV1", procedure, money(line.charge or Decimal(0)), "UN", str(line.units), "", "", pointers)
        body.add("DTP", "472", "D8", f"{line.date_of_service:%Y%m%d}")
