"""Terminal rendering: tables and the readable episode report (rich, imported lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from cli.text import clean, markup

if TYPE_CHECKING:
    from rich.console import Console, Group
    from rich.table import Table
    from rich.text import Text

    from domain.episode.aggregate import Episode
    from domain.episode.audit import AuditEntry


def console() -> Console:
    """Return a console that writes to stdout: the terminal's width, COLUMNS when set, else 120 when piped."""

    from rich.console import Console

    return Console(highlight=False, soft_wrap=False, width=width())


def width() -> int | None:
    """Return the width to render for: None on a terminal (rich asks it), COLUMNS, else 120 when piped."""
    import os
    import sys

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 40:
        return int(columns)
    return None if sys.stdout.isatty() else 120


def show(*renderables: object) -> None:
    """Print rich renderables; when piped, without colour codes or trailing spaces."""
    import sys

    out = console()
    if sys.stdout.isatty():
        out.print(*renderables, sep="\n")
        return
    with out.capture() as captured:
        out.print(*renderables, sep="\n")
    # Piped, rich adds no escape codes of its own: anything left is from the data.
    text = "\n".join(clean(line.rstrip()) for line in captured.get().splitlines())
    sys.stdout.write(text.strip("\n") + "\n" if text.strip() else "")


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    title: str | None = None,
    optional: Sequence[int] = (),
) -> None:
    """Print rows as a table sized to the terminal; the columns in `optional` go first when it is narrow."""
    show(fitted(headers, rows, title, optional))


def _words(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in clean(text).split()), default=0)


def _widest(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in clean(text).splitlines()), default=0)


def fit_widths(widest: Sequence[int], longest_word: Sequence[int], room: int) -> list[int] | None:
    """Share `room` among columns: shrink the widest first, never below a column's longest word.

    Return None when even the longest words do not fit side by side.
    """
    widths = [max(w, m) for w, m in zip(widest, longest_word, strict=True)]
    excess = sum(widths) - room
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > longest_word[i]]
        if not shrinkable:
            return None
        column = max(shrinkable, key=lambda i: widths[i])
        widths[column] -= 1
        excess -= 1
    return widths


def fitted(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    title: str | None = None,
    optional: Sequence[int] = (),
    justify: dict[int, str] | None = None,
) -> Table | Group:
    """Build a table of plain text cells whose columns fit the output width and break no word.

    rich shrinks a table to the terminal by cutting its widest wrapping column, words
    and all (`PT-100`/`1`); here each column keeps at least its longest word, and the
    `optional` columns (least needed first) are left out when the words do not fit.
    When even then they do not, each row is printed as a record, one field a line.
    """
    from rich import box
    from rich.table import Table

    # the box draws its two edges and a divider between columns, each column is padded a space each side
    room = console().width - 2
    keep = list(range(len(headers)))
    dropped = list(optional)
    while True:
        widest = [max([_widest(headers[i]), *(_widest(r[i]) for r in rows)]) for i in keep]
        words = [max([_words(headers[i]), *(_words(r[i]) for r in rows)]) for i in keep]
        widths = fit_widths(widest, words, room - 3 * (len(keep) - 1))
        if widths is not None or not dropped:
            break
        keep.remove(dropped.pop(0))
    if widths is None:
        return records(headers, rows, title)
    grid = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for n, i in enumerate(keep):
        align: Any = (justify or {}).get(i, "left")
        grid.add_column(headers[i], width=widths[n], overflow="fold", justify=align)
    for row in rows:
        grid.add_row(*(labelled(row[i]) for i in keep))
    return grid


def records(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> Group:
    """Render rows as records: the first field as a heading, then `header: value` lines indented."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    parts: list[Any] = [Text(clean(title.strip("\n")), style="italic")] if title else []
    for row in rows:
        parts.append(Text(""))
        parts.append(Text(f"{clean(headers[0])} {clean(row[0])}", style="bold"))
        for header, value in zip(headers[1:], row[1:], strict=True):
            parts.append(Padding(Text(f"{clean(header)}: {clean(value)}"), (0, 0, 0, 2)))
    return Group(*parts)


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def severity_text(severity: str, rest: str = "", width: int = 0) -> Text:
    """Return a severity label (ERROR, WARNING, INFO) styled by its colour, then the cleaned `rest`.

    The colour shows on a terminal only: rich drops it when the output is piped or NO_COLOR is set.
    """
    from rich.text import Text

    text = Text(severity.upper().ljust(width), style=SEVERITY_STYLE.get(severity, ""))
    text.append(clean(rest))
    return text


def line_width() -> int:
    """Return the width to wrap text lines to: the output's width (at least 40)."""
    return max(40, console().width)


def print_lines(lines: Sequence[object]) -> None:
    """Print text lines (cleaned; the severity labels in them coloured on a terminal) and tables."""

    texts: list[object] = []
    for line in lines:
        if not isinstance(line, str):
            texts.append(line)
            continue
        texts.append(labelled(line))
    show(*texts)


def labelled(value: str) -> Text:
    """Return a text (cleaned) with its severity labels (ERROR, WARNING, INFO) in their colour."""
    from rich.text import Text

    text = Text(clean(value))
    for severity, style in SEVERITY_STYLE.items():
        text.highlight_regex(rf"\b{severity.upper()}\b", style)
    return text


def sparkline(values: Sequence[float]) -> str:
    """Draw values as a one-line sparkline of block characters."""
    blocks = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low or 1.0
    return "".join(blocks[int((v - low) / span * (len(blocks) - 1))] for v in values)


def amendment_lines(episode: Episode) -> list[str]:
    """Describe each visit's amendments and each voided visit, one line each (docs/rules.md#amendments)."""
    escape = markup

    marks = [(dos, a) for dos, visit in sorted(episode.visits.items()) for a in visit.amendments]
    marks += [(visit.date_of_service, visit.amendments[-1]) for visit in episode.voided_visits]
    if not marks:
        return []
    lines = ["[bold]Amendments[/bold] (each recorded as its own event; the original entry is kept)"]
    for dos, mark in sorted(marks, key=lambda item: item[1].event_version):
        if mark.kind == "correction":
            what = "corrected " + "; ".join(
                f"{name} {_short(name, mark.previous.get(name))} → {_short(name, value)}"
                for name, value in mark.changes.items()
            )
        elif mark.kind == "addendum":
            what = f"addendum: {mark.text}"
        elif mark.kind == "late_entry":
            what = "late entry"
        else:
            what = "voided (no longer part of the record)"
        when = utc(mark.recorded_at)
        lines.append(
            f"  {dos} v{mark.event_version} {escape(what)}; by {escape(mark.recorded_by)} on {when}: "
            f"{escape(mark.reason)}"
        )
    return [*lines, ""]


def utc(moment: datetime) -> str:
    """Format a recorded time in UTC, to the second."""
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def plain(value: object) -> str:
    """Show a JSON value as text: strings as they are, null as '-', the rest as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(value).decode()


def field_value(field: str, value: object) -> str:
    """Show a visit field's JSON value as text; service lines and exercises compactly."""
    if field == "service_lines" and isinstance(value, list):
        shown = []
        for line in value:
            if isinstance(line, dict):
                assistant = f"(A{line['assistant_minutes']})" if line.get("assistant_minutes") else ""
                modifiers = "-" + "-".join(line["modifiers"]) if line.get("modifiers") else ""
                shown.append(f"{line.get('code')}{modifiers}×{line.get('minutes')}{assistant}")
        return " ".join(shown)
    if field == "exercises" and isinstance(value, list):
        return "; ".join(
            str(item.get("name") or item.get("exercise_id")) for item in value if isinstance(item, dict)
        )
    return plain(value)


def entry_changes(entry: AuditEntry, zone: tzinfo) -> str:
    """Describe what one version of a visit changed, one field per line (days late in the clinic's zone)."""
    if entry.kind == "late_entry":
        days = (entry.recorded_at.astimezone(zone).date() - entry.date_of_service).days
        return f"note written {days} day{'s' if days != 1 else ''} after the date of service"
    lines = [
        f"{c.field}: {field_value(c.field, c.before)} → {field_value(c.field, c.after)}"
        for c in entry.changes
    ]
    return "\n".join(lines) or "-"


def _short(field: str, value: object, limit: int = 60) -> str:
    text = field_value(field, value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Collector:
    """Gather what a report prints, to show it in one go."""

    def __init__(self) -> None:
        self.items: list[object] = []

    def print(self, item: object) -> None:
        self.items.append(item)


def episode_report(episode: Episode) -> None:
    """Print a readable report of one episode."""
    from domain.rules.catalogue import code_catalogue

    out = _Collector()
    m = markup  # every value from the record is cleaned and escaped before it meets markup
    dx = ", ".join(d.code + (f" {d.description}" if d.description else "") for d in episode.diagnoses)
    out.print(f"[bold]Episode {episode.id}[/bold]  (version {episode.version})")
    out.print(
        f"patient {m(episode.patient_ref)} · {m(episode.discipline)} · payer {m(episode.payer.payer_id)} "
        f"({m(episode.payer.unit_rule)} rule) · started {episode.start_date} · {m(episode.status)}"
    )
    out.print(f"diagnoses: {m(dx)}")
    if episode.discharge is not None:
        d = episode.discharge
        out.print(f"discharged {d.discharge_date}: {m(d.reason)}")
    for plan in episode.plans:
        duration = f"{plan.duration_weeks} weeks" if plan.duration_weeks else f"{plan.duration_visits} visits"
        out.print(
            f"\n[bold]Plan of care v{plan.plan_version}[/bold] established {plan.established_on} by "
            f"{m(plan.therapist_id)} ({m(plan.credential)}): {plan.frequency_per_week}x/week for {duration}"
        )
        for goal in plan.goals:
            out.print(f"  {m(goal.goal_id)} {m('[' + str(goal.term) + ']')} {m(goal.text)}")
    for cert in episode.certifications:
        signed = f"signed {cert.signed_on}" if cert.signed_on else f"verbal order {cert.verbal_order_on}"
        out.print(
            f"{m(cert.kind)} certification of plan v{cert.certified_plan} by "
            f"{m(cert.certifier.provider_id)}: {cert.period_start} to {cert.period_end}, {signed}"
        )
    catalogue = code_catalogue()
    rows = []
    for dos in sorted(episode.visits):
        visit = episode.visits[dos]
        timed = sum(
            line.minutes for line in visit.service_lines if (info := catalogue.get(line.code)) and info.timed
        )
        lines = " ".join(
            f"{line.code}×{line.minutes}" + (f"(A{line.assistant_minutes})" if line.assistant_minutes else "")
            for line in visit.service_lines
        )
        rows.append(
            [
                str(dos),
                f"{visit.provider_id} {visit.credential}",
                lines,
                str(timed),
                str(visit.total_treatment_minutes),
                str(len(visit.exercises)),
            ]
        )
    visits = fitted(
        ["date", "by", "service lines (code×minutes)", "timed", "total", "exercises"], rows, "\nVisits"
    )
    out.print(visits)
    for line in amendment_lines(episode):
        out.print(line)
    if episode.remittances:
        from domain.billing.remittance import line_words

        out.print("\n[bold]Remittances[/bold] (what the payer did to each claim line; careledger denials)")
        for remit in episode.remittances:
            out.print(
                f"  {remit.date_of_service} claim {m(remit.claim_id)}: {m(remit.payer_name)} paid "
                f"${remit.paid:,.2f} of ${remit.charge:,.2f} (recorded {utc(remit.recorded_at)} by "
                f"{m(remit.recorded_by)} from {m(remit.source_file)})"
            )
            for paid_line in remit.lines:
                out.print(f"    {m(line_words(paid_line))}")
    if episode.exercises:
        grid = fitted(
            ["id", "exercise", "category", "current dosage", "changes", "status"],
            [
                [
                    exercise.exercise_id,
                    exercise.name,
                    exercise.category,
                    exercise.dosage.describe(),
                    str(len(exercise.history) - 1),
                    "active" if exercise.active else "discontinued",
                ]
                for exercise in episode.exercises.values()
            ],
            "Exercises",
        )
        out.print(grid)
    by_instrument: dict[str, list[tuple[str, float]]] = {}
    for outcome in sorted(episode.outcomes, key=lambda o: o.taken_on):
        by_instrument.setdefault(outcome.instrument, []).append((str(outcome.taken_on), float(outcome.score)))
    for instrument, scores in by_instrument.items():
        series = " → ".join(f"{score:g} ({day})" for day, score in scores)
        out.print(f"{m(instrument)}: {sparkline([s for _, s in scores])}  {series}")
    for report in episode.progress_reports:
        out.print(
            f"progress report {report.report_date} by {m(report.author_id)} ({m(report.credential)}) "
            f"covering {report.period_start} to {report.period_end}"
        )
    show(*out.items)
