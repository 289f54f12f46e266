"""ASC X12 005010X221A1 remittance advice (835): read, validate, match to careledger's claims.

`careledger import 835 FILE` validates the whole file with pyx12 (the HIPAA X12
validator on PyPI, which the tests already use for the 837P: one validator for
both directions), reads it, checks that each claim and line balances (charge
less adjustments is the amount paid), and matches each claim payment (CLP) to
the episode and date of service careledger wrote into its 837P's CLM01
(`{episode id's first 8}-{YYYYMMDD}`), falling back to the patient (NM1*QC,
where careledger writes the patient reference) and the date of service. Each
service line (SVC) is matched to the visit's claim line by code and modifiers
(by code alone when one line has it). A claim becomes one `record_remittance`
command on its episode, holding its matched lines; a command id derived from
the payment's trace number and the claim's identifiers makes a re-import a
no-op. What matches no visit or line, or two, is refused with the reason and
stored nowhere (docs/billing.md#835).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.billing.bill import bill_with_others, billing_rules
from domain.episode.commands import RecordRemittance
from domain.errors import CareledgerError, CommandConflict, InvalidInput
from projections.interop.x12 import CLAIM_ID, claim_id, money

if TYPE_CHECKING:
    from domain.billing.bill import EpisodeBill
    from domain.billing.claims import ClaimLine, VisitBill
    from domain.episode.aggregate import Episode
    from domain.episode.application import Episodes

IMPLEMENTATION = "005010X221A1"
REMIT_NAMESPACE = uuid5(NAMESPACE_URL, "https://careledger.invalid/remittance")


# --- reading -------------------------------------------------------------------------------------


@dataclass
class ParsedLine:
    """One SVC loop (2110) as read."""

    segment: int
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: int
    date_of_service: date | None = None
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


@dataclass
class ParsedClaim:
    """One CLP loop (2100) as read."""

    segment: int
    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str
    patient_ref: str = ""
    received_on: date | None = None
    claim_date: date | None = None
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    lines: list[ParsedLine] = field(default_factory=list)

    @property
    def date_of_service(self) -> date | None:
        """The claim's date of service: CLM01's date, else DTM*232, else its lines' first date."""
        found = CLAIM_ID.match(self.claim_id)
        if found:
            return _date(found.group(2), "CLP01")
        if self.claim_date is not None:
            return self.claim_date
        return min((line.date_of_service for line in self.lines if line.date_of_service), default=None)


@dataclass
class RemitFile:
    """An 835 as read: the payer, the payment and its claims."""

    name: str
    sha256: str
    payer_name: str = ""
    payer_id: str | None = None
    trace_number: str = ""
    paid_on: date | None = None
    total_paid: Decimal = Decimal(0)
    claims: list[ParsedClaim] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """Return how many service lines the file remits."""
        return sum(len(claim.lines) for claim in self.claims)


def _date(text: str, where: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise InvalidInput(where, f"{text!r} is not a date (CCYYMMDD)") from None


def _amount(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        raise InvalidInput(where, f"{text!r} is not an amount") from None
    if not value.is_finite():
        raise InvalidInput(where, f"{text!r} is not an amount")
    return value.quantize(Decimal("0.01"))


def _int(text: str, where: str, default: int = 1) -> int:
    if not text:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(where, f"{text!r} is not a number of units") from None
    if value != value.to_integral_value() or value < 0:
        raise InvalidInput(where, f"{text!r} is not a whole number of units")
    return int(value)


class _PyX12Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def validate_835(text: str, name: str) -> None:
    """Refuse an interchange pyx12 does not accept as an 835 (005010X221A1), naming the first error."""
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12n_document

    if "005010X221A1" not in text[:2000]:
        raise InvalidInput(name, "is not an X12 835 (005010X221A1): no GS08/ST03 names the guide")
    # pyx12 reports each error through this logger; its 999 acknowledgment is not asked for (pyx12
    # cannot write one for an 835, whose ST03 the guide marks not used).
    logger = logging.getLogger("pyx12.error_handler")
    handler = _PyX12Errors()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None)
    except Exception as exc:  # pyx12 raises its own errors on a file it cannot read at all
        raise InvalidInput(name, f"pyx12 could not read it ({type(exc).__name__}: {exc})") from None
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    if ok and not handler.messages:
        return
    lines = text.split("~")
    first = handler.messages[0] if handler.messages else "pyx12 rejected the interchange"
    found = re.match(r"Line:(\d+)", first)
    where = name
    if found:
        number = int(found.group(1))
        if 0 < number <= len(lines):
            where = f"{name}: segment {number} ({lines[number - 1].strip()[:60]})"
    more = f" (and {len(handler.messages) - 1} more)" if len(handler.messages) > 1 else ""
    raise InvalidInput(where, f"pyx12: {first}{more}; nothing was imported")


def parse_835(text: str, name: str) -> RemitFile:
    """Read a validated 835 into its payer, payment and claims; refuse one that does not balance."""
    stripped = text.lstrip()
    if not stripped.startswith("ISA") or len(stripped) < 106:
        raise InvalidInput(name, "is not an X12 interchange (no ISA segment)")
    element, component, terminator = stripped[3], stripped[104], stripped[105]
    remit = RemitFile(name=name, sha256=hashlib.sha256(text.encode()).hexdigest())
    claim: ParsedClaim | None = None
    line: ParsedLine | None = None
    for number, raw in enumerate(stripped.split(terminator), start=1):
        segment = raw.strip()
        if not segment:
            continue
        parts = segment.split(element)
        tag = parts[0]
        at = f"segment {number} ({tag})"

        def get(index: int, parts: list[str] = parts) -> str:
            return parts[index].strip() if index < len(parts) else ""

        if tag == "BPR":
            remit.total_paid = _amount(get(2), f"{at} BPR02")
            remit.paid_on = _date(get(16), f"{at} BPR16") if get(16) else None
        elif tag == "TRN":
            remit.trace_number = get(2)
        elif tag == "N1" and get(1) == "PR":
            remit.payer_name = get(2)
        elif tag == "REF" and get(1) == "2U" and claim is None:
            remit.payer_id = get(2)
        elif tag == "CLP":
            line = None
            claim = ParsedClaim(
                segment=number,
                claim_id=get(1),
                status=get(2),
                charge=_amount(get(3), f"{at} CLP03"),
                paid=_amount(get(4), f"{at} CLP04"),
                patient_responsibility=_amount(get(5), f"{at} CLP05"),
                payer_claim_control_number=get(7),
            )
            remit.claims.append(claim)
        elif tag == "NM1" and get(1) == "QC" and claim is not None:
            claim.patient_ref = get(3)
        elif tag == "DTM" and claim is not None and line is None and get(1) == "050":
            claim.received_on = _date(get(2), f"{at} DTM02")
        elif tag == "DTM" and claim is not None and line is None and get(1) == "232":
            claim.claim_date = _date(get(2), f"{at} DTM02")
        elif tag == "SVC" and claim is not None:
            procedure = get(1).split(component)
            line = ParsedLine(
                segment=number,
                code=procedure[1] if len(procedure) > 1 else "",
                modifiers=tuple(m for m in procedure[2:6] if m),
                charge=_amount(get(2), f"{at} SVC02"),
                paid=_amount(get(3), f"{at} SVC03"),
                units=_int(get(5), f"{at} SVC05"),
            )
            claim.lines.append(line)
        elif tag == "DTM" and line is not None and get(1) == "472":
            line.date_of_service = _date(get(2), f"{at} DTM02")
        elif tag == "CAS" and claim is not None:
            target = line.adjustments if line is not None else claim.adjustments
            for index in range(2, 20, 3):
                reason = get(index)
                if reason:
                    quantity = get(index + 2)
                    target.append(
                        {
                            "group": get(1),
                            "reason": reason,
                            "amount": _amount(get(index + 1), f"{at} CAS{index + 1:02d}"),
                            "quantity": _int(quantity, f"{at} CAS{index + 2:02d}") if quantity else None,
                        }
                    )
        elif tag == "LQ" and line is not None and get(1) == "HE":
            line.remarks.append(get(2))
        elif tag in ("MOA", "MIA") and claim is not None:
            claim.remarks.extend(p for p in parts[3:8] if re.fullmatch(r"[A-Z]{1,2}\d{1,4}", p.strip()))
    if not remit.claims:
        raise InvalidInput(name, "holds no claim payment (CLP); nothing was imported")
    _balance(remit)
    return remit


def _balance(remit: RemitFile) -> None:
    """Refuse a file whose claims or lines do not balance (charge - adjustments = paid), or whose
    payment is not the sum of its claims' (BPR02; provider-level adjustments, PLB, are not read).
    """
    for claim in remit.claims:
        for line in claim.lines:
            adjusted = sum((a["amount"] for a in line.adjustments), Decimal(0))
            if line.charge - adjusted != line.paid:
                raise InvalidInput(
                    f"{remit.name}: segment {line.segment} (SVC)",
                    f"claim {claim.claim_id} line {line.code}: charge {line.charge} less adjustments "
                    f"{adjusted} is not the {line.paid} paid; nothing was imported",
                )
        if claim.lines:
            adjusted = sum((a["amount"] for a in claim.adjustments), Decimal(0))
            lines_paid = sum((line.paid for line in claim.lines), Decimal(0))
            if lines_paid - adjusted != claim.paid:
                raise InvalidInput(
                    f"{remit.name}: segment {claim.segment} (CLP)",
                    f"claim {claim.claim_id}: its lines pay {lines_paid} less claim adjustments {adjusted}, "
                    f"not the {claim.paid} of CLP04; nothing was imported",
                )
    total = sum((claim.paid for claim in remit.claims), Decimal(0))
    if total != remit.total_paid:
        raise InvalidInput(
            f"{remit.name}: BPR02",
            f"the payment {remit.total_paid} is not the {total} its claims pay; nothing was imported",
        )


# --- matching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A claim or line of the file that was not recorded, and why."""

    claim_id: str
    segment: str
    reason: str
    line: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready values."""
        return {"claim_id": self.claim_id, "line": self.line, "segment": self.segment, "reason": self.reason}

    def text(self) -> str:
        """Return the refusal as one line."""
        what = f"claim {self.claim_id}" + (f" line {self.line}" if self.line else "")
        return f"{self.segment}: {what}: {self.reason}"


@dataclass
class ImportResult:
    """What an 835 import did."""

    name: str
    claims: int = 0
    lines: int = 0
    applied: int = 0
    already_applied: int = 0
    lines_recorded: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready values."""
        return {
            "file": self.name,
            "claims": self.claims,
            "lines": self.lines,
            "applied": self.applied,
            "already_applied": self.already_applied,
            "lines_recorded": self.lines_recorded,
            "refused": [r.as_dict() for r in self.refused],
        }


class _Episodes:
    """The store's episodes, loaded once each, with their bills and a patient index built on demand."""

    def __init__(self, app: Episodes) -> None:
        from domain.episode.aggregate import Episode, topics_of

        self.app = app
        self.by_prefix: dict[str, list[str]] = {}
        # Each episode's patient, from its Opened event alone (no episode is replayed for it).
        self.patients: dict[str, list[str]] = {}
        start, topics = 1, topics_of(Episode.Opened)
        while True:
            page = app.recorder.select_notifications(start, 1000, topics=topics)
            for notification in page:
                opened = app.mapper.to_domain_event(notification)
                episode_id = str(opened.originator_id)
                self.by_prefix.setdefault(episode_id[:8], []).append(episode_id)
                self.patients.setdefault(getattr(opened, "patient_ref", ""), []).append(episode_id)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        self.loaded: dict[str, Episode] = {}
        self.bills: dict[str, EpisodeBill] = {}

    def get(self, episode_id: str) -> Episode:
        if episode_id not in self.loaded:
            self.loaded[episode_id] = self.app.get_episode(UUID(episode_id))
        return self.loaded[episode_id]

    def of_patient(self, patient_ref: str) -> list[str]:
        return self.patients.get(patient_ref, [])

    def bill(self, episode_id: str) -> EpisodeBill:
        if episode_id not in self.bills:
            episode = self.get(episode_id)
            others = [self.get(i) for i in self.of_patient(episode.patient_ref)]
            rules = billing_rules(episode.payer, self.app.payer_dirs)
            self.bills[episode_id] = bill_with_others(episode, others, rules)
        return self.bills[episode_id]


def _find_episode(claim: ParsedClaim, day: date, episodes: _Episodes) -> tuple[str | None, str]:
    found = CLAIM_ID.match(claim.claim_id)
    if found:
        candidates = episodes.by_prefix.get(found.group(1), [])
        if len(candidates) == 1:
            return candidates[0], ""
        if len(candidates) > 1:
            return None, f"its claim id names {len(candidates)} episodes (id prefix {found.group(1)})"
    if not claim.patient_ref:
        return None, "careledger sent no claim with this id, and the claim names no patient (NM1*QC)"
    matches = [i for i in episodes.of_patient(claim.patient_ref) if day in episodes.get(i).visits]
    if len(matches) == 1:
        return matches[0], ""
    if len(matches) > 1:
        return None, f"patient {claim.patient_ref} has a visit on {day} in {len(matches)} episodes"
    return None, (
        f"careledger sent no claim with this id, and patient {claim.patient_ref or '?'} has no visit on {day}"
    )


def _match_line(line: ParsedLine, billed: Sequence[ClaimLine], taken: set[int]) -> tuple[int | None, str]:
    same_code = [i for i, b in enumerate(billed) if b.code == line.code]
    exact = [i for i in same_code if set(billed[i].modifiers[:4]) == set(line.modifiers)]
    chosen = exact if exact else same_code
    if not chosen:
        codes = ", ".join(f"{b.code} {' '.join(b.modifiers)}".strip() for b in billed) or "nothing"
        return None, f"the visit billed no {line.code} (it billed {codes})"
    if len(chosen) > 1:
        return None, f"{line.code} {' '.join(line.modifiers)} matches {len(chosen)} lines of the claim"
    if chosen[0] in taken:
        return None, "another line of this remittance already pays the same claim line"
    return chosen[0], ""


def remittance_commands(
    app: Episodes, remit: RemitFile, recorded_by: str
) -> tuple[list[RecordRemittance], list[Refusal]]:
    """Match each claim and line of the file; return the commands to record and what was refused."""
    episodes = _Episodes(app)
    commands: list[RecordRemittance] = []
    refused: list[Refusal] = []
    for claim in remit.claims:
        where = f"segment {claim.segment} (CLP)"
        day = claim.date_of_service
        if day is None:
            refused.append(Refusal(claim.claim_id, where, "no date of service (CLP01, DTM*232 or DTM*472)"))
            continue
        episode_id, why = _find_episode(claim, day, episodes)
        if episode_id is None:
            refused.append(Refusal(claim.claim_id, where, why))
            continue
        episode = episodes.get(episode_id)
        if day not in episode.visits:
            refused.append(Refusal(claim.claim_id, where, f"episode {episode_id[:8]} has no visit on {day}"))
            continue
        visit = next((v for v in episodes.bill(episode_id).visits if v.date_of_service == day), None)
        billed = [b for b in (visit.lines if visit else ()) if b.billable and b.units > 0]
        taken: set[int] = set()
        lines: list[dict[str, Any]] = []
        for line in claim.lines:
            label = f"{line.code} {' '.join(line.modifiers)}".strip()
            if line.date_of_service is not None and line.date_of_service != day:
                refused.append(
                    Refusal(
                        claim.claim_id,
                        f"segment {line.segment} (SVC)",
                        f"dated {line.date_of_service}, not the claim's {day}",
                        label,
                    )
                )
                continue
            index, why = _match_line(line, billed, taken)
            if index is None:
                refused.append(Refusal(claim.claim_id, f"segment {line.segment} (SVC)", why, label))
                continue
            taken.add(index)
            lines.append(
                {
                    "code": line.code,
                    "modifiers": list(line.modifiers),
                    "charge": line.charge,
                    "paid": line.paid,
                    "units": line.units,
                    "adjustments": line.adjustments,
                    "remarks": line.remarks,
                }
            )
        if claim.lines and not lines:
            continue  # every line refused, each reported above
        key = f"{remit.trace_number}|{claim.claim_id}|{claim.payer_claim_control_number}"
        try:
            commands.append(
                RecordRemittance.model_validate(
                    {
                        "command": "record_remittance",
                        "command_id": uuid5(REMIT_NAMESPACE, key),
                        "recorded_by": recorded_by,
                        "episode_id": episode_id,
                        "date_of_service": day,
                        "claim_id": claim.claim_id,
                        "payer_claim_control_number": claim.payer_claim_control_number,
                        "claim_status": claim.status,
                        "charge": claim.charge,
                        "paid": claim.paid,
                        "patient_responsibility": claim.patient_responsibility,
                        "payer_name": remit.payer_name or "unknown payer",
                        "payer_id": remit.payer_id,
                        "trace_number": remit.trace_number or "none",
                        "paid_on": remit.paid_on,
                        "claim_received_on": claim.received_on,
                        "claim_adjustments": claim.adjustments,
                        "claim_remarks": claim.remarks,
                        "lines": lines,
                        "source_file": remit.name[-200:],
                        "source_sha256": remit.sha256,
                    }
                )
            )
        except ValueError as exc:
            refused.append(Refusal(claim.claim_id, where, f"cannot be recorded ({_first_error(exc)})"))
    return commands, refused


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


# From this size on, pyx12 validates the file in a second process while this one reads and matches it.
PARALLEL_FROM = 200_000


def _pyx12_problem(text: str, name: str) -> tuple[str, str] | None:
    """Return pyx12's refusal of a file as (field, problem), or None (run in a worker process)."""
    try:
        validate_835(text, name)
    except InvalidInput as refused:
        return refused.field, refused.problem
    return None


def _read_and_match(
    app: Episodes, text: str, name: str, recorded_by: str
) -> tuple[RemitFile, list[RecordRemittance], list[Refusal]]:
    remit = parse_835(text, name)
    commands, refused = remittance_commands(app, remit, recorded_by)
    return remit, commands, refused


def _validated_and_matched(
    app: Episodes, text: str, name: str, recorded_by: str, parallel_from: int
) -> tuple[RemitFile, list[RecordRemittance], list[Refusal]]:
    """Validate with pyx12, read and match: for a large file on two cores at once, pyx12's refusal
    (the first thing a user is told) winning over any problem the reading found.
    """
    if len(text) < parallel_from:
        validate_835(text, name)
        return _read_and_match(app, text, name, recorded_by)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the HTTP service calls this from a thread, and a forked child could inherit a
    # lock another thread held; a fresh interpreter costs about a second, a 10,000-line file's pyx12 six.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = pool.submit(_pyx12_problem, text, name)
        try:
            found = _read_and_match(app, text, name, recorded_by)
            reading_error: InvalidInput | None = None
        except InvalidInput as refused:
            reading_error = refused
        problem = pending.result()
    if problem is not None:
        raise InvalidInput(*problem)
    if reading_error is not None:
        raise reading_error
    return found


def import_835(
    app: Episodes,
    text: str,
    name: str,
    recorded_by: str,
    batch: int = 500,
    parallel_from: int = PARALLEL_FROM,
) -> ImportResult:
    """Validate, read and match an 835, then record each matched claim (idempotent)."""
    remit, commands, refused = _validated_and_matched(app, text, name, recorded_by, parallel_from)
    result = ImportResult(name=name, claims=len(remit.claims), lines=remit.lines, refused=refused)
    handle = app.importer()
    for start in range(0, len(commands), batch):
        chunk = commands[start : start + batch]
        for command, outcome in zip(chunk, handle(chunk), strict=True):
            if isinstance(outcome, CommandConflict):
                result.already_applied += 1  # recorded before from a file of another name
            elif isinstance(outcome, CareledgerError):
                result.refused.append(
                    Refusal(
                        command.claim_id, "CLP", f"{getattr(outcome, 'field', '')}: {outcome}".strip(": ")
                    )
                )
            elif outcome.applied:
                result.lines_recorded += len(command.lines)
                result.applied += 1
            else:
                result.already_applied += 1
    return result


# --- writing (the demo's remittance and the benchmark's) ---------------------------------------------


@dataclass(frozen=True)
class LineDecision:
    """What a payer does to one claim line: the adjustments (besides the contract's) and remarks."""

    adjustments: tuple[tuple[str, str, Decimal], ...] = ()
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimToRemit:
    """A claim careledger sent, to remit: its id, patient, date, payer filing code and lines."""

    claim_id: str
    patient_ref: str
    member_id: str
    date_of_service: date
    filing: str
    received_on: date
    lines: tuple[tuple[ClaimLine, LineDecision], ...]


def claim_to_remit(
    episode: Episode, visit: VisitBill, lines: Sequence[tuple[ClaimLine, LineDecision]]
) -> ClaimToRemit:
    """Return the claim careledger's 837P sent for a visit (its CLM01 id), to remit with these lines.

    The payer is said to have received it three days after the date of service (DTM*050).
    """
    from datetime import timedelta

    from projections.interop.x12 import FILING

    return ClaimToRemit(
        claim_id=claim_id(episode.id, visit.date_of_service),
        patient_ref=episode.patient_ref,
        member_id=episode.payer.member_id or "",
        date_of_service=visit.date_of_service,
        filing=FILING.get(episode.payer.payer_id, "CI"),
        received_on=visit.date_of_service + timedelta(days=3),
        lines=tuple(lines),
    )


def write_835(
    claims: Iterable[ClaimToRemit],
    *,
    payer: tuple[str, str],
    payee: tuple[str, str],
    paid_on: date,
    trace_number: str,
    coinsurance: Decimal = Decimal("0.20"),
    control_number: int = 1,
) -> str:
    """Return an 835 paying each claim line its expected allowed amount (less coinsurance), with the
    contractual reduction (CO-45) and each line's decision (denials, reductions) as adjustments.
    """
    payer_name, payer_id = payer
    payee_name, payee_npi = payee
    day = f"{paid_on:%Y%m%d}"
    body: list[str] = []
    total = Decimal(0)
    claims_out: list[str] = []
    for number, claim in enumerate(claims, start=1):
        segments: list[str] = []
        charge = paid = responsibility = Decimal(0)
        for line, decision in claim.lines:
            line_charge = (line.charge or Decimal(0)).quantize(Decimal("0.01"))
            allowed = min(line.allowed_amount or line_charge, line_charge).quantize(Decimal("0.01"))
            denied = sum((a for _, _, a in decision.adjustments), Decimal(0))
            allowed_left = max(allowed - denied, Decimal(0))
            share = (allowed_left * coinsurance).quantize(Decimal("0.01"))
            line_paid = allowed_left - share
            # What is denied beyond the allowed amount comes out of the contractual reduction.
            contractual = line_charge - denied - share - line_paid
            procedure = ":".join(["HC", line.code, *line.modifiers[:4]])
            segments.append(f"SVC*{procedure}*{money(line_charge)}*{money(line_paid)}**{line.units}")
            groups: dict[str, list[tuple[str, Decimal]]] = {}
            if contractual:
                groups.setdefault("CO", []).append(("45", contractual))
            for group, reason, amount in decision.adjustments:
                groups.setdefault(group, []).append((reason, amount))
            if share:
                groups.setdefault("PR", []).append(("2", share))
            for group, items in groups.items():
                segments.append(
                    "CAS*"
                    + group
                    + "".join(f"*{reason}*{money(amount)}*" for reason, amount in items).rstrip("*")
                )
            segments.extend(f"LQ*HE*{remark}" for remark in decision.remarks)
            charge += line_charge
            paid += line_paid
            responsibility += share
        status = "1" if paid > 0 else "4"
        claims_out.append(
            "~".join(
                [
                    f"CLP*{claim.claim_id}*{status}*{money(charge)}*{money(paid)}*{money(responsibility)}"
                    f"*{claim.filing}*{number:014d}*11*1",
                    f"NM1*QC*1*{claim.patient_ref}*****MI*{claim.member_id or claim.patient_ref}",
                    f"DTM*232*{claim.date_of_service:%Y%m%d}",
                    f"DTM*050*{claim.received_on:%Y%m%d}",
                    *segments,
                ]
            )
        )
        total += paid
    body.append(f"BPR*I*{money(total)}*C*CHK************{day}")
    body.append(f"TRN*1*{trace_number}*1000000001")
    body.append(f"DTM*405*{day}")
    body.append(f"N1*PR*{payer_name}")
    body.append("N3*1 Payer Way")
    body.append("N4*Springfield*IL*62701")
    body.append(f"REF*2U*{payer_id}")
    body.append("PER*BL*Provider Services*TE*8005550100")
    body.append(f"N1*PE*{payee_name}*XX*{payee_npi}")
    body.append("LX*1")
    body.extend("~".join(claims_out).split("~"))
    control = f"{control_number:09d}"
    st = ["ST*835*0001", *body]
    st.append(f"SE*{len(st) + 1}*0001")
    segments = [
        f"ISA*00*          *00*          *ZZ*{payer_id[:15]:<15}*ZZ*{payee_npi:<15}*{paid_on:%y%m%d}*1200"
        f"*^*00501*{control}*0*T*:",
        f"GS*HP*{payer_id}*{payee_npi}*{day}*1200*{control_number}*X*{IMPLEMENTATION}",
        *st,
        f"GE*1*{control_number}",
        f"IEA*1*{control}",
    ]
    return "~\n".join(segments) + "~\n"
