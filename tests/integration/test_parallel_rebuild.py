"""A rebuild split over worker processes writes what one process writes (projections/views/parallel.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from domain.demo import ReplayClock, synthetic_clinic
from domain.errors import InvalidInput
from projections.store.root import Store, parse_location
from projections.views.parallel import (
    ENV_WORKERS,
    PARALLEL_MINIMUM,
    configured_workers,
    cores,
    plan_shares,
    rebuild,
)
from projections.views.projector import Projector
from projections.views.registry import PROJECTIONS
from tests.readmodels import dump, import_batch


@pytest.fixture
def clinic(db_url: str) -> Iterator[Store]:
    """A store of a synthetic clinic's 40 episodes (over 1,000 events, interleaved by date)."""
    recorded = list(synthetic_clinic(40, seed=11))
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(db_url), clock=clock)
    try:
        for start in range(0, len(recorded), 500):
            import_batch(store, clock, recorded[start : start + 500])
        yield store
    finally:
        store.close()


def rebuilt(store: Store, workers: int, names: tuple[str, ...] = ()) -> tuple[int, dict]:  # type: ignore[type-arg]
    # A small page: episodes span many pages, so every share replaces rows it wrote before.
    projector = Projector(store, page_size=50)
    try:
        return rebuild(projector, names, workers=workers), dump(projector)
    finally:
        projector.close()


def test_a_rebuild_split_over_processes_writes_the_rows_and_seals_one_process_writes(clinic: Store) -> None:
    count, alone = rebuilt(clinic, 1)
    assert count == (clinic.app.recorder.max_notification_id() or 0) > 1000
    for workers in (2, 3):
        split_count, split = rebuilt(clinic, workers)
        assert split_count == count
        assert split == alone  # every row of every table, the seals and the positions


@pytest.mark.slow
def test_a_split_rebuild_of_one_projection_keeps_the_others(clinic: Store) -> None:
    _, alone = rebuilt(clinic, 1)
    count, split = rebuilt(clinic, 2, ("findings",))
    assert count == clinic.app.recorder.max_notification_id()
    assert split == alone


def test_a_follower_that_applies_pages_during_a_split_rebuild_leaves_the_rows_one_process_builds(
    clinic: Store,
) -> None:
    """The workers derived ahead; another process moved the positions; the rebuild goes on from there."""
    _, alone = rebuilt(clinic, 1)
    projector = Projector(clinic, page_size=50)
    follower = Projector(clinic, page_size=50)
    moved: list[int] = []

    def follower_steps_in(position: int, target: int) -> None:
        if not moved:  # after the split rebuild's first page, the follower applies the next three
            moved.append(follower.catch_up(until=position + 150))

    try:
        count = rebuild(projector, workers=2, progress=follower_steps_in)
        assert moved and moved[0] > 0
        assert count + moved[0] == clinic.app.recorder.max_notification_id()
        assert dump(projector) == alone
    finally:
        projector.close()
        follower.close()


def test_the_worker_count_comes_from_the_caller_then_the_environment_then_the_cores(
    clinic: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    projector = Projector(clinic)
    try:
        monkeypatch.delenv(ENV_WORKERS, raising=False)
        assert plan_shares(projector, 3, 10) == 3  # asked for: at any size
        assert plan_shares(projector, None, 10) == 1  # by default a small log stays in one process
        assert plan_shares(projector, None, PARALLEL_MINIMUM) == cores()
        monkeypatch.setenv(ENV_WORKERS, "4")
        assert plan_shares(projector, None, 10) == 4 == configured_workers()
        assert plan_shares(projector, 2, 10) == 2
        assert (
            plan_shares(
                Projector(clinic, projections=[replace(PROJECTIONS[0], rows=lambda d: {})]), None, 10**6
            )
            == 1
        )
        for text, problem in (("many", "'many' is not a whole number"), ("0", "0 is not at least 1")):
            monkeypatch.setenv(ENV_WORKERS, text)
            with pytest.raises(InvalidInput, match=f"{ENV_WORKERS}: {problem}"):
                plan_shares(projector, None, 10)
    finally:
        projector.close()
