"""`careledger settings`: the settings kept in the store itself (the clinic's time zone)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import DbOption, JsonOption, emit_json, new_app, open_db

app = new_app(
    "Settings of the store, read by every process that opens it.\n\n"
    "timezone: the clinic's IANA time zone (default UTC). A command's 'today' (no clinical date in the "
    "future) and dates given without an offset are read in it."
)


@app.command("show")
def show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the store's settings (defaults included).

    Example: careledger settings show
    """
    from projections.store.settings import DEFAULT_TIMEZONE

    with open_db(db) as store:
        stored = store.settings.read()
    values = {"timezone": stored.get("timezone", DEFAULT_TIMEZONE)}
    if as_json:
        emit_json({**values, "stored": sorted(stored)})
        return
    for name, value in values.items():
        typer.echo(f"{name}: {value}{'' if name in stored else ' (default)'}")


@app.command("timezone")
def timezone(
    zone: Annotated[str, typer.Argument(help="An IANA time zone name, e.g. America/Chicago or UTC.")],
    db: DbOption = None,
) -> None:
    """Set the clinic's time zone: every later command decides 'today' in it.

    Example: careledger settings timezone America/Chicago
    """
    from projections.store.settings import TIMEZONE, parse_timezone

    parsed = parse_timezone(zone)
    with open_db(db, create=True) as store:
        store.settings.write(TIMEZONE, parsed.key)
    typer.echo(f"timezone: {parsed.key}")
