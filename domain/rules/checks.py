"""The documentation rules careledger checks: each rule's stable id, severity, source and meaning.

The ids are a contract: scripts filter on them, so a rule is never renamed; a
new rule gets a new id. Severity: `error` = the claim will be denied as billed;
`warning` = at risk in review; `info` = worth fixing, not a denial reason alone.
docs/checks.md lists every rule (a test keeps it in step with this table).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.evidence import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """One documentation rule: id, severity, the rules.md section and its primary source."""

    rule_id: str
    severity: Severity
    section: str
    source: str
    title: str


_BPM = "BPM15 §220.3"
_APTA = "APTA Defensible Documentation"

_RULES: tuple[Rule, ...] = (
    # §7.1 medical necessity
    Rule("necessity.missing", "error", "7.1", f"rules.md §7.1; {_BPM}", "no medical-necessity statement"),
    Rule(
        "necessity.vague",
        "warning",
        "7.1",
        f"rules.md §7.1; {_BPM}",
        "necessity not tied to the diagnosis and a functional limitation",
    ),
    # §7.2 exercises
    Rule("exercise.generic", "warning", "7.2", f"rules.md §7.2; {_APTA}", "exercise not named specifically"),
    Rule("exercise.dosage_missing", "warning", "7.2", f"rules.md §7.2; {_APTA}", "exercise without dosage"),
    # §7.3 time
    Rule("time.missing", "error", "7.3", f"rules.md §7.3, §6; {_BPM}", "no minutes"),
    Rule(
        "time.timed_exceeds_total",
        "error",
        "7.3",
        f"rules.md §7.3, §4; {_BPM}",
        "timed minutes above total treatment minutes",
    ),
    Rule(
        "time.units_exceed_minutes",
        "error",
        "7.3",
        "rules.md §7.3, §2-§3; CPM5 §20.2",
        "units billed that the minutes do not support",
    ),
    Rule(
        "time.units_misallocated",
        "warning",
        "7.3",
        "rules.md §7.3, §2 (rule 4); CPM5 §20.2",
        "units on the wrong code",
    ),
    # §7.4 one-on-one
    Rule(
        "one_on_one.not_shown",
        "error",
        "7.4",
        "rules.md §7.4, §1; CPM5 §20.2",
        "supervision-only or group language on a one-on-one code",
    ),
    Rule(
        "one_on_one.group_overlap",
        "warning",
        "7.4",
        "rules.md §7.4, §1, §4",
        "group and one-on-one time not shown apart",
    ),
    Rule("one_on_one.unstated", "info", "7.4", "rules.md §7.4", "direct contact not stated"),
    # §7.5 skilled intervention
    Rule("skilled.missing", "error", "7.5", "rules.md §7.5; BPM15 §220.2", "no skilled intervention"),
    Rule(
        "skilled.vague", "warning", "7.5", "rules.md §7.5; BPM15 §220.2", "intervention not shown as skilled"
    ),
    # §7.6 patient response
    Rule("response.missing", "warning", "7.6", f"rules.md §7.6; {_APTA}", "no patient response"),
    Rule("response.vague", "info", "7.6", f"rules.md §7.6; {_APTA}", "stock response without detail"),
    # §7.7 progression
    Rule("progression.plateau", "warning", "7.7", "rules.md §7.7", "same exercise, same dosage, no reason"),
    Rule("progression.outcome_flat", "warning", "7.7", "rules.md §7.7, §8", "outcome below its MCID"),
    # §7.8 coding
    Rule("coding.mismatch", "warning", "7.8", "rules.md §7.8", "documented service fits another code"),
    # §7.9 double counting
    Rule(
        "minutes.double_counted",
        "error",
        "7.9",
        "rules.md §7.9, §4; NCCI ch. XI",
        "the same minutes under two codes",
    ),
    # §7.10 modifiers
    Rule("modifier.missing_discipline", "error", "7.10", "rules.md §7.10, §5", "GP/GO/GN missing"),
    Rule("modifier.assistant_missing", "error", "7.10", "rules.md §7.10, §5", "CQ/CO missing"),
    Rule("modifier.assistant_unsupported", "warning", "7.10", "rules.md §7.10, §5", "CQ/CO not supported"),
    Rule(
        "modifier.distinct_without_blocks",
        "error",
        "7.10",
        "rules.md §7.10, §5; NCCI ch. XI",
        "59/X without distinct time blocks",
    ),
    Rule(
        "modifier.distinct_unneeded",
        "warning",
        "7.10",
        "rules.md §7.10, §5; NCCI ch. XI",
        "59/X where no NCCI edit applies",
    ),
    Rule("modifier.kx_missing", "error", "7.10", "rules.md §7.10, §5", "threshold crossed without KX"),
    Rule(
        "modifier.kx_without_necessity",
        "error",
        "7.10",
        f"rules.md §7.10, §5; {_BPM}",
        "KX without a necessity statement",
    ),
    # §7.11 cloned notes
    Rule("note.cloned", "warning", "7.11", "rules.md §7.11", "note copied from another visit"),
    # §7.12 narrative
    Rule("narrative.absent", "warning", "7.12", "rules.md §7.12", "the code stands in for a description"),
    # §6 plan of care, certification and progress reports
    Rule("clock.no_plan", "error", "6", "rules.md §6; BPM15 §220.1", "visit before any plan of care"),
    Rule(
        "clock.past_plan_duration",
        "error",
        "6",
        "rules.md §6; BPM15 §220.1",
        "visit past the plan's duration",
    ),
    Rule(
        "clock.plan_not_recertified",
        "warning",
        "6",
        "rules.md §6; BPM15 §220.1",
        "plan in force newer than its certification",
    ),
    Rule("clock.certification_pending", "warning", "6", "rules.md §6; BPM15 §220.1", "no certification yet"),
    Rule("clock.certification_late", "error", "6", "rules.md §6; BPM15 §220.1", "certification signed late"),
    Rule(
        "clock.verbal_order_unsigned",
        "error",
        "6",
        "rules.md §6; BPM15 §220.1",
        "verbal order not signed within 14 days",
    ),
    Rule(
        "clock.certification_expired",
        "error",
        "6",
        "rules.md §6; BPM15 §220.1",
        "visit after the certified period ended",
    ),
    Rule(
        "clock.visit_outside_certification",
        "error",
        "6",
        "rules.md §6; BPM15 §220.1",
        "visit not covered by a valid certification",
    ),
    Rule(
        "clock.progress_report_overdue",
        "error",
        "6",
        f"rules.md §6; {_BPM}",
        "visit after a progress report was due",
    ),
)

RULES: dict[str, Rule] = {rule.rule_id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    """Return a rule by id (a KeyError names an id that is not in the table)."""
    return RULES[rule_id]


__all__ = ["RULES", "Rule", "rule"]
