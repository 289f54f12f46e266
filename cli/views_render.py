"""Terminal rendering of the read models: progression, outcomes and continuity (rich, lazily).

Text from the record (names, reasons, messages) is printed as plain text, never
as rich markup, so a bracket in a note cannot change the output, and cleaned of
control characters (cli/text.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table

from cli.render import show, sparkline
from cli.text import cell

VERDICTS = {
    "baseline": "baseline",
    "improved_past_mcid": "✓ reaches the MCID",
    "improved": "improved, below the MCID",
    "unchanged": "unchanged",
    "worsened": "worse, below the MCID",
    "worsened_past_mcid": "✗ worse by at least the MCID",
    "no_mcid": "changed (no MCID for this instrument)",
    "unknown_instrument": "instrument not in the catalogue",
}


def grid(
    headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None, wrap: Sequence[int] = ()
) -> Table:
    """Build a table whose cells are plain text; only the columns in `wrap` may wrap."""
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, header in enumerate(headers):
        if index in wrap:
            table.add_column(header, overflow="fold", ratio=1)
        else:
            table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*(cell(value) for value in row))
    return table


def _spark(values: Sequence[Any]) -> str:
    numbers = [float(v) if v is not None else 0.0 for v in values]
    return sparkline(numbers) if any(numbers) else "-"


def render_progression(answer: dict[str, Any], title: str, *, detail: bool) -> None:
    """Print the exercises, their dosage trend, their changes and their plateaus."""
    items: list[object] = [cell(title)]
    exercises = answer["exercises"]
    if not exercises:
        items.append(cell("no exercises recorded"))
        show(Group(*items))  # type: ignore[arg-type]
        return
    rows = [
        [
            ex["exercise_id"],
            ex["name"],
            ex["status"],
            str(ex["visits"]),
            str(ex["changes"]),
            _spark([p["workload"] for p in ex["points"]]),
            f"{ex['first_dosage'] or '-'} → {ex['current_dosage'] or '-'}",
            f"{max(p['visits'] for p in ex['plateaus'] if p['flagged'])} visits" if ex["plateau"] else "",
        ]
        for ex in exercises
    ]
    items.append(
        grid(
            ["id", "exercise", "status", "visits", "changes", "workload", "dosage first → now", "plateau"],
            rows,
            wrap=(1, 6),
        )
    )
    if detail:
        for ex in exercises:
            items.append(
                grid(
                    ["date", "dosage", "workload", "", "run"],
                    [
                        [
                            p["date"],
                            p["dosage_text"],
                            p["workload"] or "-",
                            "changed" if p["changed"] else "",
                            str(p["run"]),
                        ]
                        for p in ex["points"]
                    ],
                    title=f"\n{ex['exercise_id']}: {ex['name']}, dosage at each visit",
                    wrap=(1,),
                )
            )
    changes = sorted(
        (
            (c["effective_date"], ex["exercise_id"], c)
            for ex in exercises
            for c in ex["history"]
            if c["kind"] != "added" or c["reason"]
        ),
        key=lambda item: (item[0], item[1]),
    )
    if changes:
        items.append(
            grid(
                ["date", "exercise", "change", "dosage", "reason"],
                [
                    [d, ex_id, c["kind"], c["dosage_text"] or "-", c["reason"] or "-"]
                    for d, ex_id, c in changes
                ],
                title="\nChanges",
                wrap=(3, 4),
            )
        )
    n = answer["plateau_visits"]
    lines = [
        f"  {ex['exercise_id']}: {p['visits']} visits, {p['start']} to {p['end']}, at {p['dosage_text']}"
        + (f" (explained: {p['explained_by']})" if p["explained_by"] else "")
        for ex in exercises
        for p in ex["plateaus"]
    ]
    flagged = sum(1 for ex in exercises for p in ex["plateaus"] if p["flagged"])
    total = sum(ex["changes"] for ex in exercises)
    items.append(
        cell(
            f"\n{len(exercises)} exercises, {total} progressions or regressions; "
            f"{flagged} plateau{'s' if flagged != 1 else ''} flagged "
            f"({n}+ consecutive visits without a change in dosage or complexity, docs/rules.md#documentation)"
        )
    )
    items.extend(cell(line) for line in lines)
    show(Group(*items))  # type: ignore[arg-type]


def render_outcomes(answer: dict[str, Any], title: str) -> None:
    """Print each instrument's trajectory with a sparkline and its verdict against the MCID."""
    items: list[object] = [cell(title)]
    if not answer["instruments"]:
        items.append(cell("no outcome measures recorded"))
    for inst in answer["instruments"]:
        mcid = f"MCID {inst['mcid']}" if inst["mcid"] is not None else "no MCID"
        if inst["mcid_percent"] is not None:
            mcid += f" or {inst['mcid_percent']}%"
        source = f", {inst['mcid_source']}" if inst["mcid_source"] else ""
        scores = inst["scores"]
        trend = _spark([s["score"] for s in scores])
        change = inst["change"]
        summary = (
            f"{inst['baseline']['score']} → {inst['latest']['score']}"
            + (
                f": change {_signed(change)}, {_better(inst['improvement'], inst['percent'])}"
                if change is not None
                else ""
            )
            + f"  {trend}  {VERDICTS.get(inst['verdict'], inst['verdict'])}"
        )
        items.append(
            cell(
                f"\n{inst['instrument']} ({inst['name'] or 'unknown'}; {inst['unit'] or ''}, "
                f"{inst['better'] or '?'} is better; {mcid}{source})\n  {summary}"
            )
        )
        items.append(
            grid(
                ["taken on", "score", "change", "improvement", "against the MCID", "at risk", "recorded by"],
                [
                    [
                        str(s["taken_on"]),
                        str(s["score"]),
                        _signed(s["change"]) if s["change"] is not None else "-",
                        _signed(s["improvement"]) if s["improvement"] is not None else "-",
                        VERDICTS.get(s["verdict"], s["verdict"]),
                        {True: "yes", False: "no", None: "-"}[s["at_risk"]],
                        s["recorded_by"] or "-",
                    ]
                    for s in scores
                ],
            )
        )
    show(Group(*items))  # type: ignore[arg-type]


def _better(improvement: Any, percent: Any) -> str:
    """Say which way a change goes for the patient: '2 better (4.8% of baseline)'."""
    amount = Decimal(str(improvement))
    if amount == 0:
        return "no better or worse"
    share = f" ({abs(Decimal(str(percent)))}% of baseline)" if percent is not None else ""
    return f"{abs(amount)} {'better' if amount > 0 else 'worse'}{share}"


def _signed(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    return text if text.startswith("-") or text in ("0", "0.0") else f"+{text}"


def _mark(value: bool) -> str:
    return "✓" if value else "✗"


def render_continuity(answer: dict[str, Any], title: str) -> None:
    """Print the clocks, the certifications, each visit's coverage and the gaps."""
    clocks = answer["clocks"]
    reading = clocks["as_of"]
    lines = [title]
    rules = "yes" if answer["medicare_rules"] else "no (only plan and necessity are checked)"
    lines.append(
        f"Medicare certification and progress-report rules (docs/rules.md#plan-of-care) apply: {rules}"
    )
    lines.append(
        f"treatment days: {clocks['treatment_days']}"
        + (
            f" ({clocks['first_treatment_day']} to {clocks['last_treatment_day']})"
            if clocks["first_treatment_day"]
            else ""
        )
    )
    due = clocks["report_due_in"]
    if due is not None:
        if due >= 1:
            text = f"due within the next {due} treatment day{'s' if due != 1 else ''}"
        else:
            text = f"OVERDUE (treatment day {10 - due} of the period without a report)"
        lines.append(f"next progress report: {text}; last report {clocks['last_report'] or 'none'}")
    through = clocks["certified_through"]
    if through is not None:
        days = reading["certification_expires_in_days"]
        when = ""
        if days is not None:
            when = f" (expired {-days} days ago)" if days < 0 else f" (expires in {days} days)"
        lines.append(f"certified through {through}{when}")
    elif answer["medicare_rules"] and answer["certifications"]:
        states = ", ".join(f"#{c['index']} {c['status']}" for c in answer["certifications"])
        lines.append(f"no valid certification ({states})")
    elif answer["medicare_rules"] and clocks["certification_due_by"]:
        overdue = ", OVERDUE" if reading["initial_certification_overdue"] else ""
        lines.append(f"no certification yet; timely if signed by {clocks['certification_due_by']}{overdue}")
    needed = clocks["recertification_needed"]
    reasons = "; ".join(clocks["recertification_reasons"])
    lines.append(f"recertification needed: {'YES: ' + reasons if needed else 'no'}")
    items: list[object] = [cell("\n".join(lines))]
    if answer["certifications"]:
        items.append(
            grid(
                ["#", "kind", "plan", "signed/ordered", "status", "valid", "covers"],
                [
                    [
                        str(c["index"]),
                        c["kind"],
                        f"v{c['certified_plan']}",
                        c["ordered_on"],
                        c["status"],
                        _mark(c["valid"]),
                        f"{c['start']} to {c['end']}",
                    ]
                    for c in answer["certifications"]
                ],
                title="\nCertifications",
            )
        )
    if not answer["visits"]:
        items.append(cell("\nno visits recorded"))
    else:
        items.append(
            grid(
                ["date", "tx day", "period day", "plan", "certified", "necessity", "progress report", "gaps"],
                [
                    [
                        str(v["date_of_service"]),
                        str(v["treatment_day"]),
                        str(v["period_day"]),
                        f"v{v['plan_version']}" + ("" if v["plan_covered"] else " ✗")
                        if v["plan_version"]
                        else "✗",
                        f"#{v['certification']}" if v["certified"] else "✗",
                        _mark(v["necessity"]),
                        ("due " + _mark(v["report_present"])) if v["report_due"] else "",
                        ", ".join(g["code"] for g in v["gaps"]),
                    ]
                    for v in answer["visits"]
                ],
                title="\nVisits",
                wrap=(7,),
            )
        )
    items.append(cell(f"\n{answer['errors']} gaps, {answer['warnings']} warnings"))
    if answer["gaps"]:
        items.append(
            grid(
                ["severity", "date", "gap", "rule"],
                [
                    [g["severity"], g["date"] or "-", f"{g['code']}: {g['message']}", g["rule"]]
                    for g in answer["gaps"]
                ],
                wrap=(2, 3),
            )
        )
    show(Group(*items))  # type: ignore[arg-type]
