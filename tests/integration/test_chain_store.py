"""The hash chain on real stores (SQLite file and PostgreSQL): written with the events, tamper detected.

Each tamper test edits the database directly, as someone with write access to it
could, and checks that `verify` names the episode, the version and what happened.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import orjson
import pytest

from domain.episode import commands as c
from domain.episode.application import Episodes
from domain.errors import ConcurrencyConflict, StoreUnavailable, Tampered
from projections.store.chain import AdoptRefused
from projections.store.root import Store, parse_location
from projections.store.verify import ChainReport, Head, snapshot_checker, verify_chains
from tests import builders as b
from tests.conftest import FixedClock
from tests.tamper import RawStore


@pytest.fixture
def store(db_url: str, clock: FixedClock) -> Iterator[Store]:
    opened = Store(parse_location(db_url), clock=clock)
    yield opened
    opened.close()


def verify(store: Store, anchors: dict[Any, Head] | None = None) -> ChainReport:
    recorder: Any = store.app.recorder
    return verify_chains(recorder, None, anchors, snapshot_checker(store.app))


def episode_with_visits(store: Store, clock: FixedClock, visits: int = 6) -> UUID:
    """Open an episode and record visits on consecutive days, one second apart."""
    episode_id = store.app.handle(b.open_episode(start_date="2026-06-01")).episode_id
    for n in range(visits):
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(episode_id, date_of_service=str(date(2026, 6, 1) + timedelta(days=n))))
    return episode_id


def the_break(report: ChainReport) -> tuple[UUID, int, str]:
    assert not report.intact
    (problem,) = report.breaks
    return problem.episode_id, problem.version, problem.kind


def test_an_untouched_store_verifies_clean(store: Store, clock: FixedClock) -> None:
    first = episode_with_visits(store, clock)
    second = episode_with_visits(store, clock, visits=3)
    store.app.handle(b.command(c.VoidVisit, first, date_of_service="2026-06-02", reason="entered in error"))
    report = verify(store)
    assert report.intact and (report.episodes, report.events) == (2, 12)
    assert {(h.episode_id, h.version) for h in report.heads} == {(first, 8), (second, 4)}


def test_a_changed_event_is_detected_at_its_version(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    topic, state = raw.event(episode_id, 4)
    raw.set_event(episode_id, 4, topic, state.replace(b'"minutes":33', b'"minutes":38'))
    assert the_break(verify(store)) == (episode_id, 4, "changed")


def test_a_deleted_event_is_detected_at_its_version(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock)
    RawStore(db_url).delete(RawStore(db_url).events, episode_id, 3)
    assert the_break(verify(store)) == (episode_id, 3, "missing_event")


def test_an_event_deleted_with_its_link_is_detected(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    raw.delete(raw.events, episode_id, 3)
    raw.delete(raw.chain, episode_id, 3)
    assert the_break(verify(store)) == (episode_id, 3, "missing")


def test_two_swapped_events_are_detected_as_reordered(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock)
    RawStore(db_url).swap(episode_id, 3, 5)
    assert the_break(verify(store)) == (episode_id, 3, "reordered")


def test_an_event_written_outside_careledger_is_detected(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    topic, state = raw.event(episode_id, 7)
    raw.insert_event(episode_id, 8, topic, state.replace(b"2026-06-06", b"2026-06-07"))
    assert the_break(verify(store)) == (episode_id, 8, "unchained")


def test_an_edited_snapshot_is_detected(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock, visits=52)
    raw = RawStore(db_url)
    version, state = raw.snapshot(episode_id)
    document = orjson.loads(state)
    note = orjson.loads(document["state"]["visits"]["2026-06-01"])  # each note is kept as its JSON text
    note["total_treatment_minutes"] = 60
    document["state"]["visits"]["2026-06-01"] = orjson.dumps(note).decode()
    raw.set_snapshot(episode_id, version, orjson.dumps(document))
    assert (
        store.app.get_episode(episode_id, version=50).visits[date(2026, 6, 1)].total_treatment_minutes == 60
    )
    assert the_break(verify(store)) == (episode_id, 50, "snapshot")


def test_a_snapshot_written_before_the_opener_was_kept_still_verifies_and_an_edited_opener_does_not(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock, visits=52)
    raw = RawStore(db_url)
    version, state = raw.snapshot(episode_id)
    document = orjson.loads(state)
    assert document["state"]["opened_by"] == store.app.get_episode(episode_id, version=1).opened_by
    older = {**document, "state": {k: v for k, v in document["state"].items() if k != "opened_by"}}
    raw.set_snapshot(episode_id, version, orjson.dumps(older))
    assert verify(store).intact
    assert store.app.get_episode(episode_id, version=50).opened_by is None  # what that snapshot knew
    edited = {**document, "state": {**document["state"], "opened_by": "someone-else"}}
    raw.set_snapshot(episode_id, version, orjson.dumps(edited))
    assert the_break(verify(store)) == (episode_id, 50, "snapshot")


def test_a_rewritten_chain_is_caught_only_by_an_anchored_head(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    heads = {h.episode_id: h for h in verify(store).heads}
    raw = RawStore(db_url)
    # Rewrite the last event and relink it, as someone who can write both tables would.
    raw.delete(raw.events, episode_id, 7)
    raw.delete(raw.chain, episode_id, 7)
    clock.now += timedelta(seconds=1)
    store.app.handle(b.visit(episode_id, date_of_service="2026-06-06", total_treatment_minutes=90))
    assert verify(store).intact
    assert the_break(verify(store, heads)) == (episode_id, 7, "rewritten")


def test_a_truncated_episode_is_caught_by_an_anchored_head(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    heads = {h.episode_id: h for h in verify(store).heads}
    raw = RawStore(db_url)
    raw.delete(raw.events, episode_id, 7)
    raw.delete(raw.chain, episode_id, 7)
    assert verify(store).intact
    assert the_break(verify(store, heads)) == (episode_id, 7, "truncated")


def test_a_write_after_a_deleted_link_is_refused_and_stores_nothing(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    raw.delete(raw.chain, episode_id, 7)
    events = raw.count(raw.events)
    with pytest.raises(StoreUnavailable, match="no chain link for version 7"):
        store.app.handle(b.visit(episode_id, date_of_service="2026-06-20"))
    assert raw.count(raw.events) == events
    assert raw.count(raw.chain) == events - 1


def old_store_without_chain(db_url: str, clock: FixedClock) -> UUID:
    """Write an episode with a careledger from before the chain (no chain table); return its id."""
    location = parse_location(db_url)
    if location.schema:
        RawStore(db_url).run(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
    settings = {k: v for k, v in location.es_env.items() if k != "APPLICATION_RECORDER_TOPIC"}
    unchained = Episodes(env=settings, clock=clock)
    episode_id = unchained.handle(b.open_episode()).episode_id
    clock.now += timedelta(seconds=1)
    unchained.handle(b.visit(episode_id))
    unchained.close()
    return episode_id


def test_a_store_written_before_the_chain_is_unchained_until_explicitly_adopted(
    db_url: str, clock: FixedClock
) -> None:
    episode_id = old_store_without_chain(db_url, clock)
    with Store(parse_location(db_url), clock=clock) as store:
        # Opening links nothing: the events are reported, and a write is refused.
        assert the_break(verify(store)) == (episode_id, 1, "unchained")
        assert not store.app.recorder.chain_table_present()  # type: ignore[attr-defined]
        with pytest.raises(StoreUnavailable, match="no hash-chain table"):
            store.app.handle(b.visit(episode_id, date_of_service="2026-09-03"))
        assert store.app.recorder.adopt_unchained() == 2  # type: ignore[attr-defined]
        assert verify(store).intact
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(episode_id, date_of_service="2026-09-03"))
        report = verify(store)
        assert report.intact and report.events == 3
        with pytest.raises(AdoptRefused):  # linked once, never again
            store.app.recorder.adopt_unchained()  # type: ignore[attr-defined]


def test_an_edited_event_is_not_laundered_by_dropping_the_chain_table(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    topic, state = raw.event(episode_id, 3)
    raw.set_event(
        episode_id, 3, topic, state.replace(b'"total_treatment_minutes":', b'"total_treatment_minutes":1')
    )
    raw.run(f"DROP TABLE {raw.chain}")
    store.close()
    with Store(parse_location(db_url), clock=clock) as reopened:  # the next open (verify's too)
        assert the_break(verify(reopened)) == (episode_id, 1, "unchained")
        with pytest.raises(Tampered, match=f"episode {episode_id} version 1: unchained"):
            reopened.require_intact([episode_id])


def test_a_shortened_chain_table_is_reported_and_refused(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    raw.delete(raw.chain, episode_id, 7)
    raw.delete(raw.chain, episode_id, 6)
    assert the_break(verify(store)) == (episode_id, 6, "unchained")
    with pytest.raises(Tampered, match="version 6: unchained"):
        store.require_intact([episode_id])


def test_concurrent_writers_keep_every_chain_intact(db_url: str, clock: FixedClock) -> None:
    stores = [Store(parse_location(db_url), clock=clock) for _ in range(2)]
    try:
        shared = stores[0].app.handle(b.open_episode(start_date="2026-01-05")).episode_id
        stored: list[int] = []
        errors: list[BaseException] = []

        def write(store: Store, offset: int) -> None:
            own = store.app.handle(b.open_episode(start_date="2026-01-05")).episode_id
            stored.append(1)
            for n in range(12):
                day = str(date(2026, 1, 5) + timedelta(days=2 * n + offset))
                for episode_id in (shared, own):
                    try:
                        store.app.handle(b.visit(episode_id, date_of_service=day))
                        stored.append(1)
                    except ConcurrencyConflict:
                        pass  # the other writer kept winning; nothing was stored, which is allowed
                    except BaseException as error:  # report in the main thread
                        errors.append(error)

        threads = [threading.Thread(target=write, args=(s, i)) for i, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        report = verify(stores[0])
        assert report.intact and (report.episodes, report.events) == (3, 1 + len(stored))
    finally:
        for store in stores:
            store.close()
