"""`careledger visit ...`: record a treatment note."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import (
    DbOption,
    EpisodeArg,
    JsonOption,
    UserOption,
    apply_to_episode,
    new_app,
    read_document,
)

app = new_app("Record visits (treatment notes).")

FileArg = Annotated[str, typer.Argument(help="JSON document of a record_visit command ('-' for stdin).")]


@app.command("record")
def record(
    episode: EpisodeArg,
    file: FileArg,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one visit from its JSON document (see docs/examples/record_visit.json)."""
    apply_to_episode(db, episode, "record_visit", read_document(file), user, as_json)
