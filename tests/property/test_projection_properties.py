"""The projections' promises, on real SQLite files, over random stores and random ways of catching up.

(a) Built incrementally, in random batches and pages, by one process or two, with
    episodes evicted from memory at random, the read models equal a rebuild.
(b) Delivering again notifications that are already tracked changes nothing.
(c) A crash between events (an exception in a view) leaves rows and tracking
    consistent (the rows are those of the tracked position), and the next
    catch-up completes.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.demo import ReplayClock
from projections.store.root import Store, parse_location
from projections.views.projector import Projector
from projections.views.registry import PROJECTIONS, Derived, Projection
from tests.conftest import HEAVY
from tests.readmodels import apply, dump, interleaved

stores = st.fixed_dictionaries(
    {
        "episodes": st.integers(1, 3),
        "seed": st.integers(0, 10_000),
        "shuffle": st.integers(0, 10_000),
    }
)


@contextmanager
def synthetic_store(episodes: int, seed: int, shuffle: int) -> Iterator[tuple[Store, ReplayClock, list]]:  # type: ignore[type-arg]
    directory = Path(tempfile.mkdtemp(prefix="careledger-proj-"))
    commands = interleaved(episodes, seed, random.Random(shuffle))
    clock = ReplayClock(commands[0].at)
    store = Store(parse_location(str(directory / "p.db")), clock=clock)
    try:
        yield store, clock, commands
    finally:
        store.close()
        shutil.rmtree(directory, ignore_errors=True)


def rebuilt(store: Store, until: int | None = None) -> dict:  # type: ignore[type-arg]
    """The tables a fresh projector builds from scratch (on the same store)."""
    fresh = Projector(store)
    try:
        fresh.rebuild(until=until)
        return dump(fresh)
    finally:
        fresh.close()


@pytest.mark.slow
@HEAVY
@given(shape=stores, data=st.data())
def test_built_in_random_batches_the_read_models_equal_a_rebuild(
    shape: dict[str, int], data: st.DataObject
) -> None:
    with synthetic_store(**shape) as (store, clock, commands):
        projectors = [
            Projector(store, page_size=data.draw(st.integers(1, 40)), cache_size=data.draw(st.integers(1, 3)))
            for _ in range(2)
        ]
        try:
            done = 0
            while done < len(commands):
                size = data.draw(st.integers(1, 25), label="batch")
                apply(store, clock, commands[done : done + size])
                done += size
                which = data.draw(st.integers(0, 1), label="process")
                head = projectors[which].log_position()
                projectors[which].catch_up(
                    until=data.draw(st.integers(max(0, head - 30), head), label="until")
                )
            projectors[0].catch_up()
            incremental = dump(projectors[0])
        finally:
            for projector in projectors:
                projector.close()
        assert incremental == rebuilt(store)


@pytest.mark.slow
@HEAVY
@given(shape=stores, data=st.data())
def test_delivering_tracked_notifications_again_changes_nothing(
    shape: dict[str, int], data: st.DataObject
) -> None:
    with synthetic_store(**shape) as (store, clock, commands):
        apply(store, clock, commands)
        log = list(store.app.recorder.select_notifications(0, 100_000, inclusive_of_start=False))
        projector = Projector(store, page_size=data.draw(st.integers(1, 50)))
        try:
            tracked = data.draw(st.integers(1, len(log)), label="tracked position")
            projector.catch_up(until=tracked)
            before = dump(projector)
            start = data.draw(st.integers(0, tracked - 1), label="redelivered from")
            end = data.draw(st.integers(start + 1, tracked), label="redelivered to")
            assert projector.apply_notifications(log[start:end]) == 0
            assert dump(projector) == before
            overlap = data.draw(st.integers(tracked, len(log)), label="overlapping delivery to")
            assert projector.apply_notifications(log[start:overlap]) == overlap - tracked
            assert {s.position for s in projector.status()} == {max(tracked, log[overlap - 1].id)}
            assert projector.catch_up() == len(log) - overlap
            assert dump(projector) == rebuilt(store)
        finally:
            projector.close()


class Crash(Exception):
    """The fault injected into a view."""


def failing(projection: Projection, after: int) -> Projection:
    """The projection, with a view that raises on its `after`-th call."""
    calls = {"n": 0}
    original = projection.rows

    def rows(derived: Derived) -> dict:  # type: ignore[type-arg]
        calls["n"] += 1
        if calls["n"] == after:
            raise Crash(f"injected into {projection.name}")
        return original(derived)

    return replace(projection, rows=rows)


def copy_of(store: Store, directory: Path) -> Store:
    """A consistent copy of a SQLite store (events and read models), through SQLite's backup API."""
    assert store.location.path is not None
    target = directory / "copy.db"
    with sqlite3.connect(store.location.path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return Store(parse_location(str(target)))


@pytest.mark.slow
@HEAVY
@given(shape=stores, data=st.data())
def test_a_crash_in_a_view_leaves_rows_and_tracking_consistent(
    shape: dict[str, int], data: st.DataObject
) -> None:
    with synthetic_store(**shape) as (store, clock, commands):
        apply(store, clock, commands)
        victim = data.draw(st.sampled_from(PROJECTIONS), label="projection")
        after = data.draw(st.integers(1, 2 * shape["episodes"]), label="crash on call")
        chosen = tuple(failing(p, after) if p is victim else p for p in PROJECTIONS)
        page = data.draw(st.integers(1, 40), label="page size")
        faulty = Projector(store, projections=chosen, page_size=page)
        try:
            with pytest.raises(Crash):
                faulty.catch_up()
            positions = {s.name: s.position for s in faulty.status()}
            assert len(set(positions.values())) == 1, positions
            position = next(iter(positions.values()))
            at_crash = dump(faulty)
            with tempfile.TemporaryDirectory() as other:
                copy = copy_of(store, Path(other))
                try:
                    assert at_crash == rebuilt(copy, until=position)
                finally:
                    copy.close()
            faulty.catch_up()  # the fault fired once; the same process goes on
            assert dump(faulty) == rebuilt(store)
        finally:
            faulty.close()


@pytest.mark.slow
@HEAVY
@given(shape=stores, data=st.data())
def test_followed_event_by_event_with_few_kept_episodes_the_read_models_equal_a_rebuild(
    shape: dict[str, int], data: st.DataObject
) -> None:
    """A follower that applies each event as it comes keeps episodes' per-visit findings
    (`VisitMemo`, for 1, 2 or 256 episodes: evicted ones are derived afresh) and derives
    only the visits an event changed; its rows equal a rebuild's."""
    with synthetic_store(**shape) as (store, clock, commands):
        projector = Projector(
            store,
            page_size=data.draw(st.integers(1, 5), label="page"),
            memo_size=data.draw(st.sampled_from([1, 2, 256]), label="kept episodes"),
        )
        try:
            for recorded in commands:
                apply(store, clock, [recorded])
                projector.catch_up()
            followed = dump(projector)
        finally:
            projector.close()
        assert followed == rebuilt(store)
