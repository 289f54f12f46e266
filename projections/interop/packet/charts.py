"""Charts drawn as inline SVG by careledger itself: no plotting library, no display, no network.

Three kinds, each a pure function from values to an `<svg>` string:
`score_chart` (outcome scores over time against the clinically important change),
`dosage_chart` (an exercise's workload at each visit, its changes marked) and
`timeline` (the certification and progress-report clocks, visits and holds on
one time axis). Every text comes from the record, so every text is escaped.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html import escape

FONT = "font-family: Helvetica, Arial, sans-serif"
INK, GRID, SERIES, GOOD, BAD, WARN, MUTED = (
    "#1f2933",
    "#d9dee3",
    "#1f6fb2",
    "#2e7d32",
    "#c62828",
    "#b26a00",
    "#7b8794",
)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [math.floor(low / step) * step]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(ticks[-1] + step)
    return [round(t, 6) for t in ticks]


def date_ticks(first: date, last: date, count: int = 6) -> list[date]:
    """Return evenly spaced dates from first to last (both included)."""
    span = max((last - first).days, 1)
    step = max(1, round(span / (count - 1)))
    ticks = [first + timedelta(days=d) for d in range(0, span + 1, step)]
    if ticks[-1] != last and (last - ticks[-1]).days > step / 3:
        ticks.append(last)
    return ticks


@dataclass(frozen=True)
class Frame:
    """The plotting area of a chart and its scales."""

    width: int
    height: int
    first: date
    last: date
    low: float
    high: float
    left: int = 56
    right: int = 16
    top: int = 28
    bottom: int = 34

    def x(self, day: date) -> float:
        """Map a date to an x coordinate."""
        span = max((self.last - self.first).days, 1)
        return self.left + (day - self.first).days / span * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        """Map a value to a y coordinate."""
        span = (self.high - self.low) or 1
        return self.top + (self.high - value) / span * (self.height - self.top - self.bottom)


def _open(kind: str, label: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(kind)}" role="img" '
        f'aria-label="{escape(label)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'style="{FONT}; font-size: 11px; background: #ffffff">',
        f"<title>{escape(label)}</title>",
    ]


LABEL_WIDTH = 44  # px a "Mar 12" label needs at 11 px, with a gap


def labelled_days(frame: Frame, days: Sequence[date]) -> list[date]:
    """Choose the tick dates to label so no two labels overlap; the first and last keep theirs."""
    kept: list[date] = []
    for day in days:
        if kept and frame.x(day) - frame.x(kept[-1]) < LABEL_WIDTH:
            if day != days[-1]:
                continue
            if len(kept) > 1:
                kept.pop()  # the last date's label wins over the tick before it
        kept.append(day)
    return kept


def _axes(frame: Frame, ticks: Sequence[float], unit: str) -> list[str]:
    out = []
    for tick in ticks:
        y = frame.y(tick)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">{_num(tick)}</text>'
        )
    days = date_ticks(frame.first, frame.last)
    for day in days:
        x = frame.x(day)
        base = frame.height - frame.bottom
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="{INK}"/>')
    for day in labelled_days(frame, days):
        out.append(
            f'<text x="{frame.x(day):.1f}" y="{frame.height - frame.bottom + 16}" text-anchor="middle" '
            f'fill="{INK}">{day.strftime("%b %d")}</text>'
        )
    base = frame.height - frame.bottom
    out.append(
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" stroke="{INK}"/>'
    )
    out.append(f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{base}" stroke="{INK}"/>')
    out.append(
        f'<text x="12" y="{(frame.top + base) / 2:.1f}" '
        f'transform="rotate(-90 12 {(frame.top + base) / 2:.1f})" '
        f'text-anchor="middle" fill="{INK}">{escape(unit)}</text>'
    )
    return out


def score_chart(
    instrument: str,
    name: str,
    unit: str,
    better: str,
    mcid: Decimal | None,
    points: Sequence[tuple[date, Decimal]],
    width: int = 560,
    height: int = 230,
) -> str:
    """Draw an instrument's scores over time with the line "
    "the change must cross to be clinically important."""
    label = f"{name} ({instrument}) over time"
    if not points:
        return ""
    baseline = float(points[0][1])
    target = None
    if mcid is not None:
        target = baseline + float(mcid) if better == "higher" else baseline - float(mcid)
    values = [float(v) for _, v in points] + ([target] if target is not None else [])
    low, high = min(values), max(values)
    margin = (high - low) * 0.1 or 1
    ticks = nice_ticks(low - margin, high + margin)
    first, last = points[0][0], points[-1][0]
    if first == last:
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    frame = Frame(width, height, first, last, ticks[0], ticks[-1])
    out = _open(f"outcome-{instrument}", label, width, height)
    out.append(f'<text x="{frame.left}" y="16" fill="{INK}" font-weight="bold">{escape(label)}</text>')
    out += _axes(frame, ticks, unit)
    if target is not None and mcid is not None:
        y = frame.y(target)
        top, bottom = (frame.top, y) if better == "higher" else (y, frame.height - frame.bottom)
        out.append(
            f'<rect class="mcid-zone" x="{frame.left}" y="{top:.1f}" '
            f'width="{width - frame.left - frame.right}" '
            f'height="{max(bottom - top, 0):.1f}" fill="{GOOD}" fill-opacity="0.08"/>'
        )
        out.append(
            f'<line class="mcid" x1="{frame.left}" x2="{width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GOOD}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
        out.append(
            f'<text x="{width - frame.right - 4}" y="{y - 5:.1f}" text-anchor="end" fill="{GOOD}">'
            f"baseline {'+' if better == 'higher' else '-'} MCID {_num(float(mcid))} = {_num(target)}</text>"
        )
    path = " ".join(f"{frame.x(d):.1f},{frame.y(float(v)):.1f}" for d, v in points)
    out.append(f'<polyline class="series" points="{path}" fill="none" stroke="{SERIES}" stroke-width="2"/>')
    for day, value in points:
        x, y = frame.x(day), frame.y(float(value))
        out.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{SERIES}">'
            f"<title>{escape(f'{day}: {value}')}</title></circle>"
        )
        out.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" '
            f'fill="{SERIES}">{escape(str(value))}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def dosage_chart(
    exercise_id: str,
    name: str,
    points: Sequence[tuple[date, Decimal | None, str]],
    changes: Sequence[tuple[date, str]],
    width: int = 460,
    height: int = 190,
) -> str:
    """Draw an exercise's workload (sets × reps × load...) at each visit, with its changes marked.

    The line breaks at each progression or regression: workloads of two prescriptions (a
    harder variant held for less time) are not one series to compare.
    """
    label = f"{name}: workload at each visit"
    known = [(d, float(w), t) for d, w, t in points if w is not None]
    if not points:
        return ""
    dates = [d for d, _, _ in points] + [d for d, _ in changes]
    first, last = min(dates), max(dates)
    if first == last:
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    values = [w for _, w, _ in known] or [0.0, 1.0]
    ticks = nice_ticks(0, max(values) * 1.15 or 1)
    heading = textwrap.wrap(name, 62)[:2] or [""]  # a long name takes two lines, not an ellipsis
    if len(" ".join(heading)) < len(" ".join(name.split())):
        heading[-1] = heading[-1][:61] + "…"  # past two lines: the full name is the chart's <title>
    top = 28 + 13 * (len(heading) - 1)
    frame = Frame(width, height + top - 28, first, last, ticks[0], ticks[-1], top=top)
    out = _open(f"dosage-{exercise_id}", label, width, height + top - 28)
    for n, line in enumerate(heading):
        out.append(
            f'<text x="{frame.left}" y="{16 + 13 * n}" fill="{INK}" font-weight="bold">{escape(line)}</text>'
        )
    out += _axes(frame, ticks, "workload")
    colours = {"progressed": GOOD, "regressed": WARN, "discontinued": BAD, "added": MUTED}
    taken: list[float] = []  # per label row, where its last label ends
    for day, kind in changes:
        x = frame.x(day)
        colour = colours.get(kind, MUTED)
        out.append(
            f'<line class="change {escape(kind)}" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" '
            f'y2="{frame.height - frame.bottom}" stroke="{colour}" stroke-dasharray="3 3"/>'
        )
        span = 6.0 * len(kind)  # about 6 px a character at 11 px
        near_end = x > width - frame.right - span - 6
        left = x - 3 - span if near_end else x + 3
        row = next((i for i, end in enumerate(taken) if left > end + 4), len(taken))
        if row == len(taken):
            taken.append(0.0)
        taken[row] = left + span
        out.append(
            f'<text x="{x - 3 if near_end else x + 3:.1f}" y="{frame.top + 10 + 11 * row}" '
            f'text-anchor="{"end" if near_end else "start"}" fill="{colour}">{escape(kind)}</text>'
        )
    # One line per prescription: a change (a harder variant, a new dosage) starts a new line, so a
    # progression to a harder variant with a smaller workload does not read as a decline.
    starts = sorted(day for day, kind in changes if kind in ("progressed", "regressed"))
    segments: dict[int, list[tuple[date, float]]] = {}
    for day, value, _ in known:
        segments.setdefault(sum(1 for start in starts if start <= day), []).append((day, value))
    for segment in segments.values():
        path = " ".join(f"{frame.x(d):.1f},{frame.y(w):.1f}" for d, w in segment)
        out.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="{SERIES}" stroke-width="2"/>'
        )
    for day, value, text in known:
        out.append(
            f'<circle class="point" cx="{frame.x(day):.1f}" '
            f'cy="{frame.y(value):.1f}" r="3.5" fill="{SERIES}">'
            f"<title>{escape(f'{day}: {text}')}</title></circle>"
        )
    if not known:
        out.append(
            f'<text x="{width / 2:.0f}" y="{frame.height / 2:.0f}" text-anchor="middle" fill="{MUTED}">'
            "dosage without a workload (no sets, reps, load or time to multiply)</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


@dataclass
class Row:
    """One row of the timeline: bars (start, end, colour, title) and marks (date, colour, shape, title)."""

    label: str
    bars: list[tuple[date, date, str, str]] = field(default_factory=list)
    marks: list[tuple[date, str, str, str]] = field(default_factory=list)


def timeline(rows: Sequence[Row], first: date, last: date, width: int = 900, row_height: int = 34) -> str:
    """Draw rows of periods and events on one date axis (the clocks of docs/rules.md#plan-of-care)."""
    left, right, top = 150, 20, 30
    height = top + row_height * len(rows) + 40
    frame = Frame(
        width, height, first - timedelta(days=1), last + timedelta(days=1), 0, 1, left, right, top, 40
    )
    out = _open("clocks", "Certification and progress-report clocks", width, height)
    out.append(
        f'<text x="{left}" y="16" fill="{INK}" '
        'font-weight="bold">Certification and progress-report clocks</text>'
    )
    for day in date_ticks(frame.first, frame.last, 8):
        x = frame.x(day)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 40}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{height - 24}" text-anchor="middle" '
            f'fill="{INK}">{day.strftime("%b %d")}</text>'
        )
    for index, row in enumerate(rows):
        y = top + index * row_height
        middle = y + row_height / 2
        out.append(
            f'<text x="{left - 8}" y="{middle + 4:.1f}" '
            f'text-anchor="end" fill="{INK}">{escape(row.label)}</text>'
        )
        for start, end, colour, title in row.bars:
            x1, x2 = frame.x(start), frame.x(end + timedelta(days=1))
            out.append(
                f'<rect class="bar" x="{x1:.1f}" y="{y + 7}" '
                f'width="{max(x2 - x1, 2):.1f}" height="{row_height - 14}" '
                f'fill="{colour}" fill-opacity="0.35" stroke="{colour}"><title>{escape(title)}</title></rect>'
            )
        for day, colour, shape, title in row.marks:
            x = frame.x(day) + (frame.x(day + timedelta(days=1)) - frame.x(day)) / 2
            if shape == "diamond":
                corners = ((x, middle - 7), (x + 6, middle), (x, middle + 7), (x - 6, middle))
                points = " ".join(f"{px:.1f},{py:.1f}" for px, py in corners)
                out.append(
                    f'<polygon class="mark" points="{points}" '
                    f'fill="{colour}"><title>{escape(title)}</title></polygon>'
                )
            else:
                out.append(
                    f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" '
                    f'y1="{middle - 8:.1f}" y2="{middle + 8:.1f}" '
                    f'stroke="{colour}" stroke-width="3"><title>{escape(title)}</title></line>'
                )
    out.append("</svg>")
    return "\n".join(out)
