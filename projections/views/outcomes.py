"""The outcome trajectory view: each instrument's scores, change from baseline, MCID reached.

Pure: an episode in, `pv_outcomes` rows out, one per score, ordered by the date
it was taken. The baseline is the instrument's first score by date; each later
score is compared with it in the instrument's better direction against its
minimal clinically important difference (docs/rules.md#outcome-instruments, domain/outcomes.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.progression.outcomes import at_risk, change_from_baseline
from domain.records import Outcome
from domain.rules.catalogue import instrument_catalogue

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode

Row = dict[str, Any]


def outcome_rows(episode: Episode) -> dict[str, list[Row]]:
    """Return the episode's `pv_outcomes` rows."""
    episode_id = str(episode.id)
    catalogue = instrument_catalogue()
    by_instrument: dict[str, list[Outcome]] = {}
    for outcome in sorted(episode.outcomes, key=lambda o: (o.taken_on, o.event_version)):
        by_instrument.setdefault(outcome.instrument, []).append(outcome)
    rows: list[Row] = []
    for name, scores in by_instrument.items():
        instrument = catalogue.get(name)
        baseline = scores[0].score
        for seq, outcome in enumerate(scores):
            row: Row = {
                "episode_id": episode_id,
                "instrument": name,
                "seq": seq,
                "taken_on": outcome.taken_on,
                "score": outcome.score,
                "change": None,
                "improvement": None,
                "percent": None,
                "reaches_mcid": None,
                "verdict": "baseline" if seq == 0 else "unknown_instrument",
                "at_risk": None,
                "note": outcome.note or None,
                "event_version": outcome.event_version,
                "recorded_at": outcome.recorded_at,
                "recorded_by": outcome.recorded_by,
            }
            if instrument is not None:
                change = change_from_baseline(instrument, baseline, outcome.score, first=seq == 0)
                row.update(
                    change=None if seq == 0 else change.change,
                    improvement=None if seq == 0 else change.improvement,
                    percent=change.percent if seq else None,
                    reaches_mcid=change.reaches_mcid,
                    verdict=change.verdict,
                    at_risk=at_risk(instrument, outcome.score),
                )
            rows.append(row)
    return {"pv_outcomes": rows}
