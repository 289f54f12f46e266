"""`careledger report ...`: progress reports and re-evaluations."""

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

app = new_app("Record progress reports and re-evaluations.")

FileArg = Annotated[str, typer.Argument(help="JSON document of the command ('-' for stdin).")]


@app.command("progress")
def progress(
    episode: EpisodeArg,
    file: FileArg,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a progress report (see docs/examples/record_progress_report.json).

    Example: careledger report progress 94ec progress.json
    """
    apply_to_episode(db, episode, "record_progress_report", read_document(file), user, as_json)


@app.command("reeval")
def reeval(
    episode: EpisodeArg,
    file: FileArg,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a re-evaluation (see docs/examples/record_reevaluation.json).

    Example: careledger report reeval 94ec reeval.json
    """
    apply_to_episode(db, episode, "record_reevaluation", read_document(file), user, as_json)
