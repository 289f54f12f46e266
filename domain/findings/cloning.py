"""docs/rules.md#cloned-notes: notes that are identical or nearly identical to another visit's (cloned notes).

Four texts of a note are compared: the necessity statement, the narrative (with
the text of its addenda), the skilled interventions and the patient response. A text becomes the set of its
normalised words (`domain.findings.text.words`) without the lexicon's
`similarity.stopwords`. Two texts are near-identical when the Jaccard similarity
of their word sets (shared words / all words) is at least the threshold (80% by
default, `CheckContext.clone_percent`), compared exactly in integers. Texts with
fewer than `clone_min_words` (5) distinct words are not compared: too short to
tell copying from coincidence ("Tolerated well").

A note is compared with every EARLIER note (by date of service, then recorded
time, then episode and version) of the same episode, and with earlier notes of
other episodes by the same author (the visit's provider). The finding is on the
later visit, so a visit's finding depends only on notes written before it and a
rebuild gives the same answer.

Within an episode every pair is compared. Across episodes a note meets thousands
of the author's notes, so candidates come from MinHash locality-sensitive
hashing: 64 min-hashes per text (from blake2b, stable across processes) in 16
bands of 4; a text is compared exactly with the author's most recent identical
text, else with the 8 distinct texts the author wrote most recently (first
written) in each band it shares. A pair at 80% similarity shares a band with
probability 0.9998.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from domain.findings.model import Evidence, Finding, quote
from domain.findings.note import VisitNote
from domain.findings.text import words
from domain.rules.checks import rule

FIELDS: tuple[str, ...] = ("necessity", "narrative", "skilled_interventions", "patient_response")
LABELS = {
    "necessity": "necessity statement",
    "narrative": "narrative",
    "skilled_interventions": "skilled interventions",
    "patient_response": "patient response",
}
HASHES = 64
BAND_ROWS = 4
RECENT_PER_BAND = 8


@dataclass(frozen=True, slots=True)
class NoteText:
    """One compared text of a note: its field, its word set, a quote and its MinHash bands."""

    field: str
    words: frozenset[str]
    quote: str
    bands: tuple[int, ...] = ()

    def banded(self) -> tuple[int, ...]:
        """Return the text's bands (computed when not stored)."""
        return self.bands or bands(self.words)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """What the copied-note check keeps of a visit's note."""

    episode_id: str
    date_of_service: date
    recorded_at: datetime
    event_version: int
    provider_id: str
    texts: tuple[NoteText, ...]
    evidence: tuple[Evidence, ...]

    def order(self) -> tuple[Any, ...]:
        """Earlier notes first: date of service, recorded time, episode, version."""
        return (self.date_of_service, self.recorded_at, self.episode_id, self.event_version)

    def as_dict(self) -> dict[str, Any]:
        """Return the texts and evidence as JSON-ready values (stored in the read model)."""
        return {
            "texts": {t.field: stored_text(t) for t in self.texts},
            "evidence": [[e.version, e.what] for e in self.evidence],
        }


def note_signature(note: VisitNote, stopwords: frozenset[str], min_words: int) -> NoteSignature:
    """Return the compared texts of a visit's note (docs/rules.md#cloned-notes)."""
    visit = note.visit
    raw = (
        visit.necessity,
        " ".join((visit.narrative, *note.addenda)),
        "; ".join(note.skilled_entries),
        visit.patient_response,
    )
    texts = tuple(
        text
        for name, written in zip(FIELDS, raw, strict=True)
        if (text := note_text(name, written, stopwords, min_words)) is not None
    )
    return NoteSignature(
        episode_id=note.episode_id,
        date_of_service=visit.date_of_service,
        recorded_at=visit.recorded_at,
        event_version=visit.event_version,
        provider_id=visit.provider_id,
        texts=texts,
        evidence=note.evidence(),
    )


@lru_cache(maxsize=1 << 14)
def note_text(name: str, written: str, stopwords: frozenset[str], min_words: int) -> NoteText | None:
    """Return one compared text of a note (None when too short to compare), once per distinct text.

    Notes repeat their texts (a copied note is a repeated text): its word set, quote
    and bands are computed once, and so is the form it is stored in (`stored_text`).
    """
    kept = frozenset(w for w in words(written) if w not in stopwords)
    if len(kept) < min_words:
        return None
    return NoteText(name, kept, quote(written), bands(kept))


@lru_cache(maxsize=1 << 14)
def stored_text(text: NoteText) -> dict[str, str]:
    """Return a compared text as the read model stores it (the same dict for the same text: never mutate)."""
    return {"words": " ".join(sorted(text.words)), "quote": text.quote, "bands": band_text(text.banded())}


def similar(a: frozenset[str], b: frozenset[str], percent: int) -> int | None:
    """Return the Jaccard similarity in whole percent when it reaches `percent`, else None."""
    shared = len(a & b)
    union = len(a) + len(b) - shared
    if union == 0 or shared * 100 < percent * union:
        return None
    return shared * 100 // union


@lru_cache(maxsize=1 << 17)
def _word_hashes(word: str) -> tuple[int, ...]:
    data = word.encode()
    values: list[int] = []
    for part in range(HASHES // 16):
        digest = hashlib.blake2b(data, digest_size=64, person=b"careledger-mh%d" % part).digest()
        values.extend(struct.unpack("<16I", digest))
    return tuple(values)


@lru_cache(maxsize=1 << 14)
def bands(text_words: frozenset[str]) -> tuple[int, ...]:
    """Return the MinHash bands of a word set: 16 bands of 4 min-hashes, each folded into 56 bits."""
    signature = list(map(min, zip(*(_word_hashes(w) for w in text_words), strict=True)))
    return tuple(
        int.from_bytes(
            hashlib.blake2b(
                struct.pack("<B4I", index, *signature[index * BAND_ROWS : (index + 1) * BAND_ROWS]),
                digest_size=7,
            ).digest()
        )
        for index in range(HASHES // BAND_ROWS)
    )


def band_text(values: tuple[int, ...]) -> str:
    """Write bands as one hex string (7 bytes each), for storage."""
    return b"".join(v.to_bytes(7, "big") for v in values).hex()


def band_values(text: str) -> tuple[int, ...]:
    """Read bands written by `band_text`."""
    raw = bytes.fromhex(text)
    return tuple(int.from_bytes(raw[i : i + 7], "big") for i in range(0, len(raw), 7))


Match = tuple[int, tuple[Any, ...], NoteSignature]
Entry = tuple[NoteSignature, tuple[Any, ...], int]


class _Texts:
    """The compared word sets, each kept once, with their bands and similarities memoised.

    Notes repeat their texts (a copied note IS a repeated text), so a pool of
    thousands of notes holds far fewer distinct word sets than texts.
    """

    def __init__(self, percent: int) -> None:
        self.percent = percent
        self.ids: dict[frozenset[str], int] = {}
        self.sets: list[frozenset[str]] = []
        self.sizes: list[int] = []
        self.bands: list[list[tuple[int, int]]] = []
        self._scores: dict[tuple[int, int], int | None] = {}

    def intern(self, text: NoteText) -> int:
        found = self.ids.get(text.words)
        if found is None:
            found = self.ids[text.words] = len(self.sets)
            self.sets.append(text.words)
            self.sizes.append(len(text.words))
            self.bands.append(list(enumerate(text.banded())))
        return found

    def score(self, a: int, b: int) -> int | None:
        if a == b:
            return 100
        small, large = sorted((self.sizes[a], self.sizes[b]))
        if small * 100 < self.percent * large:
            return None  # Jaccard is at most small / large
        key = (a, b) if a < b else (b, a)
        if key not in self._scores:
            self._scores[key] = similar(self.sets[a], self.sets[b], self.percent)
        return self._scores[key]


Bands = dict[tuple[int, int], list[int]]


@dataclass(frozen=True, slots=True)
class Copy:
    """A note whose texts copy earlier notes: for each copied field, its similarity and the earlier note."""

    note: NoteSignature
    matches: dict[str, Match]


def find_copies(
    notes: Iterable[NoteSignature], percent: int, subjects: Collection[str] | None = None
) -> list[Copy]:
    """Find each note whose texts copy an earlier note's (same episode, or same author elsewhere).

    `notes` is the pool to compare with; copies are reported for the notes of the
    `subjects` episodes (every episode when None).
    """
    texts = _Texts(percent)
    # per (episode, field): the latest entry of each distinct text (same text, same score: latest wins)
    by_episode: dict[tuple[str, str], dict[int, Entry]] = {}
    # per (author, field, text): its latest entry; per (author, field): each distinct text under its bands
    identical: dict[tuple[str, str, int], Entry] = {}
    banded: dict[tuple[str, str], Bands] = {}
    found: list[Copy] = []
    for sig in sorted(notes, key=NoteSignature.order):
        wanted = subjects is None or sig.episode_id in subjects
        order = sig.order()
        matches: dict[str, Match] = {}
        for text in sig.texts:
            text_id = texts.intern(text)
            scope = (sig.provider_id, text.field)
            episode = by_episode.setdefault((sig.episode_id, text.field), {})
            author = banded.setdefault(scope, {})
            same = identical.get((*scope, text_id))
            if wanted:
                best = _best(sig, text_id, texts, episode, same, author, identical, scope)
                if best is not None:
                    matches[text.field] = best
            entry = (sig, order, text_id)
            episode.pop(text_id, None)
            episode[text_id] = entry
            identical[(*scope, text_id)] = entry
            if same is None:
                for band in texts.bands[text_id]:
                    author.setdefault(band, []).append(text_id)
        if matches:
            found.append(Copy(sig, matches))
    return found


def clone_findings(
    notes: Iterable[NoteSignature], percent: int, subjects: Collection[str] | None = None
) -> list[Finding]:
    """Return a `note.cloned` finding for each note that copies an earlier one (see `find_copies`)."""
    return [_finding(copy.note, copy.matches) for copy in find_copies(notes, percent, subjects)]


def _best(
    sig: NoteSignature,
    text_id: int,
    texts: _Texts,
    episode: dict[int, Entry],
    same: Entry | None,
    author: Bands,
    identical: dict[tuple[str, str, int], Entry],
    scope: tuple[str, str],
) -> Match | None:
    """Return the most similar earlier text (ties: the most recent), if any reaches the threshold."""
    best: Match | None = None

    def consider(entry: Entry) -> None:
        nonlocal best
        other, order, other_id = entry
        score = texts.score(text_id, other_id)
        if score is not None and (best is None or (score, order) > best[:2]):
            best = (score, order, other)

    in_episode = episode.get(text_id)
    if in_episode is not None or same is not None:
        # an identical earlier text: only a more recent identical one could beat it, and these are
        # the latest identical texts of the episode and of the author
        for entry in (in_episode, same):
            if entry is not None:
                consider(entry)
        return best
    for entry in episode.values():
        consider(entry)
    seen: set[int] = set()
    for band in texts.bands[text_id]:
        for other_id in author.get(band, ())[-RECENT_PER_BAND:]:
            if other_id not in seen:
                seen.add(other_id)
                entry = identical[(*scope, other_id)]
                if entry[0].episode_id != sig.episode_id:
                    consider(entry)
    return best


def _finding(sig: NoteSignature, matches: dict[str, Match]) -> Finding:
    info = rule("note.cloned")
    parts: list[str] = []
    more: list[Evidence] = []
    for name in FIELDS:
        if name not in matches:
            continue
        score, _, other = matches[name]
        verb = "are" if name == "skilled_interventions" else "is"
        how = f"{verb} identical to" if score == 100 else f"{verb} {score}% the same as"
        where = (
            "this episode"
            if other.episode_id == sig.episode_id
            else f"episode {other.episode_id[:8]}, same author {other.provider_id}"
        )
        parts.append(
            f"the {LABELS[name]} {how} those of the visit of {other.date_of_service} ({where})"
            if name == "skilled_interventions"
            else f"the {LABELS[name]} {how} that of the visit of {other.date_of_service} ({where})"
        )
        other_episode = None if other.episode_id == sig.episode_id else other.episode_id
        more.append(Evidence(other.event_version, "earlier note", other.date_of_service, other_episode))
    first = next(name for name in FIELDS if name in matches)
    text = next(t for t in sig.texts if t.field == first)
    message = "; ".join(parts)
    return Finding(
        rule_id=info.rule_id,
        severity=info.severity,
        episode_id=sig.episode_id,
        date_of_service=sig.date_of_service,
        on=sig.date_of_service,
        message=message[0].upper() + message[1:] + ": the note reads as copied, not written for this visit.",
        fix="Write what happened at this visit: today's measures, what was progressed or held and why, how "
        "the patient responded. A note copied forward, even with a few words or numbers changed, reads as "
        "cloned documentation and supports neither visit. For this visit, add what was specific to it in an "
        f"addendum dated today (careledger visit addendum {sig.episode_id[:8]} {sig.date_of_service} "
        "--text '...' --reason 'visit-specific findings'); "
        "start each note from the session, not the last note.",
        source=info.source,
        evidence=tuple(sorted({*sig.evidence, *more}, key=lambda e: (e.episode_id or "", e.version, e.what))),
        subject=", ".join(name for name in FIELDS if name in matches),
        quote=text.quote,
    )


__all__ = [
    "FIELDS",
    "Copy",
    "NoteSignature",
    "NoteText",
    "band_text",
    "band_values",
    "bands",
    "clone_findings",
    "find_copies",
    "note_signature",
    "note_text",
    "similar",
]
