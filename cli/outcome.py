"""`careledger outcome ...`: record an outcome measure."""

from __future__ import annotations

from typing import Annotated

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

app = new_app("Record outcome measures (LEFS, ODI, NDI, QuickDASH, PSFS, NPRS, TUG, 6MWT, Berg...).")


# A score may be negative (`-5` on a change scale): not an option, so unknown options are read as arguments.
@app.command("record", context_settings={"ignore_unknown_options": True})
def record(
    episode: EpisodeArg,
    instrument: Annotated[str | None, typer.Argument(help="Instrument id, e.g. LEFS.")] = None,
    score: Annotated[str | None, typer.Argument(help="Score on the instrument's own scale.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Date the measure was taken (YYYY-MM-DD).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who measured it.")] = None,
    note: Annotated[str, typer.Option(help="Note.")] = "",
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a score on a standard instrument (or give the record_outcome document with --file).

    Example: careledger outcome record 94ec LEFS 31 --on 2026-09-08 --by pt-rivera
    """
    if file is not None:
        document = read_document(file)
    else:
        values = {"instrument": instrument, "score": score, "taken_on": on, "note": note, "measured_by": by}
        document = {k: v for k, v in values.items() if v is not None}
    apply_to_episode(db, episode, "record_outcome", document, user, as_json)
