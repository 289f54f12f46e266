"""`careledger check`: what in the record would get a claim denied, downcoded or recouped, and how to fix it.

`check EPISODE` lists an episode's findings grouped by visit, most severe first,
each with its fix; `check --all` is the clinic-wide view. Both read the findings
read model (caught up first). Exit codes gate billing in a script: 0 no errors,
1 errors found, 2 the check could not run (bad episode id or option; one line on
stderr), 3 the database is unavailable. Rules and JSON: docs/checks.md.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import DbOption, JsonOption, emit_json, open_db, parse_date, resolve_episode
from cli.render import print_lines
from cli.text import echo

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Group
    from rich.table import Table

    from domain.episode.aggregate import Episode

NOT_CHECKED = 2
LABELS = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


def check(
    episode: Annotated[
        str | None, typer.Argument(help="Episode id (a UUID, or a unique prefix of one); or use --all.")
    ] = None,
    all_episodes: Annotated[
        bool, typer.Option("--all", help="Check every episode: findings per rule, the episodes most at risk.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only findings dated on or after this date (YYYY-MM-DD)."),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="With --all: how many episodes at risk to list.")
    ] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the documentation the way a payer's reviewer reads it (docs/rules.md#plan-of-care,
    docs/rules.md#documentation).

    Exit 0 when no finding is an error, 1 when one is (the claim would be denied as
    billed), 2 when the check could not run, 3 when the database is unavailable.

    Example: careledger check 4391 && echo ready to bill
    """
    from domain.errors import CareledgerError

    if (episode is None) == (not all_episodes):
        raise typer.BadParameter("give an EPISODE, or --all")
    try:
        day = _since(since)
        with _reader(db, episode) as (reader, episode_id):
            answer = reader.clinic(day, top) if episode_id is None else reader.episode(episode_id, day)
    except CareledgerError as error:
        if error.exit_code != 1:
            raise
        echo(f"error: {error}", err=True)
        raise typer.Exit(NOT_CHECKED) from None
    if as_json:
        emit_json(answer)
    elif episode_id is None:
        _print_clinic(answer, db)
    else:
        _print_episode(answer)
    if answer["counts"]["error"]:
        raise typer.Exit(1)


def _since(text: str | None) -> date | None:
    return None if text is None else parse_date("since", text)


@contextmanager
def _reader(db: str | None, episode: str | None) -> Iterator[tuple[Any, Any]]:
    from cli.projections import progress_bar
    from projections.views.findings_query import FindingsReader

    with open_db(db) as store:
        episode_id = resolve_episode(store, episode) if episode is not None else None
        if episode_id is None:
            store.require_intact()  # the clinic-wide gate reads every episode: every chain verifies first
        reader = FindingsReader(store)
        try:
            with progress_bar("catching up the findings") as advance:
                reader.refresh(progress=advance)
            yield reader, episode_id
        finally:
            reader.close()


def _wrap(text: str, indent: int) -> list[str]:
    from cli.render import line_width

    pad = " " * indent
    wrapped = textwrap.wrap(
        text,
        line_width() - 1,
        initial_indent=pad,
        subsequent_indent=pad,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return wrapped or [""]


def finding_lines(finding: dict[str, Any], indent: int = 2) -> list[str]:
    """Render one finding (its JSON shape) as indented text lines."""
    label = LABELS[finding["severity"]]
    pad = indent + 9
    head = f"{' ' * indent}{label:<8} {finding['rule_id']}"
    if finding["subject"]:
        head += f" · {finding['subject']}"
    lines = [head, *_wrap(finding["message"], pad)]
    if finding["quote"]:
        lines += _wrap(f'quote: "{finding["quote"]}"', pad)
    lines += _wrap(f"fix: {finding['fix']}", pad)
    evidence = ", ".join(
        f"v{e['version']} {e['what']}"
        + (f" {e['date']}" if e["date"] else "")
        + (f" (episode {e['episode_id'][:8]})" if e.get("episode_id") else "")
        for e in finding["evidence"]
    )
    lines += _wrap(f"{finding['source']} · evidence: {evidence}", pad)
    return lines


def _summary(counts: dict[str, int]) -> str:
    parts = f"{counts['error']} errors · {counts['warning']} warnings · {counts['info']} info"
    if counts["error"]:
        return f"{parts}: claims would be denied as billed; fix the errors first"
    if counts["warning"]:
        return f"{parts}: no error; the warnings put claims at risk in review"
    return f"{parts}: nothing a reviewer would deny"


def _print_episode(answer: dict[str, Any]) -> None:
    since = f", since {answer['since']}" if answer["since"] else ""
    out: list[Any] = [
        f"Documentation checks of episode {answer['episode_id']} ({answer['patient_ref']}, "
        f"{answer['discipline']}, {answer['payer']}, {answer['status']}){since}",
        f"{answer['visits']} visits checked · {_summary(answer['counts'])}",
    ]
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for finding in answer["findings"]:
        groups.setdefault(finding["date_of_service"], []).append(finding)
    rank = {"error": 0, "warning": 1, "info": 2}

    def order(item: tuple[str | None, list[dict[str, Any]]]) -> tuple[int, int, str]:
        day, found = item
        return (0 if day is None else 1, min(rank[f["severity"]] for f in found), day or "")

    for day, found in sorted(groups.items(), key=order):
        out.append("")
        out.append("Episode" if day is None else f"Visit {day}")
        for finding in found:
            out.extend(finding_lines(finding))
    if answer["findings"]:
        out += ["", _rule_table(answer["findings"])]
    print_lines(out)


def _rule_table(findings: list[dict[str, Any]]) -> Table | Group:
    from cli.render import fitted
    from domain.findings import RULES

    tally: dict[str, tuple[set[str], int]] = {}
    for finding in findings:
        visits, number = tally.get(finding["rule_id"], (set(), 0))
        if finding["date_of_service"]:
            visits.add(finding["date_of_service"])
        tally[finding["rule_id"]] = (visits, number + 1)
    rank = {"error": 0, "warning": 1, "info": 2}
    rows = sorted(tally.items(), key=lambda kv: (rank[RULES[kv[0]].severity], -kv[1][1], kv[0]))
    return fitted(
        ["rule", "visits", "found", "what"],
        [
            [rule_id, str(len(visits)), str(number), f"{RULES[rule_id].severity}: {RULES[rule_id].title}"]
            for rule_id, (visits, number) in rows
        ],
        "By rule",
        justify={1: "right", 2: "right"},
    )


def _print_clinic(answer: dict[str, Any], db: str | None) -> None:
    from cli.render import fitted

    since = f", findings since {answer['since']}" if answer["since"] else ""
    out: list[Any] = [
        f"Documentation checks of {answer['episodes']} episodes, {answer['visits']} visits{since}",
        f"{_summary(answer['counts'])}",
        f"{answer['episodes_with_findings']} episodes with findings, "
        f"{answer['episodes_with_errors']} with errors",
    ]
    if answer["rules"]:
        out += [
            "",
            fitted(
                ["rule", "episodes", "visits", "found", "what"],
                [
                    [
                        r["rule_id"],
                        str(r["episodes"]),
                        str(r["visits"]),
                        str(r["findings"]),
                        f"{r['severity']}: {r['title']}",
                    ]
                    for r in answer["rules"]
                ],
                justify={1: "right", 2: "right", 3: "right"},
                optional=[2],  # the visits count gives way first on a narrow terminal
            ),
        ]
    if answer["at_risk"]:
        rows = [
            [
                e["episode_id"][:8],
                str(e["patient_ref"]),
                str(e["payer"]),
                str(e["visits"] or 0),
                str(e["counts"]["error"]),
                str(e["counts"]["warning"]),
                str(e["counts"]["info"]),
                ", ".join(e["top_rules"]),
            ]
            for e in answer["at_risk"]
        ]
        headers = ["episode", "patient", "payer", "visits", "errors", "warnings", "info", "top rules"]
        out += [
            "",
            fitted(headers, rows, "Episodes most at risk (most errors, then warnings)", optional=[2, 6, 3]),
        ]
        out.append("")
        out.append("See one episode's findings and fixes: careledger check EPISODE")
    print_lines(out)


def as_of_checks(found: Episode, payer_dirs: tuple[Path, ...]) -> dict[str, Any]:
    """Return the units, modifiers and findings of an episode as it stood (for `audit --as-of`).

    The episode is taken alone: notes of other episodes by the same authors and the
    beneficiary's other episodes (KX) are not part of this reconstruction.
    """
    from domain.billing.bill import bill_episode, facts_of
    from domain.findings import CheckContext, check_episode, counts

    context = CheckContext.default(payer_dirs=payer_dirs)
    rules = context.billing(found.payer)
    bill = bill_episode(facts_of(found), rules)
    findings = check_episode(found, context)
    return {
        "scope": "this episode's record as it stood; other episodes (copied notes by the same author, "
        "the beneficiary's other episodes for KX) are not included",
        "units": [
            {
                "date_of_service": visit.date_of_service.isoformat(),
                "timed_minutes": visit.timed_minutes,
                "timed_units": visit.timed_units,
                "lines": [
                    {
                        "code": line.code,
                        "minutes": line.minutes,
                        "units": line.units,
                        "modifiers": list(line.modifiers),
                    }
                    for line in visit.lines
                ],
            }
            for visit in bill.visits
        ],
        "counts": counts(findings),
        "findings": [f.as_dict() for f in findings],
    }


def print_as_of_checks(checks: dict[str, Any]) -> None:
    """Print the units and findings of `as_of_checks` under an `audit --as-of` report."""
    out = ["Units and modifiers as they stood (billing rules of the payer)"]
    for visit in checks["units"]:
        lines = "  ".join(
            f"{line['code']}×{line['units']}"
            + (f" {' '.join(line['modifiers'])}" if line["modifiers"] else "")
            for line in visit["lines"]
        )
        out.append(f"  {visit['date_of_service']}  {visit['timed_minutes']:>3} timed min  {lines}")
    out += ["", f"Findings as they stood: {_summary(checks['counts'])}", f"  ({checks['scope']})"]
    for finding in checks["findings"]:
        day = finding["date_of_service"] or "episode"
        out.append(f"  {day}  {LABELS[finding['severity']]:<7}  {finding['rule_id']}: {finding['message']}")
    print_lines(out)
