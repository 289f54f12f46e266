"""Helpers for read-model tests: load the synthetic clinic, and dump the tables to compare them."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from domain.demo import Recorded, ReplayClock, synthetic_clinic
from domain.episode.application import derived_episode_id
from projections.store.root import Store
from projections.views.projector import Projector

Dump = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def episode_key(recorded: Recorded) -> Any:
    """The episode a recorded command belongs to."""
    command = recorded.command
    return getattr(command, "episode_id", None) or derived_episode_id(command.command_id)


def interleaved(episodes: int, seed: int, rng: random.Random) -> list[Recorded]:
    """The synthetic clinic's commands, episodes interleaved at random, each episode in order."""
    by_episode: dict[Any, list[Recorded]] = {}
    for recorded in synthetic_clinic(episodes, seed=seed):
        by_episode.setdefault(episode_key(recorded), []).append(recorded)
    queues = [list(reversed(q)) for q in by_episode.values()]
    out: list[Recorded] = []
    while queues:
        queue = rng.choice(queues)
        out.append(queue.pop())
        if not queue:
            queues.remove(queue)
    return out


def import_batch(store: Store, clock: ReplayClock, batch: list[Recorded]) -> None:
    """Import recorded commands as one batch at the latest of their times; every one must be applied."""
    clock.now = max(r.at for r in batch)
    results = store.app.importer()([r.command for r in batch])
    refused = [r for r in results if not getattr(r, "applied", False)]
    assert not refused, refused[:3]


def apply(store: Store, clock: ReplayClock, commands: list[Recorded]) -> None:
    """Apply recorded commands one by one at their recorded times; every one must be accepted."""
    for recorded in commands:
        clock.now = recorded.at
        result = store.app.handle(recorded.command)
        assert result.applied, recorded.command


def dump(projector: Projector) -> Dump:
    """Every row of every read-model table (tracking positions included), keyed by primary key."""
    out: Dump = {}
    with projector.engine.connect() as conn:
        for table in projector.tables.metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns]
            rows = {}
            for row in conn.execute(select(table)):
                values = dict(row._mapping)
                rows[tuple(values[k] for k in key)] = values
            out[table.name] = rows
    return out
