"""The code fits what was done (docs/rules.md#coding); the note describes each service (#narrative).

- `coding.mismatch` (warning): most of the visit's timed minutes are billed as
  97110, and the note documents a service another code is for, which the visit
  does not bill: an exercise whose category is that code's (balance or
  proprioception → 97112, gait → 97116, functional → 97530, aquatic → 97113) or a
  signal phrase of that code in its text ("joint mobilisation", "soft tissue" →
  97140). A note that names the other code itself (saying why it is not billed)
  is left alone.
- `narrative.absent` (warning): a code on the note that nothing in the note
  describes: no specifically named exercise of its category, and none of the
  code's words (lexicon `codes.*.describes`) in the narrative, the skilled
  interventions, the exercises or an addendum. The code stands in for a
  description. Evaluation codes are described by the evaluation itself and are
  not checked; codes without a lexicon entry are not checked.
"""

from __future__ import annotations

from domain.findings.exercises import is_specific
from domain.findings.model import Finding
from domain.findings.note import Performed, VisitNote, joined, listed
from domain.rules.catalogue import CodeCatalogue

THERAPEUTIC_EXERCISE = "97110"
EXAMPLES = {
    "97110": "'Straight leg raise, right hip flexion, supine, 3x10 with 2 lb; cued to keep the knee locked'",
    "97112": "'Single-leg stance on foam, eyes open, 3 x 20 s, with perturbations; cued hip strategy'",
    "97116": "'Gait training with a cane, 4 x 50 ft, cueing heel strike and knee extension in late stance'",
    "97140": "'Grade III posterior glides to the right tibiofemoral joint, 3 x 30 s, to gain flexion'",
    "97530": "'Floor-to-waist lifts of a 10 lb box, 2x8, cued hip hinge, to return to stocking shelves'",
    "97535": "'Overhead garment donning with a compensatory strategy; cued scapular setting'",
}


def _fits(performed: Performed, categories: frozenset[str], code: str) -> bool:
    """Tell whether an exercise is a service of the code (an unlinked one counts as exercise, 97110)."""
    if performed.catalogue is None:
        return code == THERAPEUTIC_EXERCISE
    return performed.catalogue.category in categories


def check(note: VisitNote, catalogue: CodeCatalogue) -> list[Finding]:
    """Check one visit's codes against what its note documents (docs/rules.md#coding,
    docs/rules.md#narrative).
    """
    return [*_absent(note, catalogue), *_mismatch(note, catalogue)]


def _absent(note: VisitNote, catalogue: CodeCatalogue) -> list[Finding]:
    lexicon = note.words_of
    specific = [p for p in note.exercises if is_specific(p, note)]
    text = (*note.free_words, "|", *joined(p.done.name for p in specific))
    minutes: dict[str, int] = {}
    for line in note.visit.service_lines:
        minutes[line.code] = minutes.get(line.code, 0) + line.minutes
    found: list[Finding] = []
    for code in note.codes:
        matcher = lexicon.codes.get(code)
        if catalogue.codes[code].is_evaluation or matcher is None:
            continue
        if any(_fits(p, matcher.categories, code) for p in specific) or matcher.describes.any(text):
            continue
        found.append(
            note.finding(
                "narrative.absent",
                f"{code} ({matcher.name}, {minutes[code]} minutes) is on the note, but nothing describes the "
                "service: the code stands in for what was done.",
                f"Describe the {code} service: what was done, to which body region, at what dose or grade, "
                "and why it needed a therapist"
                + (f", e.g. {EXAMPLES[code]}" if code in EXAMPLES else "")
                + ". For this visit: "
                + note.addendum_command(f"{code}: ...", "service description omitted"),
                subject=code,
            )
        )
    return found


def _mismatch(note: VisitNote, catalogue: CodeCatalogue) -> list[Finding]:
    lexicon = note.words_of
    minutes: dict[str, int] = {}
    for line in note.visit.service_lines:
        if catalogue.codes[line.code].timed:
            minutes[line.code] = minutes.get(line.code, 0) + line.minutes
    timed = sum(minutes.values())
    exercise = minutes.get(THERAPEUTIC_EXERCISE, 0)
    if not exercise or exercise * 2 <= timed:
        return []
    signalled: dict[str, list[str]] = {}
    for phrase in lexicon.signals.find(note.free_words):
        for code in lexicon.signal_codes.get(phrase, ()):
            signalled.setdefault(code, []).append(phrase)
    done_by: dict[str, list[str]] = {}
    for p in note.exercises:
        fitting = lexicon.category_codes.get(p.catalogue.category) if p.catalogue is not None else None
        if fitting is not None:
            done_by.setdefault(fitting, []).append(p.label)
    found: list[Finding] = []
    for code in sorted(set(signalled) | set(done_by)):
        matcher = lexicon.codes[code]
        if code == THERAPEUTIC_EXERCISE or code in note.codes or code.lower() in note.free_words:
            continue
        done = done_by.get(code, [])
        signals = signalled.get(code, [])
        what = []
        if done:
            what.append(f"{listed(sorted(set(done)))} ({', '.join(sorted(matcher.categories))})")
        if signals:
            what.append(listed(signals))
        found.append(
            note.finding(
                "coding.mismatch",
                f"The note documents {' and '.join(what)}, which is {code} ({matcher.name}), but the visit "
                f"bills 97110 for {exercise} of its {timed} timed minutes and no {code}.",
                f"If that work took 8 minutes or more, bill it as {code} with its own minutes (and times), "
                f"not as 97110. If it was part of the therapeutic exercise, say so and why in the note, "
                f"naming {code}: "
                + note.addendum_command(f"... was part of the 97110 time, not {code}, because ...", "coding"),
                subject=code,
                quoted=(done or signals)[0],
            )
        )
    return found


__all__ = ["check"]
