"""The Medicare clocks of a plan of care (docs/rules.md#plan-of-care, CMS BPM ch.15 §220.1-220.3), as pure
functions.

- A treatment day is a calendar day with a treatment, evaluation or re-evaluation.
- A progress report is due at least once every 10 treatment days; the first
  period starts on the first day of the episode. A report dated on a treatment
  day closes the period that includes that day; the next period starts with the
  next treatment day. The report may be written after the 10th treatment day
  (it covers a period already furnished, CMS BPM ch.15 §220.3 D): it is overdue
  only once an 11th treatment day of the period comes without a report written
  before it, and the verdict belongs to that 11th day (and each later one until
  a report), never to the 10th.
- A certification is timely when signed (or verbally ordered) within 30 days
  after the first treatment day (day 0; the evaluation counts); a verbal order
  needs a signature within 14 days; a late certification is still valid when it
  documents the reason for the delay.
- A certification covers its period, but no longer than the plan's duration or
  90 calendar days from the first treatment day (that day is day 1 of 90),
  whichever is shorter. A recertification is measured the same way from the first
  day of the period it certifies.
- A recertification is timely only when signed (or verbally ordered) by the last
  day of the certified period it renews (CMS BPM ch.15 §220.1.3). One signed later
  without a documented reason for the delay certifies from its signature on: the
  visits between the end of the renewed period and that signature are not validly
  certified.

Nothing here reads the clock: what is "late" is decided against the dates in the
record; the query layer adds "as of today" on top (`as_of`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from domain.evidence import Evidence
from domain.records import Certification, Plan

Severity = Literal["error", "warning"]

RULE_PROGRESS = (
    "docs/rules.md#progress-reports: a progress report at least once every 10 treatment days "
    "(CMS BPM ch.15 §220.3 D)"
)
RULE_CERT_TIMELY = (
    "docs/rules.md#certification: certification signed or verbally ordered within 30 days of the "
    "first treatment (CMS BPM ch.15 §220.1.3)"
)
RULE_VERBAL = "docs/rules.md#certification: a verbal order is signed within 14 days (CMS BPM ch.15 §220.1.3)"
RULE_CERT_PERIOD = (
    "docs/rules.md#certification: visits outside any certified period are at risk (CMS BPM ch.15 §220.1.3)"
)
RULE_RECERT = (
    "docs/rules.md#certification: recertify when treatment runs past the certified duration or the "
    "plan changes (CMS BPM ch.15 §220.1.3)"
)
RULE_RECERT_TIMELY = (
    "docs/rules.md#certification: a recertification is signed by the last day of the period it renews "
    "(CMS BPM ch.15 §220.1.3)"
)
RULE_PLAN = (
    "docs/rules.md#plan-of-care: treatment follows an established plan of care (CMS BPM ch.15 §220.1.2)"
)
RULE_NECESSITY = "docs/rules.md#necessity: every visit states its medical necessity (CMS BPM ch.15 §220.2)"


@dataclass(frozen=True)
class ClockRules:
    """The numbers of the Medicare clocks; a payer with other numbers gets its own instance."""

    progress_report_every: int = 10
    certification_within_days: int = 30
    verbal_signature_within_days: int = 14
    max_certified_days: int = 90
    source: str = "docs/rules.md#plan-of-care (CMS BPM ch.15 §220.1-220.3)"


MEDICARE = ClockRules()


@dataclass(frozen=True)
class Gap:
    """One verdict of the record against a clock (docs/rules.md#certification) or the necessity statement.

    Decided once (here and in `domain.clocks.coverage`) and rendered by every
    reader: the continuity view shows `code`, `message` and `rule`; the
    documentation checks word a finding of `rule_id` from the same verdict and its
    facts (plan, certification, period day) and cite its `evidence`.
    """

    code: str
    severity: Severity
    on: date | None
    message: str
    rule: str
    dates: tuple[date, ...] = ()
    # The date the gap turns on, where there is one: the day a pending certification
    # is due by, or the last day of the certified period a visit falls after.
    until: date | None = None
    # The documentation rule it breaks (domain.rules.checks) and the events that prove it.
    rule_id: str = ""
    evidence: tuple[Evidence, ...] = ()
    # The visit it is about (None: the episode), and the certification, if one.
    date_of_service: date | None = None
    certification: int | None = None
    # Facts a reader may word: the plan in force, the certified plan, the report period's day.
    plan: Plan | None = None
    certified_plan: int | None = None
    period_day: int | None = None
    # A period's summary of verdicts given per visit (a late progress report): not a finding itself.
    summary: bool = False

    def as_dict(self) -> dict[str, object]:
        """Return the gap as JSON-ready values."""
        return {
            "code": self.code,
            "severity": self.severity,
            "date": self.on.isoformat() if self.on else None,
            "message": self.message,
            "rule": self.rule,
            "dates": [d.isoformat() for d in self.dates],
        }


def treatment_days(visit_dates: Iterable[date], reevaluation_dates: Iterable[date] = ()) -> list[date]:
    """Return the episode's treatment days in order: days with a visit or a re-evaluation.

    (docs/rules.md#certification)
    """
    return sorted({*visit_dates, *reevaluation_dates})


# --- progress reports ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportDay:
    """Where one treatment day stands in its progress-report period."""

    day: date
    treatment_day: int
    period_day: int
    report_due: bool
    report_present: bool
    # an 11th (or later) treatment day of the period with no report written before it
    overdue: bool = False


@dataclass(frozen=True)
class ReportPeriod:
    """A progress-report period: its treatment days and the report that closed it, if any."""

    start: date
    due_on: date | None
    report_on: date | None
    report_treatment_day: int | None
    days: int
    overdue_days: tuple[date, ...] = ()

    @property
    def late(self) -> bool:
        """Tell whether an 11th treatment day of the period came without a report written before it."""
        return bool(self.overdue_days)


@dataclass(frozen=True)
class ReportClock:
    """The progress-report clock of an episode: each day, each period, and what is left."""

    days: tuple[ReportDay, ...]
    periods: tuple[ReportPeriod, ...]
    days_in_open_period: int
    every: int

    @property
    def due_in(self) -> int:
        """Treatment days left until the next report is due, counting the due day (< 1: overdue)."""
        return self.every - self.days_in_open_period

    def gaps(self, severity: Severity = "error") -> list[Gap]:
        """Return a gap for each period whose report came after its due day, or never came."""
        found: list[Gap] = []
        for period in self.periods:
            if not period.late or period.due_on is None:
                continue
            first = period.overdue_days[0]
            if period.report_on is None:
                message = (
                    f"no progress report after treatment day {self.every} ({period.due_on}): treatment "
                    f"day {self.every + 1} ({first}) came without one; it is missing after "
                    f"{period.days} treatment days"
                )
            else:
                message = (
                    f"no progress report after treatment day {self.every} ({period.due_on}) before "
                    f"treatment day {self.every + 1} ({first}); it was written on {period.report_on} "
                    f"(treatment day {period.report_treatment_day} of the period)"
                )
            found.append(
                Gap(
                    "progress_report_late",
                    severity,
                    first,
                    message,
                    RULE_PROGRESS,
                    period.overdue_days,
                    rule_id="clock.progress_report_overdue",
                    summary=True,
                )
            )
        return found


def progress_report_clock(
    days: Sequence[date], report_dates: Iterable[date], rules: ClockRules = MEDICARE
) -> ReportClock:
    """Walk the treatment days and the report dates into periods of at most N treatment days.

    (docs/rules.md#certification)
    """
    every = rules.progress_report_every
    reports = sorted(set(report_dates))
    out: list[ReportDay] = []
    periods: list[ReportPeriod] = []
    ri = 0
    period_day = 0
    period_start: date | None = None
    due_on: date | None = None
    overdue: list[date] = []

    def close(report_on: date | None) -> None:
        nonlocal period_day, period_start, due_on, overdue
        if period_start is not None:
            periods.append(
                ReportPeriod(
                    start=period_start,
                    due_on=due_on,
                    report_on=report_on,
                    report_treatment_day=period_day if report_on is not None else None,
                    days=period_day,
                    overdue_days=tuple(overdue),
                )
            )
        period_day, period_start, due_on, overdue = 0, None, None, []

    for number, day in enumerate(days, start=1):
        while ri < len(reports) and reports[ri] < day:
            close(reports[ri])
            ri += 1
        period_day += 1
        if period_start is None:
            period_start = day
        if period_day == every:
            due_on = day
        present = ri < len(reports) and reports[ri] == day
        late = period_day > every
        out.append(ReportDay(day, number, period_day, period_day >= every, present, late))
        if late:
            overdue.append(day)
        if present:
            close(day)
            ri += 1
    for report_on in reports[ri:]:
        close(report_on)
    open_days = period_day
    if period_start is not None and due_on is not None:
        periods.append(ReportPeriod(period_start, due_on, None, None, period_day, tuple(overdue)))
    return ReportClock(tuple(out), tuple(periods), open_days, every)


# --- certification ---------------------------------------------------------------------------

CertStatus = Literal["timely", "delayed", "late", "pending_signature", "signed_late"]


@dataclass(frozen=True)
class CertificationCheck:
    """One certification judged (docs/rules.md#certification): is it valid, and which dates does it cover."""

    index: int
    kind: str
    certified_plan: int
    reference_day: date
    ordered_on: date
    status: CertStatus
    valid: bool
    start: date
    end: date
    signature_due: date | None
    gaps: tuple[Gap, ...] = field(default=())
    # a late recertification without a reason: the days it leaves uncertified, and the
    # certification whose period it renewed
    uncertified: tuple[date, date] | None = None
    renews: int | None = None

    def covers(self, day: date) -> bool:
        """Tell whether a date lies in the certified period (whatever its validity)."""
        return self.start <= day <= self.end


def plan_end(plan: Plan) -> date | None:
    """Return the last day a plan's duration in weeks covers (W weeks = 7·W days from establishment)."""
    if plan.duration_weeks is None:
        return None
    return plan.established_on + timedelta(days=7 * plan.duration_weeks - 1)


def check_certification(
    index: int,
    cert: Certification,
    plan: Plan | None,
    first_treatment_day: date | None,
    last_day: date | None,
    rules: ClockRules = MEDICARE,
    severity: Severity = "error",
    renews: CertificationCheck | None = None,
) -> CertificationCheck:
    """Judge a certification's timeliness and the period it validly covers (docs/rules.md#certification).

    `renews` is the certification whose period a recertification renews (the latest
    valid one before it); a recertification is timely when signed by that period's
    last day.
    """
    if cert.kind == "initial" and first_treatment_day is not None:
        reference = first_treatment_day
    else:
        reference = cert.period_start
    candidates = [d for d in (cert.signed_on, cert.verbal_order_on) if d is not None]
    ordered_on = min(candidates) if candidates else reference
    deadline = reference + timedelta(days=rules.certification_within_days)
    proof = Evidence(cert.event_version, "certification", cert.signed_on)
    gaps: list[Gap] = []
    status: CertStatus = "timely"
    signature_due: date | None = None
    valid = True
    start = cert.period_start
    uncertified: tuple[date, date] | None = None
    if cert.kind == "recertification" and renews is not None and candidates:
        if ordered_on > renews.end:
            late_by = (ordered_on - renews.end).days
            if cert.delay_reason.strip():
                status = "delayed"
            else:
                status = "late"
                gap_from = max(renews.end + timedelta(days=1), cert.period_start)
                if ordered_on > gap_from:
                    uncertified = (gap_from, ordered_on - timedelta(days=1))
                start = max(start, ordered_on)
                gaps.append(
                    Gap(
                        "certification_late",
                        severity,
                        ordered_on,
                        f"recertification of plan v{cert.certified_plan} was signed on {ordered_on}, "
                        f"{late_by} day{'s' if late_by != 1 else ''} after certification "
                        f"#{renews.index}'s period ended ({renews.end}), with no reason for the delay: "
                        "it certifies from its signature, and the visits between are not validly certified",
                        RULE_RECERT_TIMELY,
                        rule_id="clock.certification_late",
                        evidence=(proof,),
                        certification=index,
                    )
                )
    elif ordered_on > deadline:
        late_by = (ordered_on - reference).days
        if cert.delay_reason.strip():
            status = "delayed"
        else:
            status, valid = "late", False
            gaps.append(
                Gap(
                    "certification_late",
                    severity,
                    ordered_on,
                    f"{cert.kind} certification of plan v{cert.certified_plan} was signed {late_by} days "
                    f"after {'the first treatment day' if cert.kind == 'initial' else 'its period start'} "
                    f"({reference}; limit {rules.certification_within_days}) with no reason for the delay",
                    RULE_CERT_TIMELY,
                    rule_id="clock.certification_late",
                    evidence=(proof,),
                    certification=index,
                )
            )
    if cert.verbal_order_on is not None and (cert.signed_on is None or cert.signed_on > cert.verbal_order_on):
        signature_due = cert.verbal_order_on + timedelta(days=rules.verbal_signature_within_days)
        signed_late = cert.signed_on is not None and cert.signed_on > signature_due
        unsigned_past = cert.signed_on is None and last_day is not None and last_day > signature_due
        if signed_late or unsigned_past:
            if not cert.delay_reason.strip():
                valid = False
                status = "signed_late" if status == "timely" else status
            when = f"signed on {cert.signed_on}" if cert.signed_on else "not signed"
            gaps.append(
                Gap(
                    "verbal_order_unsigned",
                    severity if not cert.delay_reason.strip() else "warning",
                    signature_due,
                    f"verbal order of {cert.verbal_order_on} needed a signature by {signature_due}; {when}",
                    RULE_VERBAL,
                    rule_id="clock.verbal_order_unsigned",
                    evidence=(proof,),
                    certification=index,
                )
            )
        elif cert.signed_on is None and status == "timely":
            status = "pending_signature"
    cap = reference + timedelta(days=rules.max_certified_days - 1)
    end = min(cert.period_end, cap)
    if plan is not None and (p_end := plan_end(plan)) is not None:
        end = min(end, p_end)
    return CertificationCheck(
        index=index,
        kind=cert.kind,
        certified_plan=cert.certified_plan,
        reference_day=reference,
        ordered_on=ordered_on,
        status=status,
        valid=valid,
        start=start,
        end=end,
        signature_due=signature_due,
        gaps=tuple(gaps),
        uncertified=uncertified,
        renews=renews.index if renews is not None else None,
    )


def plan_in_force(plans: Sequence[Plan], day: date) -> Plan | None:
    """Return the latest plan established on or before a date."""
    ordered = sorted(plans, key=lambda p: (p.established_on, p.plan_version))
    keys = [p.established_on for p in ordered]
    position = bisect_right(keys, day)
    return ordered[position - 1] if position else None


def certification_due_by(first_treatment_day: date, rules: ClockRules = MEDICARE) -> date:
    """Return the last day an initial certification is timely (docs/rules.md#certification)."""
    return first_treatment_day + timedelta(days=rules.certification_within_days)


@dataclass(frozen=True)
class AsOf:
    """The clocks read against a calendar date (what a person asks: how long until...)."""

    today: date
    certification_expires_in_days: int | None
    certification_expired: bool
    initial_certification_overdue: bool


def as_of(
    today: date,
    *,
    expires: date | None,
    certification_due: date | None,
    certified: bool,
    active: bool,
) -> AsOf:
    """Read the stored clock dates against today's date."""
    expires_in = (expires - today).days if expires is not None and active else None
    return AsOf(
        today=today,
        certification_expires_in_days=expires_in,
        certification_expired=expires_in is not None and expires_in < 0,
        initial_certification_overdue=(
            active and not certified and certification_due is not None and today > certification_due
        ),
    )
