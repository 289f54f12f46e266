"""`careledger review EPISODE`: the internal pre-billing review of an episode, in the terminal or as HTML.

The payer packet (`careledger packet`) is what goes to the payer; this is the
clinic's own report: findings grouped by rule with the visits each hits, the money
at risk and the fix (docs/packet.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import (
    AsOfOption,
    DbOption,
    EpisodeArg,
    JsonOption,
    emit_json,
    open_db,
    parse_moment,
    resolve_episode,
    write_private,
)

if TYPE_CHECKING:
    from projections.interop.review import Review


def review(
    episode: EpisodeArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the report as HTML to this FILE.html (0600) instead of printing it.",
            show_default=False,
        ),
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Review an episode before billing: findings by rule, the visits they hit, money at risk, the fix.

    Example: careledger review 94ec --out review.html
    """
    from domain.errors import InvalidInput
    from projections.interop.review import review as build_review
    from projections.interop.review import review_html

    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise InvalidInput("out", f"{out} is not a FILE.html")
    if out is not None and not out.parent.exists():
        raise InvalidInput("out", f"directory {out.parent} does not exist")
    with open_db(db) as store:
        episode_id = resolve_episode(store, episode)
        at = parse_moment("as_of", as_of, store.timezone) if as_of is not None else None
        report = build_review(store, episode_id, at)
    if out is not None:
        html = review_html(report).encode()
        write_private(out, html)
        if as_json:
            emit_json({"episode_id": str(episode_id), "path": str(out), "bytes": len(html)})
        else:
            typer.echo(f"wrote {out} ({len(html):,} bytes)")
        return
    if as_json:
        emit_json(report.as_dict())
        return
    render_review(report)


def render_review(report: Review) -> None:
    """Print the review: the verdict, then one row per rule sized to the terminal."""
    from rich.text import Text

    from cli.render import fitted, show
    from cli.text import cell, clean
    from projections.interop.packet.render import money
    from projections.interop.review import spans, verdict

    episode = report.data.episode
    head = Text(clean(f"Review of episode {episode.id} ({episode.patient_ref}): internal, not for the payer"))
    grid = fitted(
        ["rule", "visits", "at risk", "fix"],
        [
            [
                f"{row.severity.upper()} {row.rule_id}: {row.title}",
                spans(row.visits),
                money(row.at_risk) if row.visits else "-",
                row.fix,
            ]
            for row in report.rows
        ],
        justify={2: "right"},
    )
    show(head, cell(verdict(report)), grid if report.rows else cell("No finding."))
