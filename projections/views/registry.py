"""The registry of read models: each a pure function from an episode to its rows.

The fold over an episode's events is the `Episode` aggregate's own event
application (see docs/decisions/0004-projections.md), so a view never sees an
event: it reads the episode's state, whose records carry their provenance
(event_version, recorded_at, recorded_by). Whatever the aggregate learns to
apply later (corrections, addenda) reaches every view without changing it.

A projection's `version` and a fingerprint of the rule tables it reads (`inputs`)
are part of its stored tracking row: change the rows a view produces (or its
tables) and bump the version, or change a table it reads (a clinic's lexicon,
thresholds, payer profiles...), and the next catch-up rebuilds that projection
from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from domain.clocks.coverage import Coverage, judge
from domain.rules.catalogue import RULE_TABLES, RuleTable
from projections.views.context import ViewContext
from projections.views.continuity import Continuity, evaluate
from projections.views.findings import check_context, findings_rows
from projections.views.outcomes import outcome_rows
from projections.views.progression import progression_rows
from projections.views.timeline import timeline_rows

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode
    from domain.findings.engine import VisitMemo

Row = dict[str, Any]


class Derived:
    """One episode and what several views derive from it, computed once."""

    def __init__(self, episode: Episode, context: ViewContext, memo: VisitMemo | None = None) -> None:
        self.episode = episode
        self.context = context
        self.memo = memo  # the episode's per-visit findings kept by the projector between pages

    @cached_property
    def coverage(self) -> Coverage:
        """The one judgement of the episode's clocks (for the continuity, summary and findings views)."""
        medicare = self.context.medicare_clocks(self.episode.payer.payer_id)
        return judge(self.episode, medicare, self.context.rules)

    @cached_property
    def continuity(self) -> Continuity:
        """The episode's continuity (shared by the continuity and summary views)."""
        return evaluate(self.episode, self.coverage.medicare, self.context.rules, self.coverage)


def _timeline(d: Derived) -> dict[str, list[Row]]:
    return timeline_rows(d.episode)


def _progression(d: Derived) -> dict[str, list[Row]]:
    return progression_rows(d.episode)


def _outcomes(d: Derived) -> dict[str, list[Row]]:
    return outcome_rows(d.episode)


def _continuity(d: Derived) -> dict[str, list[Row]]:
    return {"pv_continuity": d.continuity.visits, "pv_continuity_clock": [d.continuity.clock]}


def _findings(d: Derived) -> dict[str, list[Row]]:
    return findings_rows(d.episode, check_context(d.context), d.coverage, d.memo)


def _summary(d: Derived) -> dict[str, list[Row]]:
    episode = d.episode
    return {
        "pv_episode_summary": [
            {
                "episode_id": str(episode.id),
                "patient_ref": episode.patient_ref,
                "discipline": episode.discipline,
                "payer": episode.payer.payer_id,
                "status": episode.status,
                "start_date": episode.start_date,
                "visits": len(episode.visits),
                "last_visit": episode.last_visit_date,
                "version": episode.version,
                "opened_at": episode.created_on,
                "open_gaps": d.continuity.errors,
                "gap_warnings": d.continuity.warnings,
            }
        ]
    }


@dataclass(frozen=True)
class Projection:
    """A read model: its name, the version of its rows, its tables and its view function."""

    name: str
    version: int
    tables: tuple[str, ...]
    rows: Callable[[Derived], dict[str, list[Row]]] = field(repr=False)
    description: str = ""
    # The rule tables its rows depend on: a change to any of them rebuilds it (projector).
    inputs: tuple[RuleTable, ...] = ()


PROJECTIONS: tuple[Projection, ...] = (
    Projection("timeline", 4, ("pv_timeline",), _timeline, "every fact in clinical-date order"),
    Projection(
        "progression",
        1,
        ("pv_exercise",),
        _progression,
        "exercise dosage at each visit, changes, plateaus",
    ),
    Projection(
        "outcomes", 1, ("pv_outcomes",), _outcomes, "scores, change from baseline, MCID", ("instruments",)
    ),
    Projection(
        "continuity",
        2,
        ("pv_continuity", "pv_continuity_clock"),
        _continuity,
        "plan, certification, necessity and progress-report coverage of each visit",
        ("payers",),
    ),
    Projection(
        "summary", 1, ("pv_episode_summary",), _summary, "one line per episode, for episode list", ("payers",)
    ),
    Projection(
        "findings",
        2,
        ("pv_findings", "pv_check_visits"),
        _findings,
        "documentation findings of each visit and episode (docs/rules.md#plan-of-care, "
        "docs/rules.md#documentation), for careledger check",
        RULE_TABLES,
    ),
)


def projection(name: str) -> Projection:
    """Return a projection by name, or refuse an unknown one naming the known ones."""
    from domain.errors import InvalidInput

    for candidate in PROJECTIONS:
        if candidate.name == name:
            return candidate
    known = ", ".join(p.name for p in PROJECTIONS)
    raise InvalidInput("projection", f"'{name}' is unknown; known: {known}")
