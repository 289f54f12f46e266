"""Reading the findings: one episode's findings, or the clinic-wide view, with the cross-episode checks.

Both answers first catch the findings and summary projections up to the end of
the log, then read `pv_findings` and `pv_check_visits` in one read transaction,
and add what needs other episodes with the engine's own functions
(`domain.findings.combine`'s parts): copied notes by the same author across
episodes (docs/rules.md#cloned-notes) and KX across the beneficiary's episodes (docs/rules.md#modifiers). The
JSON shapes are documented in docs/checks.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Connection, Row, select

from domain.billing.threshold import Accrual
from domain.errors import EpisodeNotFound
from domain.findings import (
    RULES,
    CheckContext,
    Evidence,
    Finding,
    NoteSignature,
    clone_findings,
    counts,
    find_copies,
    sort_findings,
)
from domain.findings.cloning import NoteText, band_values
from domain.findings.kx import RULE_IDS as KX_RULES
from domain.findings.kx import KxEpisode, KxVisit
from domain.findings.kx import check as kx_check
from projections.views.findings import CHECK_VISITS, FINDINGS, check_context
from projections.views.projector import Projector
from projections.views.queries import Reader
from projections.views.registry import PROJECTIONS, Derived
from projections.views.seal import check_recomputed

if TYPE_CHECKING:
    from projections.store.root import Store

Answer = dict[str, Any]
NEEDED = ("summary", "findings")


def _evidence(values: Iterable[dict[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(Evidence.from_dict(v) for v in values)


def _visit_evidence(pairs: Iterable[list[Any]], day: date) -> tuple[Evidence, ...]:
    """Read a visit's own evidence back: [version, what] pairs, all on its date of service."""
    return tuple(Evidence(version, what, day) for version, what in pairs)


def finding_of(row: Row[Any]) -> Finding:
    """Read a stored finding back."""
    return Finding(
        rule_id=row.rule_id,
        severity=row.severity,
        episode_id=row.episode_id,
        date_of_service=row.date_of_service,
        on=row.clinical_date,
        message=row.message,
        fix=row.fix,
        source=row.source,
        evidence=_evidence(row.evidence),
        subject=row.subject,
        quote=row.quote,
    )


Texts = dict[str, tuple[frozenset[str], tuple[int, ...]]]


def note_of(row: Row[Any], sets: Texts | None = None) -> NoteSignature:
    """Read a visit's compared texts back (docs/rules.md#cloned-notes); `sets` shares the word sets notes
    repeat.
    """
    shared: Texts = {} if sets is None else sets
    texts: list[NoteText] = []
    for name, text in row.note["texts"].items():
        key = text["words"]
        found = shared.get(key)
        if found is None:
            found = shared[key] = (frozenset(key.split(" ")), band_values(text["bands"]))
        texts.append(NoteText(name, found[0], text["quote"], found[1]))
    return NoteSignature(
        episode_id=row.episode_id,
        date_of_service=row.date_of_service,
        recorded_at=row.recorded_at,
        event_version=row.event_version,
        provider_id=row.provider_id,
        texts=tuple(texts),
        evidence=_visit_evidence(row.note["evidence"], row.date_of_service),
    )


def kx_visit_of(row: Row[Any]) -> KxVisit:
    """Read a visit's KX facts back (docs/rules.md#modifiers)."""
    facts = row.kx
    return KxVisit(
        date_of_service=row.date_of_service,
        allowed_amount=row.allowed_amount,
        complete=row.amounts_complete,
        necessity=row.necessity,
        billable=tuple(facts["billable"]),
        written_kx=tuple(facts["written_kx"]),
        written_without_kx=tuple(facts["written_without_kx"]),
        evidence=_visit_evidence(facts["evidence"], row.date_of_service),
    )


def kx_episodes(rows: Sequence[Row[Any]]) -> dict[str, KxEpisode]:
    """Group visit rows into each episode's KX facts."""
    grouped: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.episode_id].append(row)
    return {
        episode_id: KxEpisode(
            episode_id=episode_id,
            patient_ref=items[0].patient_ref,
            payer_id=items[0].payer_id,
            discipline=items[0].discipline,
            visits=tuple(kx_visit_of(r) for r in sorted(items, key=lambda r: r.date_of_service)),
        )
        for episode_id, items in grouped.items()
    }


def kx_findings(
    episodes: dict[str, KxEpisode], wanted: Iterable[str], context: CheckContext
) -> list[Finding]:
    """Check KX for the wanted episodes, counting the beneficiary's other episodes (same payer and group)."""
    family: dict[tuple[str, str], list[KxEpisode]] = defaultdict(list)
    for each in episodes.values():
        family[(each.patient_ref, each.payer_id)].append(each)
    found: list[Finding] = []
    for episode_id in wanted:
        episode = episodes.get(episode_id)
        if episode is None:
            continue
        rules = context.billing_for(episode.payer_id)
        group = rules.thresholds.group_of(episode.discipline)
        prior: list[Accrual] = []
        for other in family[(episode.patient_ref, episode.payer_id)]:
            if other.episode_id != episode_id and rules.thresholds.group_of(other.discipline) == group:
                prior.extend(other.accruals(group))
        found.extend(kx_check(episode, prior, rules))
    return found


class FindingsReader(Reader):
    """The queries of `careledger check` (over the findings and summary projections only)."""

    def __init__(self, store: Store, projector: Projector | None = None) -> None:
        chosen = [p for p in PROJECTIONS if p.name in NEEDED]
        super().__init__(store, projector or Projector(store, projections=chosen))
        self.context = check_context(self.projector.context)

    def episode(self, episode_id: UUID, since: date | None = None) -> Answer:
        """Return one episode's findings (copied notes and KX across episodes included), most severe first."""
        self.store.log_read("check", episode_id)
        summary = self.tables.summary
        findings = self.tables.named(FINDINGS)
        visits = self.tables.named(CHECK_VISITS)
        key = str(episode_id)
        with self._read() as conn:
            self.sealed(conn, [summary.name, findings.name, visits.name], [episode_id])
            head = conn.execute(select(summary).where(summary.c.episode_id == key)).first()
            if head is None:
                raise EpisodeNotFound(episode_id)
            self._recomputed(conn, episode_id, head.version)
            local = [
                finding_of(r)
                for r in conn.execute(
                    select(findings).where(findings.c.episode_id == key).order_by(findings.c.seq)
                )
            ]
            own = list(conn.execute(select(visits).where(visits.c.episode_id == key)))
            authors = sorted({r.provider_id for r in own})
            peers = (
                list(
                    conn.execute(
                        select(visits).where(visits.c.provider_id.in_(authors), visits.c.episode_id != key)
                    )
                )
                if authors
                else []
            )
            family = list(
                conn.execute(
                    select(visits).where(
                        visits.c.patient_ref == head.patient_ref,
                        visits.c.payer_id == head.payer,
                        visits.c.episode_id != key,
                    )
                )
            )
            others = sorted({UUID(r.episode_id) for r in (*peers, *family)})
            if others:  # their rows count too (copied notes, KX): they must be vouched for
                self.sealed(conn, [summary.name, visits.name], others)
        sets: Texts = {}
        notes = [note_of(r, sets) for r in (*own, *peers)]
        copied = clone_findings(notes, self.context.clone_percent, {key})
        if family:  # KX again, with the beneficiary's other episodes (stored: as if there were none)
            local = [f for f in local if f.rule_id not in KX_RULES]
            local += kx_findings(kx_episodes([*own, *family]), [key], self.context)
        result = [f for f in sort_findings((*local, *copied)) if since is None or f.on >= since]
        checked = [r for r in own if since is None or r.date_of_service >= since]
        return {
            "episode_id": key,
            "patient_ref": head.patient_ref,
            "discipline": head.discipline,
            "payer": head.payer,
            "status": head.status,
            "version": head.version,
            "since": since,
            "lexicon": self.context.words.version,
            "visits": len(checked),
            "counts": counts(result),
            "findings": [f.as_dict() for f in result],
        }

    def _recomputed(self, conn: Connection, episode_id: UUID, version: int) -> None:
        """Refuse (Tampered) when the stored findings rows differ from a fold of the verified events.

        The seals catch an edit that did not recompute them; this catches one that did:
        the billing gate never answers from rows the events do not produce.
        """
        episode = self.store.app.get_episode(episode_id, version=version)
        derived = Derived(episode, self.projector.context)
        for proj in self.projector.projections:
            for name, rows in proj.rows(derived).items():
                check_recomputed(conn, self.tables.named(name), str(episode_id), version, rows)

    def clinic(self, since: date | None = None, top: int = 10) -> Answer:
        """Return the clinic-wide view: per rule, the episodes and visits it hits; the most at risk."""
        self.store.log_read("check --all", None)
        summary = self.tables.summary
        findings = self.tables.named(FINDINGS)
        visits = self.tables.named(CHECK_VISITS)
        with self._read() as conn:
            self.sealed(conn, [summary.name, findings.name, visits.name], None)
            heads = {r.episode_id: r for r in conn.execute(select(summary))}
            query = select(
                findings.c.episode_id,
                findings.c.rule_id,
                findings.c.severity,
                findings.c.date_of_service,
                findings.c.clinical_date,
            )
            if since is not None:
                query = query.where(findings.c.clinical_date >= since)
            local = [(r.episode_id, r.rule_id, r.severity, r.date_of_service) for r in conn.execute(query)]
            rows = list(conn.execute(select(visits)))
        sets: Texts = {}
        notes = [note_of(r, sets) for r in rows]
        copied = find_copies(notes, self.context.clone_percent)
        hits = local + [
            (c.note.episode_id, "note.cloned", RULES["note.cloned"].severity, c.note.date_of_service)
            for c in copied
            if since is None or c.note.date_of_service >= since
        ]
        beneficiaries: dict[tuple[str, str], set[str]] = defaultdict(set)
        for row in rows:
            beneficiaries[(row.patient_ref, row.payer_id)].add(row.episode_id)
        shared = {e for episodes in beneficiaries.values() if len(episodes) > 1 for e in episodes}
        if shared:  # KX again where the beneficiary has other episodes (stored: as if there were none)
            hits = [hit for hit in hits if not (hit[0] in shared and hit[1] in KX_RULES)]
            family = [r for r in rows if r.episode_id in shared]
            hits += [
                (f.episode_id, f.rule_id, f.severity, f.date_of_service)
                for f in kx_findings(kx_episodes(family), sorted(shared), self.context)
                if since is None or f.on >= since
            ]
        checked_visits = sum(1 for r in rows if since is None or r.date_of_service >= since)
        return _clinic_answer(heads, hits, checked_visits, since, top, self.context.words.version)


def _clinic_answer(
    heads: dict[str, Row[Any]],
    hits: list[tuple[str, str, str, date | None]],
    checked_visits: int,
    since: date | None,
    top: int,
    lexicon: str,
) -> Answer:
    by_rule: dict[str, dict[str, Any]] = {}
    by_episode: dict[str, dict[str, Any]] = {}
    totals = dict.fromkeys(("error", "warning", "info"), 0)
    for episode_id, rule_id, severity, day in hits:
        totals[severity] += 1
        entry = by_rule.setdefault(rule_id, {"episodes": set(), "visits": set(), "findings": 0})
        entry["episodes"].add(episode_id)
        if day is not None:
            entry["visits"].add((episode_id, day))
        entry["findings"] += 1
        mine = by_episode.setdefault(
            episode_id, {"error": 0, "warning": 0, "info": 0, "rules": defaultdict(int)}
        )
        mine[severity] += 1
        mine["rules"][rule_id] += 1
    rules = [
        {
            "rule_id": rule_id,
            "severity": RULES[rule_id].severity,
            "source": RULES[rule_id].source,
            "title": RULES[rule_id].title,
            "episodes": len(entry["episodes"]),
            "visits": len(entry["visits"]),
            "findings": entry["findings"],
        }
        for rule_id, entry in by_rule.items()
    ]
    rank = {"error": 0, "warning": 1, "info": 2}
    rules.sort(key=lambda r: (rank[r["severity"]], -r["findings"], r["rule_id"]))
    ranked = sorted(
        by_episode.items(),
        key=lambda item: (-item[1]["error"], -item[1]["warning"], -item[1]["info"], item[0]),
    )
    at_risk = []
    for episode_id, mine in ranked[:top]:
        head = heads.get(episode_id)
        worst = sorted(mine["rules"].items(), key=lambda kv: (rank[RULES[kv[0]].severity], -kv[1], kv[0]))
        at_risk.append(
            {
                "episode_id": episode_id,
                "patient_ref": head.patient_ref if head is not None else None,
                "discipline": head.discipline if head is not None else None,
                "payer": head.payer if head is not None else None,
                "status": head.status if head is not None else None,
                "visits": head.visits if head is not None else None,
                "counts": {k: mine[k] for k in ("error", "warning", "info")},
                "top_rules": [rule_id for rule_id, _ in worst[:3]],
            }
        )
    return {
        "since": since,
        "lexicon": lexicon,
        "episodes": len(heads),
        "visits": checked_visits,
        "episodes_with_findings": len(by_episode),
        "episodes_with_errors": sum(1 for mine in by_episode.values() if mine["error"]),
        "counts": totals,
        "rules": rules,
        "at_risk": at_risk,
    }


__all__ = ["FindingsReader", "finding_of", "kx_episodes", "kx_findings", "note_of"]
