"""Terminal rendering: tables and the readable episode report (rich, imported lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from cli.text import cell, clean, markup

if TYPE_CHECKING:
    from rich.console import Console

    from domain.episode.aggregate import Episode
    from domain.episode.audit import AuditEntry


def console() -> Console:
    """Return a console that writes to stdout, wide enough for tables when piped."""
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() else 120
    return Console(highlight=False, soft_wrap=False, width=width)


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


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
    """Print rows as a table with a title."""
    from rich import box
    from rich.table import Table

    grid = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for header in headers:
        grid.add_column(header, overflow="fold")
    for row in rows:
        grid.add_row(*(cell(value) for value in row))
    show(grid)


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
    from rich import box
    from rich.table import Table

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
    visits = Table(title="\nVisits", box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for header in ("date", "by", "service lines (code×minutes)", "timed", "total", "exercises"):
        visits.add_column(header)
    for dos in sorted(episode.visits):
        visit = episode.visits[dos]
        timed = sum(
            line.minutes for line in visit.service_lines if (info := catalogue.get(line.code)) and info.timed
        )
        lines = " ".join(
            f"{line.code}×{line.minutes}" + (f"(A{line.assistant_minutes})" if line.assistant_minutes else "")
            for line in visit.service_lines
        )
        visits.add_row(
            *map(
                cell,
                (
                    dos,
                    f"{visit.provider_id} {visit.credential}",
                    lines,
                    timed,
                    visit.total_treatment_minutes,
                    len(visit.exercises),
                ),
            )
        )
    out.print(visits)
    for line in amendment_lines(episode):
        out.print(line)
    if episode.exercises:
        grid = Table(title="Exercises", box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
        for header in ("id", "exercise", "category", "current dosage", "changes", "status"):
            grid.add_column(header)
        for exercise in episode.exercises.values():
            grid.add_row(
                *map(
                    cell,
                    (
                        exercise.exercise_id,
                        exercise.name,
                        exercise.category,
                        exercise.dosage.describe(),
                        len(exercise.history) - 1,
                        "active" if exercise.active else "discontinued",
                    ),
                )
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
