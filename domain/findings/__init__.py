"""Documentation checks: read the record the way a payer's reviewer does (docs/rules.md#plan-of-care,
docs/rules.md#documentation).

`check_episode(episode, CheckContext.default())` returns the episode's findings,
most severe first; each names its rule (`RULES`), the visit, the events that
prove it, the rule's source and a fix. See docs/checks.md.
"""

from __future__ import annotations

from domain.findings.cloning import NoteSignature, clone_findings, find_copies
from domain.findings.context import CheckContext
from domain.findings.engine import Analysis, analyse, check_episode, combine, with_other_episodes
from domain.findings.model import SEVERITIES, Evidence, Finding, Severity, counts, sort_findings
from domain.rules.checks import RULES, Rule, rule

__all__ = [
    "RULES",
    "SEVERITIES",
    "Analysis",
    "CheckContext",
    "Evidence",
    "Finding",
    "NoteSignature",
    "Rule",
    "Severity",
    "analyse",
    "check_episode",
    "clone_findings",
    "combine",
    "counts",
    "find_copies",
    "rule",
    "sort_findings",
    "with_other_episodes",
]
