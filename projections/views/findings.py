"""The findings read model: each episode's documentation findings, and what the cross-episode checks need.

Pure, like every view (decision 0004): an episode in, rows out.

- `pv_findings`: one row per finding the episode's own record produces
  (`domain.findings.analyse`: every rule but copied notes; KX as if the
  beneficiary had no other episode), in their order.
- `pv_check_visits`: one row per visit with what the checks that read other
  episodes need: its note's compared texts (word sets and quotes, for copied
  notes by the same author, docs/rules.md#cloned-notes) and its billing facts (allowed amount,
  necessity, written modifiers, for KX across the beneficiary's episodes, docs/rules.md#modifiers).

The queries (`projections.views.findings_query`) read both tables and add copied notes
and KX with the same pure functions the engine uses, so `careledger check` gives
what `domain.findings.check_episode` gives with every other episode in the context.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.findings import CheckContext, analyse
from domain.rules.catalogue import rules_dir
from projections.views.schema import CHECK_VISITS, FINDINGS

if TYPE_CHECKING:
    from domain.clocks.coverage import Coverage
    from domain.episode.aggregate import Episode
    from domain.findings.engine import VisitMemo
    from projections.views.context import ViewContext

Row = dict[str, Any]


def check_context(view: ViewContext) -> CheckContext:
    """Return the checks' context for the views' context (same payer profiles, same rule tables)."""
    return _check_context(view, rules_dir())


@lru_cache(maxsize=8)
def _check_context(view: ViewContext, _folder: Path | None) -> CheckContext:
    return CheckContext.default(payer_dirs=view.payer_dirs, clock_rules=view.rules)


def findings_rows(
    episode: Episode, context: CheckContext, coverage: Coverage | None = None, memo: VisitMemo | None = None
) -> dict[str, list[Row]]:
    """Return the episode's `pv_findings` and `pv_check_visits` rows (given the clocks' `coverage`).

    `memo` keeps the episode's per-visit findings between calls (`domain.findings.engine.VisitMemo`).
    """
    analysis = analyse(episode, context, coverage, memo)
    episode_id = analysis.episode_id
    findings = [
        {
            "episode_id": episode_id,
            "seq": seq,
            "rule_id": f.rule_id,
            "severity": f.severity,
            "date_of_service": f.date_of_service,
            "clinical_date": f.on,
            "subject": f.subject,
            "message": f.message,
            "quote": f.quote,
            "fix": f.fix,
            "source": f.source,
            "evidence": [e.as_dict() for e in f.evidence],
        }
        for seq, f in enumerate(analysis.findings)
    ]
    kx = analysis.kx
    visits = [
        {
            "episode_id": episode_id,
            "date_of_service": note.date_of_service,
            "event_version": note.event_version,
            "recorded_at": note.recorded_at,
            "provider_id": note.provider_id,
            "patient_ref": kx.patient_ref,
            "payer_id": kx.payer_id,
            "discipline": kx.discipline,
            "allowed_amount": facts.allowed_amount,
            "amounts_complete": facts.complete,
            "necessity": facts.necessity,
            "kx": facts.as_dict(),
            "note": note.as_dict(),
        }
        for note, facts in zip(analysis.notes, kx.visits, strict=True)
    ]
    return {FINDINGS: findings, CHECK_VISITS: visits}


__all__ = ["CHECK_VISITS", "FINDINGS", "check_context", "findings_rows"]
