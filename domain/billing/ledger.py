"""The minute ledger of one date of service: no minute is counted twice (docs/rules.md#time-integrity).

`audit_minutes(lines, total_treatment_minutes)` is one pure function used twice:
the episode refuses a visit whose ledger has a refusal (`check_service_lines`),
and billing reports the ledger's notes. It refuses

- timed minutes above the total treatment minutes (docs/rules.md#time-integrity, CMS BPM ch.15 §220.3);
- a line whose start/end block disagrees with its minutes by more than a minute;
- two lines whose start/end blocks overlap, unless one is a supervised modality
  (97010-97028, G0283), which may overlap other services (NCCI Policy Manual ch. XI): two timed
  codes, a timed code and an evaluation, or group therapy (the catalogue's `group`
  kind) and one-on-one time;
- two different evaluation or re-evaluation codes on one date (docs/rules.md#timed-codes).

Without start/end times the ledger cannot see an overlap; where it matters (group
and one-on-one time on the same date), it says so in a note instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Literal

from domain.rules.catalogue import CodeCatalogue, code_catalogue, unknown_code_message
from domain.values import Frozen, ServiceLine

Severity = Literal["error", "warning", "info"]
SECONDS_OF_SLACK = 60


class Note(Frozen):
    """A remark on a bill or a day's minutes: which rule, how serious, what, and the source."""

    rule_id: str
    severity: Severity
    message: str
    source: str
    date_of_service: date | None = None
    code: str | None = None


RefusalKind = Literal[
    "codes.unknown",
    "codes.one_evaluation_per_date",
    "minutes.block_disagrees",
    "minutes.timed_exceeds_total",
    "minutes.overlap",
    "minutes.group_overlap",
]


class Refusal(Frozen):
    """A reason to refuse a visit: which rule, the field and the problem (one line, as InvalidInput).

    `code` is the service the refusal is about, where there is one (the group
    therapy code of a group overlap).
    """

    rule_id: RefusalKind
    field: str
    problem: str
    code: str | None = None


class MinuteLedger(Frozen):
    """The minutes of one date by kind, and what the ledger refuses or remarks."""

    timed_minutes: int
    untimed_minutes: int
    supervised_minutes: int
    total_treatment_minutes: int
    refusals: tuple[Refusal, ...]
    notes: tuple[Note, ...]

    @property
    def accepted(self) -> bool:
        """Tell whether the ledger refuses nothing."""
        return not self.refusals


def block_seconds(start: time, end: time) -> int:
    """Return the length of a same-day block in seconds (negative if it ends first)."""
    anchor = date(2000, 1, 1)
    return int((datetime.combine(anchor, end) - datetime.combine(anchor, start)).total_seconds())


def _clock(value: time) -> str:
    return value.strftime("%H:%M") if value.second == 0 else value.strftime("%H:%M:%S")


def block_text(line: ServiceLine) -> str:
    """Render a line's block as 10:00-10:30 (empty without times)."""
    if line.start is None or line.end is None:
        return ""
    return f"{_clock(line.start)}-{_clock(line.end)}"


def has_block(line: ServiceLine) -> bool:
    """Tell whether a line carries a usable start/end block."""
    return line.start is not None and line.end is not None and line.end > line.start


def blocks_overlap(a: ServiceLine, b: ServiceLine) -> bool:
    """Tell whether two lines' blocks share any time (touching ends do not)."""
    if not (has_block(a) and has_block(b)):
        return False
    return a.start < b.end and b.start < a.end  # type: ignore[operator]


def audit_minutes(
    lines: Sequence[ServiceLine],
    total_treatment_minutes: int,
    date_of_service: date | None = None,
    catalogue: CodeCatalogue | None = None,
) -> MinuteLedger:
    """Check one date's service lines against each other and the total treatment minutes."""
    catalogue = catalogue or code_catalogue()
    refusals: list[Refusal] = []
    notes: list[Note] = []
    timed = untimed = supervised = 0
    evaluations: dict[str, int] = {}
    for index, line in enumerate(lines):
        info = catalogue.get(line.code)
        if info is None:
            refusals.append(
                Refusal(
                    rule_id="codes.unknown",
                    field=f"service_lines.{index}.code",
                    problem=unknown_code_message(line.code, catalogue.codes),
                )
            )
            continue
        if info.timed:
            timed += line.minutes
        elif info.may_overlap:
            supervised += line.minutes
        else:
            untimed += line.minutes
        if info.is_evaluation:
            evaluations.setdefault(line.code, index)
        if has_block(line):
            length = block_seconds(line.start, line.end)  # type: ignore[arg-type]
            if abs(length - line.minutes * 60) > SECONDS_OF_SLACK:
                refusals.append(
                    Refusal(
                        rule_id="minutes.block_disagrees",
                        field=f"service_lines.{index}.minutes",
                        problem=f"{line.minutes} minutes, but {block_text(line)} is "
                        f"{round(length / 60)} minutes (they must agree within a minute)",
                    )
                )
    if timed > total_treatment_minutes:
        refusals.insert(
            0,
            Refusal(
                rule_id="minutes.timed_exceeds_total",
                field="total_treatment_minutes",
                problem=f"{total_treatment_minutes} is less than the {timed} timed minutes "
                "of the service lines (docs/rules.md#time-integrity)",
            ),
        )
    if len(evaluations) > 1:
        first, *others = sorted(evaluations, key=evaluations.__getitem__)
        refusals.append(
            Refusal(
                rule_id="codes.one_evaluation_per_date",
                field=f"service_lines.{evaluations[others[0]]}.code",
                problem=f"{others[0]} and {first} on one date: only one evaluation or re-evaluation "
                "per date (docs/rules.md#timed-codes)",
            )
        )
    refusals.extend(_overlaps(lines, catalogue))
    notes.extend(_group_notes(lines, catalogue, date_of_service))
    if timed + untimed > total_treatment_minutes >= timed:
        notes.append(
            Note(
                rule_id="minutes.total_below_services",
                severity="warning",
                message=f"total treatment minutes {total_treatment_minutes} are fewer than the {timed} "
                f"timed and {untimed} untimed minutes of the services; untimed minutes count toward the "
                "total treatment time (docs/rules.md#timed-codes, docs/rules.md#time-integrity)",
                source="docs/rules.md#timed-codes, docs/rules.md#time-integrity; CMS BPM ch.15 §220.3",
                date_of_service=date_of_service,
            )
        )
    return MinuteLedger(
        timed_minutes=timed,
        untimed_minutes=untimed,
        supervised_minutes=supervised,
        total_treatment_minutes=total_treatment_minutes,
        refusals=tuple(refusals),
        notes=tuple(notes),
    )


def _overlaps(lines: Sequence[ServiceLine], catalogue: CodeCatalogue) -> list[Refusal]:
    """Refuse each line whose block overlaps an earlier line's, supervised modalities excepted."""
    refusals: list[Refusal] = []
    for j, later in enumerate(lines):
        later_info = catalogue.get(later.code)
        if later_info is None or later_info.may_overlap or not has_block(later):
            continue
        for i, earlier in enumerate(lines[:j]):
            info = catalogue.get(earlier.code)
            if info is None or info.may_overlap or not blocks_overlap(earlier, later):
                continue
            group = next(
                (x.code for x, k in ((earlier, info), (later, later_info)) if k.kind == "group"), None
            )
            mixed = group is not None and info.kind != later_info.kind
            why = (
                f"group therapy ({group}) and one-on-one time in the same period are not both billable"
                if mixed
                else "the same minutes cannot be counted twice"
            )
            refusals.append(
                Refusal(
                    rule_id="minutes.group_overlap" if mixed else "minutes.overlap",
                    field=f"service_lines.{j}.start",
                    problem=f"{later.code} {block_text(later)} overlaps {earlier.code} {block_text(earlier)} "
                    f"(service_lines.{i}): {why} (docs/rules.md#time-integrity)",
                    code=group if mixed else None,
                )
            )
            break
    return refusals


def _group_notes(
    lines: Sequence[ServiceLine], catalogue: CodeCatalogue, date_of_service: date | None
) -> list[Note]:
    """Remark group and one-on-one time on one date when the times cannot show them apart."""
    group = [line for line in lines if (info := catalogue.get(line.code)) and info.kind == "group"]
    one_on_one = [line for line in lines if (info := catalogue.get(line.code)) and info.timed]
    if not group or not one_on_one:
        return []
    if all(has_block(line) for line in (*group, *one_on_one)):
        return []  # blocks are known; an overlap would have been refused
    codes = ", ".join(sorted({line.code for line in one_on_one}))
    group_codes = ", ".join(sorted({line.code for line in group}))
    return [
        Note(
            rule_id="minutes.group_and_one_on_one",
            severity="warning",
            message=f"group therapy {group_codes} and one-on-one {codes} on the same date without start/end "
            "times: "
            "the record does not show they were in separate periods; group and one-on-one minutes of the "
            "same period are not both billable",
            source="docs/rules.md#timed-codes, docs/rules.md#time-integrity",
            date_of_service=date_of_service,
            code=group_codes,
        )
    ]


__all__ = [
    "MinuteLedger",
    "Note",
    "Refusal",
    "Severity",
    "audit_minutes",
    "block_seconds",
    "block_text",
    "blocks_overlap",
    "has_block",
]
