"""`careledger units` (the calculator) and `careledger bill` (claim lines of an episode).

`units` is pure arithmetic on the command line: it never opens the store, and
imports only the unit rules and the code catalogue.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import (
    DbOption,
    EpisodeArg,
    JsonOption,
    emit_json,
    open_db,
    parse_date,
    resolve_episode,
    usage_error,
)
from cli.text import cell, echo

if TYPE_CHECKING:
    from domain.billing.bill import Calculation, EpisodeBill, VisitBill
    from domain.billing.ledger import Note
    from domain.records import Remittance


class Rule(StrEnum):
    """The unit rules a payer can apply."""

    cms = "cms"
    ama = "ama"


def units(
    lines: Annotated[
        list[str],
        typer.Argument(
            help="Service lines as CODE=MINUTES, or CODE=MINUTES/ASSISTANT_MINUTES for the minutes a PTA or "
            "OTA furnished alone, e.g. 97110=38/3 97140=7.",
            metavar="CODE=MINUTES[/ASSISTANT]...",
            show_default=False,
        ),
    ],
    rule: Annotated[
        Rule | None,
        typer.Option(
            "--rule",
            help="cms: 8-minute rule over the day; ama: per-code midpoint rule (default: the payer's).",
        ),
    ] = None,
    payer: Annotated[
        str,
        typer.Option("--payer", help="The payer profile whose modifier rules apply (CQ / CO per unit)."),
    ] = "medicare",
    on: Annotated[
        str | None,
        typer.Option(
            "--on", help="The date of service (YYYY-MM-DD): the rules in force that day. Default: today."
        ),
    ] = None,
    discipline: Annotated[
        str, typer.Option("--discipline", help="PT or OT: the discipline whose assistant modifier applies.")
    ] = "PT",
    as_json: JsonOption = False,
) -> None:
    """Compute the units of one date's service lines and explain each one, with CQ / CO unit by unit
    (docs/rules.md#eight-minute-rule, docs/rules.md#cq-co).

    Example: careledger units 97110=38 97140=15 --payer medicare
    """
    from domain.billing.bill import calculate

    day = parse_date("--on", on) if on is not None else date.today()
    if discipline not in ("PT", "OT", "SLP"):
        raise usage_error("--discipline", f"'{discipline}' is not PT, OT or SLP")
    result = calculate(lines, day, payer, discipline, rule.value if rule else None)
    if as_json:
        emit_json(result.as_json())
        return
    _print_units(result)


def _print_units(result: Calculation) -> None:
    name = "CMS 8-minute rule" if result.units.rule == "cms" else "AMA per-code rule"
    echo(
        f"{name}: {count(result.units.total_timed_minutes, 'timed minute')}, "
        f"{count(result.units.total_units, 'unit')} "
        f"({result.payer_id} on {result.date_of_service})"
    )
    echo("")
    rows = [["code", "minutes", "assistant", "units", "modifiers"]]
    rows += [
        [
            line.code + (" (split)" if line.split else ""),
            str(line.minutes),
            str(line.assistant_minutes) if line.assistant_minutes else "-",
            str(line.units),
            " ".join(line.modifiers) or "-",
        ]
        for line in result.lines
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    echo("")
    for sentence in result.units.explanation:
        echo(sentence)
    for line in result.lines:
        for share in line.units_furnished:
            echo(f"{line.code} unit {share.unit} ({share.furnished_by}): {share.reason}.")
    for note in result.notes:
        echo(f"{note.severity}: {note.message} ({note.source})")


VisitOption = Annotated[
    str | None, typer.Option("--visit", help="Show only the visit of this date of service (YYYY-MM-DD).")
]


def bill(
    episode: EpisodeArg, visit: VisitOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Show the claim lines of an episode's visits: units, modifiers, reasons and the KX threshold.

    Example: careledger bill 94ec --visit 2026-03-27
    """
    from domain.billing.bill import bill_with_others, billing_rules
    from projections.interop.fhir.export import others_of

    on = parse_date("visit", visit) if visit is not None else None
    with open_db(db) as store:
        found = store.episode(resolve_episode(store, episode), action="bill")
        # The beneficiary's other episodes count toward KX (docs/rules.md#modifiers): verified too.
        others = others_of(store.app, found)
        store.require_intact([other.id for other in others])
        result = bill_with_others(found, others, billing_rules(found.payer, store.app.payer_dirs))
    if on is not None:
        chosen = tuple(v for v in result.visits if v.date_of_service == on)
        if not chosen:
            span = f"from {min(found.visits)} to {max(found.visits)}" if found.visits else "none"
            raise usage_error("visit", f"no visit on {on} in this episode (visits: {span})")
        result = result.model_copy(update={"visits": chosen})
    days = {v.date_of_service for v in result.visits}
    remitted = [r for r in found.remittances if r.date_of_service in days]
    if as_json:
        paid = [r.model_dump(mode="json") for r in remitted]
        emit_json({**result.model_dump(mode="json"), "ready": result.ready, "remittances": paid})
        return
    _print_bill(result, remitted)


def count(number: int, noun: str) -> str:
    """Say a count with its noun in the right number: `1 unit`, `2 units`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _money(value: Any) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _print_bill(result: EpisodeBill, remitted: list[Remittance]) -> None:
    from rich.console import Group

    from cli.render import show

    rule = "CMS 8-minute rule" if result.unit_rule == "cms" else "AMA per-code rule"
    dx = "  ".join(f"{i} {code}" for i, code in enumerate(result.diagnoses, start=1))
    out: list[Any] = [
        f"Episode {result.episode_id} · patient {result.patient_ref} · {result.discipline} · "
        f"{result.payer_name} ({result.payer_id}) · {rule}",
        f"diagnoses (pointers): {dx}",
        "tables: " + " · ".join(f"{k} {v}" for k, v in result.tables.items()),
    ]
    for visit in result.visits:
        out.extend(_visit_block(visit))
        out.extend(_remitted(visit, remitted))
    for status in result.thresholds:
        kx = f"KX from {status.kx_from}" if status.kx_from else "no KX yet"
        if status.threshold is None:
            kx = "KX undetermined: no threshold for the year"
        unsure = " (from secondary sources)" if status.threshold_unsure else ""
        out.append(
            f"\nTherapy threshold {status.year} {status.group}: {_money(status.total)} allowed so far "
            f"(this episode {_money(status.this_episode)}, other episodes {_money(status.other_episodes)}) "
            f"of {_money(status.threshold)}{unsure}; {kx}."
        )
    if not result.visits:
        out.append("\nNo visits recorded.")
    out.extend(_note_lines(result.notes, 0))
    if result.not_ready:
        out.append("\nNOT READY: this claim cannot go out as it stands:")
        out.extend(f"  - {reason}" for reason in result.not_ready)
    else:
        out.append("\nReady: no error, and KX is decided on every visit.")
    show(Group(*(cell(item) if isinstance(item, str) else item for item in out)))


def _visit_block(visit: VisitBill) -> list[Any]:
    from rich.padding import Padding

    from cli.render import fitted

    standing = (
        f" · {visit.threshold_group} {visit.date_of_service.year} to date {_money(visit.year_to_date_after)}"
        + (f" of {_money(visit.threshold)}" if visit.threshold is not None else "")
        + (
            " · KX"
            if visit.kx
            else " · KX undetermined (no threshold for the year)"
            if visit.kx is None
            else ""
        )
    )
    title = (
        f"\n{visit.date_of_service} · {visit.provider_id} ({visit.credential}) · {visit.timed_minutes} timed "
        f"of {visit.total_treatment_minutes} total minutes · {count(visit.timed_units, 'timed unit')} · "
        f"allowed {_money(visit.allowed_amount)}{standing}"
    )
    grid = fitted(
        ["code", "units", "modifiers", "minutes", "assistant", "dx", "allowed"],
        [
            [
                line.code + (" (split)" if line.split else ""),
                str(line.units) + ("" if line.billable or not line.units else " (not paid)"),
                " ".join(line.modifiers) or "-",
                str(line.minutes),
                str(line.assistant_minutes or "-"),
                ",".join(str(p) for p in line.diagnosis_pointers),
                _money(line.allowed_amount),
            ]
            for line in visit.lines
        ],
    )
    sentences = dict.fromkeys([*visit.explanation, *(s for line in visit.lines for s in line.explanation)])
    return [title, grid, *(Padding(cell(s), (0, 0, 0, 2)) for s in sentences), *_note_lines(visit.notes, 2)]


def _remitted(visit: VisitBill, remitted: list[Remittance]) -> list[Any]:
    """What the payer did to the visit's lines, beside what careledger expected (docs/billing.md#835)."""
    from rich.padding import Padding

    from domain.billing.remittance import line_words

    out: list[Any] = []
    for remit in (r for r in remitted if r.date_of_service == visit.date_of_service):
        out.append(
            Padding(
                cell(
                    f"payer: {remit.payer_name} paid {_money(remit.paid)} of {_money(remit.charge)} "
                    f"(expected allowed {_money(visit.allowed_amount)}; claim {remit.claim_id}, "
                    f"recorded {remit.recorded_at:%Y-%m-%d})"
                ),
                (0, 0, 0, 2),
            )
        )
        out.extend(Padding(cell(line_words(line)), (0, 0, 0, 4)) for line in remit.lines)
    return out


def _note_lines(notes: tuple[Note, ...], indent: int) -> list[Any]:
    """Render the notes with their severity coloured (on a terminal) and a hanging indent."""
    from rich.padding import Padding

    from cli.render import severity_text

    return [
        Padding(severity_text(n.severity, f" {n.rule_id}: {n.message} [{n.source}]"), (0, 0, 0, indent))
        for n in notes
    ]
