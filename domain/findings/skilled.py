"""docs/rules.md#skilled (skilled intervention) and docs/rules.md#response (patient response) of each visit.

- `skilled.missing` (error): no skilled intervention on the note, and no skilled
  action (lexicon `skilled`: cueing, correcting, progressing or regressing,
  monitoring, modifying, hands-on technique) anywhere in its text or addenda.
- `skilled.vague` (warning): interventions are listed, but none of them, nor the
  narrative or an addendum, shows a skilled action ("instructed in HEP").
- `response.missing` (warning): no patient response on the note or in an addendum.
- `response.vague` (info): a stock response with no detail: no number and no word
  of tolerance, pain, quality or change (lexicon `response.details`):
  "Patient tolerated treatment".
"""

from __future__ import annotations

from domain.findings.model import Finding
from domain.findings.note import VisitNote
from domain.findings.text import has_number

SKILLED_EXAMPLE = (
    "e.g. 'tactile cues to keep a neutral spine during the lift; progressed to 3x10 after two pain-free "
    "sessions at 2x10; monitored symptoms between sets'"
)
RESPONSE_EXAMPLE = "e.g. 'Pain 3/10 after the session (from 5/10); completed 3x10 without compensation'"


def check(note: VisitNote) -> list[Finding]:
    """Check one visit's skilled intervention and patient response (docs/rules.md#skilled,
    docs/rules.md#response).
    """
    found: list[Finding] = []
    lexicon = note.words_of
    entries = note.skilled_entries
    elsewhere = (*note.narrative_words, "|", *note.addenda_words)
    skilled_here = lexicon.skilled.any(note.skilled_words) or lexicon.skilled.any(elsewhere)
    if not entries and not skilled_here:
        found.append(
            note.finding(
                "skilled.missing",
                "No skilled intervention is documented: nothing says what the therapist did that needed "
                "a therapist.",
                f"Document the skilled care: cueing, correcting form, progressing or regressing, monitoring, "
                f"modifying for the response, and why it needed a therapist, {SKILLED_EXAMPLE}. For this "
                f"visit: {note.addendum_command('Skilled intervention: ...', 'skilled care not documented')}",
                subject="skilled_interventions",
            )
        )
    elif not skilled_here:
        found.append(
            note.finding(
                "skilled.vague",
                "The interventions listed say what was done, not the skill: "
                f"{'; '.join(entries)}. Nothing shows cueing, correction, progression, monitoring or "
                "modification.",
                f"Say what the therapist's skill added and why, {SKILLED_EXAMPLE}. For this visit: "
                f"{note.addendum_command('Skilled intervention: ...', 'skilled care described')}",
                subject="skilled_interventions",
                quoted="; ".join(entries),
            )
        )
    response = note.visit.patient_response.strip()
    addenda = note.addenda_words
    addendum_response = has_number(addenda) or lexicon.response_details.any(addenda)
    if not response and not addendum_response:
        found.append(
            note.finding(
                "response.missing",
                "No patient response is documented: not how the patient tolerated the session, their "
                "pain, the quality of movement or an objective change.",
                f"Record the response, {RESPONSE_EXAMPLE}. For this visit, add an addendum dated today: "
                f"{note.addendum_command('Response: ...', 'patient response omitted')}",
                subject="patient_response",
            )
        )
    elif (
        response
        and not addendum_response
        and not (has_number(note.response_words) or lexicon.response_details.any(note.response_words))
    ):
        found.append(
            note.finding(
                "response.vague",
                "The patient response is a stock phrase with no detail: no pain level, quality of "
                "movement, tolerance with specifics or objective change.",
                f"Say how the patient responded, {RESPONSE_EXAMPLE}. For this visit: "
                f"{note.addendum_command('Response: ...', 'patient response detailed')}",
                subject="patient_response",
                quoted=response,
            )
        )
    return found


__all__ = ["check"]
