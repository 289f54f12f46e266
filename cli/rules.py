"""`careledger rules`: the rule tables in force on a date of service, and where each came from."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from cli.common import JsonOption, emit_json, parse_date


def rules(
    on: Annotated[
        str | None,
        typer.Option("--on", help="The date of service (YYYY-MM-DD). Default: today."),
    ] = None,
    payer: Annotated[
        list[str] | None,
        typer.Option(
            "--payer", help="Only this payer's profile and fees (repeat for several). Default: all."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the rule tables in force on a date: codes, NCCI pairs, MUE, thresholds, payer profiles and
    fees, with each one's version, effective date and file (shipped, or the clinic's rules folder,
    CARELEDGER_RULES_DIR; payer profiles also from CARELEDGER_PAYERS_DIR). See docs/rules.md#dated-tables.

    Example: careledger rules --on 2026-03-02
    """
    from domain.billing.rules import tables_in_force
    from projections.store.root import payer_dirs_from_env

    day = parse_date("--on", on) if on is not None else date.today()
    found = tables_in_force(day, payer or (), payer_dirs_from_env())
    if as_json:
        emit_json({"on": day.isoformat(), "tables": [t.model_dump(mode="json") for t in found]})
        return
    typer.echo(f"Rule tables in force on {day}:")
    for table in found:
        typer.echo(f"  {table.table}: {table.version} (effective {table.effective}) from {table.origin}")
        if table.detail:
            typer.echo(f"      {table.detail}")
