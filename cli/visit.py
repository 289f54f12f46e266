"""`careledger visit ...`: record a treatment note, amend it, and see every version of it."""

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
    emit_json,
    new_app,
    open_db,
    read_document,
    resolve_episode,
)

app = new_app(
    "Record visits (treatment notes); correct them, add addenda, void them or record them late, "
    "each as a new event that keeps the original (docs/rules.md#amendments); see every version of one."
)

FileArg = Annotated[str, typer.Argument(help="JSON document of a record_visit command ('-' for stdin).")]
DateArg = Annotated[str, typer.Argument(help="Date of service of the visit (YYYY-MM-DD).")]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why (required; stored with the amendment).")
]
VersionOption = Annotated[
    int | None,
    typer.Option("--version", help="The visit's entry version, to be sure the right note is amended."),
]


@app.command("record")
def record(
    episode: EpisodeArg,
    file: FileArg,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one visit from its JSON document (see docs/examples/record_visit.json).

    Example: careledger visit record 94ec visit.json
    """
    apply_to_episode(db, episode, "record_visit", read_document(file), user, as_json)


@app.command("late-entry")
def late_entry(
    episode: EpisodeArg,
    file: FileArg,
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a visit's note written after its date of service, marked as a late entry with why.

    Example: careledger visit late-entry 94ec note.json --reason 'EMR down; written from the flow sheet'
    """
    document = read_document(file)
    document.pop("command", None)
    if reason is not None:
        document["reason"] = reason
    apply_to_episode(db, episode, "record_late_entry", document, user, as_json)


@app.command("correct")
def correct(
    episode: EpisodeArg,
    date_of_service: Annotated[str | None, typer.Argument(help="Date of service (YYYY-MM-DD).")] = None,
    changes: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="FIELD=VALUE, repeatable; VALUE is JSON (50, [...], {...}) or else plain text. "
            "Example: --set total_treatment_minutes=50",
        ),
    ] = None,
    reason: ReasonOption = None,
    version: VersionOption = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct fields of a recorded visit; the corrected note is checked like a new one.

    Example: careledger visit correct 94ec 2026-09-10 --set total_treatment_minutes=43 --reason 'timer log'
    """
    if file is not None:
        document = read_document(file)
    else:
        document = _target(date_of_service, version, reason)
        document["changes"] = dict(_assignment(item) for item in changes or [])
    apply_to_episode(db, episode, "correct_visit", document, user, as_json)


@app.command("addendum")
def addendum(
    episode: EpisodeArg,
    date_of_service: Annotated[str | None, typer.Argument(help="Date of service (YYYY-MM-DD).")] = None,
    text: Annotated[str | None, typer.Option("--text", help="The information added to the note.")] = None,
    reason: ReasonOption = None,
    version: VersionOption = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Append information to a recorded visit, dated when written.

    Example: careledger visit addendum 94ec 2026-09-10 --text 'No soreness next day' --reason 'phone call'
    """
    document = read_document(file) if file is not None else _target(date_of_service, version, reason)
    if file is None and text is not None:
        document["text"] = text
    apply_to_episode(db, episode, "add_addendum", document, user, as_json)


@app.command("void")
def void(
    episode: EpisodeArg,
    date_of_service: Annotated[str | None, typer.Argument(help="Date of service (YYYY-MM-DD).")] = None,
    reason: ReasonOption = None,
    version: VersionOption = None,
    file: FileOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Void a visit entered in error: it leaves the current record, its history stays, its date is free.

    Example: careledger visit void 94ec 2026-09-11 --reason "entered on the wrong patient's chart"
    """
    document = read_document(file) if file is not None else _target(date_of_service, version, reason)
    apply_to_episode(db, episode, "void_visit", document, user, as_json)


@app.command("history")
def history(
    episode: EpisodeArg,
    date_of_service: DateArg,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show every version of one visit: entry, corrections, addenda, void, with who, when and why.

    Example: careledger visit history 94ec 2026-09-10
    """
    from datetime import date

    from domain.errors import InvalidInput

    try:
        day = date.fromisoformat(date_of_service.strip())
    except ValueError:
        raise InvalidInput("date_of_service", f"'{date_of_service}' is not a date (YYYY-MM-DD)") from None
    with open_db(db) as store:
        episode_id = resolve_episode(store, episode)
        entries = store.visit_history(episode_id, day)
        zone = store.timezone
    if as_json:
        emit_json([entry.as_dict(with_visit=True) for entry in entries])
        return
    from cli.render import entry_changes, table

    table(
        ["v", "kind", "recorded (UTC)", "by", "reason", "changes (before → after)"],
        [
            [
                str(entry.version),
                entry.kind.replace("_", " "),
                entry.recorded_at.isoformat()[:19].replace("T", " "),
                entry.recorded_by,
                entry.reason or "-",
                entry_changes(entry, zone),
            ]
            for entry in entries
        ],
        title=f"visit on {day} of episode {episode_id}: {len(entries)} version(s)",
    )


def _target(date_of_service: str | None, version: int | None, reason: str | None) -> dict[str, Any]:
    """Name the amended visit by date and/or entry version, with the reason, as a document."""
    document: dict[str, Any] = {}
    if date_of_service is not None:
        document["date_of_service"] = date_of_service
    if version is not None:
        document["amends_version"] = version
    if reason is not None:
        document["reason"] = reason
    return document


def _assignment(item: str) -> tuple[str, Any]:
    """Split FIELD=VALUE; VALUE is read as JSON when it is JSON, else kept as text."""
    import orjson

    from domain.errors import InvalidInput

    name, equals, text = item.partition("=")
    if not equals or not name.strip():
        raise InvalidInput("set", f"'{item}' is not FIELD=VALUE")
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    return name.strip(), value
