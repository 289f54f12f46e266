"""`careledger exercise ...`: add, progress, regress, discontinue an exercise."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.common import (
    DbOption,
    EpisodeArg,
    FileOption,
    JsonOption,
    UserOption,
    apply_to_episode,
    new_app,
    read_document,
)

app = new_app("Change the exercise programme: add, progress, regress, discontinue.")

OnOption = Annotated[str, typer.Option("--on", help="Date the change takes effect (YYYY-MM-DD).")]
Sets = Annotated[int | None, typer.Option(help="Sets.")]
Reps = Annotated[int | None, typer.Option(help="Repetitions per set.")]
Load = Annotated[str | None, typer.Option(help="Load, e.g. 5 (with --load-unit lb or kg).")]
LoadUnit = Annotated[str | None, typer.Option(help="lb or kg.")]
Resistance = Annotated[str | None, typer.Option(help="Band colour, machine level, incline...")]
Duration = Annotated[int | None, typer.Option("--seconds", help="Hold or bout duration in seconds.")]
Position = Annotated[str | None, typer.Option(help="Position, e.g. supine, standing on foam.")]


def _dosage(
    sets: int | None,
    reps: int | None,
    load: str | None,
    load_unit: str | None,
    resistance: str | None,
    seconds: int | None,
    position: str | None,
) -> dict[str, Any]:
    values = {
        "sets": sets,
        "reps": reps,
        "load": load,
        "load_unit": load_unit,
        "resistance": resistance,
        "duration_seconds": seconds,
        "position": position,
    }
    return {k: v for k, v in values.items() if v is not None}


@app.command("add")
def add(
    episode: EpisodeArg,
    exercise_id: Annotated[str | None, typer.Option("--id", help="Exercise id within the episode.")] = None,
    name: Annotated[str | None, typer.Option(help="Specific name: region, movement, equipment.")] = None,
    category: Annotated[str | None, typer.Option(help="strengthening, balance, gait, functional...")] = None,
    region: Annotated[str | None, typer.Option(help="Body region, e.g. left knee.")] = None,
    movement: Annotated[str | None, typer.Option(help="Movement, e.g. terminal knee extension.")] = None,
    equipment: Annotated[str | None, typer.Option(help="Equipment, e.g. cuff weight.")] = None,
    sets: Sets = None,
    reps: Reps = None,
    load: Load = None,
    load_unit: LoadUnit = None,
    resistance: Resistance = None,
    seconds: Duration = None,
    position: Position = None,
    on: Annotated[str | None, typer.Option("--on", help="Date added (YYYY-MM-DD).")] = None,
    reason: Annotated[str, typer.Option(help="Why it is added.")] = "",
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an exercise to the episode's programme.

    Example: careledger exercise add 94ec --id slr --name 'Straight leg raise' --on 2026-09-08 --sets 3
    """
    if file is not None:
        document = read_document(file)
    else:
        document = {
            "exercise_id": exercise_id,
            "name": name,
            "category": category,
            "body_region": region,
            "movement": movement,
            "equipment": equipment,
            "dosage": _dosage(sets, reps, load, load_unit, resistance, seconds, position),
            "effective_date": on,
            "reason": reason,
        }
        document = {k: v for k, v in document.items() if v is not None}
    apply_to_episode(db, episode, "add_exercise", document, user, as_json)


def _change(
    kind: str,
    episode: str,
    exercise_id: str,
    reason: str,
    on: str,
    dosage: dict[str, Any],
    name: str | None,
    file: str | None,
    db: str | None,
    user: str | None,
    as_json: bool,
) -> None:
    if file is not None:
        document = read_document(file)
    else:
        document = {
            "exercise_id": exercise_id,
            "dosage": dosage,
            "effective_date": on,
            "reason": reason,
        }
        if name:
            document["name"] = name
    apply_to_episode(db, episode, kind, document, user, as_json)


ExerciseArg = Annotated[str, typer.Argument(help="Exercise id within the episode.")]
ReasonOption = Annotated[str, typer.Option(help="Why (required): tolerance, pain, goal...")]
NameOption = Annotated[str | None, typer.Option(help="New variant name, if it changes.")]


@app.command("progress")
def progress(
    episode: EpisodeArg,
    exercise_id: ExerciseArg,
    reason: ReasonOption,
    on: OnOption,
    sets: Sets = None,
    reps: Reps = None,
    load: Load = None,
    load_unit: LoadUnit = None,
    resistance: Resistance = None,
    seconds: Duration = None,
    position: Position = None,
    name: NameOption = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Progress an exercise to a new dosage (give the whole new dosage).

    Example: careledger exercise progress 94ec slr --reason '3x10 pain-free' --on 2026-09-17 --reps 12
    """
    dosage = _dosage(sets, reps, load, load_unit, resistance, seconds, position)
    _change("progress_exercise", episode, exercise_id, reason, on, dosage, name, file, db, user, as_json)


@app.command("regress")
def regress(
    episode: EpisodeArg,
    exercise_id: ExerciseArg,
    reason: ReasonOption,
    on: OnOption,
    sets: Sets = None,
    reps: Reps = None,
    load: Load = None,
    load_unit: LoadUnit = None,
    resistance: Resistance = None,
    seconds: Duration = None,
    position: Position = None,
    name: NameOption = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Regress an exercise to an easier dosage (give the whole new dosage).

    Example: careledger exercise regress 94ec slr --reason 'pain 6/10' --on 2026-09-22 --sets 3 --reps 10
    """
    dosage = _dosage(sets, reps, load, load_unit, resistance, seconds, position)
    _change("regress_exercise", episode, exercise_id, reason, on, dosage, name, file, db, user, as_json)


@app.command("discontinue")
def discontinue(
    episode: EpisodeArg,
    exercise_id: ExerciseArg,
    reason: ReasonOption,
    on: OnOption,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take an exercise out of the programme.

    Example: careledger exercise discontinue 94ec slr --reason 'goal met' --on 2026-10-13
    """
    document = {"exercise_id": exercise_id, "effective_date": on, "reason": reason}
    apply_to_episode(db, episode, "discontinue_exercise", document, user, as_json)
