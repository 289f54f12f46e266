"""docs/rules.md#modifier-use: modifiers missing, unsupported, or used to force payment (GP/GO/GN, CQ/CO,
59/X).

The modifiers a note writes on a service line (`modifiers`) are compared with the
ones the billing rules give that line (`domain.billing.bill`, docs/rules.md#modifiers). A line that
lists no modifiers takes careledger's own when billed (`careledger bill`) and is
not checked here. Only lines that bill at least one unit are checked. KX is
checked with the year-to-date amounts in `domain.findings.kx`.

- `modifier.missing_discipline` (error): the payer wants GP/GO/GN and the line
  lacks its plan's one (or carries another discipline's).
- `modifier.assistant_missing` (error): a PTA/OTA furnished more than 10% of the
  service and the line lacks CQ/CO.
- `modifier.assistant_unsupported` (warning): CQ/CO on a line the record does not
  show an assistant furnishing more than 10% of.
- `modifier.distinct_without_blocks` (error): 59/X on an NCCI pair whose lines do
  not show distinct time blocks (the pair table's decision, with its reason).
- `modifier.distinct_unneeded` (warning): 59/X on a line no NCCI edit pairs with
  another code billed that day.
"""

from __future__ import annotations

from domain.billing.bill import BillingRules, ClaimLine
from domain.billing.modifiers import ASSISTANT_MODIFIERS, DISCIPLINE_MODIFIERS
from domain.findings.model import Finding
from domain.findings.note import VisitNote

DISTINCT = frozenset({"59", "XE", "XS", "XP", "XU"})
ASSISTANT = frozenset(ASSISTANT_MODIFIERS.values())
DISCIPLINES = frozenset(DISCIPLINE_MODIFIERS.values())


def check(note: VisitNote, discipline: str, rules: BillingRules) -> list[Finding]:
    """Compare the modifiers written on one visit's lines with the billing rules'
    (docs/rules.md#modifier-use).
    """
    found: list[Finding] = []
    seen: set[str] = set()
    for line in note.bill.lines:
        if line.recorded_modifiers and line.units > 0 and line.billable and line.code not in seen:
            seen.add(line.code)
            # a code split by CQ / CO is two claim lines; the note's one line is held to both
            together = [x for x in note.bill.lines if x.code == line.code]
            computed = {m for x in together for m in x.modifiers}
            found.extend(_line(note, line, discipline, rules, computed))
    return found


def _line(
    note: VisitNote, line: ClaimLine, discipline: str, rules: BillingRules, given: set[str]
) -> list[Finding]:
    found: list[Finding] = []
    code = line.code
    written = set(line.recorded_modifiers)
    computed = given - {"KX"}
    shown = " ".join(line.recorded_modifiers)
    fix_line = (
        f"Bill {code} with {' '.join(m for m in sorted(computed) if m != 'KX') or 'no modifiers'} "
        "(careledger bill shows each modifier's reason), or leave the note's modifiers empty "
        "and let careledger "
        "give them. Correct the note's service lines (an amendment dated today): "
        f"careledger visit correct {note.short_id} {note.day} "
        "--set 'service_lines=[...]' --reason 'modifiers'"
    )
    profile = rules.profile.on(line.date_of_service)
    if profile.discipline_modifiers:
        expected = DISCIPLINE_MODIFIERS.get(discipline)
        if expected is not None and expected not in written:
            other = sorted(written & DISCIPLINES)
            wrong = f"; {' '.join(other)} is another discipline's" if other else ""
            found.append(
                note.finding(
                    "modifier.missing_discipline",
                    f"{code} is written with {shown} but not {expected}, "
                    f"the modifier of this {discipline} plan "
                    f"of care{wrong}: the payer denies a therapy line without it.",
                    fix_line,
                    subject=code,
                )
            )
    marked = sum(u.assistant_modifier for x in note.bill.lines if x.code == code for u in x.units_furnished)
    for modifier in sorted((computed & ASSISTANT) - written):
        found.append(
            note.finding(
                "modifier.assistant_missing",
                f"{code} is written with {shown} but not {modifier}: an assistant furnished "
                f"{line.assistant_minutes} of its {line.minutes} minutes, and the rules give {modifier} on "
                f"{marked or 'every'} "
                f"unit(s) of it (paid at {profile.assistant_allowed_percent}% of the fee).",
                fix_line,
                subject=code,
            )
        )
    for modifier in sorted((written & ASSISTANT) - computed):
        found.append(
            note.finding(
                "modifier.assistant_unsupported",
                f"{code} is written with {modifier}, but the record shows an assistant furnishing "
                f"{line.assistant_minutes} of its {line.minutes} minutes: no unit of it passes the 10% "
                "de minimis (or the payer does not use it on this date).",
                fix_line + ". If an assistant did furnish more of it, correct the line's assistant_minutes.",
                subject=code,
            )
        )
    distinct = sorted(written & DISTINCT)
    if distinct and not computed & DISTINCT:
        pair_notes = [
            n for n in note.bill.notes if n.rule_id == "modifiers.ncci_pair_not_distinct" and n.code == code
        ]
        if pair_notes:
            found.append(
                note.finding(
                    "modifier.distinct_without_blocks",
                    f"{code} is written with {' '.join(distinct)}, but {pair_notes[0].message}.",
                    "Use 59/X only when the record shows the services in distinct time blocks: record each "
                    "line's start and end (15-minute blocks for 97140 with 97530) from the treatment log, "
                    "or bill without the modifier and accept the bundling. Correct the note's service lines "
                    f"(an amendment dated today): careledger visit correct {note.short_id} {note.day} "
                    "--set 'service_lines=[...]' --reason 'time blocks'",
                    subject=code,
                )
            )
        else:
            why = "no NCCI edit pairs it with another code billed that day"
            if not rules.profile.ncci_edits:
                why = "this payer's profile applies no NCCI edits"
            found.append(
                note.finding(
                    "modifier.distinct_unneeded",
                    f"{code} is written with {' '.join(distinct)}, but {why}: a distinct-service modifier "
                    "where none is needed reads as forcing payment.",
                    fix_line,
                    subject=code,
                )
            )
    return found


__all__ = ["check"]
