"""The exercise progression view: each exercise's dosage at every visit, its changes, its plateaus.

Pure: an episode in, `pv_exercise` rows out, one per exercise: its history of
changes (with reasons and provenance), and `points`, the dosage at each visit it
was performed (JSON: date, dosage, text, workload, run). A point's `run` number
increases whenever the dosage or the prescription in force changes, so plateaus
of any length can be found from the stored rows (`careledger progression
--plateau-visits N`); `longest_run` and `plateau` (an unexplained run of at least
the default number of visits) are stored for SQL users.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.progression.dosage import (
    DEFAULT_PLATEAU_VISITS,
    Performed,
    dosage_key,
    performances,
    plateaus,
    workload,
)
from domain.records import Exercise, ExerciseChange
from domain.values import Dosage, PerformedExercise

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode

Row = dict[str, Any]
_RENDERED: dict[tuple[Any, ...], tuple[dict[str, Any], str, str | None]] = {}
_RENDERED_MAX = 4096


def rendered(dosage: Dosage) -> tuple[dict[str, Any], str, str | None]:
    """Return a dosage as JSON values, as text, and its workload as decimal text (memoised)."""
    key = dosage_key(dosage)
    found = _RENDERED.get(key)
    if found is None:
        load = workload(dosage)
        found = (dosage.model_dump(mode="json", exclude_none=True), dosage.describe(), _text(load))
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[key] = found
    return found


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = f"{value.normalize():f}"
    return text


def _change_json(change: ExerciseChange) -> dict[str, Any]:
    values, text = (rendered(change.dosage)[:2]) if change.dosage else (None, None)
    return {
        "kind": change.kind,
        "effective_date": change.effective_date.isoformat(),
        "name": change.name,
        "dosage": values,
        "dosage_text": text,
        "reason": change.reason,
        "event_version": change.event_version,
        "recorded_at": change.recorded_at.isoformat(),
        "recorded_by": change.recorded_by,
    }


def _performed_by_exercise(episode: Episode) -> dict[str, list[tuple[date, PerformedExercise, int]]]:
    found: dict[str, list[tuple[date, PerformedExercise, int]]] = {}
    for day in sorted(episode.visits):
        visit = episode.visits[day]
        for performed in visit.exercises:
            key = performed.exercise_id or f"~{performed.name}"
            found.setdefault(key, []).append((day, performed, visit.event_version))
    return found


def _points(
    history: Sequence[ExerciseChange], performed: Sequence[tuple[date, PerformedExercise, int]]
) -> tuple[list[dict[str, Any]], list[Performed]]:
    points: list[dict[str, Any]] = []
    marks = performances(history, [(day, done.dosage) for day, done, _ in performed])
    run = 0
    previous: object = None
    for mark, (_, done, version) in zip(marks, performed, strict=True):
        day, key, reason = mark.day, mark.key, mark.regression_reason
        changed = previous is not None and key != previous
        if previous is None or changed:
            run += 1
        previous = key
        values, text, load = rendered(done.dosage)
        point: dict[str, Any] = {
            "date": day.isoformat(),
            "dosage": values,
            "dosage_text": text,
            "workload": load,
            "run": run,
            "changed": changed,
            "event_version": version,
        }
        if reason is not None:
            point["regression_reason"] = reason
        points.append(point)
    return points, marks


def _exercise_row(
    episode_id: str,
    exercise_id: str,
    exercise: Exercise | None,
    name: str,
    points: list[dict[str, Any]],
    marks: list[Performed],
) -> Row:
    history = exercise.history if exercise is not None else ()
    runs = plateaus(marks, 2) if len(marks) >= 2 else []
    flagged = [p for p in runs if p.flagged and p.visits >= DEFAULT_PLATEAU_VISITS]
    first = history[0].dosage if history else None
    return {
        "episode_id": episode_id,
        "exercise_id": exercise_id,
        "name": exercise.name if exercise is not None else name,
        "category": exercise.category if exercise is not None else None,
        "body_region": exercise.body_region if exercise is not None else None,
        "status": "unlinked" if exercise is None else ("active" if exercise.active else "discontinued"),
        "added_on": history[0].effective_date if history else (marks[0].day if marks else None),
        "changes": sum(1 for c in history if c.kind in ("progressed", "regressed")),
        "visits": len(marks),
        "first_dosage": rendered(first)[1] if first is not None else None,
        "current_dosage": rendered(exercise.dosage)[1] if exercise is not None else None,
        "longest_run": max((p.visits for p in runs), default=1 if marks else 0),
        "plateau": bool(flagged),
        "history": [_change_json(change) for change in history],
        "points": points,
    }


def progression_rows(episode: Episode) -> dict[str, list[Row]]:
    """Return the episode's `pv_exercise` rows, one per exercise (performed or prescribed)."""
    episode_id = str(episode.id)
    performed = _performed_by_exercise(episode)
    rows: list[Row] = []
    ids = list(episode.exercises) + [k for k in performed if k not in episode.exercises]
    for exercise_id in ids:
        exercise = episode.exercises.get(exercise_id)
        done = performed.get(exercise_id, [])
        points, marks = _points(exercise.history if exercise is not None else (), done)
        name = done[0][1].name if done else exercise_id
        rows.append(_exercise_row(episode_id, exercise_id, exercise, name, points, marks))
    return {"pv_exercise": rows}
