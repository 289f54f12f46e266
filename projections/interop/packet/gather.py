"""What an audit packet shows, gathered from the engines and views careledger already has.

Nothing here re-derives a rule: units and modifiers come from the billing engine
(`domain.billing.bill`), findings from the documentation checks (the findings read
model, or `domain.findings` on the episode as it stood), the clocks from
`projections.views.continuity` and `domain.clocks.periods`, scores and dosages from the
outcome and progression views, integrity from the hash-chain verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.clocks.coverage import judge
from domain.clocks.periods import ReportClock
from projections.interop.fhir.export import episode_bill, load_episode
from projections.store.verify import ChainReport, snapshot_checker, verify_chains
from projections.views.context import ViewContext
from projections.views.continuity import Continuity, evaluate
from projections.views.outcomes import outcome_rows
from projections.views.progression import progression_rows

if TYPE_CHECKING:
    from domain.billing.bill import EpisodeBill
    from domain.episode.aggregate import Episode
    from projections.store.root import Store


@dataclass(frozen=True)
class PacketData:
    """Everything the packet's sections render."""

    episode: Episode
    as_of: datetime | None
    current_version: int
    generated_at: datetime
    bill: EpisodeBill
    findings: dict[str, Any]
    findings_scope: str
    medicare_rules: bool
    continuity: Continuity
    reports: ReportClock
    outcomes: list[dict[str, Any]]
    exercises: list[dict[str, Any]]
    chain: ChainReport


def _findings(store: Store, episode: Episode, as_of: datetime | None) -> tuple[dict[str, Any], str]:
    if as_of is None:
        from projections.views.findings_query import FindingsReader

        reader = FindingsReader(store)
        try:
            reader.refresh()
            answer = reader.episode(episode.id)
        finally:
            reader.close()
        return answer, (
            "the current record, with copied notes by the same "
            "authors and KX across the beneficiary's episodes"
        )
    from domain.findings import CheckContext, check_episode, counts

    found = check_episode(episode, CheckContext.default(payer_dirs=store.app.payer_dirs))
    scope = (
        "the record as it stood; other episodes (copied notes by the same author, the beneficiary's other "
        "episodes for KX) are not included, as in careledger audit --as-of"
    )
    return {"counts": counts(found), "findings": [f.as_dict() for f in found]}, scope


def gather(
    store: Store,
    episode_id: UUID,
    as_of: datetime | None = None,
    now: datetime | None = None,
    findings: bool = True,
) -> PacketData:
    """Collect what the packet or the review of one episode shows (as it stands, or stood at `as_of`).

    The payer packet shows no finding (`findings=False`): they are the clinic's own review.
    """
    app = store.app
    store.require_intact([episode_id])  # a packet never shows a record that fails verification
    episode = load_episode(app, episode_id, as_of)
    context = ViewContext.from_payer_profiles(app.payer_dirs)
    coverage = judge(episode, context.medicare_clocks(episode.payer.payer_id), context.rules)
    answer, scope = _findings(store, episode, as_of) if findings else ({"counts": {}, "findings": []}, "")
    recorder: Any = app.recorder  # the chained recorder of projections/chain.py
    anchors = {k: v for k, v in store.anchors().items() if k == episode_id}
    chain = verify_chains(recorder, [episode_id], anchors or None, snapshot_checker(app))
    return PacketData(
        episode=episode,
        as_of=as_of,
        current_version=app.last_version(episode_id),
        generated_at=now or datetime.now(UTC),
        bill=episode_bill(app, episode, as_of),
        findings=answer,
        findings_scope=scope,
        medicare_rules=coverage.medicare,
        continuity=evaluate(episode, coverage.medicare, context.rules, coverage),
        reports=coverage.reports,
        outcomes=outcome_rows(episode)["pv_outcomes"],
        exercises=progression_rows(episode)["pv_exercise"],
        chain=chain,
    )
