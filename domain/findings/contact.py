"""docs/rules.md#one-on-one: timed codes are direct one-on-one (or constant-attendance) services.

- `one_on_one.not_shown` (error): a timed code with minutes, and the note says the
  patient exercised on their own, under supervision only, or in a group (lexicon
  `supervision_only`): those minutes are not one-on-one time. When the visit also
  bills group therapy (a code of the catalogue's `group` kind), words about the
  group describe that service and are not held against the timed codes.
- `one_on_one.group_overlap` (warning): group therapy and a one-on-one code
  on the same date without start/end times showing separate periods (the minute
  ledger's remark, docs/rules.md#timed-codes, docs/rules.md#time-integrity).
- `one_on_one.unstated` (info): a timed code with minutes and nothing in the note
  that shows direct contact (lexicon `one_on_one`: "one-on-one", "1:1", "hands-on",
  "constant attendance"...).
"""

from __future__ import annotations

from domain.findings.model import Finding
from domain.findings.note import VisitNote, joined
from domain.rules.catalogue import CodeCatalogue


def check(note: VisitNote, catalogue: CodeCatalogue) -> list[Finding]:
    """Check that one visit's timed codes show direct one-on-one contact (docs/rules.md#one-on-one)."""
    timed = sorted({x.code for x in note.visit.service_lines if catalogue.codes[x.code].timed and x.minutes})
    found: list[Finding] = []
    for remark in note.ledger.notes:
        if remark.rule_id == "minutes.group_and_one_on_one":
            found.append(
                note.finding(
                    "one_on_one.group_overlap",
                    f"Group therapy and one-on-one time on the same date without times: {remark.message}.",
                    "Record the start and end of the group session and of each one-on-one service "
                    "(service_lines start/end) so they show separate periods; minutes of one period are "
                    "billed once, as group or as one-on-one. Correct the note with the times from the "
                    f"schedule: careledger visit correct {note.short_id} {note.day} "
                    "--set 'service_lines=[...]' --reason 'times of group and one-on-one services'",
                    subject=remark.code,
                )
            )
    if not timed:
        return found
    lexicon = note.words_of
    text = (*joined((note.visit.necessity, note.visit.patient_response)), "|", *note.free_words)
    supervision = lexicon.supervision_only.find(text)
    group = [code for code in note.codes if catalogue.codes[code].kind == "group"]
    if group:  # the group session is billed as such: its own words are not held against the timed codes
        supervision = [phrase for phrase in supervision if "group" not in phrase.split()]
    codes = ", ".join(timed)
    if supervision:
        found.append(
            note.finding(
                "one_on_one.not_shown",
                f"The note bills one-on-one time ({codes}) but says "
                f"{', '.join(repr(s) for s in supervision)}: "
                "time the patient spent on their own, under supervision only or in a group is not a "
                "timed one-on-one service.",
                "Bill only the minutes of direct one-on-one contact under the timed codes; minutes the "
                "patient exercised on their own are not billable as such, and a group session is "
                f"{' or '.join(catalogue.of_kind('group'))}. "
                "If the therapist was in fact with the patient throughout, say so with what they did: "
                + note.addendum_command(
                    "Direct one-on-one contact throughout: ...", "clarify direct contact"
                ),
                subject=codes,
                quoted=_sentence_with(note, supervision[0]),
            )
        )
    elif not lexicon.one_on_one.any(text):
        found.append(
            note.finding(
                "one_on_one.unstated",
                f"Nothing in the note shows direct one-on-one contact for {codes}.",
                "Say that the timed services were one-on-one and what the therapist did during them, e.g. "
                "'Direct one-on-one throughout; tactile cues for VMO activation'. For this visit: "
                + note.addendum_command(
                    "Direct one-on-one contact throughout ...", "direct contact not stated"
                ),
                subject=codes,
            )
        )
    return found


def _sentence_with(note: VisitNote, phrase: str) -> str:
    """Return the written text that holds a matched phrase (for the quote)."""
    visit = note.visit
    texts = (visit.narrative, *note.skilled_entries, visit.patient_response, visit.necessity, *note.addenda)
    texts += tuple(p.done.note for p in note.exercises)
    first = phrase.split()[0]
    for text in texts:
        if first in text.lower():
            return text
    return phrase


__all__ = ["check"]
