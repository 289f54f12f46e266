"""Time (docs/rules.md#time) and minutes counted twice (#double-counting), from the units engine
and the minute ledger.

- `time.missing` (error): no total treatment minutes, or a timed code with no minutes.
- `time.timed_exceeds_total` (error): timed minutes above the total treatment
  minutes. The ledger refuses such a note today (docs/rules.md#time-integrity); a note stored
  before that check, or imported around it, is still caught here.
- `time.units_exceed_minutes` (error): the units the note bills (`units` on its
  service lines) are more than the minutes support under the payer's rule
  (docs/rules.md#eight-minute-rule, docs/rules.md#ama-midpoint-rule, `domain.billing.units`), for the day or
  for an untimed code.
- `time.units_misallocated` (warning): the day's units are right but a code has
  more than its share (CMS: the leftover unit goes to the largest remainder).
- `minutes.double_counted` (error): two blocks of time overlap (start/end), or
  the services' own minutes add up to more than the total treatment time, so some
  minutes are counted under two codes (docs/rules.md#time-integrity). Group time (the catalogue's
  `group` kind) that overlaps one-on-one time is `one_on_one.not_shown` (docs/rules.md#one-on-one).
"""

from __future__ import annotations

from domain.billing.bill import ClaimLine
from domain.findings.model import Finding
from domain.findings.note import VisitNote
from domain.rules.catalogue import CodeCatalogue

RULE_NAMES = {"cms": "the CMS 8-minute rule", "ama": "the AMA per-code rule"}


def _units(lines: list[ClaimLine], claimed: bool) -> str:
    shown = [f"{line.code} × {line.recorded_units if claimed else line.units}" for line in lines]
    return ", ".join(shown)


def _calculator(note: VisitNote, catalogue: CodeCatalogue) -> str:
    timed = [line for line in note.bill.lines if catalogue.codes[line.code].timed]
    pairs = " ".join(f"{line.code}={line.minutes}" for line in timed)
    rule = f" --rule {note.bill.rule}" if note.bill.rule != "cms" else ""
    return f"careledger units{rule} {pairs}" if pairs else "careledger units"


def check(note: VisitNote, catalogue: CodeCatalogue) -> list[Finding]:
    """Check one visit's minutes and the units its note bills (docs/rules.md#time,
    docs/rules.md#double-counting).
    """
    found: list[Finding] = []
    visit = note.visit
    zero = sorted({x.code for x in visit.service_lines if catalogue.codes[x.code].timed and x.minutes == 0})
    if visit.total_treatment_minutes == 0 or zero:
        what = [f"{code} has no minutes" for code in zero]
        if visit.total_treatment_minutes == 0:
            what.insert(0, "no total treatment minutes are recorded")
        found.append(
            note.finding(
                "time.missing",
                f"Time is missing: {'; '.join(what)}. A timed code is billed by its minutes, and the note "
                "must record timed and total treatment minutes.",
                "Record each timed code's minutes and the total treatment minutes from the treatment log. "
                "Correct the note (an amendment dated today, the original stays in the history): "
                f"careledger visit correct {note.short_id} {note.day} --set total_treatment_minutes=NN "
                "--set 'service_lines=[...]' --reason 'minutes omitted from the note'",
                subject=", ".join(zero) or "total_treatment_minutes",
            )
        )
    for refusal in note.ledger.refusals:
        if refusal.rule_id == "minutes.timed_exceeds_total":
            found.append(
                note.finding(
                    "time.timed_exceeds_total",
                    f"Timed minutes exceed the total treatment time: {refusal.problem}.",
                    "Timed minutes are part of the total treatment time and cannot exceed it. Correct the "
                    "minutes from the treatment log (careledger visit correct ... --reason '...').",
                    subject="total_treatment_minutes",
                )
            )
        elif refusal.rule_id == "minutes.group_overlap":
            found.append(
                note.finding(
                    "one_on_one.not_shown",
                    f"Group and one-on-one time overlap: {refusal.problem}.",
                    f"Minutes of one period are billed once: as group therapy ({refusal.code}) or as "
                    "one-on-one time. Correct the times from the schedule (careledger visit correct ... "
                    "--set 'service_lines=[...]' --reason '...').",
                    subject=refusal.code,
                )
            )
        elif refusal.rule_id == "minutes.overlap":
            found.append(
                note.finding(
                    "minutes.double_counted",
                    f"Two services overlap in time: {refusal.problem}.",
                    "Give each code only its own minutes and times: a minute counts once (only supervised "
                    "modalities may overlap). Correct the times from the treatment log "
                    "(careledger visit correct ... --set 'service_lines=[...]' --reason '...').",
                    subject="service_lines",
                )
            )
    found.extend(_units_found(note, catalogue))
    found.extend(_bill_remarks(note))
    for remark in note.ledger.notes:
        if remark.rule_id == "minutes.total_below_services":
            ledger = note.ledger
            services = ledger.timed_minutes + ledger.untimed_minutes
            untimed = sorted(
                {
                    x.code
                    for x in visit.service_lines
                    if not catalogue.codes[x.code].timed and not catalogue.codes[x.code].may_overlap
                }
            )
            found.append(
                note.finding(
                    "minutes.double_counted",
                    f"The services add up to {services} minutes ({ledger.timed_minutes} timed, "
                    f"{ledger.untimed_minutes} untimed: {', '.join(untimed)}) but the total treatment time "
                    f"is {ledger.total_treatment_minutes}: {services - ledger.total_treatment_minutes} "
                    "minutes are counted under two codes, or the total is wrong.",
                    "Give each code only its own minutes (an evaluation's minutes are not also exercise "
                    "minutes; only supervised modalities may overlap), and make the total the time the "
                    "patient was treated. Correct the note from the treatment log (an amendment dated "
                    f"today): careledger visit correct {note.short_id} {note.day} "
                    "--set 'service_lines=[...]' --set total_treatment_minutes=NN --reason '...'",
                    subject="service_lines",
                )
            )
    return found


BILL_REMARKS: dict[str, tuple[str, str]] = {
    # the bill's remark -> (the finding, how to fix it)
    "units.above_mue": (
        "time.units_above_mue",
        "Bill no more units than the edit allows unless the record shows why more were medically "
        "necessary (the payer may then review it); check the minutes against the treatment log.",
    ),
    "codes.add_on_without_primary": (
        "coding.add_on_without_primary",
        "Bill the add-on code only with its primary code on the same date: record the primary service "
        "if it was furnished (a correction), or bill the service under the primary code.",
    ),
    "assistant.evaluation": (
        "coding.assistant_evaluation",
        "An evaluation is the therapist's: correct the note's provider or its assistant_minutes (a "
        "correction dated today); an assistant's part of the visit is billed under a treatment code.",
    ),
}


def _bill_remarks(note: VisitNote) -> list[Finding]:
    """Word the bill's remarks that are denials or review risks as findings (MUE, add-on, assistant)."""
    found: list[Finding] = []
    for remark in note.bill.notes:
        if remark.rule_id in BILL_REMARKS:
            rule_id, fix = BILL_REMARKS[remark.rule_id]
            text = remark.message[0].upper() + remark.message[1:]
            found.append(note.finding(rule_id, text + ".", fix, subject=remark.code or "service_lines"))
    return found


def _units_found(note: VisitNote, catalogue: CodeCatalogue) -> list[Finding]:
    """Compare the units the note bills with the units its minutes support (docs/rules.md#eight-minute-rule,
    docs/rules.md#ama-midpoint-rule).
    """
    lines = list(note.bill.lines)
    claimed = [line for line in lines if line.recorded_units is not None]
    if not claimed:
        return []
    timed = [line for line in lines if catalogue.codes[line.code].timed]
    billed_timed = sum(
        line.recorded_units if line.recorded_units is not None else line.units for line in timed
    )
    supported = sum(line.units for line in timed)
    untimed_over = [
        line
        for line in claimed
        if not catalogue.codes[line.code].timed and (line.recorded_units or 0) > line.units
    ]
    rule_name = RULE_NAMES[note.bill.rule]
    over = [line for line in claimed if (line.recorded_units or 0) > line.units]
    explain = f"`{_calculator(note, catalogue)}` explains each unit"
    if billed_timed > supported or untimed_over:
        parts = []
        if billed_timed > supported:
            parts.append(
                f"the note bills {billed_timed} timed units ({_units(timed, True)}) but its "
                f"{note.bill.timed_minutes} timed minutes support {supported} under {rule_name} "
                f"({_units(timed, False)})"
            )
        for line in untimed_over:
            parts.append(f"{line.code} is untimed: 1 unit per date, not {line.recorded_units}")
        return [
            note.finding(
                "time.units_exceed_minutes",
                "Units not supported by the minutes: " + "; ".join(parts) + ".",
                f"Bill the units the minutes support: {_units(lines, False)} ({explain}). If more minutes "
                "were furnished than the note records, correct the minutes from the treatment log (an "
                "amendment dated today), never the units alone.",
                subject=", ".join(line.code for line in over),
            )
        ]
    if over:
        return [
            note.finding(
                "time.units_misallocated",
                f"The day's {supported} units are right, but the note puts them as {_units(timed, True)}; "
                f"under {rule_name} they are {_units(timed, False)}.",
                f"Bill the units per code as the rule assigns them ({explain}): {_units(lines, False)}.",
                subject=", ".join(line.code for line in over),
            )
        ]
    return []


__all__ = ["check"]
