"""The `careledger` command: the root group and where each command group lives."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import audit, billing, clinic, episode, exercise, outcome, plan, report, settings, tokens, visit
from cli.check import check
from cli.common import new_app
from cli.demo import demo
from cli.export import app as export_app
from cli.importer import import_file
from cli.packet import packet
from cli.projections import app as projections_app
from cli.remit import denials
from cli.review import review
from cli.rules import rules
from cli.schema import schema
from cli.serve import serve
from cli.views import continuity, outcomes, progression, timeline

app = new_app(
    "careledger: an event-sourced ledger of outpatient therapy episodes of care.\n\n"
    "Record visits, exercise changes and outcome measures as immutable events; see each "
    "episode's history and what it said at any past time; verify that nothing was altered. "
    "The store is a SQLite file (default ./careledger.db) or a "
    "postgresql:// URL, chosen with --db or CARELEDGER_DB.",
    completion=True,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"careledger {version('careledger')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    pass


app.command("import")(import_file)
app.add_typer(episode.app, name="episode")
app.add_typer(plan.app, name="plan")
app.add_typer(visit.app, name="visit")
app.add_typer(exercise.app, name="exercise")
app.add_typer(outcome.app, name="outcome")
app.add_typer(report.app, name="report")
app.command("units")(billing.units)
app.command("bill")(billing.bill)
app.command("denials")(denials)
app.command("rules")(rules)
app.command("audit")(audit.audit)
app.command("verify")(audit.verify)
app.command("timeline")(timeline)
app.command("progression")(progression)
app.command("outcomes")(outcomes)
app.command("continuity")(continuity)
app.command("check")(check)
app.add_typer(projections_app, name="projections")
app.command("schema")(schema)
app.command("demo")(demo)
app.add_typer(settings.app, name="settings")
app.add_typer(clinic.app, name="clinic")
app.add_typer(export_app, name="export")
app.command("packet")(packet)
app.add_typer(tokens.app, name="token")
app.command("serve")(serve)
app.command("review")(review)


def run() -> None:
    """Entry point of the `careledger` script: files it creates are its user's only (umask 077)."""
    import os

    os.umask(0o077)
    app(prog_name="careledger")
