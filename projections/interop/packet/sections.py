"""The packet's chart sections (clocks, outcomes, exercise dosage) and its record sections
(amendments, integrity). The findings are the review report's (projections.interop.review).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.clocks.periods import plan_end
from domain.rules.catalogue import instrument_catalogue
from projections.interop.packet.charts import (
    GOOD,
    INK,
    MUTED,
    SERIES,
    WARN,
    Row,
    dosage_chart,
    score_chart,
    timeline,
)
from projections.interop.packet.render import badge, e, for_payer, money, section, table, when

if TYPE_CHECKING:
    from projections.interop.packet.gather import PacketData


def clocks(data: PacketData) -> str:
    """Draw the plan, certification, visit, progress-report and hold clocks on one timeline, with the gaps."""
    episode = data.episode
    certs = data.continuity.clock.get("certifications", [])
    dates = [episode.start_date, *episode.visits, *(date.fromisoformat(c["end"]) for c in certs)]
    if episode.discharge is not None:
        dates.append(episode.discharge.discharge_date)
    first, last = min(dates), max(dates)
    plans = Row("Plan of care")
    ordered = sorted(episode.plans, key=lambda p: p.plan_version)
    for index, p in enumerate(ordered):
        end = plan_end(p) or last
        if index + 1 < len(ordered):
            end = min(end, ordered[index + 1].established_on - timedelta(days=1))
        plans.bars.append((p.established_on, max(end, p.established_on), SERIES, f"plan v{p.plan_version}"))
    certified = Row("Certified periods")
    for c in certs:
        title = f"certification #{c['index']} ({c['kind']}): {c['start']} to {c['end']}"
        certified.bars.append((date.fromisoformat(c["start"]), date.fromisoformat(c["end"]), GOOD, title))
        certified.marks.append(
            (date.fromisoformat(c["ordered_on"]), INK, "diamond", f"signed/ordered {c['ordered_on']}")
        )
    visit_row = Row("Visits")
    for row in data.continuity.visits:
        title = f"{row['date_of_service']}: treatment day {row['treatment_day']}"
        visit_row.marks.append((row["date_of_service"], INK, "tick", title))
    reports = Row("Progress reports")
    for period in data.reports.periods:
        if period.due_on is not None:
            reports.marks.append((period.due_on, WARN, "tick", f"report due by {period.due_on}"))
    for r in episode.progress_reports:
        reports.marks.append((r.report_date, SERIES, "diamond", f"progress report {r.report_date}"))
    holds = Row("Holds")
    for h in episode.holds:
        holds.bars.append(
            (h.start, (h.end - timedelta(days=1)) if h.end else last, MUTED, f"hold: {h.reason}")
        )
    rows = [plans, certified, visit_row, reports] + ([holds] if episode.holds else [])
    chart = timeline(rows, first, last)
    clock = data.continuity.clock
    lines = [
        f"<p>{clock['treatment_days']} treatment days; last progress report "
        f"{e(clock['last_report'] or 'none')}; certified through {e(clock['certified_through'] or '-')}.</p>"
        if data.medicare_rules
        else "<p>The plan of care, its certifications and the progress reports on one time axis.</p>"
    ]
    legend = (
        '<p class="legend">'
        f'<span><i style="background:{GOOD}"></i>certified period</span>'
        f'<span><i style="background:{INK}"></i>visit · certification signed or ordered</span>'
        f'<span><i style="background:{WARN}"></i>progress report due</span>'
        f'<span><i style="background:{SERIES}"></i>plan / report written</span>'
        + (f'<span><i style="background:{MUTED}"></i>hold</span>' if episode.holds else "")
        + "</p>"
    )
    body = "\n".join(lines) + f'<div class="charts">{chart}</div>' + legend
    return section("clocks", "Certification and progress-report dates", body)


def outcomes(data: PacketData) -> str:
    """Draw each instrument's scores against its clinically important change, with the table of scores."""
    catalogue = instrument_catalogue()
    by_instrument: dict[str, list[dict[str, Any]]] = {}
    for row in data.outcomes:
        by_instrument.setdefault(row["instrument"], []).append(row)
    charts, tables = [], []
    for instrument, rows in by_instrument.items():
        info = catalogue.get(instrument)
        name = info.name if info else instrument
        points = [(r["taken_on"], Decimal(r["score"])) for r in rows]
        charts.append(
            score_chart(
                instrument,
                name,
                info.unit if info else "",
                info.better if info else "higher",
                info.mcid if info else None,
                points,
            )
        )
        mcid = (
            f"MCID {info.mcid} ({e(for_payer(info.mcid_source or ''))})"
            if info and info.mcid is not None
            else "no MCID"
        )
        tables.append(
            f"<h3>{e(name)}: {e(mcid)}, {e(info.better if info else '?')} is better</h3>"
            + table(
                ["date", "score", "change", "verdict", "note"],
                [
                    [
                        e(r["taken_on"]),
                        e(r["score"]),
                        e(r["change"] if r["change"] is not None else "-"),
                        e(str(r["verdict"]).replace("_", " ")),
                        e(r["note"] or "-"),
                    ]
                    for r in rows
                ],
            )
        )
    if not charts:
        return section("outcomes", "Outcome measures", "<p>No outcome measure is recorded.</p>")
    body = f'<div class="charts">{"".join(charts)}</div>' + "".join(tables)
    return section("outcomes", "Outcome measures", body)


def exercises(data: PacketData) -> str:
    """Draw each exercise's workload at every visit it was performed, with its changes and reasons."""
    charts, rows = [], []
    for item in data.exercises:
        points = [
            (
                date.fromisoformat(p["date"]),
                Decimal(p["workload"]) if p["workload"] else None,
                p["dosage_text"],
            )
            for p in item["points"]
        ]
        changes = [(date.fromisoformat(c["effective_date"]), c["kind"]) for c in item["history"]]
        chart = dosage_chart(item["exercise_id"], item["name"], points, changes)
        if chart:
            charts.append(chart)
        for change in item["history"]:
            rows.append(
                [
                    e(change["effective_date"]),
                    e(item["name"]),
                    e(change["kind"]),
                    e(change["dosage_text"] or "-"),
                    e(change["reason"] or "-"),
                    e(change["recorded_by"]),
                ]
            )
    if not charts and not rows:
        return section("exercises", "Exercise dosage over visits", "<p>No exercise is recorded.</p>")
    body = (
        "<p>Workload is sets × reps (or seconds, or metres) × load × band level, at each visit the exercise "
        "was performed (the progression view); dashed lines mark changes of the prescription, and each "
        "progression or regression starts a new line (a harder variant can carry less workload).</p>"
        f'<div class="charts">{"".join(charts)}</div><h3>Changes of the programme</h3>'
        + table(["date", "exercise", "change", "dosage", "reason", "by"], rows)
    )
    return section("exercises", "Exercise dosage over visits", body)


def _changes(amendment: Any) -> str:
    if amendment.kind == "correction":
        return "<br>".join(
            f"{e(field)}: {e(_short(amendment.previous.get(field)))} → {e(_short(value))}"
            for field, value in amendment.changes.items()
        )
    if amendment.kind == "addendum":
        return e(amendment.text)
    return {"void": "note voided (entered in error)", "late_entry": "whole note written after the visit"}.get(
        amendment.kind, "-"
    )


def _short(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "code" in value[0]:
        return " ".join(f"{line['code']}×{line.get('minutes')}" for line in value)
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "..."


def amendments(data: PacketData) -> str:
    """List every amendment (late entry, correction, addendum, void) with author, time and reason.

    (docs/rules.md#amendments)
    """
    episode = data.episode
    every = [(v, a) for v in [*episode.visits.values(), *episode.voided_visits] for a in v.amendments]
    every.sort(key=lambda pair: pair[1].event_version)
    rows = [
        [
            str(a.event_version),
            e(a.kind.replace("_", " ")),
            e(v.date_of_service),
            e(when(a.recorded_at)),
            e(a.recorded_by),
            e(a.reason),
            _changes(a),
        ]
        for v, a in every
    ]
    body = (
        "<p>The original entries are never altered: each amendment is a separate, dated event naming the "
        "note it amends and why (45 CFR 164.526; CMS PIM ch.3 §3.3.2.5).</p>"
        + (
            table(["version", "kind", "visit", "recorded", "by", "reason", "what changed"], rows)
            if rows
            else "<p>No amendment.</p>"
        )
    )
    return section("amendments", "Amendments", body)


def remittances(data: PacketData) -> str:
    """List what the payer did to each claim line (its 835 remittances), beside the charge billed."""
    from domain.billing.remittance import denied_amount, is_denial, line_status

    rows = [
        [
            e(r.date_of_service),
            e(r.claim_id),
            e(" ".join([line.code, *line.modifiers])),
            money(line.charge),
            money(line.paid),
            e(line_status(line)),
            money(denied_amount(line)),
            e(", ".join(f"{a.group}-{a.reason}" for a in line.adjustments if is_denial(a)) or "-"),
            e(", ".join(line.remarks) or "-"),
            e(when(r.recorded_at)),
        ]
        for r in data.episode.remittances
        for line in r.lines
    ]
    body = (
        "<p>What the payer paid and adjusted on each claim line, as its electronic remittance advice "
        "(ASC X12 835) reported, with the claim adjustment reason codes (CARC) and remark codes (RARC).</p>"
        + (
            table(
                ["visit", "claim", "line", "charge", "paid", "status", "denied", "CARC", "RARC", "received"],
                rows,
                numeric=(3, 4, 6),
            )
            if rows
            else "<p>No remittance is recorded.</p>"
        )
    )
    return section("remittances", "Payer remittances", body)


def integrity(data: PacketData) -> str:
    """State the hash-chain verification of the episode's stored events."""
    report = data.chain
    if report.intact:
        head = next(iter(report.heads), None)
        verdict = badge("ok", "intact")
        detail = (
            f"All {report.events} stored events of this episode "
            "were read back and match their hash-chain links"
            + (
                f"; the chain's head is version {head.version}, SHA-256 <code>{head.chain_hash.hex()}</code>"
                if head
                else ""
            )
            + (f"; {report.snapshots} snapshot(s) match the replay of the events" if report.snapshots else "")
            + "."
        )
    else:
        verdict = badge("error", "BROKEN")
        detail = "<br>".join(f"version {b.version}: {e(b.kind)}: {e(b.detail)}" for b in report.breaks)
    body = (
        f'<p class="verdict">Hash chain {verdict}</p><p>{detail}</p>'
        "<p>Each event's link hashes the previous link, the episode, the version and the event's stored "
        "bytes: an event changed, deleted, inserted or moved in the database after it was recorded breaks "
        "the chain. A copy of the chain's head kept elsewhere also proves the chain was not rewritten.</p>"
    )
    return section("integrity", "Record integrity", body)
