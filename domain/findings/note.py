"""One visit's note as the checks read it: its words, its exercises, its bill, its evidence.

Built once per visit by the engine and handed to every family of checks. The
note is the visit's current state (corrections applied, docs/rules.md#amendments); the text
of its addenda is read with the note's own free text. Lists inside the note
(service lines, exercises, skilled interventions) are put in a fixed order
here, so no check depends on the order they were written in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from domain.billing.bill import VisitBill
from domain.billing.ledger import MinuteLedger
from domain.clocks.periods import Gap
from domain.evidence import Evidence, entry_evidence, with_more
from domain.findings.lexicon import Words
from domain.findings.model import Finding, quote
from domain.findings.text import words
from domain.records import Exercise, Visit
from domain.rules.checks import rule
from domain.values import PerformedExercise

SEPARATOR = "|"  # never a word: phrases do not match across two texts
T = TypeVar("T")


class cached_property(Generic[T]):
    """`functools.cached_property` without its lock (Python 3.11 takes one per first read).

    A note is read by one thread; the lock cost about 5% of deriving a visit's findings.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


def joined(texts: Iterable[str]) -> tuple[str, ...]:
    """Return the words of several texts, kept apart so a phrase never spans two of them."""
    out: list[str] = []
    for text in texts:
        if out:
            out.append(SEPARATOR)
        out.extend(words(text))
    return tuple(out)


@dataclass(frozen=True)
class Performed:
    """An exercise as done at the visit, with the episode's catalogue entry if it is linked."""

    done: PerformedExercise
    catalogue: Exercise | None

    @property
    def label(self) -> str:
        """Name the exercise for a message: its name on the note."""
        return self.done.name

    @property
    def key(self) -> str:
        """Identify the exercise: its id, or ~NAME when the note does not link it."""
        return self.done.exercise_id or f"~{self.done.name}"


@dataclass(frozen=True)
class VisitNote:
    """A visit's note and what the checks derive from it, computed once.

    `bill` is the visit as the billing engine prices it; visits with the same
    lines, minutes, credential and fee year share one (engine._priced), so read its
    units, modifiers, amounts and notes, never its dates.
    """

    episode_id: str
    visit: Visit
    bill: VisitBill
    ledger: MinuteLedger
    exercises: tuple[Performed, ...]
    words_of: Words = field(repr=False)

    @property
    def short_id(self) -> str:
        """The episode id's first 8 digits, as a fix's command names it."""
        return self.episode_id[:8]

    @property
    def day(self) -> str:
        """The date of service as text."""
        return self.visit.date_of_service.isoformat()

    @cached_property
    def skilled_entries(self) -> tuple[str, ...]:
        """The skilled interventions, blank ones dropped, in a fixed order."""
        return tuple(sorted(s for s in self.visit.skilled_interventions if s.strip()))

    @cached_property
    def addenda(self) -> tuple[str, ...]:
        """The text of each addendum appended to the note (docs/rules.md#amendments)."""
        return tuple(a.text for a in self.visit.amendments if a.kind == "addendum" and a.text.strip())

    @cached_property
    def necessity_words(self) -> tuple[str, ...]:
        """The necessity statement's words."""
        return words(self.visit.necessity)

    @cached_property
    def response_words(self) -> tuple[str, ...]:
        """The patient response's words."""
        return words(self.visit.patient_response)

    @cached_property
    def skilled_words(self) -> tuple[str, ...]:
        """The skilled interventions' words, each entry kept apart."""
        return joined(self.skilled_entries)

    @cached_property
    def narrative_words(self) -> tuple[str, ...]:
        """The narrative's words."""
        return words(self.visit.narrative)

    @cached_property
    def addenda_words(self) -> tuple[str, ...]:
        """The addenda's words."""
        return joined(self.addenda)

    @cached_property
    def free_words(self) -> tuple[str, ...]:
        """Everything the therapist wrote about the session: narrative, skilled, exercise notes, addenda."""
        notes = sorted(p.done.note for p in self.exercises if p.done.note.strip())
        return joined((self.visit.narrative, *self.skilled_entries, *notes, *self.addenda))

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """The codes on the note, sorted."""
        return tuple(sorted({line.code for line in self.visit.service_lines}))

    @cached_property
    def entry_evidence(self) -> tuple[Evidence, ...]:
        """The events that make the note what it is now: its entry and its corrections."""
        return entry_evidence(self.visit)

    def evidence(self, *more: Evidence) -> tuple[Evidence, ...]:
        """Return the note's entry and corrections, and any more events, each once, in order."""
        return with_more(self.entry_evidence, *more)

    def finding(
        self,
        rule_id: str,
        message: str,
        fix: str,
        *,
        subject: str | None = None,
        quoted: str | None = None,
        more: Sequence[Evidence] = (),
    ) -> Finding:
        """Return a finding about this visit, with its rule's severity and source."""
        info = rule(rule_id)
        return Finding(
            rule_id=rule_id,
            severity=info.severity,
            episode_id=self.episode_id,
            date_of_service=self.visit.date_of_service,
            on=self.visit.date_of_service,
            message=message,
            fix=fix,
            source=info.source,
            evidence=self.evidence(*more),
            subject=subject,
            quote=quote(quoted) if quoted else None,
        )

    def verdict(self, gap: Gap, message: str, fix: str, subject: str, quoted: str | None = None) -> Finding:
        """Return the finding of a verdict the clocks gave about this visit, worded for a reviewer."""
        return Finding(
            rule_id=gap.rule_id,
            severity=gap.severity,
            episode_id=self.episode_id,
            date_of_service=self.visit.date_of_service,
            on=self.visit.date_of_service,
            message=message,
            fix=fix,
            source=rule(gap.rule_id).source,
            evidence=gap.evidence,
            subject=subject,
            quote=quote(quoted) if quoted else None,
        )

    def addendum_command(self, text: str, reason: str) -> str:
        """Return the command that appends an addendum to this note, dated today (an amendment)."""
        return f"careledger visit addendum {self.short_id} {self.day} --text '{text}' --reason '{reason}'"

    def correction_command(self, field_name: str, value: str, reason: str) -> str:
        """Return the command that corrects one field of this note (an amendment).

        See docs/rules.md#amendments.
        """
        return (
            f"careledger visit correct {self.short_id} {self.day} --set {field_name}='{value}' "
            f"--reason '{reason}'"
        )


def listed(items: Iterable[str]) -> str:
    """Join names for a sentence: 'a', 'a and b', 'a, b and c' (each quoted)."""
    names = [f"'{item}'" for item in items]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


__all__ = ["SEPARATOR", "Performed", "VisitNote", "joined", "listed"]
