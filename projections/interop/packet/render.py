"""The packet as one self-contained HTML document: header, contents and the sections in order.

Every value that comes from the record (notes, names, reasons, codes) is user
input and goes through `e` (HTML escaping, quotes included), so a note cannot
inject markup. The sections that draw charts are in `projections.interop.packet.sections`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any

from domain.values import masked
from projections.interop.packet.style import html_page

if TYPE_CHECKING:
    from domain.billing.claims import VisitBill
    from domain.records import Visit
    from projections.interop.packet.gather import PacketData

SECTIONS = (
    ("summary", "Episode summary"),
    ("identity", "Clinic and providers"),
    ("plan", "Plan of care and certifications"),
    ("clocks", "Certification and progress-report dates"),
    ("outcomes", "Outcome measures"),
    ("exercises", "Exercise dosage over visits"),
    ("visits", "Visit notes and the units billed"),
    ("amendments", "Amendments"),
    ("remittances", "Payer remittances"),
    ("integrity", "Record integrity"),
)

_CITATION = re.compile(r"\s*[;,]?\s*docs/[\w./-]+\.md(?:#[\w-]+)?")


def for_payer(text: str) -> str:
    """Drop careledger's own documents from a citation: the payer has only the primary sources."""
    text = _CITATION.sub("", text)
    text = re.sub(r"\(\s*[;,]\s*", "(", text)
    return re.sub(r"\s*\(\s*\)", "", text)


def when(moment: datetime) -> str:
    """Render a recorded time as a reader writes it: `2026-03-30 23:59 UTC`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def e(value: object) -> str:
    """Escape any value for HTML text or attributes."""
    return escape("" if value is None else str(value), quote=True)


def money(value: Decimal | None) -> str:
    """Render an amount as dollars, or a dash when unknown."""
    return "-" if value is None else f"${value:,.2f}"


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: Iterable[int] = ()) -> str:
    """Render a table; cells are already HTML (escape them before)."""
    right = set(numeric)
    head = "".join(f"<th{' class=num' if i in right else ''}>{e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in right else ''}>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """Render label/value pairs (values already HTML)."""
    return '<dl class="facts">' + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def badge(kind: str, text: str) -> str:
    """Render a small labelled badge (error, warning, info, ok, late)."""
    return f'<span class="badge {e(kind)}">{e(text)}</span>'


def section(key: str, title: str, body: str, new_page: bool = False) -> str:
    """Wrap a section's body with its id and heading (`new_page`: it starts a page when printed)."""
    kind = "packet-section new-page" if new_page else "packet-section"
    return f'<section id="{e(key)}" class="{kind}"><h2>{e(title)}</h2>\n{body}\n</section>'


def _header(data: PacketData) -> str:
    episode = data.episode
    if data.as_of is not None:
        state = (
            f"as it stood at {e(when(data.as_of))}: version {episode.version} of {data.current_version}"
            f" (last recorded {e(when(episode.modified_on))})"
        )
    else:
        state = f"as it stands: version {episode.version}, last recorded {e(when(episode.modified_on))}"
    contents = "".join(f'<li><a href="#{key}">{e(title)}</a></li>' for key, title in SECTIONS)
    return (
        "<header>"
        f"<h1>Additional documentation: episode of care {e(episode.id)}</h1>"
        f'<p class="lead">Patient {e(episode.patient_ref)} · {e(episode.discipline)} · payer '
        f"{e(episode.payer.name or episode.payer.payer_id)}"
        + (f" · member {e(masked(episode.payer.member_id))}" if episode.payer.member_id else "")
        + f"</p><p>The record {state}. Prepared {e(when(data.generated_at))} from the episode's event log; "
        "every amendment is listed with its author, time and reason.</p>"
        f"<nav><strong>Contents</strong><ol>{contents}</ol></nav></header>"
    )


def date_range(data: PacketData) -> str:
    """Name the episode's dates of care: start of care to the last visit (or discharge)."""
    episode = data.episode
    last = max([episode.start_date, *episode.visits])
    if episode.discharge is not None:
        last = max(last, episode.discharge.discharge_date)
    return f"{episode.start_date} to {last}"


def summary(data: PacketData) -> str:
    """Render the episode summary: who, why, payer, dates, totals."""
    episode, bill = data.episode, data.bill
    visits = sorted(episode.visits)
    units = sum(line.units for visit in bill.visits for line in visit.lines if line.billable)
    allowed = sum((visit.allowed_amount for visit in bill.visits), Decimal("0"))
    complete = all(visit.amounts_complete for visit in bill.visits)
    dx = "<br>".join(
        f"{n}. {e(d.code)}" + (f" {e(d.description)}" if d.description else "")
        for n, d in enumerate(episode.diagnoses, start=1)
    )

    def provider(p: Any) -> str:
        if p is None:
            return "-"
        extra = ", ".join(x for x in (p.credential, f"NPI {p.npi}" if p.npi else None) if x)
        return e(p.name or p.provider_id) + (f" ({e(extra)})" if extra else "")

    discharge = episode.discharge
    pairs = [
        ("Episode", e(episode.id)),
        ("Patient reference", e(episode.patient_ref)),
        ("Discipline", e(episode.discipline)),
        ("Payer", f"{e(bill.payer_name)} ({e(bill.payer_id)}), unit rule {e(bill.unit_rule.upper())}"),
        ("Diagnoses (claim pointers)", dx),
        ("Referring provider", provider(episode.referring_provider)),
        ("Certifying provider", provider(episode.certifying_provider)),
        ("Start of care", e(episode.start_date)),
        ("Status", e(episode.status.replace("_", " "))),
        (
            "Discharge",
            f"{e(discharge.discharge_date)}: {e(discharge.reason)}"
            + (f" — {e(discharge.summary)}" if discharge.summary else "")
            if discharge
            else "-",
        ),
        ("Visits", f"{len(visits)}" + (f" ({e(visits[0])} to {e(visits[-1])})" if visits else "")),
        ("Units billed", str(units)),
        ("Allowed amount", money(allowed) + ("" if complete else " (some fees unknown: a lower bound)")),
        ("Rule tables", e(" · ".join(f"{k} {v}" for k, v in bill.tables.items()))),
    ]
    holds = [f"{e(h.start)} to {e(h.end or 'ongoing')}: {e(h.reason)}" for h in episode.holds]
    if holds:
        pairs.insert(9, ("Holds", "<br>".join(holds)))
    return section("summary", "Episode summary", facts(pairs))


def identity(data: PacketData) -> str:
    """Render who furnished and bills the care, as far as the record names them."""
    episode = data.episode
    furnished = sorted({(v.provider_id, v.credential) for v in episode.visits.values()})
    pairs = [
        # The clinic's name, address, tax id and billing NPI are not recorded facts yet: they
        # will come from the clinic and provider identity events and replace this line.
        ("Billing clinic", "not recorded in this record"),
        ("Furnished by", "<br>".join(f"{e(p)} ({e(c)})" for p, c in furnished) or "-"),
    ]
    return section("identity", "Clinic and providers", facts(pairs))


def plan(data: PacketData) -> str:
    """Render each plan of care, its certifications (with their timeliness), reports and re-evaluations."""
    episode = data.episode
    parts: list[str] = []
    if not episode.plans:
        parts.append("<p>No plan of care is recorded.</p>")
    for p in sorted(episode.plans, key=lambda x: x.plan_version):
        duration = ", ".join(
            x
            for x in (
                f"{p.duration_weeks} weeks" if p.duration_weeks else "",
                f"{p.duration_visits} visits" if p.duration_visits else "",
            )
            if x
        )
        goals = table(
            ["goal", "term", "goal", "measure", "target", "by"],
            [
                [
                    e(g.goal_id),
                    e(g.term),
                    e(g.text),
                    e(g.measure or "-"),
                    e(g.target or "-"),
                    e(g.target_date or "-"),
                ]
                for g in p.goals
            ],
        )
        parts.append(
            f"<h3>Plan v{p.plan_version}, established {e(p.established_on)} by {e(p.therapist_id)} "
            f"({e(p.credential)})</h3>"
            + facts(
                [
                    ("Frequency and duration", f"{p.frequency_per_week}× per week, {e(duration)}"),
                    ("Planned interventions", e(", ".join(p.planned_interventions) or "-")),
                    ("Recorded", f"{e(when(p.recorded_at))} by {e(p.recorded_by)}"),
                ]
            )
            + goals
        )
    rows = [
        [
            str(n),
            e(cert.kind),
            f"v{cert.certified_plan}",
            e(cert.certifier.name or cert.certifier.provider_id)
            + (f" ({e(cert.certifier.credential)})" if cert.certifier.credential else ""),
            e(cert.signed_on or "not signed"),
            e(cert.verbal_order_on or "-"),
            f"{e(cert.period_start)} to {e(cert.period_end)}",
            f"{e(when(cert.recorded_at))} by {e(cert.recorded_by)}",
            e(cert.delay_reason or "-"),
        ]
        for n, cert in enumerate(episode.certifications, start=1)
    ]
    parts.append("<h3>Certifications: who signed, and when</h3>")
    parts.append(
        table(
            ["#", "kind", "plan", "certifier", "signed", "verbal order", "period", "recorded", "delay"],
            rows,
        )
        if rows
        else "<p>No certification is recorded.</p>"
    )
    reports = [
        [
            e(r.report_date),
            f"{e(r.period_start)} to {e(r.period_end)}",
            f"{e(r.author_id)} ({e(r.credential)})",
            "<br>".join(
                f"{e(a.goal_id)}: {e(a.status)}" + (f" ({e(a.note)})" if a.note else "")
                for a in r.goal_assessments
            )
            or "-",
            e(r.assessment or "-"),
            e(r.plan or "-"),
        ]
        for r in episode.progress_reports
    ]
    parts.append("<h3>Progress reports</h3>")
    parts.append(
        table(["date", "period", "author", "goals", "assessment", "plan"], reports)
        if reports
        else "<p>No progress report is recorded.</p>"
    )
    if episode.reevaluations:
        parts.append("<h3>Re-evaluations</h3>")
        parts.append(
            table(
                ["date", "by", "findings", "plan changes"],
                [
                    [
                        e(r.evaluated_on),
                        f"{e(r.provider_id)} ({e(r.credential)})",
                        e(r.findings),
                        e(r.plan_changes or "-"),
                    ]
                    for r in episode.reevaluations
                ],
            )
        )
    return section("plan", "Plan of care and certifications", "\n".join(parts))


DIFFERENCES = ("units.recorded_differs", "modifiers.recorded_differs")


def _lines(bill: VisitBill) -> str:
    """Render the claim lines: the units billed, and the note's own units where it gave others."""
    claimed: dict[str, int] = {}
    for line in bill.lines:
        claimed[line.code] = claimed.get(line.code, 0) + line.units
    rows = [
        [
            e(line.code),
            str(line.minutes),
            str(line.assistant_minutes) if line.assistant_minutes else "-",
            str(line.units) + ("" if line.billable or not line.units else " (not paid)"),
            e(" ".join(line.modifiers) or "-"),
            e(",".join(str(p) for p in line.diagnosis_pointers)),
            money(line.allowed_amount),
            str(line.recorded_units)
            if line.recorded_units is not None and line.recorded_units != claimed[line.code]
            else "-",
        ]
        for line in bill.lines
    ]
    headers = ["code", "minutes", "assistant", "units billed", "modifiers", "dx", "allowed", "note's units"]
    table_html = table(headers, rows, (1, 2, 3, 6, 7))
    differences = [n for n in bill.notes if n.rule_id in DIFFERENCES]
    if differences:
        table_html += (
            '<p class="difference">Where the note and the claim differ: '
            + "; ".join(f"{e(for_payer(n.message))} ({e(for_payer(n.source))})" for n in differences)
            + ".</p>"
        )
    return table_html


def visit_block(visit: Visit, bill: VisitBill | None, voided: bool = False) -> str:
    """Render one visit: who and when, its claim lines with the reasons, and its note."""
    title = f"Visit {e(visit.date_of_service)} · {e(visit.provider_id)} ({e(visit.credential)})"
    if visit.supervising_provider_id:
        title += f" · supervised by {e(visit.supervising_provider_id)}"
    tags = []
    if any(a.kind == "late_entry" for a in visit.amendments):
        tags.append(badge("late", "late entry"))
    if any(a.kind == "correction" for a in visit.amendments):
        tags.append(badge("info", "corrected"))
    if voided:
        tags.append(badge("error", "voided: entered in error"))
    head = f"<h3>{title} {' '.join(tags)}</h3>"
    recorded = f"<p>Recorded {e(when(visit.recorded_at))} by {e(visit.recorded_by)}.</p>"
    body = [head, recorded]
    if bill is not None:
        body.append(
            f"<p>{bill.timed_minutes} timed of {bill.total_treatment_minutes} total treatment minutes · "
            f"{bill.timed_units} timed units · allowed {money(bill.allowed_amount)}"
            + (" · KX (above the therapy threshold)" if bill.kx else "")
            + (" · KX undetermined (no threshold for the year): not ready to bill" if bill.kx is None else "")
            + "</p>"
        )
        body.append(_lines(bill))
        sentences = dict.fromkeys([*bill.explanation, *(s for line in bill.lines for s in line.explanation)])
        items = "".join(f"<li>{e(for_payer(s))}</li>" for s in sentences)
        body.append(f'<ul class="explain">{items}</ul>')
    else:
        body.append(
            table(
                ["code", "minutes", "assistant"],
                [
                    [e(line.code), str(line.minutes), str(line.assistant_minutes)]
                    for line in visit.service_lines
                ],
            )
        )
    note = [
        ("Medical necessity", e(visit.necessity or "(none written)")),
        ("Skilled interventions", "<br>".join(e(s) for s in visit.skilled_interventions) or "(none written)"),
        (
            "Exercises",
            "<br>".join(
                f"{e(x.name)}: {e(x.dosage.describe())}" + (f" ({e(x.note)})" if x.note else "")
                for x in visit.exercises
            )
            or "-",
        ),
        ("Patient response", e(visit.patient_response or "(none written)")),
        ("Narrative", f'<span class="note-text">{e(visit.narrative or "-")}</span>'),
    ]
    for amendment in visit.amendments:
        if amendment.kind == "addendum":
            note.append(
                (
                    f"Addendum {amendment.recorded_at.date()}",
                    f'<span class="note-text">{e(amendment.text)}</span> — {e(amendment.recorded_by)}: '
                    f"{e(amendment.reason)}",
                )
            )
    body.append(facts(note))
    return f'<div class="visit{" voided" if voided else ""}">' + "\n".join(body) + "</div>"


def visits(data: PacketData) -> str:
    """Render every visit with its claim lines and note; voided notes follow, marked."""
    bills = {v.date_of_service: v for v in data.bill.visits}
    episode = data.episode
    blocks = [visit_block(episode.visits[d], bills.get(d)) for d in sorted(episode.visits)]
    if not blocks:
        blocks.append("<p>No visit is recorded.</p>")
    if episode.voided_visits:
        blocks.append("<h3>Voided notes (entered in error; kept in the record)</h3>")
        blocks += [visit_block(v, None, voided=True) for v in episode.voided_visits]
    return section("visits", "Visit notes and the units billed", "\n".join(blocks), new_page=True)


def document(data: PacketData, sections: Iterable[str]) -> str:
    """Return the whole HTML document, with a running header and page numbers in print."""
    episode = data.episode
    title = f"Additional documentation — {episode.patient_ref} — episode {str(episode.id)[:8]}"
    running = f"Patient {episode.patient_ref} · episode {str(episode.id)[:8]} · {date_range(data)}"
    body = "\n".join(sections)
    footer = (
        f"<footer>Episode {e(episode.id)}, record version {episode.version}. "
        "Units: CMS 8-minute rule (CMS CPM ch.5 §20.2) or AMA per-code rule, as the payer applies."
        "</footer>"
    )
    return html_page(e(title), running, f"{_header(data)}\n{body}\n{footer}")
