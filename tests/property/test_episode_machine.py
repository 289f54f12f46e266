"""A state machine drives the application beside a plain model of the episode's rules.

Every command of the registry is a rule of the machine (a test holds them to
it). After every step: the episode reloaded from the SQLite store equals the
model, a rejected command stored nothing, and the version is 1 + accepted
commands.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.episode.commands import Command, parse_command
from domain.errors import CareledgerError
from domain.rules.catalogue import code_catalogue, instrument_catalogue
from projections.store.root import Store, parse_location
from tests.property.strategies import (
    EPISODE_START,
    TODAY,
    any_dates,
    clinical_dates,
    exercise_ids,
    instruments,
    minutes,
    service_lines,
)


@dataclass
class ModelExercise:
    added: date
    sets: int
    last_change: date
    stopped: date | None = None


@dataclass
class Model:
    """The episode as a plain model: what the rules say should be stored."""

    version: int = 1
    visits: dict[date, tuple[int, int]] = field(default_factory=dict)  # dos -> (timed, total)
    exercises: dict[str, ModelExercise] = field(default_factory=dict)
    outcomes: list[tuple[str, str]] = field(default_factory=list)
    discharged: date | None = None
    holds: list[list[date | None]] = field(default_factory=list)
    plans: int = 0
    certifications: int = 0
    reports: int = 0
    reevaluations: int = 0
    addenda: dict[date, int] = field(default_factory=dict)
    late: set[date] = field(default_factory=set)
    voided: list[date] = field(default_factory=list)
    remitted: list[date] = field(default_factory=list)

    def in_range(self, day: date) -> bool:
        if day < EPISODE_START or day > TODAY:
            return False
        return not (self.discharged is not None and day > self.discharged)

    def on_hold(self) -> bool:
        return bool(self.holds) and self.holds[-1][1] is None

    def in_hold(self, day: date) -> bool:
        return any(start <= day and (end is None or day < end) for start, end in self.holds)  # type: ignore[operator]


# Lines a note may well have: known timed codes with their minutes (service_lines also draws bad ones).
good_lines = st.lists(
    st.fixed_dictionaries(
        {"code": st.sampled_from(("97110", "97112", "97140", "97530")), "minutes": minutes}
    ),
    min_size=1,
    max_size=3,
)


class EpisodeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="careledger-machine-"))
        self.store = Store(
            parse_location(str(self.directory / "m.db")),
            clock=lambda: datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        )
        self.episode_id = uuid4()
        self.model = Model()
        self.history: list[dict[str, Any]] = []
        self.rejected_last = False
        self.apply(
            {
                "command": "open_episode",
                "episode_id": str(self.episode_id),
                "patient_ref": "MRN-42",
                "discipline": "PT",
                "payer": {"payer_id": "medicare"},
                "diagnoses": [{"code": "M17.11"}],
                "start_date": str(EPISODE_START),
            },
            expected=True,
        )
        self.model.version = 1

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------------

    def apply(self, document: dict[str, Any], expected: bool) -> bool:
        """Send a command; check it was accepted exactly when the model expects it."""
        document = {"command_id": str(uuid4()), "recorded_by": "machine", **document}
        event(f"{document['command']} {'accepted' if expected else 'refused'}")
        if document["command"] != "open_episode":
            document["episode_id"] = str(self.episode_id)
        before = self.store.app.recorder.max_notification_id()
        try:
            command: Command = parse_command(document)
            result = self.store.app.handle(command)
        except CareledgerError as error:
            assert not expected, f"refused but the model accepts it: {error}"
            assert self.store.app.recorder.max_notification_id() == before, "a refused command stored events"
            return False
        assert expected, f"accepted but the model refuses it: {document}"
        assert result.applied
        self.history.append(document)
        return True

    # --- rules ---------------------------------------------------------------------------------

    @initialize(first=st.integers(0, 20), visits=st.integers(0, 3))
    def a_plan_and_some_visits(self, first: int, visits: int) -> None:
        """Start most machines mid-episode: a plan and a few visits that amendments can name."""
        self.establish_plan(EPISODE_START + timedelta(days=first), "PT", 6)
        for n in range(visits):
            self.record_visit(
                EPISODE_START + timedelta(days=first + 2 * n), [{"code": "97110", "minutes": 30}], 15
            )

    def _note(
        self, command: str, dos: date, lines: list[dict[str, Any]], extra: int
    ) -> tuple[dict[str, Any], bool, tuple[int, int]]:
        """A visit note's document, whether the model accepts it as a new visit, and its minutes."""
        catalogue = code_catalogue()
        known = all(catalogue.get(line["code"]) is not None for line in lines)
        non_negative = all(line["minutes"] >= 0 for line in lines)
        timed = sum(line["minutes"] for line in lines if (info := catalogue.get(line["code"])) and info.timed)
        total = max(0, timed + extra - 10)
        ok = (
            non_negative
            and known
            and self.model.in_range(dos)
            and not self.model.in_hold(dos)
            and dos not in self.model.visits
            and timed <= total
        )
        document = {
            "command": command,
            "date_of_service": str(dos),
            "provider_id": "pt-1",
            "credential": "PT",
            "service_lines": lines,
            "total_treatment_minutes": total,
        }
        return document, ok, (timed, total)

    @rule(dos=any_dates(), lines=st.one_of(service_lines, good_lines), extra=st.integers(0, 30))
    def record_visit(self, dos: date, lines: list[dict[str, Any]], extra: int) -> None:
        document, ok, minutes = self._note("record_visit", dos, lines, extra)
        if self.apply(document, ok):
            self.model.visits[dos] = minutes
            self.model.version += 1

    @rule(dos=any_dates(), lines=st.one_of(service_lines, good_lines), extra=st.integers(0, 30))
    def record_late_entry(self, dos: date, lines: list[dict[str, Any]], extra: int) -> None:
        document, ok, minutes = self._note("record_late_entry", dos, lines, extra)
        document["reason"] = "dictated the day after"
        if self.apply(document, ok and dos < TODAY):
            self.model.visits[dos] = minutes
            self.model.late.add(dos)
            self.model.version += 1

    def _visit_on(self, index: int, missing: date) -> date:
        """One of the current visits' dates, or (index beyond them) a date with no visit."""
        days = sorted(self.model.visits)
        return days[index] if index < len(days) else missing

    @rule(index=st.integers(0, 6), total=st.integers(0, 200), missing=clinical_dates())
    def correct_visit(self, index: int, total: int, missing: date) -> None:
        dos = self._visit_on(index, missing)
        current = self.model.visits.get(dos)
        ok = current is not None and total >= current[0] and total != current[1]
        document = {
            "command": "correct_visit",
            "date_of_service": str(dos),
            "changes": {"total_treatment_minutes": total},
            "reason": "timer log",
        }
        if self.apply(document, ok):
            assert current is not None
            self.model.visits[dos] = (current[0], total)
            self.model.version += 1

    @rule(index=st.integers(0, 6), missing=clinical_dates())
    def add_addendum(self, index: int, missing: date) -> None:
        dos = self._visit_on(index, missing)
        document = {
            "command": "add_addendum",
            "date_of_service": str(dos),
            "text": "Patient reported less pain the next morning.",
            "reason": "phone follow-up",
        }
        if self.apply(document, dos in self.model.visits):
            self.model.addenda[dos] = self.model.addenda.get(dos, 0) + 1
            self.model.version += 1

    @rule(index=st.integers(0, 6), missing=clinical_dates())
    def void_visit(self, index: int, missing: date) -> None:
        dos = self._visit_on(index, missing)
        document = {"command": "void_visit", "date_of_service": str(dos), "reason": "entered in error"}
        if self.apply(document, dos in self.model.visits):
            del self.model.visits[dos]
            self.model.addenda.pop(dos, None)
            self.model.late.discard(dos)
            self.model.voided.append(dos)
            self.model.version += 1

    @rule(index=st.integers(0, 6), missing=clinical_dates(), paid=st.integers(0, 100))
    def record_remittance(self, index: int, missing: date, paid: int) -> None:
        dos = self._visit_on(index, missing)
        document = {
            "command": "record_remittance",
            "date_of_service": str(dos),
            "claim_id": f"{str(self.episode_id)[:8]}-{dos:%Y%m%d}",
            "payer_claim_control_number": f"ICN{len(self.model.remitted)}",
            "claim_status": "1",
            "charge": "100.00",
            "paid": f"{paid}.00",
            "payer_name": "Medicare Part B",
            "trace_number": "T1",
            "lines": [
                {
                    "code": "97110",
                    "modifiers": ["GP"],
                    "charge": "100.00",
                    "paid": f"{paid}.00",
                    "units": 2,
                    "adjustments": [{"group": "CO", "reason": "45", "amount": f"{100 - paid}.00"}],
                }
            ],
            "source_file": "machine.835",
            "source_sha256": "0" * 64,
        }
        if self.apply(document, dos in self.model.visits):
            self.model.remitted.append(dos)
            self.model.version += 1

    @rule(day=any_dates(), credential=st.sampled_from(["PT", "PTA"]), weeks=st.sampled_from([None, 6]))
    def establish_plan(self, day: date, credential: str, weeks: int | None) -> None:
        ok = self.model.in_range(day) and credential == "PT" and weeks is not None
        document = {
            "command": "establish_plan",
            "established_on": str(day),
            "therapist_id": "pt-1",
            "credential": credential,
            "goals": [{"goal_id": "G1", "term": "long", "text": "Climb 12 stairs"}],
            "frequency_per_week": 2,
            "duration_weeks": weeks,
        }
        if self.apply(document, ok):
            self.model.plans += 1
            self.model.version += 1

    @rule(signed=any_dates(), start=any_dates(), days=st.integers(-5, 90), plan=st.integers(1, 3))
    def certify_plan(self, signed: date, start: date, days: int, plan: int) -> None:
        end = start + timedelta(days=days)
        ok = (
            0 < plan <= self.model.plans
            and EPISODE_START <= signed <= TODAY
            and end >= start
            and self.model.in_range(start)
        )
        document = {
            "command": "certify_plan",
            "certifier": {"provider_id": "dr-1"},
            "signed_on": str(signed),
            "period_start": str(start),
            "period_end": str(end),
            "plan_version": plan,
        }
        if self.apply(document, ok):
            self.model.certifications += 1
            self.model.version += 1

    @rule(day=any_dates(), back=st.integers(-2, 20), credential=st.sampled_from(["PT", "PTA"]))
    def record_progress_report(self, day: date, back: int, credential: str) -> None:
        start = day - timedelta(days=max(back, 0) + 5)
        end = day - timedelta(days=back)
        ok = (
            self.model.in_range(day)
            and credential == "PT"
            and end <= day
            and start >= EPISODE_START
            and self.model.plans > 0
        )
        document = {
            "command": "record_progress_report",
            "report_date": str(day),
            "period_start": str(start),
            "period_end": str(end),
            "author_id": "pt-1",
            "credential": credential,
            "goal_assessments": [{"goal_id": "G1", "status": "progressing"}],
        }
        if self.apply(document, ok):
            self.model.reports += 1
            self.model.version += 1

    @rule(day=any_dates(), credential=st.sampled_from(["PT", "PTA"]))
    def record_reevaluation(self, day: date, credential: str) -> None:
        ok = self.model.in_range(day) and credential == "PT"
        document = {
            "command": "record_reevaluation",
            "evaluated_on": str(day),
            "provider_id": "pt-1",
            "credential": credential,
            "findings": "Flexion 110 degrees; stairs reciprocal with a rail.",
        }
        if self.apply(document, ok):
            self.model.reevaluations += 1
            self.model.version += 1

    @rule(exercise_id=exercise_ids, day=clinical_dates(), sets=st.integers(1, 4))
    def add_exercise(self, exercise_id: str, day: date, sets: int) -> None:
        ok = self.model.in_range(day) and exercise_id not in self.model.exercises
        document = {
            "command": "add_exercise",
            "exercise_id": exercise_id,
            "name": f"{exercise_id} exercise",
            "category": "strengthening",
            "dosage": {"sets": sets},
            "effective_date": str(day),
        }
        if self.apply(document, ok):
            self.model.exercises[exercise_id] = ModelExercise(added=day, sets=sets, last_change=day)
            self.model.version += 1

    @rule(exercise_id=exercise_ids, day=clinical_dates(), sets=st.integers(1, 4))
    def progress_exercise(self, exercise_id: str, day: date, sets: int) -> None:
        self._change_exercise("progress_exercise", exercise_id, day, sets)

    @rule(exercise_id=exercise_ids, day=clinical_dates(), sets=st.integers(1, 4))
    def regress_exercise(self, exercise_id: str, day: date, sets: int) -> None:
        self._change_exercise("regress_exercise", exercise_id, day, sets)

    def _change_exercise(self, command: str, exercise_id: str, day: date, sets: int) -> None:
        current = self.model.exercises.get(exercise_id)
        ok = (
            current is not None
            and current.stopped is None
            and self.model.in_range(day)
            and day >= current.added
            and day >= current.last_change
            and sets != current.sets
        )
        document = {
            "command": command,
            "exercise_id": exercise_id,
            "dosage": {"sets": sets},
            "effective_date": str(day),
            "reason": "tolerated well",
        }
        if self.apply(document, ok):
            assert current is not None
            current.sets, current.last_change = sets, day
            self.model.version += 1

    @rule(exercise_id=exercise_ids, day=clinical_dates())
    def discontinue_exercise(self, exercise_id: str, day: date) -> None:
        current = self.model.exercises.get(exercise_id)
        ok = (
            current is not None
            and current.stopped is None
            and self.model.in_range(day)
            and day >= current.added
            and day >= current.last_change
        )
        document = {
            "command": "discontinue_exercise",
            "exercise_id": exercise_id,
            "effective_date": str(day),
            "reason": "goal met",
        }
        if self.apply(document, ok):
            assert current is not None
            current.stopped = current.last_change = day
            self.model.version += 1

    @rule(instrument=instruments, score=st.integers(-5, 110), day=any_dates())
    def record_outcome(self, instrument: str, score: int, day: date) -> None:
        found = instrument_catalogue().get(instrument)
        assert found is not None
        ok = found.min <= score <= found.max and self.model.in_range(day)
        document = {
            "command": "record_outcome",
            "instrument": instrument,
            "score": str(score),
            "taken_on": str(day),
        }
        if self.apply(document, ok):
            self.model.outcomes.append((instrument, str(score)))
            self.model.version += 1

    @rule(day=clinical_dates(), now=st.integers(0, 3))
    def hold_episode(self, day: date, now: int) -> None:
        if now:  # holds are rare too
            return
        ok = (
            self.model.discharged is None
            and not self.model.on_hold()
            and self.model.in_range(day)
            and not any(d >= day for d in self.model.visits)
        )
        if self.apply({"command": "hold_episode", "start_date": str(day), "reason": "surgery"}, ok):
            self.model.holds.append([day, None])
            self.model.version += 1

    @rule(day=clinical_dates())
    def resume_episode(self, day: date) -> None:
        start = self.model.holds[-1][0] if self.model.holds else None
        ok = (
            self.model.discharged is None
            and self.model.on_hold()
            and self.model.in_range(day)
            and start is not None
            and day > start
        )
        if self.apply({"command": "resume_episode", "resume_date": str(day)}, ok):
            self.model.holds[-1][1] = day
            self.model.version += 1

    @rule(day=clinical_dates(), now=st.integers(0, 5))
    def discharge_episode(self, day: date, now: int) -> None:
        if now:  # discharge is rare: most of a machine's life is the episode's treatment
            return
        ok = (
            self.model.discharged is None
            and self.model.in_range(day)
            and all(d <= day for d in self.model.visits)
        )
        document = {"command": "discharge_episode", "discharge_date": str(day), "reason": "goals met"}
        if self.apply(document, ok):
            self.model.discharged = day
            if self.model.on_hold():
                self.model.holds[-1][1] = day
            self.model.version += 1

    @rule(index=st.integers(0, 1000))
    def replay_an_earlier_command(self, index: int) -> None:
        if not self.history:
            return
        document = self.history[index % len(self.history)]
        before = self.store.app.recorder.max_notification_id()
        result = self.store.app.handle(parse_command(document))
        assert not result.applied
        assert self.store.app.recorder.max_notification_id() == before

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def stored_episode_equals_the_model(self) -> None:
        episode = self.store.app.repository.get(self.episode_id)
        model = self.model
        accepted_after_open = len(self.history) - 1
        assert episode.version == model.version == 1 + accepted_after_open
        visits = {
            dos: (
                sum(
                    line.minutes
                    for line in v.service_lines
                    if (info := code_catalogue().get(line.code)) and info.timed
                ),
                v.total_treatment_minutes,
            )
            for dos, v in episode.visits.items()
        }
        assert visits == model.visits
        assert {k: (e.active, e.dosage.sets) for k, e in episode.exercises.items()} == {
            k: (e.stopped is None, e.sets) for k, e in model.exercises.items()
        }
        assert [(o.instrument, str(o.score)) for o in episode.outcomes] == model.outcomes
        assert (episode.discharge.discharge_date if episode.discharge else None) == model.discharged
        assert [[h.start, h.end] for h in episode.holds] == model.holds
        assert (len(episode.plans), len(episode.certifications)) == (model.plans, model.certifications)
        assert (len(episode.progress_reports), len(episode.reevaluations)) == (
            model.reports,
            model.reevaluations,
        )
        assert {
            d: sum(1 for a in v.amendments if a.kind == "addendum")
            for d, v in episode.visits.items()
            if d in model.addenda
        } == model.addenda
        assert {
            d for d, v in episode.visits.items() if any(a.kind == "late_entry" for a in v.amendments)
        } == model.late
        assert [v.date_of_service for v in episode.voided_visits] == model.voided
        assert [r.date_of_service for r in episode.remittances] == model.remitted
        assert episode.status == (
            "discharged" if model.discharged else "on_hold" if model.on_hold() else "active"
        )


TestEpisodeMachine = EpisodeMachine.TestCase


def test_the_machine_sends_every_command_of_the_registry() -> None:
    from domain.episode.commands import COMMANDS

    rules = {
        name for name, value in vars(EpisodeMachine).items() if hasattr(value, "hypothesis_stateful_rule")
    }
    sent = rules | {"open_episode"}  # the machine opens its episode when it starts
    assert set(COMMANDS) <= sent, f"no rule sends {sorted(set(COMMANDS) - sent)}"
