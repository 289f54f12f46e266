"""What the views need besides an episode: the clinic's payer profiles and the clock rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from domain.clocks.periods import MEDICARE, ClockRules


@dataclass(frozen=True)
class ViewContext:
    """What the views need besides the episode: which payers follow Medicare's clocks."""

    medicare_payers: frozenset[str] = frozenset({"medicare"})
    rules: ClockRules = MEDICARE
    payer_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_payer_profiles(cls, payer_dirs: Sequence[Path] = ()) -> ViewContext:
        """Read which payers follow Medicare's rules: `medicare`, and profiles that say so."""
        from domain.rules.catalogue import payer_profiles

        payers = {"medicare"}
        for payer_id, profile in payer_profiles(tuple(payer_dirs)).items():
            flag = profile.medicare_therapy_rules
            if flag is True:
                payers.add(payer_id)
            elif flag is False:
                payers.discard(payer_id)
        return cls(medicare_payers=frozenset(payers), payer_dirs=tuple(payer_dirs))


__all__ = ["ViewContext"]
