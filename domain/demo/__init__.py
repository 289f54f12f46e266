"""A deterministic demo clinic, as commands with the times they were recorded.

`demo_clinic()` builds four episodes that differ in the ways that matter:

- a post-operative right knee (PT, Medicare) that progresses steadily, improves
  its LEFS past the clinically important change, has its progress report on
  time and some visits furnished by a PTA;
- a low-back episode (PT, Medicare) with the weaknesses a reviewer catches:
  copied notes, the same exercises at the same dosage visit after visit, missing
  patient responses, a flat ODI and a progress report written late;
- a left shoulder (OT, Medicare) with visits furnished by an OTA;
- a right ankle (PT, a commercial payer on the AMA per-code rule).

`synthetic_clinic(n)` draws n episodes from the same templates with a seeded
random generator, for benchmarks and load tests. Everything here is pure: the
same arguments give the same commands, ids and times.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from uuid import UUID

from domain.demo.ankle import ankle_episode
from domain.demo.back import back_episode
from domain.demo.knee import knee_episode
from domain.demo.script import Recorded, Script
from domain.demo.shoulder import shoulder_episode
from domain.episode import commands as c
from domain.episode.application import derived_episode_id

__all__ = ["Recorded", "ReplayClock", "demo_clinic", "demo_episode_ids", "synthetic_clinic"]


class ReplayClock:
    """A clock set to each recorded time in turn, so a replayed demo keeps its dates."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


Template = Callable[[random.Random, str, str, date], Script]
TEMPLATES: tuple[Template, ...] = (knee_episode, back_episode, shoulder_episode, ankle_episode)


def demo_clinic(seed: int = 20260302) -> list[Recorded]:
    """Return the demo clinic's commands in the order they were recorded."""
    rng = random.Random(seed)
    scripts = [
        knee_episode(rng, f"demo-{seed}/knee", "PT-1001", date(2026, 3, 2)),
        back_episode(rng, f"demo-{seed}/back", "PT-1002", date(2026, 3, 3)),
        shoulder_episode(rng, f"demo-{seed}/shoulder", "OT-2001", date(2026, 4, 6)),
        ankle_episode(rng, f"demo-{seed}/ankle", "PT-1003", date(2026, 5, 5)),
    ]
    return sorted((r for s in scripts for r in s.commands), key=lambda r: r.at)


def demo_episode_ids(seed: int = 20260302) -> dict[str, UUID]:
    """Return the demo's episode ids by name (knee, back, shoulder, ankle)."""
    ids: dict[str, UUID] = {}
    for recorded in demo_clinic(seed):
        command = recorded.command
        if isinstance(command, c.OpenEpisode):
            name = str(command.patient_ref)
            ids[{"PT-1001": "knee", "PT-1002": "back", "OT-2001": "shoulder", "PT-1003": "ankle"}[name]] = (
                derived_episode_id(command.command_id)
            )
    return ids


def synthetic_clinic(episodes: int, seed: int = 7) -> Iterator[Recorded]:
    """Yield the commands of `episodes` episodes drawn from the demo's templates.

    Episodes start on different days over two years before 2026-06-01 and are
    yielded one after another (each episode's commands in order).
    """
    rng = random.Random(seed)
    first = date(2024, 6, 3)
    for index in range(episodes):
        template = TEMPLATES[index % len(TEMPLATES)]
        start = first + timedelta(days=rng.randint(0, 640))
        patient = f"SYN-{seed}-{index:07d}"
        yield from template(rng, f"synthetic-{seed}/{index}", patient, start).commands
