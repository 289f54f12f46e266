"""`careledger outcome ...`: record an outcome measure."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import DbOption, EpisodeArg, JsonOption, UserOption, apply_to_episode, new_app

app = new_app("Record outcome measures (LEFS, ODI, NDI, QuickDASH, PSFS, NPRS, TUG, 6MWT, Berg...).")


@app.command("record")
def record(
    episode: EpisodeArg,
    instrument: Annotated[str, typer.Argument(help="Instrument id, e.g. LEFS.")],
    score: Annotated[str, typer.Argument(help="Score on the instrument's own scale.")],
    on: Annotated[str, typer.Option("--on", help="Date the measure was taken (YYYY-MM-DD).")],
    by: Annotated[str | None, typer.Option("--by", help="Who measured it.")] = None,
    note: Annotated[str, typer.Option(help="Note.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a score on a standard instrument."""
    document = {"instrument": instrument, "score": score, "taken_on": on, "note": note}
    if by:
        document["measured_by"] = by
    apply_to_episode(db, episode, "record_outcome", document, user, as_json)
