"""Builders of valid commands with sensible defaults, for tests to vary one field at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from domain.episode import commands as c

EPISODE_START = "2026-09-01"


def open_episode(**fields: Any) -> c.OpenEpisode:
    """An open_episode command for a PT Medicare knee episode."""
    values: dict[str, Any] = {
        "command_id": uuid4(),
        "recorded_by": "tester",
        "episode_id": uuid4(),
        "patient_ref": "MRN-1",
        "discipline": "PT",
        "payer": {"payer_id": "medicare"},
        "diagnoses": [{"code": "M17.11"}],
        "start_date": EPISODE_START,
    }
    values.update(fields)
    return c.OpenEpisode(**values)


def visit(episode_id: UUID, **fields: Any) -> c.RecordVisit:
    """A record_visit command with 33 minutes of 97110 and 7 of 97140."""
    values: dict[str, Any] = {
        "command_id": uuid4(),
        "recorded_by": "tester",
        "episode_id": episode_id,
        "date_of_service": "2026-09-02",
        "provider_id": "pt-1",
        "credential": "PT",
        "service_lines": [{"code": "97110", "minutes": 33}, {"code": "97140", "minutes": 7}],
        "total_treatment_minutes": 45,
        "necessity": "Knee flexion 95 degrees limits stairs after TKA.",
        "patient_response": "Tolerated well, pain 3/10.",
        "skilled_interventions": ["cues for VMO activation"],
        "narrative": "One-on-one throughout.",
    }
    values.update(fields)
    return c.RecordVisit(**values)


def plan(episode_id: UUID, **fields: Any) -> c.EstablishPlan:
    """An establish_plan command with two goals, 2x/week for 8 weeks."""
    values: dict[str, Any] = {
        "command_id": uuid4(),
        "recorded_by": "tester",
        "episode_id": episode_id,
        "established_on": EPISODE_START,
        "therapist_id": "pt-1",
        "credential": "PT",
        "goals": [
            {"goal_id": "G1", "term": "long", "text": "Climb 12 stairs"},
            {"goal_id": "G2", "term": "short", "text": "Flexion 110 degrees"},
        ],
        "frequency_per_week": 2,
        "duration_weeks": 8,
    }
    values.update(fields)
    return c.EstablishPlan(**values)


def add_exercise(episode_id: UUID, exercise_id: str = "slr", **fields: Any) -> c.AddExercise:
    """An add_exercise command for a straight leg raise."""
    values: dict[str, Any] = {
        "command_id": uuid4(),
        "recorded_by": "tester",
        "episode_id": episode_id,
        "exercise_id": exercise_id,
        "name": "Straight leg raise, right hip flexion, supine",
        "category": "strengthening",
        "dosage": {"sets": 3, "reps": 10, "load": "2", "load_unit": "lb"},
        "effective_date": EPISODE_START,
    }
    values.update(fields)
    return c.AddExercise(**values)


def command(kind: type[c.Command], episode_id: UUID, **fields: Any) -> Any:
    """Any command on an episode, with a new command_id and the test author."""
    return kind(command_id=uuid4(), recorded_by="tester", episode_id=episode_id, **fields)


def late_entry(
    episode_id: UUID, reason: str = "written after the session", **fields: Any
) -> c.RecordLateEntry:
    """A record_late_entry command: the visit() note, marked late with a reason."""
    note = visit(episode_id, **fields).model_dump(exclude={"command", "command_id"})
    return c.RecordLateEntry(command_id=uuid4(), reason=reason, **note)


def correction(episode_id: UUID, changes: dict[str, Any], **fields: Any) -> c.CorrectVisit:
    """A correct_visit command for the visit on 2026-09-02."""
    values: dict[str, Any] = {"date_of_service": "2026-09-02", "reason": "entered wrong"}
    values.update(fields)
    return command(c.CorrectVisit, episode_id, changes=changes, **values)
