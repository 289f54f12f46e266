"""Verification that goes on from the head this process verified (projections/store/verified.py).

`Store.require_intact` remembers what it verified of each episode and, on the next
check, compares every stored row up to that head with what was verified (by
fingerprints PostgreSQL computes itself, or this process for SQLite) and walks
only the events after it. Each test here verifies an episode first, so the store
remembers it, then edits the database behind its back, as someone with write
access could, and checks that the very next check in the same process refuses the
episode with the break a whole walk names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.errors import Tampered
from projections.store.anchor import ENV_ANCHOR_DIR
from projections.store.root import Store, parse_location
from tests import builders as b
from tests.conftest import FixedClock
from tests.tamper import RawStore


@pytest.fixture
def store(db_url: str, clock: FixedClock) -> Iterator[Store]:
    opened = Store(parse_location(db_url), clock=clock)
    yield opened
    opened.close()


def episode_with_visits(store: Store, clock: FixedClock, visits: int = 6) -> UUID:
    episode_id = store.app.handle(b.open_episode(start_date="2026-06-01")).episode_id
    for n in range(visits):
        record_visit(store, clock, episode_id, n)
    return episode_id


def record_visit(store: Store, clock: FixedClock, episode_id: UUID, day: int, minutes: int = 45) -> None:
    clock.now += timedelta(seconds=1)
    on = str(date(2026, 6, 1) + timedelta(days=day))
    store.app.handle(b.visit(episode_id, date_of_service=on, total_treatment_minutes=minutes))


def verified_once(store: Store, episode_id: UUID, version: int) -> None:
    """Verify the episode, so that the store remembers its head, and check it did."""
    assert store.require_intact([episode_id]) == {episode_id: version}
    walks = store.verified.walks
    assert store.require_intact([episode_id]) == {episode_id: version}
    assert store.verified.walks == walks, "the second check went on from the remembered head"


def verified_episode(store: Store, db_url: str, clock: FixedClock) -> tuple[UUID, RawStore]:
    """An episode of 7 versions the store verified and remembers, and raw access to its rows."""
    episode_id = episode_with_visits(store, clock)
    verified_once(store, episode_id, 7)
    return episode_id, RawStore(db_url)


def refused(store: Store, episode_id: UUID) -> tuple[int, str]:
    with pytest.raises(Tampered) as caught:
        store.require_intact([episode_id])
    assert caught.value.episode_id == episode_id
    return caught.value.version, caught.value.kind


def test_checks_after_the_first_walk_only_what_was_appended(store: Store, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock)
    other = episode_with_visits(store, clock, visits=2)
    assert store.require_intact([episode_id, other]) == {episode_id: 7, other: 3}
    assert store.verified.walks == 2
    for day in range(6, 9):
        record_visit(store, clock, episode_id, day)
        # The stored rows' fingerprints (computed by PostgreSQL itself, or here on SQLite) match the
        # ones this process computed, so no check needs the whole walk again.
        assert store.require_intact([episode_id]) == {episode_id: 7 + day - 5}
    assert store.verified.walks == 2
    assert store.require_intact([UUID(int=7)]) == {UUID(int=7): 0}  # nothing stored: nothing remembered


def test_an_old_event_changed_after_it_was_verified_is_refused(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id, raw = verified_episode(store, db_url, clock)
    topic, state = raw.event(episode_id, 2)
    assert b'"total_treatment_minutes":45' in state
    # The same length, so only the bytes' digest can tell.
    raw.set_event(
        episode_id, 2, topic, state.replace(b'"total_treatment_minutes":45', b'"total_treatment_minutes":95')
    )
    assert refused(store, episode_id) == (2, "changed")


def test_two_old_events_swapped_after_they_were_verified_are_refused(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id, raw = verified_episode(store, db_url, clock)
    raw.swap(episode_id, 3, 4)
    assert refused(store, episode_id) == (3, "reordered")


def test_an_old_link_edited_after_it_was_verified_is_refused(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id, raw = verified_episode(store, db_url, clock)
    raw.run(
        f"UPDATE {raw.chain} SET chain_hash=? WHERE originator_id=? AND originator_version=?",
        bytes(32),
        raw.key(episode_id),
        4,
    )
    assert refused(store, episode_id) == (4, "link")


def test_an_old_event_deleted_with_its_link_after_it_was_verified_is_refused(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id, raw = verified_episode(store, db_url, clock)
    raw.delete(raw.events, episode_id, 5)
    raw.delete(raw.chain, episode_id, 5)
    assert refused(store, episode_id) == (5, "missing")


def test_an_event_written_past_the_verified_head_outside_careledger_is_refused(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id, raw = verified_episode(store, db_url, clock)
    raw.insert_event(episode_id, 8, *raw.event(episode_id, 7))
    assert refused(store, episode_id) == (8, "unchained")


def test_an_edit_under_a_later_write_is_refused(store: Store, db_url: str, clock: FixedClock) -> None:
    """An edit made before a careledger write is caught too: the new link follows, the old row does not."""
    episode_id, raw = verified_episode(store, db_url, clock)
    topic, state = raw.event(episode_id, 6)
    raw.set_event(
        episode_id, 6, topic, state.replace(b'"total_treatment_minutes":45', b'"total_treatment_minutes":55')
    )
    record_visit(store, clock, episode_id, 9)
    assert refused(store, episode_id) == (6, "changed")


def test_the_newest_event_deleted_with_its_link_after_it_was_verified_is_caught_by_the_anchor_log(
    db_url: str, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ANCHOR_DIR, str(tmp_path / "anchors"))
    with Store(parse_location(db_url), clock=clock) as store:
        episode_id, raw = verified_episode(store, db_url, clock)
        raw.delete(raw.events, episode_id, 7)
        raw.delete(raw.chain, episode_id, 7)
        assert refused(store, episode_id) == (7, "truncated")
