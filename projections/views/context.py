"""What the views need besides an episode: the clinic's payer profiles and the clock rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from domain.clocks.periods import MEDICARE, ClockRules
from domain.rules.catalogue import follows_medicare_clocks


@dataclass(frozen=True)
class ViewContext:
    """What the views need besides the episode: the clinic's payer profiles and the clock rules."""

    rules: ClockRules = MEDICARE
    payer_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_payer_profiles(cls, payer_dirs: Sequence[Path] = ()) -> ViewContext:
        """Return the context of the shipped payer profiles and a clinic's (in `payer_dirs`)."""
        return cls(payer_dirs=tuple(payer_dirs))

    def medicare_clocks(self, payer_id: str) -> bool:
        """Tell whether a payer follows Medicare's certification and progress-report clocks.

        (docs/rules.md#certification)
        """
        return follows_medicare_clocks(payer_id, self.payer_dirs)


__all__ = ["ViewContext"]
