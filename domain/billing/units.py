"""Billable units of one date of service under the payer's unit rule (docs/rules.md#timed-codes,
docs/rules.md#ama-midpoint-rule).

`compute_units(lines, rule)` is a pure function: service lines (or `(code,
minutes)` pairs) in, a frozen `UnitResult` out, with an explanation a biller can
read. Lines of the same code on one date are summed first; untimed codes bill one
unit per date and never add to the timed total (docs/rules.md#timed-codes).

- `cms` (CMS CPM ch.5 §20.2, docs/rules.md#eight-minute-rule): the day's timed minutes T give `units(T)`; each
  timed code gets its whole 15-minute units, and the leftover units go one each to
  the codes with the largest remaining minutes. Ties go to the code with more
  total minutes, then to the lower code (docs/rules.md#eight-minute-rule: deterministic).
- `ama` (docs/rules.md#ama-midpoint-rule): each timed code on its own, `units(m)`; no pooling.

The result does not depend on the order of the lines: codes are reported sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import ValidationError

from domain.errors import InvalidInput
from domain.rules.catalogue import CodeCatalogue, CodeKind, code_catalogue, unknown_code_message
from domain.values import Frozen, ServiceLine, UnitRule

UNIT_MINUTES = 15
MIN_BILLABLE = 8

RULE_NAMES: dict[str, str] = {
    "cms": "CMS 8-minute rule (CMS CPM ch.5 §20.2, docs/rules.md#eight-minute-rule)",
    "ama": "AMA/CPT per-code midpoint rule (docs/rules.md#ama-midpoint-rule)",
}
KIND_NAMES: dict[str, str] = {
    "evaluation": "an evaluation",
    "reevaluation": "a re-evaluation",
    "supervised": "a supervised modality",
    "group": "group therapy",
    "untimed": "a service-based code",
}

LineInput = ServiceLine | tuple[str, int]


def chart_units(minutes: int) -> int:
    """Return the units of `minutes` on the CMS CPM ch.5 §20.2 chart: 0 under 8, then (m + 7) // 15."""
    return 0 if minutes < MIN_BILLABLE else (minutes + 7) // UNIT_MINUTES


def long_code_units(minutes: int, unit_minutes: int) -> int:
    """Return the units of a code whose unit is not 15 minutes: a unit once past its midpoint."""
    return (minutes + (unit_minutes + 1) // 2 - 1) // unit_minutes


def chart_row(units: int) -> tuple[int, int]:
    """Return the minute range (inclusive) of a chart row of at least one unit."""
    return UNIT_MINUTES * units - 7, UNIT_MINUTES * units + 7


class CodeUnits(Frozen):
    """The units of one code on one date, and why."""

    code: str
    kind: CodeKind
    minutes: int
    lines: int
    timed: bool
    units: int
    whole_units: int | None
    remainder: int | None
    leftover: bool
    explanation: tuple[str, ...]


class UnitResult(Frozen):
    """The units a date of service supports under one rule, per code, with the reasons."""

    rule: UnitRule
    total_timed_minutes: int
    timed_units: int
    total_units: int
    lines: tuple[CodeUnits, ...]
    explanation: tuple[str, ...]

    def units_of(self, code: str) -> int:
        """Return the units of `code` (0 if the date has no such code)."""
        return next((line.units for line in self.lines if line.code == code), 0)

    def as_json(self) -> dict[str, object]:
        """Return the result as JSON-ready values (the `careledger units --json` shape)."""
        return {
            "rule": self.rule,
            "total_timed_minutes": self.total_timed_minutes,
            "timed_units": self.timed_units,
            "total_units": self.total_units,
            "lines": [
                line.model_dump(mode="json", exclude={"explanation", "lines", "leftover"})
                for line in self.lines
            ],
            "explanation": list(self.explanation),
        }


def parse_line(text: str, catalogue: CodeCatalogue | None = None) -> ServiceLine:
    """Read one service line written as CODE=MINUTES (97110=33), or CODE=MINUTES/ASSISTANT with the
    minutes a PTA or OTA furnished alone (97110=38/3), validated as a note's line is.

    The code and the minutes are checked by `ServiceLine` itself (a 5-character
    code, whole minutes of one day) and the code against the catalogue; a problem
    is one line naming the text given.
    """
    code, sep, rest = text.partition("=")
    if not sep:
        raise InvalidInput(text, "give CODE=MINUTES, e.g. 97110=33 (or 97110=38/3 with assistant minutes)")
    minutes, slash, assistant = rest.partition("/")
    if not minutes.strip().isdigit():
        raise InvalidInput(text, f"minutes '{minutes}' are not a whole number")
    if slash and not assistant.strip().isdigit():
        raise InvalidInput(text, f"assistant minutes '{assistant}' are not a whole number")
    assistant_minutes = int(assistant) if slash else 0
    if assistant_minutes > int(minutes):
        raise InvalidInput(
            text, f"assistant minutes {assistant_minutes} are more than the {int(minutes)} minutes"
        )
    try:
        line = ServiceLine.model_validate(
            {"code": code, "minutes": int(minutes), "assistant_minutes": assistant_minutes}
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        if field == "code":
            problem = f"'{code.strip()}' is not a CPT/HCPCS code (5 letters or digits, e.g. 97110)"
        else:
            problem = f"{int(minutes)} minutes is more than a day"
        raise InvalidInput(text, problem) from None
    catalogue = catalogue or code_catalogue()
    if catalogue.get(line.code) is None:
        raise InvalidInput(text, unknown_code_message(line.code, catalogue.codes))
    return line


def _pairs(lines: Iterable[LineInput], catalogue: CodeCatalogue) -> dict[str, tuple[int, int]]:
    """Sum minutes per code (code -> (minutes, number of lines)); refuse unknown codes."""
    summed: dict[str, tuple[int, int]] = {}
    for index, line in enumerate(lines):
        code, minutes = (line.code, line.minutes) if isinstance(line, ServiceLine) else line
        code = code.strip().upper()
        if catalogue.get(code) is None:
            raise InvalidInput(f"lines.{index}.code", unknown_code_message(code, catalogue.codes))
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise InvalidInput(f"lines.{index}.minutes", f"{minutes!r} is not a whole number of minutes")
        before, count = summed.get(code, (0, 0))
        summed[code] = (before + minutes, count + 1)
    return summed


def _s(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _joined(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def compute_units(
    lines: Iterable[LineInput], rule: UnitRule, catalogue: CodeCatalogue | None = None
) -> UnitResult:
    """Compute the units of one date's service lines under `rule` (cms or ama), with reasons."""
    if rule not in RULE_NAMES:
        raise InvalidInput("rule", f"'{rule}' is not a unit rule (cms or ama)")
    catalogue = catalogue or code_catalogue()
    summed = _pairs(lines, catalogue)
    timed = {code: m for code, (m, _) in summed.items() if catalogue.codes[code].pooled}
    long_units = {code: m for code, (m, _) in summed.items() if catalogue.codes[code].timed}
    long_units = {code: m for code, m in long_units.items() if code not in timed}
    total_timed = sum(timed.values())
    explanation: list[str] = [f"{RULE_NAMES[rule]}."]
    per_code: dict[str, list[str]] = {code: [] for code in summed}
    for code, (minutes, count) in sorted(summed.items()):
        if count > 1:
            per_code[code].append(
                f"{code} is on {count} lines of this date: counted once, as {minutes} minutes."
            )
    if rule == "cms":
        units, leftover = _cms(timed, explanation, per_code)
    else:
        units, leftover = _ama(timed, explanation, per_code)
    for code in sorted(long_units):
        size = catalogue.codes[code].unit_minutes
        units[code] = long_code_units(long_units[code], size)
        per_code[code].append(
            f"{code} is timed in units of {size} minutes, not 15: its {long_units[code]} minutes give "
            f"{_s(units[code], 'unit')} (a unit once past its midpoint, {size // 2} minutes); they do not "
            "join the day's 15-minute pool (docs/rules.md#timed-codes)."
        )
    for code in sorted(summed):
        info = catalogue.codes[code]
        if not info.timed:
            units[code] = 1
            per_code[code].append(
                f"{code} is {KIND_NAMES[info.kind]}, untimed: 1 unit for the date however long it took; "
                f"its {summed[code][0]} minutes do not count toward the timed minutes "
                "(docs/rules.md#timed-codes)."
            )
    results = tuple(
        CodeUnits(
            code=code,
            kind=catalogue.codes[code].kind,
            minutes=minutes,
            lines=count,
            timed=code in timed or code in long_units,
            units=units[code],
            whole_units=minutes // catalogue.codes[code].unit_minutes
            if code in timed or code in long_units
            else None,
            remainder=minutes % catalogue.codes[code].unit_minutes
            if code in timed or code in long_units
            else None,
            leftover=code in leftover,
            explanation=tuple(per_code[code]),
        )
        for code, (minutes, count) in sorted(summed.items())
    )
    timed_units = sum(r.units for r in results if r.timed)
    for result in results:
        explanation.extend(result.explanation)
    billed = [f"{r.code} × {r.units}" for r in results if r.units]
    explanation.append(
        f"Units: {_joined(billed)} ({timed_units} timed, {len(results) - len(timed)} untimed)."
        if billed
        else "Units: none billable on this date."
    )
    return UnitResult(
        rule=rule,
        total_timed_minutes=total_timed,
        timed_units=timed_units,
        total_units=sum(r.units for r in results),
        lines=results,
        explanation=tuple(explanation),
    )


def _cms(
    timed: dict[str, int], explanation: list[str], per_code: dict[str, list[str]]
) -> tuple[dict[str, int], set[str]]:
    """Allocate the day's chart units: whole units first, leftovers by largest remainder."""
    if not timed:
        explanation.append("No timed codes on this date: no timed units.")
        return {}, set()
    total = sum(timed.values())
    day_units = chart_units(total)
    parts = " + ".join(f"{code} {m}" for code, m in sorted(timed.items()))
    explanation.append(f"Timed minutes of the date: {total} ({parts}); untimed codes are left out.")
    if day_units == 0:
        explanation.append(
            f"{total} minutes is under 8: no timed unit can be billed (docs/rules.md#eight-minute-rule)."
        )
        for code in sorted(timed):
            per_code[code].append(f"{code}: 0 units, the day's timed minutes are under 8.")
        return dict.fromkeys(timed, 0), set()
    low, high = chart_row(day_units)
    explanation.append(f"{total} minutes is in the chart row {low}-{high} minutes: {_s(day_units, 'unit')}.")
    whole = {code: m // UNIT_MINUTES for code, m in timed.items()}
    rest = {code: m % UNIT_MINUTES for code, m in timed.items()}
    for code in sorted(timed):
        used = f" ({whole[code] * UNIT_MINUTES} minutes)" if whole[code] else ""
        per_code[code].append(
            f"{code}: {timed[code]} minutes = {_s(whole[code], 'whole unit')}{used} + {rest[code]} remaining."
        )
    leftover = day_units - sum(whole.values())
    ranking = sorted(timed, key=lambda code: (-rest[code], -timed[code], code))
    winners = set(ranking[:leftover])
    if leftover == 0:
        explanation.append(
            f"The whole units ({sum(whole.values())}) make the day's {day_units}: no leftover."
        )
    else:
        ranked = ", ".join(f"{code} {rest[code]}" for code in ranking if rest[code])
        explanation.append(
            f"Whole units: {sum(whole.values())} of {day_units}; {_s(leftover, 'leftover unit')} "
            f"{'goes' if leftover == 1 else 'go'} to the codes with the most remaining minutes "
            f"(docs/rules.md#eight-minute-rule): {ranked}."
        )
        _explain_ties(ranking, rest, timed, leftover, explanation)
    for place, code in enumerate(ranking, start=1):
        if code in winners:
            beaten = [f"{c} {rest[c]}" for c in ranking[leftover:] if rest[c]]
            versus = f" (ahead of {', '.join(beaten)})" if beaten else ""
            per_code[code].append(
                f"{code} gets a leftover unit: its {rest[code]} remaining minutes rank "
                f"{_ordinal(place)}{versus}."
            )
        elif whole[code] == 0:
            reason = (
                "it has no remaining minutes"
                if rest[code] == 0
                else f"its {rest[code]} minutes ranked {_ordinal(place)}, and only "
                f"{_s(leftover, 'leftover unit')} {'was' if leftover == 1 else 'were'} left"
            )
            per_code[code].append(
                f"{code} gets 0 units: under 15 minutes and {reason} (docs/rules.md#eight-minute-rule)."
            )
    units = {code: whole[code] + (1 if code in winners else 0) for code in timed}
    return units, winners


def _explain_ties(
    ranking: list[str], rest: dict[str, int], timed: dict[str, int], leftover: int, explanation: list[str]
) -> None:
    """Say how a tie at the cut between winners and losers was broken."""
    cut = rest[ranking[leftover - 1]]
    if leftover >= len(ranking) or rest[ranking[leftover]] != cut:
        return
    tied = [code for code in ranking if rest[code] == cut]
    won = [code for code in tied if code in ranking[:leftover]]
    explanation.append(
        f"{_joined(tied)} tie at {cut} remaining minutes. CMS lets a tie go either way; careledger gives "
        f"it to more total minutes, then the lower code (docs/rules.md#eight-minute-rule): {_joined(won)} "
        f"({', '.join(f'{c} {timed[c]} min' for c in tied)})."
    )


def _ama(
    timed: dict[str, int], explanation: list[str], per_code: dict[str, list[str]]
) -> tuple[dict[str, int], set[str]]:
    """Give each timed code its own units by the midpoint rule, without pooling."""
    if not timed:
        explanation.append("No timed codes on this date: no timed units.")
        return {}, set()
    total = sum(timed.values())
    explanation.append(
        f"Timed minutes of the date: {total}; each timed code counts on its own, minutes are not pooled."
    )
    units: dict[str, int] = {}
    extra: set[str] = set()
    for code in sorted(timed):
        minutes = timed[code]
        whole, rest = divmod(minutes, UNIT_MINUTES)
        units[code] = chart_units(minutes)
        verdict: Literal["passes", "does not pass"] = "passes" if rest >= MIN_BILLABLE else "does not pass"
        if rest >= MIN_BILLABLE:
            extra.add(code)
        per_code[code].append(
            f"{code}: {minutes} minutes = {_s(whole, 'whole unit')} + {rest} remaining, which {verdict} "
            f"the 8-minute midpoint: {_s(units[code], 'unit')}."
        )
    return units, extra


__all__ = ["CodeUnits", "LineInput", "UnitResult", "chart_row", "chart_units", "compute_units", "parse_line"]
