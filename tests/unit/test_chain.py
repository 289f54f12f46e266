"""The hash chain's arithmetic and how a broken chain is diagnosed (no database)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from projections.store.chain import GENESIS, ChainBroken, EventRow, Link, chain_link, event_digest, new_links
from projections.store.verify import Head, check_anchor, check_episode

EPISODE = UUID("94ecc961-05c8-5c2e-bcc4-24417756b239")
TOPIC = "domain.episode:Episode.VisitRecorded"


def stored(count: int, episode: UUID = EPISODE) -> list[StoredEvent]:
    return [
        StoredEvent(originator_id=episode, originator_version=v, topic=TOPIC, state=f'{{"n":{v}}}'.encode())
        for v in range(1, count + 1)
    ]


def chain(count: int) -> tuple[list[EventRow], list[Link]]:
    events = stored(count)
    links = [Link(v, d, h) for _, v, d, h in new_links(events, lambda _: {})]
    return [EventRow(e.originator_version, e.topic, e.state) for e in events], links


def test_each_link_hashes_the_previous_link_the_position_and_the_event() -> None:
    (_, version, digest, head), *_ = new_links(stored(1), lambda _: {})
    assert (version, digest) == (1, event_digest(TOPIC, b'{"n":1}'))
    assert head == chain_link(GENESIS, EPISODE, 1, digest)
    assert chain_link(GENESIS, EPISODE, 2, digest) != head
    assert chain_link(GENESIS, uuid4(), 1, digest) != head
    assert event_digest("domain.episode:Episode.VisitVoided", b'{"n":1}') != digest


def test_a_batch_continues_from_the_stored_link_before_it() -> None:
    _, links = chain(3)
    later = stored(5)[3:]
    continued = new_links(
        later, lambda wanted: {EPISODE: links[-1].chain_hash} if wanted == [(EPISODE, 3)] else {}
    )
    whole = new_links(stored(5), lambda _: {})
    assert continued == whole[3:]


def test_a_batch_without_the_link_it_continues_from_is_refused() -> None:
    with pytest.raises(ChainBroken, match="no chain link for version 3"):
        new_links(stored(5)[3:], lambda _: {})


def test_an_untouched_chain_has_no_break() -> None:
    events, links = chain(6)
    assert check_episode(EPISODE, events, links) is None


def test_changed_bytes_are_named_at_their_version() -> None:
    events, links = chain(6)
    events[3] = EventRow(4, TOPIC, b'{"n":40}')
    found = check_episode(EPISODE, events, links)
    assert found is not None and (found.version, found.kind) == (4, "changed")
    assert "VisitRecorded" in found.detail


def test_two_swapped_events_are_named_as_reordered() -> None:
    events, links = chain(6)
    events[1], events[2] = EventRow(2, TOPIC, events[2].state), EventRow(3, TOPIC, events[1].state)
    found = check_episode(EPISODE, events, links)
    assert found is not None and (found.version, found.kind) == (2, "reordered")
    assert "recorded as version 3" in found.detail


def test_a_deleted_event_a_deleted_link_and_both_are_told_apart() -> None:
    events, links = chain(6)
    missing_event = check_episode(EPISODE, events[:2] + events[3:], links)
    assert missing_event is not None and (missing_event.version, missing_event.kind) == (3, "missing_event")
    unchained = check_episode(EPISODE, events, links[:2] + links[3:])
    assert unchained is not None and (unchained.version, unchained.kind) == (3, "unchained")
    both = check_episode(EPISODE, events[:2] + events[3:], links[:2] + links[3:])
    assert both is not None and (both.version, both.kind) == (3, "missing")


def test_an_edited_link_is_named() -> None:
    events, links = chain(6)
    links[2] = Link(3, links[2].event_digest, bytes(32))
    found = check_episode(EPISODE, events, links)
    assert found is not None and (found.version, found.kind) == (3, "link")


def test_the_last_event_deleted_with_its_link_is_found_only_by_an_anchored_head() -> None:
    events, links = chain(6)
    assert check_episode(EPISODE, events[:5], links[:5]) is None
    anchored = Head(EPISODE, 6, links[5].chain_hash)
    found = check_anchor(EPISODE, links[:5], anchored)
    assert found is not None and (found.version, found.kind) == (6, "truncated")
    assert check_anchor(EPISODE, links, anchored) is None


def test_a_chain_rewritten_from_an_event_onwards_is_found_only_by_an_anchored_head() -> None:
    _, links = chain(6)
    anchored = Head(EPISODE, 6, links[5].chain_hash)
    forged = stored(6)
    forged[2] = StoredEvent(originator_id=EPISODE, originator_version=3, topic=TOPIC, state=b'{"n":300}')
    relinked = [Link(v, d, h) for _, v, d, h in new_links(forged, lambda _: {})]
    rows = [EventRow(e.originator_version, e.topic, e.state) for e in forged]
    assert check_episode(EPISODE, rows, relinked) is None
    found = check_anchor(EPISODE, relinked, anchored)
    assert found is not None and found.kind == "rewritten"
