"""Reading a note's text: normalised words, and phrase lists that find themselves in them.

Normalising (docs/rules.md#documentation, domain/data/lexicon.toml): lower case; punctuation,
hyphens and slashes split words ("one-on-one" is one, on, one; "5/10" is 5, 10);
an ICD-10 code ("z96.651") and "1:1" stay one word; a possessive "'s" is dropped.
A phrase matches where its words appear next to each other in that order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:[.:'][a-z0-9]+)*")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
CACHE_SIZE = 1 << 14  # notes repeat their texts: each phrase list remembers its last matches


@lru_cache(maxsize=1 << 16)
def words(text: str) -> tuple[str, ...]:
    """Return the normalised words of a text (memoised: notes repeat their phrases)."""
    found = _WORD.findall(text.lower().translate(_QUOTES))
    return tuple(w[:-2] if w.endswith("'s") else w for w in found)


class Phrases:
    """A list of phrases compiled for matching against normalised words."""

    __slots__ = ("_cache", "_multi", "_singles", "phrases")

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(dict.fromkeys(phrases))
        self._singles: set[str] = set()
        self._multi: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.phrases:
            parts = words(phrase)
            if len(parts) == 1:
                self._singles.add(parts[0])
            elif parts:
                self._multi.setdefault(parts[0], []).append(parts)
        for group in self._multi.values():
            group.sort(key=len, reverse=True)
        self._cache: dict[tuple[str, ...], list[tuple[int, int]]] = {}

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int]]:
        """Return the (start, end) word spans where a phrase matches, longest phrase first at each word."""
        key = tuple(tokens)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            cached = self._cache[key] = self._spans(key)
        return cached

    def _spans(self, tokens: tuple[str, ...]) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        singles, multi = self._singles, self._multi
        for index, token in enumerate(tokens):
            for parts in multi.get(token, ()):
                end = index + len(parts)
                if tokens[index:end] == parts:
                    found.append((index, end))
                    break
            else:
                if token in singles:
                    found.append((index, index + 1))
        return found

    def find(self, tokens: Sequence[str]) -> list[str]:
        """Return the matched phrases (as words joined by spaces), each once, in order of appearance."""
        return list(dict.fromkeys(" ".join(tokens[a:b]) for a, b in self.spans(tokens)))

    def any(self, tokens: Sequence[str]) -> bool:
        """Tell whether any phrase matches."""
        if not self._multi:
            return not self._singles.isdisjoint(tokens)
        return bool(self.spans(tokens))

    def covered(self, tokens: Sequence[str]) -> set[int]:
        """Return the positions of the words inside some match."""
        return {i for a, b in self.spans(tokens) for i in range(a, b)}


def has_number(tokens: Iterable[str]) -> bool:
    """Tell whether any word carries a digit (a measure, a count, a score)."""
    return any(ch.isdigit() for token in tokens for ch in token)


__all__ = ["Phrases", "has_number", "words"]
