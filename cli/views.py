"""`careledger timeline|progression|outcomes|continuity EPISODE`: the read models of one episode.

Each command catches the projections up to the end of the event log, reads
one episode's rows, and prints them as tables (with sparklines where a trend is
easier to see than to read) or, with --json, as the JSON documented in
docs/projections.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from cli.common import (
    DbOption,
    EpisodeArg,
    JsonOption,
    emit_json,
    open_db,
    parse_date,
    resolve_episode,
)

if TYPE_CHECKING:
    from projections.views.queries import ReadModels


@contextmanager
def read_models(db: str | None, episode: str | None = None) -> Iterator[tuple[ReadModels, UUID | None]]:
    """Open the store, catch the projections up, and yield the queries (and the episode id).

    Each query appends its read to the store's access log.
    """
    from cli.projections import progress_bar
    from projections.views.queries import ReadModels

    with open_db(db) as store:
        episode_id = resolve_episode(store, episode) if episode is not None else None
        models = ReadModels(store)
        try:
            with progress_bar("catching up the read models") as advance:
                models.refresh(progress=advance)
            yield models, episode_id
        finally:
            models.close()


def _id(episode_id: UUID | None) -> UUID:
    if episode_id is None:
        raise typer.Exit(2)
    return episode_id


def _title(answer: dict[str, Any], what: str) -> str:
    return (
        f"{what} of episode {answer['episode_id']} ({answer['patient_ref']}, {answer['discipline']}, "
        f"{answer['payer']}, {answer['status']})"
    )


def timeline(episode: EpisodeArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show every visit, exercise change, outcome, plan and report in clinical-date order.

    Example: careledger timeline 94ec
    """
    with read_models(db, episode) as (models, episode_id):
        answer = models.timeline(_id(episode_id))
    if as_json:
        emit_json(answer)
        return
    from cli.render import show
    from cli.views_render import grid

    rows = []
    for e in answer["entries"]:
        recorded = e["recorded_at"].strftime("%Y-%m-%d %H:%M") if e["recorded_at"] else "-"
        if e["lag_days"] and e["lag_days"] > 1:
            recorded += f" (+{e['lag_days']}d)"
        rows.append(
            [str(e["clinical_date"]), e["kind"], e["summary"], recorded, e["recorded_by"] or "-", _v(e)]
        )
    show(
        grid(["date", "what", "summary", "recorded (UTC)", "by", "v"], rows, _title(answer, "Timeline"), (2,))
    )


def _v(entry: dict[str, Any]) -> str:
    return str(entry["event_version"]) if entry["event_version"] is not None else "-"


def progression(
    episode: EpisodeArg,
    exercise: Annotated[
        str | None, typer.Option("--exercise", help="Show one exercise, visit by visit.")
    ] = None,
    plateau_visits: Annotated[
        int,
        typer.Option(
            min=2, help="Consecutive visits without a change in dosage or complexity that make a plateau."
        ),
    ] = 6,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show each exercise's dosage over the visits, its changes with reasons, and its plateaus.

    Example: careledger progression 94ec --exercise slr
    """
    with read_models(db, episode) as (models, episode_id):
        answer = models.progression(_id(episode_id), exercise, plateau_visits)
    if as_json:
        emit_json(answer)
        return
    from cli.views_render import render_progression

    render_progression(answer, _title(answer, "Exercise progression"), detail=exercise is not None)


def outcomes(episode: EpisodeArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show each outcome instrument's scores, change from baseline, and whether it reaches its MCID.

    Example: careledger outcomes 94ec
    """
    with read_models(db, episode) as (models, episode_id):
        answer = models.outcomes(_id(episode_id))
    if as_json:
        emit_json(answer)
        return
    from cli.views_render import render_outcomes

    render_outcomes(answer, _title(answer, "Outcomes"))


def continuity(
    episode: EpisodeArg,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Read the clocks as of this date (YYYY-MM-DD) [default: today]."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show whether each visit is covered by a plan, a valid certification, a necessity statement and
    progress reports on time; the clocks; and every gap with the rule behind it.

    Example: careledger continuity 4391
    """
    with read_models(db, episode) as (models, episode_id):
        answer = models.continuity(_id(episode_id), _parse_day(today, models.store.timezone))
    if as_json:
        emit_json(answer)
        return
    from cli.views_render import render_continuity

    render_continuity(answer, _title(answer, "Medical-necessity continuity"))


def _parse_day(text: str | None, zone: tzinfo) -> date:
    return datetime.now(zone).date() if text is None else parse_date("today", text)
