"""`careledger episode ...`: open, list, show, history, hold, resume, discharge."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from cli.common import (
    DbOption,
    EpisodeArg,
    FileOption,
    JsonOption,
    UserOption,
    apply_to_episode,
    build_command,
    emit_json,
    execute,
    new_app,
    open_db,
    read_document,
    resolve_episode,
    usage_error,
)

app = new_app("Open episodes of care and see what they hold.")


@app.command("open")
def open_episode(
    file: Annotated[
        str | None, typer.Argument(help="JSON document of an open_episode command ('-' for stdin).")
    ] = None,
    patient: Annotated[str | None, typer.Option(help="Opaque patient reference (never a name).")] = None,
    discipline: Annotated[str | None, typer.Option(help="PT, OT or SLP.")] = None,
    payer: Annotated[str | None, typer.Option(help="Payer profile id, e.g. medicare.")] = None,
    unit_rule: Annotated[
        str | None, typer.Option(help="cms or ama; default: the payer profile's rule.")
    ] = None,
    diagnosis: Annotated[
        list[str] | None, typer.Option(help="ICD-10-CM code; repeat for more (primary first).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Start date of the episode (YYYY-MM-DD).")] = None,
    referring: Annotated[str | None, typer.Option(help="Referring provider id.")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open an episode from a JSON document or from options.

    Example: careledger episode open --patient MRN-4512 --discipline PT --payer medicare --diagnosis M17.11
    """
    if file is not None:
        document = read_document(file)
    else:
        document = {
            "patient_ref": patient,
            "discipline": discipline,
            "payer": {"payer_id": payer, **({"unit_rule": unit_rule} if unit_rule else {})},
            "diagnoses": [{"code": code} for code in diagnosis or []],
            "start_date": start,
        }
        if referring:
            document["referring_provider"] = {"provider_id": referring}
        document = {k: v for k, v in document.items() if v is not None}
        if payer is None:
            document.pop("payer")
    command = build_command("open_episode", document, user=user)
    from domain.door import identifying_hint

    hint = identifying_hint(str(getattr(command, "patient_ref", "")))
    if hint is not None:
        from cli.text import echo

        echo(f"warning: patient_ref: {hint}; use an opaque id (an MRN), never a name or a date", err=True)
    result = execute(db, command, as_json)
    if result.applied:
        warn_same_day(db, str(result.episode_id))


def warn_same_day(db: str | None, episode_id: str) -> None:
    """Warn (stderr) when the patient already has an active episode of this discipline opened that day.

    Two episodes of one discipline for one patient split the visits, the clocks and
    the KX count between them; it is allowed (a second condition can have its own
    plan), but it is usually a double entry.
    """
    from cli.text import echo
    from cli.views import read_models

    with read_models(db) as (models, _):
        rows = models.episodes()
    mine = next((r for r in rows if r["episode_id"] == episode_id), None)
    if mine is None:
        return
    same = [
        r["episode_id"][:8]
        for r in rows
        if r["episode_id"] != episode_id
        and r["status"] != "discharged"
        and (r["patient_ref"], r["discipline"], str(r["start_date"]))
        == (mine["patient_ref"], mine["discipline"], str(mine["start_date"]))
    ]
    if same:
        echo(
            f"warning: patient {mine['patient_ref']} already has {len(same)} active {mine['discipline']} "
            f"episode{'s' if len(same) != 1 else ''} starting {mine['start_date']} ({', '.join(same)}): "
            "a double entry? (allowed; discharge the extra one with careledger episode discharge)",
            err=True,
        )


@app.command("list")
def list_episodes(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every episode in the store, with its open continuity gaps (from the summary read model).

    Example: careledger episode list --json
    """
    from cli.views import read_models

    with read_models(db) as (models, _):
        rows = models.episodes()
        refused = models.refused
    if refused:
        from cli.text import echo

        for problem in refused:
            echo(f"warning: {problem}; not listed", err=True)
    if as_json:
        emit_json(rows)
        return
    from cli.render import table

    table(
        ["episode", "patient", "disc", "payer", "status", "start", "visits", "last visit", "gaps"],
        [
            [
                r["episode_id"][:8],
                r["patient_ref"],
                r["discipline"],
                r["payer"],
                r["status"],
                str(r["start_date"]),
                str(r["visits"]),
                str(r["last_visit"] or "-"),
                str(r["open_gaps"]) + (f" (+{r['gap_warnings']} warn)" if r["gap_warnings"] else ""),
            ]
            for r in rows
        ],
        title=f"{len(rows)} episode{'s' if len(rows) != 1 else ''}",
        optional=[5, 2],  # on a narrow terminal the start date, then the discipline, give way
    )


@app.command("show")
def show_episode(
    episode: EpisodeArg,
    version: Annotated[
        int | None, typer.Option(help="Show the episode as of this version (1 to its current version).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an episode: plan, certifications, visits, exercises, outcomes.

    Example: careledger episode show 94ec --version 12
    """
    from domain.errors import InvalidInput

    with open_db(db) as store:
        try:
            found = store.episode(resolve_episode(store, episode), version=version)
        except InvalidInput as error:
            if error.field != "version":
                raise
            raise usage_error("--version", error.problem) from None
    if as_json:
        emit_json(found.as_dict())
        return
    from cli.render import episode_report

    episode_report(found)


@app.command("history")
def history(episode: EpisodeArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every event of an episode: version, type, recorded time, clinical date.

    Example: careledger episode history 94ec
    """
    with open_db(db) as store:
        events = store.history(resolve_episode(store, episode))
    rows: list[dict[str, Any]] = [
        {
            "version": e.originator_version,
            "type": type(e).__name__,
            "recorded_at": e.timestamp.isoformat(),
            "recorded_by": e.recorded_by,
            "clinical_date": _iso(e.clinical_date()),
            "command_id": str(e.command_id),
            "fields": e.payload(),
        }
        for e in events
    ]
    if as_json:
        emit_json(rows)
        return
    from cli.render import table

    table(
        ["v", "event", "clinical date", "recorded at (UTC)", "by"],
        [
            [
                str(r["version"]),
                r["type"],
                r["clinical_date"] or "-",
                r["recorded_at"][:19].replace("T", " "),
                r["recorded_by"],
            ]
            for r in rows
        ],
        title=f"episode {events[0].originator_id}: {len(rows)} events",
    )


@app.command("hold")
def hold(
    episode: EpisodeArg,
    start: Annotated[str | None, typer.Option("--from", help="First day of the hold (YYYY-MM-DD).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why treatment is paused.")] = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put an episode on hold.

    Example: careledger episode hold 94ec --from 2026-10-23 --reason 'hospital admission'
    """
    document = _document(file, {"start_date": start, "reason": reason})
    apply_to_episode(db, episode, "hold_episode", document, user, as_json)


@app.command("resume")
def resume(
    episode: EpisodeArg,
    on: Annotated[str | None, typer.Option("--on", help="Date treatment resumes (YYYY-MM-DD).")] = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resume an episode after a hold.

    Example: careledger episode resume 94ec --on 2026-10-30
    """
    apply_to_episode(db, episode, "resume_episode", _document(file, {"resume_date": on}), user, as_json)


@app.command("discharge")
def discharge(
    episode: EpisodeArg,
    on: Annotated[str | None, typer.Option("--on", help="Discharge date (YYYY-MM-DD).")] = None,
    reason: Annotated[str | None, typer.Option(help="e.g. goals met, patient request.")] = None,
    summary: Annotated[str | None, typer.Option(help="Discharge summary.")] = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Discharge an episode.

    Example: careledger episode discharge 94ec --on 2026-11-02 --reason 'goals met'
    """
    document = _document(file, {"discharge_date": on, "reason": reason, "summary": summary})
    apply_to_episode(db, episode, "discharge_episode", document, user, as_json)


def _document(file: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """Use the JSON document if given, else the options that were set."""
    if file is not None:
        return read_document(file)
    return {k: v for k, v in options.items() if v is not None}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
