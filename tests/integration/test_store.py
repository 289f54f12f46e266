"""The application on real stores: a SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.application import project_aggregate

from domain.episode import commands as c
from domain.episode.aggregate import Episode
from domain.episode.commands import parse_command
from domain.episode.importer import import_lines
from domain.episode.lazy import LazyVisits
from domain.records import SnapshotState
from projections.store.root import Store, open_store, parse_location
from tests import builders as b
from tests.conftest import FixedClock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
# The order in which the single-command examples make sense on one episode.
EXAMPLE_ORDER = [
    "open_episode",
    "establish_plan",
    "add_exercise",
    "record_outcome",
    "record_visit",
    "record_remittance",
    "record_late_entry",
    "correct_visit",
    "add_addendum",
    "void_visit",
    "certify_plan",
    "progress_exercise",
    "regress_exercise",
    "record_progress_report",
    "discontinue_exercise",
    "record_reevaluation",
    "hold_episode",
    "resume_episode",
    "discharge_episode",
]


@pytest.fixture
def store(db_url: str, clock: FixedClock) -> Iterator[Store]:
    opened = Store(parse_location(db_url), clock=clock)
    yield opened
    opened.close()


def stored_rows(store: Store) -> list[Any]:
    """Every stored event row, as the recorder returns them."""
    return list(store.app.recorder.select_notifications(1, 1_000_000))


def test_every_example_document_is_used_and_applies_in_order(store: Store) -> None:
    files = {p.stem for p in EXAMPLES.glob("*.json")}
    assert files == set(EXAMPLE_ORDER), "every example must be applied by this test"
    for name in EXAMPLE_ORDER:
        result = store.app.handle(parse_command((EXAMPLES / f"{name}.json").read_bytes()))
        assert result.applied, name
    episode = store.app.get_episode(result.episode_id)
    assert episode.status == "discharged"
    assert [type(e).__name__ for e in store.app.history(result.episode_id)][-1] == "Discharged"


def test_importing_the_example_episode_twice_changes_nothing(store: Store) -> None:
    lines = (EXAMPLES / "episode.jsonl").read_bytes().splitlines()
    first = list(import_lines(store.app, lines))
    assert all(o.result is not None and o.result.applied for o in first), [o.error for o in first]
    before = stored_rows(store)
    second = list(import_lines(store.app, lines))
    assert all(o.result is not None and not o.result.applied for o in second)
    assert stored_rows(store) == before
    episode_id = UUID(json.loads(lines[0])["episode_id"])
    assert len(store.app.get_episode(episode_id).visits) == 10


def test_a_snapshot_gives_the_same_episode_as_a_full_replay(store: Store, clock: FixedClock) -> None:
    episode_id = store.app.handle(b.open_episode(start_date="2026-01-05")).episode_id
    day = b.visit(episode_id).date_of_service.replace(year=2026, month=1, day=5)
    for n in range(60):
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(episode_id, date_of_service=str(day + timedelta(days=n))))
    assert store.app.snapshots is not None
    snapshots = list(store.app.snapshots.get(episode_id))
    assert [s.originator_version for s in snapshots] == [50]
    from_snapshot = store.app.get_episode(episode_id)
    replayed = project_aggregate(None, store.app.events.get(episode_id))
    assert from_snapshot.version == replayed.version == 61
    assert from_snapshot.state() == replayed.state()


def _sixty_visits(store: Store, clock: FixedClock) -> tuple[UUID, list[Any]]:
    episode_id = store.app.handle(b.open_episode(start_date="2026-01-05")).episode_id
    first = b.visit(episode_id).date_of_service.replace(year=2026, month=1, day=5)
    days = [first + timedelta(days=n) for n in range(60)]
    for day in days:
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(episode_id, date_of_service=str(day)))
    return episode_id, days


def test_a_snapshot_keeps_each_note_as_text_and_reads_it_when_asked(store: Store, clock: FixedClock) -> None:
    episode_id, days = _sixty_visits(store, clock)
    assert store.app.snapshots is not None
    (snapshot,) = store.app.snapshots.get(episode_id)
    assert len(snapshot.state.visits) == 49  # version 50: the opening and 49 visits
    assert all(isinstance(text, str) for text in snapshot.state.visits.values())
    loaded = store.app.get_episode(episode_id)
    assert isinstance(loaded.visits, LazyVisits)
    assert list(loaded.visits) == days  # the order a replay gives
    replayed = project_aggregate(None, store.app.events.get(episode_id))
    assert loaded.visits[days[3]] == replayed.visits[days[3]]
    # A snapshot taken of the loaded episode is the one a replay would take, read or unread.
    assert Episode.Snapshot.take(loaded).state == Episode.Snapshot.take(replayed).state


def test_a_note_changed_after_a_snapshot_load_is_stored_and_replays_alike(
    store: Store, clock: FixedClock
) -> None:
    episode_id, days = _sixty_visits(store, clock)
    clock.now += timedelta(seconds=1)
    changed = b.correction(
        episode_id, {"narrative": "Corrected after review."}, date_of_service=str(days[10])
    )
    assert store.app.handle(changed).applied
    clock.now += timedelta(seconds=1)
    voided = b.command(c.VoidVisit, episode_id, date_of_service=str(days[11]), reason="wrong patient")
    assert store.app.handle(voided).applied
    loaded = store.app.get_episode(episode_id)
    replayed = project_aggregate(None, store.app.events.get(episode_id))
    assert loaded.visits[days[10]].narrative == "Corrected after review."
    assert days[11] not in loaded.visits
    assert loaded.state() == replayed.state()


def test_a_snapshot_that_stored_visits_as_objects_still_loads(store: Store, clock: FixedClock) -> None:
    episode_id, _ = _sixty_visits(store, clock)
    episode = store.app.get_episode(episode_id)
    written_before = episode.state().model_dump(mode="json")  # visits as JSON objects
    state = SnapshotState.model_validate(written_before)
    assert state == Episode.Snapshot.take(episode).state
    assert state.model_dump() == SnapshotState.model_validate_json(orjson.dumps(written_before)).model_dump()


def test_the_episode_as_of_a_version_ignores_later_events(store: Store) -> None:
    episode_id = store.app.handle(b.open_episode()).episode_id
    store.app.handle(b.visit(episode_id, date_of_service="2026-09-02"))
    store.app.handle(b.visit(episode_id, date_of_service="2026-09-03"))
    assert list(store.app.get_episode(episode_id, version=2).visits) == [b.visit(episode_id).date_of_service]


def test_a_batch_survives_another_writer_changing_its_episode(db_url: str, clock: FixedClock) -> None:
    first = Store(parse_location(db_url), clock=clock)
    second = Store(parse_location(db_url), clock=clock)
    try:
        episode_id = first.app.handle(b.open_episode()).episode_id
        importer = first.app.importer()
        importer([b.visit(episode_id, date_of_service="2026-09-02")])  # caches the episode
        second.app.handle(b.visit(episode_id, date_of_service="2026-09-03"))  # makes the cache stale
        results = importer([b.visit(episode_id, date_of_service="2026-09-04")])
        assert results[0].applied  # type: ignore[union-attr]
        dates = sorted(str(d) for d in first.app.get_episode(episode_id).visits)
        assert dates == ["2026-09-02", "2026-09-03", "2026-09-04"]
    finally:
        first.close()
        second.close()


def test_history_gives_recorded_time_and_clinical_date(store: Store, clock: FixedClock) -> None:
    episode_id = store.app.handle(b.open_episode()).episode_id
    clock.now += timedelta(days=1)
    store.app.handle(b.visit(episode_id, date_of_service="2026-09-02"))
    opened, visited = store.app.history(episode_id)
    assert visited.timestamp - opened.timestamp == timedelta(days=1)
    assert str(visited.clinical_date()) == "2026-09-02"


def test_a_read_of_a_missing_sqlite_store_does_not_create_it(tmp_path: Path) -> None:
    from domain.errors import StoreUnavailable

    path = tmp_path / "typo.db"
    with pytest.raises(StoreUnavailable, match="no careledger store"):
        open_store(str(path), create=False)
    assert not path.exists()


def test_every_command_has_an_example_document() -> None:
    from domain.episode.commands import COMMANDS

    assert set(EXAMPLE_ORDER) == set(COMMANDS)
