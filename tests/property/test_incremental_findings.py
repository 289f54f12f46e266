"""Incremental findings equal a full re-derivation, after any sequence of commands.

The projector keeps each folded episode's per-visit findings (`VisitMemo`) and
derives again only the visits whose inputs an event changed. This machine drives
the episode state machine's commands (visits, late entries, corrections, addenda,
voids, plans, certifications, exercise changes, outcomes, holds, discharge,
replays; a later plan adds a diagnosis), with notes that perform the episode's exercises and carry text, and
after every step folds the new events onto one kept episode, as the projector
does, and holds its analysis with the memo equal to an analysis of the episode
loaded afresh with no memo, and so the rows the findings read model stores.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis.stateful import invariant

from domain.episode.aggregate import Episode
from domain.findings import CheckContext
from domain.findings.engine import VisitMemo, analyse
from projections.views.findings import findings_rows
from tests.property.test_episode_machine import EpisodeMachine

NARRATIVES = (
    "Patient reports knee pain 4/10 on stairs; progressed step-ups with tactile cues for knee alignment.",
    "Patient reports knee pain 4/10 on stairs; progressed step-ups with verbal cues for knee alignment.",
    "Worked independently on the bike while the therapist supervised the group.",
)
# ties to a diagnosis only once a plan adds "Difficulty in walking" (the episode opens with M17.11 alone)
NECESSITY = "Difficulty on stairs limits community walking; needs skilled gait training."
RESPONSES = ("Tolerated well.", "Pain 2/10 after the session, gait quality improved with fewer cues.")


class IncrementalFindingsMachine(EpisodeMachine):
    def __init__(self) -> None:
        self.folded: Episode | None = None
        self.memo = VisitMemo()
        self.context = CheckContext.default()
        super().__init__()

    def apply(self, document: dict[str, Any], expected: bool) -> bool:
        """Send the command; a plan after the first adds a diagnosis (necessity statements read it)."""
        if document["command"] == "establish_plan" and self.model.plans:
            document = {**document, "diagnoses": [{"code": "R26.2", "description": "Difficulty in walking"}]}
        return super().apply(document, expected)

    def _note(
        self, command: str, dos: date, lines: list[dict[str, Any]], extra: int
    ) -> tuple[dict[str, Any], bool, tuple[int, int]]:
        """The machine's note, with the episode's active exercises performed and some text."""
        document, ok, minutes = super()._note(command, dos, lines, extra)
        linked = sorted(
            exercise_id
            for exercise_id, exercise in self.model.exercises.items()
            if exercise.added <= dos and exercise.stopped is None
        )
        pick = dos.toordinal()
        document["exercises"] = [
            *({"exercise_id": e, "name": f"{e} exercise", "dosage": {"sets": 2, "reps": 10}} for e in linked),
            {"name": "stationary bike", "dosage": {"duration_seconds": 300}, "note": "warm-up"},
        ]
        document["narrative"] = NARRATIVES[pick % len(NARRATIVES)]
        document["patient_response"] = RESPONSES[pick % len(RESPONSES)]
        document["necessity"] = NECESSITY if pick % 3 else ""
        document["skilled_interventions"] = ["tactile cues for knee alignment"] if pick % 2 else []
        return document, ok, minutes

    @invariant()
    def incremental_findings_equal_a_full_derivation(self) -> None:
        fresh = self.store.app.repository.get(self.episode_id)
        events = self.store.history(self.episode_id)
        start = 0 if self.folded is None else self.folded.version
        for change in events[start:]:
            self.folded = change.mutate(self.folded)
        assert self.folded is not None
        assert self.folded.version == fresh.version
        kept = analyse(self.folded, self.context, memo=self.memo)
        assert kept == analyse(fresh, self.context)
        assert findings_rows(self.folded, self.context, memo=self.memo) == findings_rows(fresh, self.context)


TestIncrementalFindings = IncrementalFindingsMachine.TestCase
