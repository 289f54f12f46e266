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
    """One documentation rule: id, severity, its docs/rules.md anchor and its primary source."""

    rule_id: str
    severity: Severity
    anchor: str
    source: str
    title: str


_BPM = "CMS BPM ch.15 §220.3"
_APTA = "APTA Defensible Documentation"

_RULES: tuple[Rule, ...] = (
    # docs/rules.md#necessity medical necessity
    Rule(
        "necessity.missing",
        "error",
        "necessity",
        f"docs/rules.md#necessity; {_BPM}",
        "no medical-necessity statement",
    ),
    Rule(
        "necessity.vague",
        "warning",
        "necessity",
        f"docs/rules.md#necessity; {_BPM}",
        "necessity not tied to the diagnosis and a functional limitation",
    ),
    # docs/rules.md#exercises exercises
    Rule(
        "exercise.generic",
        "warning",
        "exercises",
        f"docs/rules.md#exercises; {_APTA}",
        "exercise not named specifically",
    ),
    Rule(
        "exercise.dosage_missing",
        "warning",
        "exercises",
        f"docs/rules.md#exercises; {_APTA}",
        "exercise without dosage",
    ),
    # docs/rules.md#time time
    Rule(
        "time.missing",
        "error",
        "time",
        f"docs/rules.md#time, docs/rules.md#plan-of-care; {_BPM}",
        "no minutes",
    ),
    Rule(
        "time.timed_exceeds_total",
        "error",
        "time",
        f"docs/rules.md#time, docs/rules.md#time-integrity; {_BPM}",
        "timed minutes above total treatment minutes",
    ),
    Rule(
        "time.units_exceed_minutes",
        "error",
        "time",
        "docs/rules.md#time, docs/rules.md#eight-minute-rule, docs/rules.md#ama-midpoint-rule; "
        "CMS CPM ch.5 §20.2",
        "units billed that the minutes do not support",
    ),
    Rule(
        "time.units_misallocated",
        "warning",
        "time",
        "docs/rules.md#time, docs/rules.md#eight-minute-rule (rule 4); CMS CPM ch.5 §20.2",
        "units on the wrong code",
    ),
    Rule(
        "time.units_above_mue",
        "warning",
        "mue",
        "docs/rules.md#mue; CMS NCCI medically unlikely edits",
        "units above the code's medically unlikely edit",
    ),
    Rule(
        "coding.add_on_without_primary",
        "error",
        "add-on-codes",
        "docs/rules.md#add-on-codes; CMS NCCI add-on code edits",
        "add-on code without its primary code",
    ),
    Rule(
        "coding.assistant_evaluation",
        "error",
        "cq-co",
        "docs/rules.md#cq-co; CMS BPM ch.15 §230.1, §220.3",
        "evaluation furnished by an assistant",
    ),
    # docs/rules.md#one-on-one one-on-one
    Rule(
        "one_on_one.not_shown",
        "error",
        "one-on-one",
        "docs/rules.md#one-on-one, docs/rules.md#timed-codes; CMS CPM ch.5 §20.2",
        "supervision-only or group language on a one-on-one code",
    ),
    Rule(
        "one_on_one.group_overlap",
        "warning",
        "one-on-one",
        "docs/rules.md#one-on-one, docs/rules.md#time-integrity; CMS CPM ch.5 §20.2; NCCI ch. XI",
        "group and one-on-one time not shown apart",
    ),
    Rule(
        "one_on_one.unstated",
        "info",
        "one-on-one",
        "docs/rules.md#one-on-one; CMS CPM ch.5 §20.2",
        "direct contact not stated",
    ),
    # docs/rules.md#skilled skilled intervention
    Rule(
        "skilled.missing",
        "error",
        "skilled",
        "docs/rules.md#skilled; CMS BPM ch.15 §220.2",
        "no skilled intervention",
    ),
    Rule(
        "skilled.vague",
        "warning",
        "skilled",
        "docs/rules.md#skilled; CMS BPM ch.15 §220.2",
        "intervention not shown as skilled",
    ),
    # docs/rules.md#response patient response
    Rule(
        "response.missing", "warning", "response", f"docs/rules.md#response; {_APTA}", "no patient response"
    ),
    Rule(
        "response.vague",
        "info",
        "response",
        f"docs/rules.md#response; {_APTA}",
        "stock response without detail",
    ),
    # docs/rules.md#progression progression
    Rule(
        "progression.plateau",
        "warning",
        "progression",
        "docs/rules.md#progression; CMS BPM ch.15 §220.2, §220.3 D",
        "same exercise, same dosage, no reason",
    ),
    Rule(
        "progression.outcome_flat",
        "warning",
        "progression",
        "docs/rules.md#progression, docs/rules.md#outcome-instruments; CMS BPM ch.15 §220.3",
        "outcome below its MCID",
    ),
    # docs/rules.md#coding coding
    Rule(
        "coding.mismatch",
        "warning",
        "coding",
        "docs/rules.md#coding; AMA CPT code descriptors",
        "documented service fits another code",
    ),
    # docs/rules.md#double-counting double counting
    Rule(
        "minutes.double_counted",
        "error",
        "double-counting",
        "docs/rules.md#double-counting, docs/rules.md#time-integrity; NCCI Policy Manual ch. XI",
        "the same minutes under two codes",
    ),
    # docs/rules.md#modifier-use modifiers
    Rule(
        "modifier.missing_discipline",
        "error",
        "modifier-use",
        "docs/rules.md#modifier-use, docs/rules.md#modifiers; CMS CPM ch.5 §20.1",
        "GP/GO/GN missing",
    ),
    Rule(
        "modifier.assistant_missing",
        "error",
        "modifier-use",
        "docs/rules.md#modifier-use, docs/rules.md#modifiers; CMS CPM ch.5 §20.1",
        "CQ/CO missing",
    ),
    Rule(
        "modifier.assistant_unsupported",
        "warning",
        "modifier-use",
        "docs/rules.md#modifier-use, docs/rules.md#modifiers; CMS CPM ch.5 §20.1",
        "CQ/CO not supported",
    ),
    Rule(
        "modifier.distinct_without_blocks",
        "error",
        "modifier-use",
        "docs/rules.md#modifier-use, docs/rules.md#modifiers; NCCI Policy Manual ch. XI",
        "59/X without distinct time blocks",
    ),
    Rule(
        "modifier.distinct_unneeded",
        "warning",
        "modifier-use",
        "docs/rules.md#modifier-use, docs/rules.md#modifiers; NCCI Policy Manual ch. XI",
        "59/X where no NCCI edit applies",
    ),
    Rule(
        "modifier.kx_missing",
        "error",
        "modifier-use",
        "docs/rules.md#modifier-use, docs/rules.md#modifiers; CMS CPM ch.5 §20.1",
        "threshold crossed without KX",
    ),
    Rule(
        "modifier.kx_without_necessity",
        "error",
        "modifier-use",
        f"docs/rules.md#modifier-use, docs/rules.md#modifiers; {_BPM}",
        "KX without a necessity statement",
    ),
    # docs/rules.md#cloned-notes cloned notes
    Rule(
        "note.cloned",
        "warning",
        "cloned-notes",
        "docs/rules.md#cloned-notes; CMS PIM ch.3 §3.3.2.1.1",
        "note copied from another visit",
    ),
    # docs/rules.md#narrative narrative
    Rule(
        "narrative.absent",
        "warning",
        "narrative",
        "docs/rules.md#narrative; CMS BPM ch.15 §220.3",
        "the code stands in for a description",
    ),
    # docs/rules.md#certification plan of care, certification and progress reports
    Rule(
        "clock.no_plan",
        "error",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "visit before any plan of care",
    ),
    Rule(
        "clock.past_plan_duration",
        "error",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "visit past the plan's duration",
    ),
    Rule(
        "clock.plan_not_recertified",
        "warning",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "plan in force newer than its certification",
    ),
    Rule(
        "clock.certification_pending",
        "warning",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "no certification yet",
    ),
    Rule(
        "clock.certification_late",
        "error",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "certification signed late",
    ),
    Rule(
        "clock.verbal_order_unsigned",
        "error",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "verbal order not signed within 14 days",
    ),
    Rule(
        "clock.certification_expired",
        "error",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "visit after the certified period ended",
    ),
    Rule(
        "clock.visit_outside_certification",
        "error",
        "plan-of-care",
        "docs/rules.md#plan-of-care; CMS BPM ch.15 §220.1",
        "visit not covered by a valid certification",
    ),
    Rule(
        "clock.progress_report_overdue",
        "error",
        "plan-of-care",
        f"docs/rules.md#plan-of-care; {_BPM}",
        "visit after a progress report was due",
    ),
)

RULES: dict[str, Rule] = {rule.rule_id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    """Return a rule by id (a KeyError names an id that is not in the table)."""
    return RULES[rule_id]


__all__ = ["RULES", "Rule", "rule"]
