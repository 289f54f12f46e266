"""docs/rules.md#exercises: each exercise named specifically (body region, movement, equipment) with its
dosage.

- `exercise.generic` (warning): the exercise's name is a stock phrase of the
  lexicon ("LE strengthening", "therapeutic exercises"), or neither the name nor
  the episode's catalogue entry (add_exercise: body_region, movement) gives a body
  region and a movement.
- `exercise.dosage_missing` (warning): a specifically named exercise with no
  dosage on the note (sets, reps, load or resistance, duration, distance, position).
  A generic exercise's finding says so too, rather than raising a second one.
"""

from __future__ import annotations

from functools import lru_cache

from domain.findings.lexicon import Words
from domain.findings.model import Finding
from domain.findings.note import Performed, VisitNote
from domain.findings.text import words

EXAMPLE = "e.g. 'Straight leg raise, right hip flexion, supine, 3x10 with 2 lb ankle weight'"


def _gaps(performed: Performed, note: VisitNote) -> tuple[bool, tuple[str, ...]]:
    """Return whether the name is a stock phrase, and which specifics are missing."""
    entry = performed.catalogue
    if entry is None:
        return _name_gaps(note.words_of, performed.done.name, None, None, None)
    return _name_gaps(note.words_of, performed.done.name, entry.name, entry.body_region, entry.movement)


@lru_cache(maxsize=4096)
def _name_gaps(
    lexicon: Words, name: str, entry_name: str | None, region_text: str | None, movement_text: str | None
) -> tuple[bool, tuple[str, ...]]:
    names = [name]
    if entry_name is not None and entry_name != name:
        names.append(entry_name)
    tokens = words(name)
    covered = lexicon.generic_exercise.covered(tokens) | lexicon.exercise_filler.covered(tokens)
    stock = bool(tokens) and len(covered) == len(tokens)
    region = bool(region_text and region_text.strip())
    movement = bool(movement_text and movement_text.strip())
    for each in names:
        name_words = words(each)
        region = region or lexicon.body_regions.any(name_words)
        movement = movement or lexicon.movements.any(name_words)
    missing = tuple(
        what for what, present in (("body region", region), ("movement", movement)) if not present
    )
    return stock, missing


def is_specific(performed: Performed, note: VisitNote) -> bool:
    """Tell whether an exercise is named specifically: no stock phrase, a body region and a movement."""
    stock, missing = _gaps(performed, note)
    return not stock and not missing


def check(note: VisitNote) -> list[Finding]:
    """Check each exercise on one visit's note (docs/rules.md#exercises)."""
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
