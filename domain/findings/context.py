"""What the checks need besides the episode: rule tables, lexicon, thresholds, other episodes.

`CheckContext` is a plain value. The payer's billing rules (docs/rules.md#eight-minute-rule,
docs/rules.md#modifiers) and
whether it follows Medicare's clocks (docs/rules.md#certification) come from its payer profile; the
lexicon (docs/rules.md#documentation) from domain/data/lexicon.toml. Two fields carry what other
episodes contribute, so the checks stay a pure function: `peer_notes` (notes of
other episodes by the same authors, for copied notes, docs/rules.md#cloned-notes) and
`prior_accruals` (the beneficiary's other episodes' allowed amounts, for KX, docs/rules.md#modifiers).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.billing.bill import BillingRules, VisitBill, billing_rules
from domain.clocks.periods import MEDICARE, ClockRules
from domain.findings.lexicon import Words
from domain.progression.dosage import DEFAULT_PLATEAU_VISITS
from domain.rules.catalogue import follows_medicare_clocks, lexicon, rules_dir
from domain.values import PayerRef

if TYPE_CHECKING:
    from domain.billing.threshold import Accrual
    from domain.findings.cloning import NoteSignature

# docs/rules.md#cloned-notes: two texts are near-identical when their word sets overlap this much (Jaccard,
# percent).
CLONE_PERCENT = 80
# Texts with fewer distinct words than this are too short to tell copying from coincidence.
CLONE_MIN_WORDS = 5


def shipped_words() -> Words:
    """Return the lexicon in force (the clinic's rules folder's, else shipped), compiled."""
    return _words(rules_dir())


@lru_cache(maxsize=4)
def _words(_folder: Path | None) -> Words:
    return Words(lexicon())


@lru_cache(maxsize=64)
def _billing(
    payer_id: str, name: str | None, unit_rule: str | None, dirs: tuple[Path, ...], _folder: Path | None
) -> BillingRules:
    payer = PayerRef.model_validate({"payer_id": payer_id, "name": name, "unit_rule": unit_rule})
    return billing_rules(payer, dirs)


@dataclass(frozen=True)
class CheckContext:
    """The tables, thresholds and other episodes' facts the checks read."""

    words: Words
    clock_rules: ClockRules = MEDICARE
    plateau_visits: int = DEFAULT_PLATEAU_VISITS
    clone_percent: int = CLONE_PERCENT
    clone_min_words: int = CLONE_MIN_WORDS
    payer_dirs: tuple[Path, ...] = ()
    peer_notes: tuple[NoteSignature, ...] = ()
    prior_accruals: tuple[Accrual, ...] = ()
    # visits priced by the billing engine, by what the price depends on (see engine._priced)
    prices: dict[tuple[Any, ...], VisitBill] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def default(cls, payer_dirs: tuple[Path, ...] = (), **values: object) -> CheckContext:
        """Return the context of the shipped lexicon and rules (and a clinic's payer profiles)."""
        return cls(words=shipped_words(), payer_dirs=tuple(payer_dirs), **values)  # type: ignore[arg-type]

    def billing(self, payer: PayerRef) -> BillingRules:
        """Return the billing rules of a payer (its profile, codes, pairs, thresholds, fees)."""
        return _billing(payer.payer_id, payer.name, payer.unit_rule, self.payer_dirs, rules_dir())

    def billing_for(self, payer_id: str) -> BillingRules:
        """Return the billing rules of a payer known only by its id (its profile, or units only)."""
        return _billing(payer_id, None, None, self.payer_dirs, rules_dir())

    def medicare_clocks(self, payer: PayerRef) -> bool:
        """Tell whether a payer follows Medicare's certification and progress-report clocks.

        (docs/rules.md#certification)
        """
        return follows_medicare_clocks(payer.payer_id, self.payer_dirs)

    def with_others(
        self, peer_notes: tuple[NoteSignature, ...] = (), prior_accruals: tuple[Accrual, ...] = ()
    ) -> CheckContext:
        """Return this context with other episodes' notes and allowed amounts."""
        return replace(self, peer_notes=peer_notes, prior_accruals=prior_accruals, prices=self.prices)


__all__ = ["CLONE_MIN_WORDS", "CLONE_PERCENT", "CheckContext", "shipped_words"]
