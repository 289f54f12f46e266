"""The episode as of a recorded time is exactly the replay of the events recorded by then.

Random sequences of visits and amendments (corrections, addenda, voids, late
entries; docs/rules.md#amendments) are applied to a real SQLite store with snapshots, the
clock moving forward by random gaps. Then, for every event: the episode as of
its recorded time (and as of any moment before the next event) equals a replay
of exactly the events up to it; and what an as-of returned while the sequence
was being written is what it still returns at the end, so later amendments
never change an earlier as-of.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import project_aggregate
from hypothesis import given
from hypothesis import strategies as st

from domain.episode import commands as c
from domain.episode.aggregate import Episode
from domain.errors import InvalidInput
from domain.records import EpisodeState
from projections.store.root import Store, parse_location
from tests import builders as b
from tests.conftest import HEAVY, NOW, FixedClock

START = date(2026, 6, 1)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("visit"), st.integers(0, 120), st.integers(0, 20)),
        st.tuples(st.just("correct"), st.integers(0, 1000), st.integers(0, 20)),
        st.tuples(st.just("addendum"), st.integers(0, 1000), st.just(0)),
        st.tuples(st.just("void"), st.integers(0, 1000), st.just(0)),
        st.tuples(st.just("late"), st.integers(0, 120), st.integers(0, 20)),
    ),
    max_size=30,
)


def command_for(op: tuple[str, int, int], episode: Episode, episode_id: Any) -> c.Command | None:
    kind, number, extra = op
    if kind in ("visit", "late"):
        day = str(START + timedelta(days=number))
        if kind == "visit":
            return b.visit(episode_id, date_of_service=day, total_treatment_minutes=40 + extra)
        return b.late_entry(episode_id, date_of_service=day, total_treatment_minutes=40 + extra)
    if not episode.visits:
        return None
    visit = sorted(episode.visits.values(), key=lambda v: v.date_of_service)[number % len(episode.visits)]
    target = {"date_of_service": str(visit.date_of_service), "reason": f"{kind} {number}"}
    if kind == "correct":
        return b.command(
            c.CorrectVisit, episode_id, changes={"total_treatment_minutes": 41 + extra}, **target
        )
    if kind == "addendum":
        return b.command(c.AddAddendum, episode_id, text=f"added {number}", **target)
    return b.command(c.VoidVisit, episode_id, **target)


@pytest.mark.slow
@HEAVY
@given(
    prefix=st.integers(0, 55), ops=operations, gaps=st.lists(st.integers(1, 7200), min_size=100, max_size=100)
)
def test_the_episode_as_of_each_recorded_time_is_the_replay_of_the_events_recorded_by_then(
    prefix: int, ops: list[tuple[str, int, int]], gaps: list[int]
) -> None:
    directory = Path(tempfile.mkdtemp(prefix="careledger-asof-"))
    clock = FixedClock(NOW - timedelta(days=30))
    store = Store(parse_location(str(directory / "a.db")), clock=clock)
    try:
        app = store.app
        episode_id = app.handle(b.open_episode(start_date=str(START))).episode_id
        seen: list[tuple[datetime, EpisodeState]] = []  # as-of answers given while writing
        steps = [("visit", n, n % 7) for n in range(prefix)] + ops
        for index, op in enumerate(steps):
            clock.now += timedelta(seconds=gaps[index % len(gaps)])
            command = command_for(op, app.get_episode(episode_id), episode_id)
            if command is None:
                continue
            try:
                app.handle(command)
            except InvalidInput:
                continue  # refused (a date taken, a visit voided...): nothing stored
            seen.append((clock.now, app.episode_as_of(episode_id, clock.now).state()))

        events = app.history(episode_id)
        for position, event in enumerate(events):
            replayed = project_aggregate(None, events[: position + 1])
            assert replayed is not None
            assert app.episode_as_of(episode_id, event.timestamp).state() == replayed.state()
            if position + 1 < len(events):
                just_before_next = events[position + 1].timestamp - timedelta(microseconds=1)
                assert app.episode_as_of(episode_id, just_before_next).version == event.originator_version
        for moment, state in seen:
            assert app.episode_as_of(episode_id, moment).state() == state
    finally:
        store.close()
        shutil.rmtree(directory, ignore_errors=True)
