"""docs/rules.md#progression: progression across visits, or a documented reason it did not progress.

- `progression.plateau` (warning): an exercise performed at the same dosage under
  the same prescription at N or more consecutive visits (N = the context's
  `plateau_visits`, default 6), with no regression whose reason explains it. The
  runs are those of `domain.progression.dosage.plateaus`, built the way the progression
  view builds them, so `careledger progression` and the checks flag the same
  exercises. The finding is on the visit where the run reaches N visits.
- `progression.outcome_flat` (warning): an outcome instrument measured again whose
  latest change from its baseline does not reach its minimal clinically important
  difference (docs/rules.md#outcome-instruments, `domain.progression.outcomes`); about the episode, dated on
  the
  latest score.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.findings.model import Evidence, Finding
from domain.findings.note import VisitNote
from domain.progression.dosage import performances, plateaus
from domain.progression.outcomes import change_from_baseline
from domain.records import Exercise, Outcome
from domain.rules.catalogue import instrument_catalogue
from domain.rules.checks import rule

FLAT = ("unchanged", "improved", "worsened", "worsened_past_mcid")


@dataclass(frozen=True)
class OutcomeSummary:
    """One instrument's latest change from its baseline, for messages."""

    instrument: str
    text: str
    flat: bool


def outcome_summaries(outcomes: Sequence[Outcome]) -> list[OutcomeSummary]:
    """Return each re-measured instrument's change from baseline against its MCID
    (docs/rules.md#outcome-instruments).
    """
    catalogue = instrument_catalogue()
    by_instrument: dict[str, list[Outcome]] = {}
    for outcome in sorted(outcomes, key=lambda o: (o.taken_on, o.event_version)):
        by_instrument.setdefault(outcome.instrument, []).append(outcome)
    found: list[OutcomeSummary] = []
    for name, scores in sorted(by_instrument.items()):
        instrument = catalogue.get(name)
        if (
            instrument is None
            or len(scores) < 2
            or (instrument.mcid is None and instrument.mcid_percent is None)
        ):
            continue
        first, last = scores[0], scores[-1]
        change = change_from_baseline(instrument, first.score, last.score, first=False)
        mcid = (
            f"MCID {instrument.mcid}" if instrument.mcid is not None else f"MCID {instrument.mcid_percent}%"
        )
        direction = "better" if change.improvement > 0 else "worse" if change.improvement < 0 else "no change"
        amount = f"{abs(change.improvement)} points {direction}" if change.improvement else direction
        text = f"{name} {first.score} → {last.score} ({amount}; {mcid})"
        found.append(OutcomeSummary(name, text, change.verdict in FLAT))
    return found


def check_outcomes(episode_id: str, outcomes: Sequence[Outcome]) -> list[Finding]:
    """Flag each instrument whose latest score does not reach its MCID (docs/rules.md#progression,
    docs/rules.md#outcome-instruments).
    """
    found: list[Finding] = []
    summaries = {s.instrument: s for s in outcome_summaries(outcomes)}
    info = rule("progression.outcome_flat")
    for name, summary in summaries.items():
        if not summary.flat:
            continue
        scores = sorted(
            (o for o in outcomes if o.instrument == name), key=lambda o: (o.taken_on, o.event_version)
        )
        first, last = scores[0], scores[-1]
        found.append(
            Finding(
                rule_id=info.rule_id,
                severity=info.severity,
                episode_id=episode_id,
                date_of_service=None,
                on=last.taken_on,
                message=f"The outcome measure shows no clinically important change: {summary.text}.",
                fix="Document why the outcome has not changed and what changes in the plan "
                "(a progress report "
                "or re-evaluation: new goals, a changed programme, or discharge if the patient has reached "
                "their potential); a flat outcome with an unchanged programme reads as maintenance.",
                source=info.source,
                evidence=(
                    Evidence(first.event_version, f"outcome {name}", first.taken_on),
                    Evidence(last.event_version, f"outcome {name}", last.taken_on),
                ),
                subject=f"outcome {name}",
            )
        )
    return found


def check_plateaus(
    notes: Sequence[VisitNote],
    catalogue: dict[str, Exercise],
    min_visits: int,
    outcome_text: str,
) -> list[Finding]:
    """Flag each run of N+ visits of an exercise with no change in dosage or prescription.

    (docs/rules.md#progression)
    """
    performed: dict[str, list[tuple[VisitNote, int]]] = {}
    for note in notes:
        for position, item in enumerate(note.exercises):
            performed.setdefault(item.key, []).append((note, position))
    found: list[Finding] = []
    for key, done in sorted(performed.items()):
        entry = catalogue.get(key)
        history = entry.history if entry is not None else ()
        dates = [change.effective_date for change in history]
        marks = performances(
            history,
            [(note.visit.date_of_service, note.exercises[position].done.dosage) for note, position in done],
        )
        by_day = {note.visit.date_of_service: (note, position) for note, position in done}
        for run in plateaus(marks, min_visits):
            if not run.flagged:
                continue
            days = [mark.day for mark in marks if run.start <= mark.day <= run.end]
            note, position = by_day[days[min_visits - 1]]
            item = note.exercises[position]
            start = bisect_right(dates, run.start) - 1
            prescription = history[start].event_version if start >= 0 else None
            evidence = [Evidence(by_day[d][0].visit.event_version, "visit", d) for d in days]
            if prescription is not None:
                evidence.append(Evidence(prescription, "exercise prescription", days[0]))
            found.append(
                _plateau(
                    note, item.key, item.label, days, item.done.dosage.describe(), evidence, outcome_text
                )
            )
    return found


def _plateau(
    note: VisitNote,
    key: str,
    label: str,
    days: list[date],
    dosage: str,
    evidence: list[Evidence],
    outcome_text: str,
) -> Finding:
    outcomes = f"; outcomes: {outcome_text}" if outcome_text else ""
    exercise_id = key if not key.startswith("~") else "EXERCISE"
    return note.finding(
        "progression.plateau",
        f"'{label}' was done at the same dosage ({dosage}) at {len(days)} consecutive visits ({days[0]} to "
        f"{days[-1]}) with no progression, regression or documented reason{outcomes}.",
        "Progress the dosage or complexity when the patient meets the criteria "
        f"(careledger exercise progress {note.short_id} {exercise_id} --on DATE ... --reason '...'), regress "
        "it with the reason if it must be held, or discontinue it with the reason if it no longer serves a "
        f"goal (careledger exercise discontinue {note.short_id} {exercise_id} --on DATE --reason '...'). "
        "The same programme visit after visit reads as maintenance, which is not skilled therapy.",
        subject=f"exercise {key}",
        quoted=label,
        more=evidence,
    )


__all__ = ["OutcomeSummary", "check_outcomes", "check_plateaus", "outcome_summaries"]
