"""The documentation lexicon compiled for matching (data: domain/data/lexicon.toml,
docs/rules.md#documentation).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.findings.text import Phrases
from domain.findings.text import words as text_words
from domain.rules.catalogue import Lexicon


@dataclass(frozen=True)
class CodeMatcher:
    """How one code's service reads in a note: its name, exercise categories and words (signals included)."""

    code: str
    name: str
    categories: frozenset[str]
    describes: Phrases


class Words:
    """Every word list of a lexicon, compiled once."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.version = lexicon.version
        self.generic_exercise = Phrases(lexicon.generic_exercise)
        self.exercise_filler = Phrases(lexicon.exercise_filler)
        self.body_regions = Phrases(lexicon.body_regions)
        self.movements = Phrases(lexicon.movements)
        self.functional = Phrases(lexicon.functional_limitations)
        self.conditions = Phrases(lexicon.conditions)
        self.diagnosis_stopwords = frozenset(lexicon.diagnosis_stopwords)
        self.supervision_only = Phrases(lexicon.supervision_only)
        self.one_on_one = Phrases(lexicon.one_on_one)
        self.skilled = Phrases(lexicon.skilled)
        self.response_details = Phrases(lexicon.response_details)
        self.stopwords = frozenset(lexicon.similarity_stopwords)
        self.codes = {
            code: CodeMatcher(
                code=code,
                name=words.name,
                categories=frozenset(words.categories),
                describes=Phrases((*words.describes, *words.signals)),
            )
            for code, words in lexicon.codes.items()
        }
        self.category_codes: dict[str, str] = {
            category: code for code, matcher in self.codes.items() for category in matcher.categories
        }
        # every code's signals in one list, and which codes each signal phrase is for (docs/rules.md#coding)
        self.signals = Phrases(s for words in lexicon.codes.values() for s in words.signals)
        self.signal_codes: dict[str, set[str]] = {}
        for code, words in lexicon.codes.items():
            for phrase in words.signals:
                self.signal_codes.setdefault(" ".join(text_words(phrase)), set()).add(code)


__all__ = ["CodeMatcher", "Words"]
