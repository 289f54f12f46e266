"""`careledger import 835 FILE` and `careledger denials`: payer remittances (ASC X12 835) on the record.

`import 835` validates the file with pyx12, matches each claim and line to the visit and claim line
careledger billed, and records one `RemittanceReceived` event per claim; what matches nothing (or
two) is refused line by line with the reason. `denials` lists the denied and reduced lines with the
reasons in words and the findings `check` had on the visit when the payer received the claim, and
how well each check rule predicted the denials (docs/billing.md#835).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import DbOption, JsonOption, emit_json, open_db, parse_date, require_user


def import_835(file: str, db: str | None, user: str | None, as_json: bool, quiet: bool) -> None:
    """Record a remittance file's claims on their episodes; exit 1 when a claim or line was refused."""
    from domain.errors import InvalidInput
    from projections.interop.remit import import_835 as run

    name = "stdin" if file == "-" else file
    recorded_by = require_user(user)
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise InvalidInput(name, f"cannot read ({exc.strerror})") from exc
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidInput(name, f"byte {exc.start} is not ASCII: an X12 file is plain ASCII") from None
    with open_db(db) as store:
        store.require_intact()
        result = run(store.app, text, name, recorded_by)
    for refusal in result.refused:
        typer.echo(f"{name}: refused: {refusal.text()}", err=True)
    if as_json:
        emit_json(result.as_dict())
    elif not quiet:
        typer.echo(
            f"{name}: 835 with {result.claims} claims, {result.lines} service lines: "
            f"{result.applied} claims recorded ({result.lines_recorded} lines), "
            f"{result.already_applied} already recorded, {len(result.refused)} refused"
        )
    if result.refused:
        raise typer.Exit(1)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _money(text: str) -> str:
    return f"${Decimal(text):,.2f}"


def denials(
    since: Annotated[
        str | None, typer.Option("--since", help="Only dates of service on or after this date (YYYY-MM-DD).")
    ] = None,
    payer: Annotated[
        str | None, typer.Option("--payer", help="Only this payer (its id, e.g. medicare, or its name).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List denied and reduced lines from imported remittances, and how well check predicted them.

    For each line a payer denied or reduced: the reason codes in words (CARC/RARC), and the
    findings check had on the visit when the payer received the claim (not today's). Then the
    dollars denied by reason and, for each check rule, its precision (flagged lines denied) and
    recall (denied lines it flagged), with the dollars behind each.

    Example: careledger denials --since 2026-03-01 --payer medicare
    """
    from projections.interop.denials import denial_report

    day = parse_date("since", since) if since is not None else None
    with open_db(db) as store:
        store.log_read("denials", None)
        report = denial_report(store.app, day, payer)
    if as_json:
        emit_json(report)
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    from cli.render import table

    totals = report["totals"]
    typer.echo(
        f"{totals['lines']} remitted lines, charge {_money(totals['charge'])}, "
        f"paid {_money(totals['paid'])}; "
        f"{totals['denied_lines']} denied or reduced: {_money(totals['denied'])} "
        f"({totals['unseen_lines']} lines, {_money(totals['unseen_denied'])}, with no finding of check)"
    )
    denied = [row for row in report["lines"] if Decimal(row["denied"]) > 0]
    if denied:
        typer.echo("")
        # The line table names the codes; each code's words are printed once, in the tables below.
        rows = []
        remarks: dict[str, str] = {}
        for row in denied:
            codes = [f"{a['group']}-{a['reason']}" for a in row["adjustments"] if a["denial"]]
            codes += [r["code"] for r in row["remarks"]]
            remarks.update((r["code"], r["description"]) for r in row["remarks"])
            rules = ", ".join(sorted({f["rule_id"] for f in row["findings"]})) or "none"
            rows.append(
                [
                    f"{row['episode_id'][:8]} {row['date_of_service']}",
                    f"{row['code']} {' '.join(row['modifiers'])}".strip(),
                    row["status"],
                    _money(row["denied"]),
                    " ".join(codes),
                    rules,
                ]
            )
        table(["visit", "line", "status", "denied", "reason", "check's findings then"], rows)
    else:
        remarks = {}
    if report["by_reason"]:
        typer.echo("")
        typer.echo("By reason")
        table(
            ["reason", "lines", "denied", "description"],
            [
                [f"{r['group']}-{r['reason']}", str(r["lines"]), _money(r["amount"]), r["description"]]
                for r in report["by_reason"]
            ],
        )
    if remarks:
        typer.echo("")
        typer.echo("Remark codes")
        table(["remark", "description"], [[code, text] for code, text in sorted(remarks.items())])
    if report["by_rule"]:
        typer.echo("")
        typer.echo("By check rule (findings as of each claim's date)")
        table(
            ["rule", "flagged", "denied", "precision", "recall", "$ flagged", "$ denied", "$ recall"],
            [
                [
                    r["rule_id"],
                    str(r["flagged_lines"]),
                    str(r["denied_lines"]),
                    _pct(r["precision"]),
                    _pct(r["recall"]),
                    _money(r["flagged_charge"]),
                    _money(r["denied_amount"]),
                    _pct(r["recall_dollars"]),
                ]
                for r in report["by_rule"]
            ],
        )
    codes = report["codes"]
    typer.echo("")
    typer.echo(f"Reason codes: {codes['source'].split(';')[0]} (list of {codes['as_of']}).")
