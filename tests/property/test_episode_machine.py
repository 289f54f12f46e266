"""A state machine drives the application beside a plain model of the episode's rules.

After every step: the episode reloaded from the SQLite store equals the model,
a rejected command stored nothing, and the version is 1 + accepted commands.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

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

    def in_range(self, day: date) -> bool:
        if day < EPISODE_START or day > TODAY:
            return False
        return not (self.discharged is not None and day > self.discharged)

    def on_hold(self) -> bool:
        return bool(self.holds) and self.holds[-1][1] is None

    def in_hold(self, day: date) -> bool:
        return any(start <= day and (end is None or day < end) for start, end in self.holds)  # type: ignore[operator]


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

    @rule(dos=any_dates(), lines=service_lines, extra=st.integers(0, 20))
    def record_visit(self, dos: date, lines: list[dict[str, Any]], extra: int) -> None:
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
            "command": "record_visit",
            "date_of_service": str(dos),
            "provider_id": "pt-1",
            "credential": "PT",
            "service_lines": lines,
            "total_treatment_minutes": total,
        }
        if self.apply(document, ok):
            self.model.visits[dos] = (timed, total)
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
            "command": "progress_exercise",
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

    @rule(day=clinical_dates())
    def hold(self, day: date) -> None:
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
    def resume(self, day: date) -> None:
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

    @rule(day=clinical_dates())
    def discharge(self, day: date) -> None:
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
        assert episode.status == (
            "discharged" if model.discharged else "on_hold" if model.on_hold() else "active"
        )


TestEpisodeMachine = EpisodeMachine.TestCase
