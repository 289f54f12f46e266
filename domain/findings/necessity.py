"""docs/rules.md#necessity: each visit states its medical necessity, tied to the diagnosis and a functional
limitation.

- `necessity.missing` (error): the note has no necessity statement. The verdict is
  the clocks' (`domain.clocks.coverage`, the continuity view's `necessity_missing`
  gap); it is worded here.
- `necessity.vague` (warning): a statement that ties to no diagnosis of the
  episode (an ICD-10 code of its category, a word of a diagnosis description, or
  a condition word of the lexicon) or names no functional limitation (lexicon).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from domain.clocks.periods import Gap
from domain.findings.lexicon import Words
from domain.findings.model import Finding
from domain.findings.note import VisitNote
from domain.findings.text import words
from domain.values import Diagnosis

_ICD = re.compile(r"^[a-z][0-9][0-9a-z]")
EXAMPLE = (
    "in the form '[diagnosis]: [impairment] limits [function, measured: a distance, a time, a task]; needs "
    "[the skilled care]', e.g. 'Right TKA (Z96.651): knee flexion 92 degrees limits stair climbing to "
    "step-to with a rail; needs progressed quadriceps loading monitored for effusion'"
)


@dataclass(frozen=True)
class DiagnosisWords:
    """What ties a statement to the episode's diagnoses: code categories and description words."""

    categories: frozenset[str]
    described: frozenset[str]
    label: str

    @classmethod
    def of(cls, diagnoses: Iterable[Diagnosis], lexicon: Words) -> DiagnosisWords:
        """Collect the diagnoses' code categories (M54) and description words (back, pain)."""
        items = list(diagnoses)
        categories = frozenset(d.code.replace(".", "")[:3].lower() for d in items)
        described = frozenset(
            word
            for d in items
            for word in words(d.description or "")
            if len(word) >= 3 and not word.isdigit() and word not in lexicon.diagnosis_stopwords
        )
        label = ", ".join(f"{d.code} {d.description}" if d.description else d.code for d in items)
        return cls(categories, described, label)

    def tied(self, tokens: tuple[str, ...], lexicon: Words) -> bool:
        """Tell whether a statement names one of the diagnoses, its condition, or a condition word."""
        for token in tokens:
            if token in self.described:
                return True
            if _ICD.match(token) and token.replace(".", "")[:3] in self.categories:
                return True
        return lexicon.conditions.any(tokens)


Problem = Literal["missing", "vague", "ok"]


@dataclass(frozen=True)
class Necessity:
    """The verdict on a visit's necessity statement, and its findings."""

    problem: Problem
    findings: tuple[Finding, ...]


def check(note: VisitNote, diagnoses: DiagnosisWords, missing: Gap | None) -> Necessity:
    """Judge one visit's necessity statement (docs/rules.md#necessity); `missing` is the clocks' verdict, if
    any.
    """
    if missing is not None:
        fix = (
            "State why this visit needed a therapist, tied to the diagnosis and a functional limitation, "
            f"{EXAMPLE}. Amend the note; the correction is dated today and the original stays in the "
            f"history: {note.correction_command('necessity', '...', 'necessity statement omitted')}"
        )
        message = (
            "The note has no medical-necessity statement: nothing says why this visit needed skilled therapy."
        )
        return Necessity("missing", (note.verdict(missing, message, fix, "necessity"),))
    statement = note.visit.necessity.strip()
    tokens = note.necessity_words
    lexicon = note.words_of
    tied = diagnoses.tied(tokens, lexicon)
    functional = lexicon.functional.any(tokens)
    if tied and functional:
        return Necessity("ok", ())
    gaps = []
    if not functional:
        gaps.append("names no functional limitation (walking, stairs, sitting, lifting, dressing...)")
    if not tied:
        gaps.append(f"ties to no diagnosis of the episode ({diagnoses.label})")
    fix = (
        "Say which function the condition limits and how (a distance, a time, a number of stairs, a task), "
        f"and tie it to the diagnosis ({diagnoses.label}), {EXAMPLE}. Amend the statement (dated today, "
        "the original is kept): "
        + note.correction_command("necessity", "...", "necessity statement completed")
    )
    vague = note.finding(
        "necessity.vague",
        f"The necessity statement {' and '.join(gaps)}.",
        fix,
        subject="necessity",
        quoted=statement,
    )
    return Necessity("vague", (vague,))


__all__ = ["DiagnosisWords", "Necessity", "Problem", "check"]
