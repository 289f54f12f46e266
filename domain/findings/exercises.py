"""rules.md §7.2: each exercise named specifically (body region, movement, equipment) with its dosage.

- `exercise.generic` (warning): the exercise's name is a stock phrase of the
  lexicon ("LE strengthening", "therapeutic exercises"), or neither the name nor
  the episode's catalogue entry (add_exercise: body_region, movement) gives a body
  region and a movement.
- `exercise.dosage_missing` (warning): a specifically named exercise with no
  dosage on the note (sets, reps, load or resistance, duration, distance, position).
  A generic exercise's finding says so too, rather than raising a second one.
"""

from __future__ import annotations

from domain.findings.model import Finding
from domain.findings.note import Performed, VisitNote
from domain.findings.text import words

EXAMPLE = "e.g. 'Straight leg raise, right hip flexion, supine, 3x10 with 2 lb ankle weight'"


def _gaps(performed: Performed, note: VisitNote) -> tuple[bool, list[str]]:
    """Return whether the name is a stock phrase, and which specifics are missing."""
    lexicon = note.words_of
    names = [performed.done.name]
    if performed.catalogue is not None and performed.catalogue.name != performed.done.name:
        names.append(performed.catalogue.name)
    tokens = words(performed.done.name)
    covered = lexicon.generic_exercise.covered(tokens) | lexicon.exercise_filler.covered(tokens)
    stock = bool(tokens) and len(covered) == len(tokens)
    region = movement = False
    entry = performed.catalogue
    if entry is not None:
        region = bool(entry.body_region and entry.body_region.strip())
        movement = bool(entry.movement and entry.movement.strip())
    for name in names:
        name_words = words(name)
        region = region or lexicon.body_regions.any(name_words)
        movement = movement or lexicon.movements.any(name_words)
    missing = [what for what, present in (("body region", region), ("movement", movement)) if not present]
    return stock, missing


def is_specific(performed: Performed, note: VisitNote) -> bool:
    """Tell whether an exercise is named specifically: no stock phrase, a body region and a movement."""
    stock, missing = _gaps(performed, note)
    return not stock and not missing


def check(note: VisitNote) -> list[Finding]:
    """Check each exercise on one visit's note (rules.md §7.2)."""
    found: list[Finding] = []
    for performed in note.exercises:
        stock, missing = _gaps(performed, note)
        no_dosage = performed.done.dosage.is_empty()
        label = performed.label
        if stock or missing:
            why = (
                f"'{label}' is a stock phrase, not a named exercise"
                if stock
                else f"'{label}' names no {' and no '.join(missing)}"
            )
            dosage = ", and has no dosage" if no_dosage else ""
            fix = (
                f"Name the body region, movement, position and equipment, and the dosage, {EXAMPLE}. "
                "Make the programme's entry specific so the next notes carry it (careledger exercise "
                "progress ... --name '...' with the reason); for this visit, correct the exercises on the "
                "note (an amendment dated today, the original stays in the history): "
                f"{note.correction_command('exercises', '[...]', 'exercise named specifically')}"
            )
            found.append(
                note.finding(
                    "exercise.generic",
                    f"{why}{dosage}: a reviewer cannot tell what was done or why it needed a therapist.",
                    fix,
                    subject=f"exercise {performed.key}",
                    quoted=label,
                )
            )
        elif no_dosage:
            fix = (
                "Record the dosage done today: sets and reps, load or band, hold time or distance, position "
                f"({EXAMPLE}). For this visit, correct the exercises on the note (an amendment dated "
                "today, the original stays in the history): "
                f"{note.correction_command('exercises', '[...]', 'dosage omitted from the note')}"
            )
            found.append(
                note.finding(
                    "exercise.dosage_missing",
                    f"'{label}' has no dosage on the note: no sets, reps, load, duration or position.",
                    fix,
                    subject=f"exercise {performed.key}",
                    quoted=label,
                )
            )
    return found


__all__ = ["check", "is_specific"]
