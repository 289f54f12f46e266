"""`careledger plan ...`: establish and certify the plan of care."""

from __future__ import annotations

from typing import Annotated, Any

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

app = new_app("Establish and certify the plan of care.")


@app.command("establish")
def establish(
    episode: EpisodeArg,
    file: Annotated[str, typer.Argument(help="JSON document of an establish_plan command ('-' for stdin).")],
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Establish (or revise) the plan of care from its JSON document.

    Example: careledger plan establish 94ec plan.json
    """
    apply_to_episode(db, episode, "establish_plan", read_document(file), user, as_json)


@app.command("certify")
def certify(
    episode: EpisodeArg,
    file: Annotated[
        str | None, typer.Argument(help="JSON document of a certify_plan command ('-' for stdin).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Certifying provider id.")] = None,
    credential: Annotated[str | None, typer.Option(help="MD, DO, NP, PA, CNS or DPM.")] = None,
    signed_on: Annotated[str | None, typer.Option(help="Date signed (YYYY-MM-DD).")] = None,
    verbal_order_on: Annotated[str | None, typer.Option(help="Date of a verbal order.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day certified.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day certified.")] = None,
    plan_version: Annotated[int | None, typer.Option(help="Plan version [default: latest].")] = None,
    delay_reason: Annotated[str, typer.Option(help="Why the certification is late.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a certification (or recertification) of the plan of care.

    Example: careledger plan certify 94ec --by dr-lee --signed-on 2026-09-12 --from 2026-09-08 --to 2026-12-06
    """
    if file is not None:
        document = read_document(file)
    else:
        certifier: dict[str, Any] = {"provider_id": by}
        if credential:
            certifier["credential"] = credential
        document = {
            "certifier": certifier if by else None,
            "signed_on": signed_on,
            "verbal_order_on": verbal_order_on,
            "period_start": start,
            "period_end": end,
            "plan_version": plan_version,
            "delay_reason": delay_reason,
        }
        document = {k: v for k, v in document.items() if v is not None}
    apply_to_episode(db, episode, "certify_plan", document, user, as_json)
