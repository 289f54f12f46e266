"""Verifying an episode before each read without walking its whole chain again.

A store verifies an episode's chain before every query and write
(`Store.require_intact`). Walking the whole chain each time costs a read of every
event and link and a hash of every event's bytes in this process. So the store
keeps, per process, what it last verified of each episode: the head (version and
chain hash), how many anchored heads were compared, and the fingerprints of the
events and links up to that head (a SHA-256 over each stored event's version and
event digest, and over each link's version, event digest and chain hash, in
version order; `projections.store.chain.fingerprint`).

The next check of that episode reads the fingerprints of the rows up to the
verified head as they are stored **now** (PostgreSQL hashes every event's stored
bytes itself; on SQLite they are read and hashed here) and the rows after it:

- both fingerprints must equal the verified ones: any event whose topic or bytes
  changed, any event or link deleted, inserted, moved or edited up to the head
  changes one of them, so an edit made after the last check is still found on
  the next one;
- the events after the head are checked link by link from the verified head, as
  a whole walk would, and against any anchored head past it.

Anything that does not match (or cannot be read) falls back to the whole walk
(`verify.episode_break`), which names the version and kind of the break, and the
episode is refused as before. What is skipped is walking the links up to the
head one by one; they are compared whole instead. The threat model is in
docs/audit.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from projections.store.chain import (
    EventRow,
    Link,
    Tail,
    event_digest,
    event_element,
    fingerprint,
    link_element,
)
from projections.store.verify import Break, Head, check_anchor, check_episode, episode_break

# Episodes remembered per process; past this many, the oldest are forgotten (their next check walks).
REMEMBERED = 10_000


class TailReader(Protocol):
    """What incremental verification needs from a chained recorder (SQLite or PostgreSQL)."""

    def read_chains(self, episode_ids: Sequence[UUID]) -> dict[UUID, tuple[list[EventRow], list[Link]]]: ...

    def read_tail(self, episode_id: UUID, after: int) -> Tail | None: ...


@dataclass(frozen=True)
class Verified:
    """What was verified of one episode: its head, the anchored heads compared, the fingerprints."""

    version: int
    chain_hash: bytes
    anchored: int
    events: Any  # a hashlib SHA-256 object fed every verified event's element (copied, never updated)
    links: Any  # the same for the links


class VerifiedHeads:
    """The heads this process verified, and the check of an episode from its head on."""

    def __init__(self, reader: TailReader) -> None:
        self.reader = reader
        self._entries: dict[UUID, Verified] = {}
        self._lock = threading.Lock()
        self.walks = 0  # whole walks made (a first check, or a fallback): for tests and benchmarks

    def check(self, episode_id: UUID, anchored: Sequence[Head]) -> tuple[int, Break | None]:
        """Return the episode's verified version (0: nothing stored) and its first break, if any.

        Raises PersistenceError when the store cannot be read.
        """
        entry = self._entries.get(episode_id)
        if entry is not None and entry.anchored == len(anchored):
            try:
                tail = self.reader.read_tail(episode_id, entry.version)
            except PersistenceError:
                tail = None  # the whole walk below reads again, and reports the store unreachable
            if tail is not None:
                extended = self._extend(episode_id, entry, tail, anchored)
                if extended is not None:
                    self._remember(episode_id, extended)
                    return extended.version, None
        return self._walk(episode_id, anchored)

    def forget(self, episode_id: UUID) -> None:
        """Drop what was verified of an episode (its next check walks the whole chain)."""
        with self._lock:
            self._entries.pop(episode_id, None)

    def _extend(
        self, episode_id: UUID, entry: Verified, tail: Tail, anchored: Sequence[Head]
    ) -> Verified | None:
        if tail.events_before != entry.events.digest() or tail.links_before != entry.links.digest():
            return None  # something up to the verified head changed since
        start = entry.version + 1
        if check_episode(episode_id, tail.events, tail.links, start=start, previous=entry.chain_hash):
            return None
        later = [head for head in anchored if head.version > entry.version]
        if later and check_anchor(episode_id, tail.links, later):
            return None
        if not tail.links:
            return entry
        events, links = entry.events.copy(), entry.links.copy()
        for event in sorted(tail.events, key=lambda e: e.version):
            events.update(event_element(event.version, event_digest(event.topic, event.state)))
        for link in sorted(tail.links, key=lambda item: item.version):
            links.update(link_element(link))
        head = max(tail.links, key=lambda item: item.version)
        return Verified(head.version, head.chain_hash, len(anchored), events, links)

    def _walk(self, episode_id: UUID, anchored: Sequence[Head]) -> tuple[int, Break | None]:
        self.walks += 1
        stored, links = self.reader.read_chains([episode_id])[episode_id]
        problem = episode_break(episode_id, stored, links, list(anchored) or None)
        if problem is not None or not links:
            self.forget(episode_id)
            return 0, problem
        stored = sorted(stored, key=lambda e: e.version)
        links = sorted(links, key=lambda item: item.version)
        head = links[-1]
        self._remember(
            episode_id,
            Verified(
                version=head.version,
                chain_hash=head.chain_hash,
                anchored=len(anchored),
                events=fingerprint(event_element(e.version, event_digest(e.topic, e.state)) for e in stored),
                links=fingerprint(link_element(link) for link in links),
            ),
        )
        return head.version, None

    def _remember(self, episode_id: UUID, entry: Verified) -> None:
        with self._lock:
            self._entries.pop(episode_id, None)
            self._entries[episode_id] = entry
            while len(self._entries) > REMEMBERED:
                self._entries.pop(next(iter(self._entries)))
