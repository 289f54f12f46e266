"""The findings read model: each episode's documentation findings, and what the cross-episode checks need.

Pure, like every view (decision 0004): an episode in, rows out.

- `pv_findings`: one row per finding the episode's own record produces
  (`domain.findings.analyse`: every rule but copied notes; KX as if the
  beneficiary had no other episode), in their order.
- `pv_check_visits`: one row per visit with what the checks that read other
  episodes need: its note's compared texts (word sets and quotes, for copied
  notes by the same author, rules.md §7.11) and its billing facts (allowed amount,
  necessity, written modifiers, for KX across the beneficiary's episodes, §5).

The queries (`projections.views.findings_query`) read both tables and add copied notes
and KX with the same pure functions the engine uses, so `careledger check` gives
what `domain.findings.check_episode` gives with every other episode in the context.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Column, Date, Index, Integer, MetaData, String, Table, Text

from domain.findings import CheckContext, analyse
from projections.views.schema import ExactDecimal, Moment, _json

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode
    from projections.views.registry import ViewContext

Row = dict[str, Any]
FINDINGS = "pv_findings"
CHECK_VISITS = "pv_check_visits"


def define_tables(md: MetaData) -> None:
    """Declare the findings tables in the read models' metadata."""
    Table(
        FINDINGS,
        md,
        Column("episode_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("rule_id", String(64), nullable=False),
        Column("severity", String(8), nullable=False),
        Column("date_of_service", Date),
        Column("clinical_date", Date, nullable=False),
        Column("subject", Text),
        Column("message", Text, nullable=False),
        Column("quote", Text),
        Column("fix", Text, nullable=False),
        Column("source", String(200), nullable=False),
        Column("evidence", _json(), nullable=False),
        Index("ix_pv_findings_rule", "rule_id"),
    )
    Table(
        CHECK_VISITS,
        md,
        Column("episode_id", String(36), primary_key=True),
        Column("date_of_service", Date, primary_key=True),
        Column("event_version", Integer, nullable=False),
        Column("recorded_at", Moment(), nullable=False),
        Column("provider_id", String(64), nullable=False),
        Column("patient_ref", String(64), nullable=False),
        Column("payer_id", String(64), nullable=False),
        Column("discipline", String(8), nullable=False),
        Column("allowed_amount", ExactDecimal(), nullable=False),
        Column("amounts_complete", Boolean, nullable=False),
        Column("necessity", String(16), nullable=False),
        Column("kx", _json(), nullable=False),
        Column("note", _json(), nullable=False),
        Index("ix_pv_check_visits_provider", "provider_id"),
        Index("ix_pv_check_visits_patient", "patient_ref"),
    )


@lru_cache(maxsize=8)
def check_context(view: ViewContext) -> CheckContext:
    """Return the checks' context for the views' context (same payers on Medicare's clocks, same rules)."""
    return CheckContext.default(
        payer_dirs=view.payer_dirs, medicare_payers=view.medicare_payers, clock_rules=view.rules
    )


def findings_rows(episode: Episode, context: CheckContext) -> dict[str, list[Row]]:
    """Return the episode's `pv_findings` and `pv_check_visits` rows."""
    analysis = analyse(episode, context)
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


__all__ = ["CHECK_VISITS", "FINDINGS", "check_context", "define_tables", "findings_rows"]
