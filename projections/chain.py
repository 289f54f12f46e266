"""Tamper evidence: a hash chain over each episode's stored events, written with the events.

Every stored event gets a link in a table of its own (`stored_events_chain` on
SQLite, `careledger_events_chain` on PostgreSQL), inserted in the same
transaction as the event by the recorders here (selected by the store through
eventsourcing's `APPLICATION_RECORDER_TOPIC`):

    event_digest = SHA-256(len(topic) as 4 bytes || topic || state bytes)
    chain_hash   = SHA-256(previous chain_hash of the episode || originator_id (16 bytes)
                           || originator_version (8 bytes) || event_digest)

with 32 zero bytes before version 1. The digest of each event is kept apart
from the link so that `verify` can tell a changed event from a moved one. See
docs/decisions/0005-hash-chain.md and the threat model in docs/audit.md.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import OperationalError, PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

if TYPE_CHECKING:
    from domain.application import Episodes

GENESIS = bytes(32)
CHUNK = 400


class ChainBroken(PersistenceError):
    """The link before a new event is missing: the chain was damaged; nothing was stored."""


@dataclass(frozen=True)
class Link:
    """One stored link of an episode's chain."""

    version: int
    event_digest: bytes
    chain_hash: bytes


@dataclass(frozen=True)
class EventRow:
    """One stored event's bytes, as the chain covers them."""

    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Break:
    """The first broken link of an episode: where, what kind, and what it means."""

    episode_id: UUID
    version: int
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """Return the break as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "version": self.version,
            "kind": self.kind,
            "detail": self.detail,
        }


def event_digest(topic: str, state: bytes) -> bytes:
    """Return the SHA-256 digest of one stored event's topic and state bytes."""
    name = topic.encode()
    return hashlib.sha256(len(name).to_bytes(4, "big") + name + bytes(state)).digest()


def chain_link(previous: bytes, episode_id: UUID, version: int, digest: bytes) -> bytes:
    """Return the chain hash of an event from the previous link and the event's digest."""
    return hashlib.sha256(previous + episode_id.bytes + version.to_bytes(8, "big") + digest).digest()


def stored_bytes(value: object) -> bytes:
    """Return a stored state as bytes, even after a hand edit turned it into text or NULL."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def as_uuid(value: object) -> UUID:
    """Return an originator id (UUID, or hex text as SQLite stores it) as a UUID."""
    return value if isinstance(value, UUID) else UUID(str(value))


def new_links(
    stored_events: Sequence[StoredEvent], previous: Callable[[list[tuple[UUID, int]]], dict[UUID, bytes]]
) -> list[tuple[UUID, int, bytes, bytes]]:
    """Return (episode, version, digest, chain hash) for events about to be stored.

    `previous` is given the (episode, version) pairs whose stored link the batch
    continues from and returns the chain hashes it found; a missing one means
    the chain was damaged, and nothing is stored (ChainBroken).
    """
    by_episode: dict[UUID, list[StoredEvent]] = {}
    for stored in stored_events:
        by_episode.setdefault(as_uuid(stored.originator_id), []).append(stored)
    wanted = [
        (episode_id, first - 1)
        for episode_id, events in by_episode.items()
        if (first := min(e.originator_version for e in events)) > 1
    ]
    found = previous(wanted) if wanted else {}
    links: list[tuple[UUID, int, bytes, bytes]] = []
    for episode_id, events in by_episode.items():
        events.sort(key=lambda e: e.originator_version)
        first = events[0].originator_version
        head = GENESIS if first == 1 else found.get(episode_id)
        if head is None:
            raise ChainBroken(
                f"episode {episode_id} has no chain link for version {first - 1}; "
                "the hash chain was damaged (run `careledger verify`)"
            )
        for expected, stored in enumerate(events, start=first):
            if stored.originator_version != expected:
                raise ChainBroken(f"episode {episode_id}: versions {first}..{expected} are not contiguous")
            digest = event_digest(stored.topic, stored.state)
            head = chain_link(head, episode_id, stored.originator_version, digest)
            links.append((episode_id, stored.originator_version, digest, head))
    return links


def check_episode(episode_id: UUID, events: Sequence[EventRow], links: Sequence[Link]) -> Break | None:
    """Return the first broken link of one episode's chain, or None when it is intact.

    Each stored link is checked against the stored link before it, and each
    event's bytes against the digest its link recorded, so the report names the
    version that was changed, deleted, inserted or moved.
    """
    by_version = {e.version: e for e in events}
    chained = {link.version: link for link in links}
    digests = {link.event_digest: link.version for link in links}
    last = max([*by_version, *chained], default=0)
    previous = GENESIS
    for version in range(1, last + 1):
        event, link = by_version.get(version), chained.get(version)
        if event is None and link is None:
            return Break(episode_id, version, "missing", "neither the event nor its link is stored (deleted)")
        if link is None:
            return Break(
                episode_id,
                version,
                "unchained",
                "the stored event has no link: it was written outside careledger, or its link was deleted",
            )
        if event is None:
            return Break(
                episode_id, version, "missing_event", "the chain has a link but the event was deleted"
            )
        digest = event_digest(event.topic, event.state)
        if digest != link.event_digest:
            moved = digests.get(digest)
            if moved is not None:
                return Break(
                    episode_id,
                    version,
                    "reordered",
                    f"the event stored as version {version} was recorded as version {moved}",
                )
            return Break(
                episode_id,
                version,
                "changed",
                f"the stored bytes of {event.topic.rsplit('.', 1)[-1]} differ from what was recorded",
            )
        if chain_link(previous, episode_id, version, link.event_digest) != link.chain_hash:
            return Break(
                episode_id,
                version,
                "link",
                "the link does not follow from the one before (the chain was edited)",
            )
        previous = link.chain_hash
    return None


# --- SQLite ----------------------------------------------------------------------------------


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, plus a hash-chain link for every event."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        chain = self.chain_table_name = f"{events_table_name}_chain"
        events = self.events_table_name
        # Table names are ours (never user input); values always go in as parameters.
        self.select_all_events = f"SELECT originator_id, originator_version, topic, state FROM {events} "  # noqa: S608
        self.select_head = f"SELECT chain_hash FROM {chain} WHERE originator_id=? AND originator_version=?"  # noqa: S608
        self.insert_link = f"INSERT INTO {chain} VALUES (?,?,?,?)"  # noqa: S608
        self.select_ids = f"SELECT originator_id FROM {events} UNION SELECT originator_id FROM {chain}"  # noqa: S608
        self.select_links = (
            f"SELECT originator_id, originator_version, event_digest, chain_hash FROM {chain} "  # noqa: S608
        )

    def _chain_statement(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} ("
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "event_digest BLOB NOT NULL, chain_hash BLOB NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
        )

    def create_table(self) -> None:
        """Create the events and chain tables; link events stored before the chain existed."""
        super().create_table()
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.chain_table_name,))
            if c.fetchone() is not None:
                return
        # Take the write lock before reading, so two first openers cannot both link the log.
        with self._immediate() as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.chain_table_name,))
            if c.fetchone() is not None:
                return
            c.execute(self._chain_statement())
            c.execute(self.select_all_events + "ORDER BY originator_id, originator_version")
            stored = [
                StoredEvent(
                    originator_id=row[0], originator_version=row[1], topic=row[2], state=stored_bytes(row[3])
                )
                for row in c.fetchall()
            ]
            self._insert_links(c, new_links(stored, lambda _: {}))

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Cursor]:
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor().sqlite_cursor
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                conn.commit()
            except sqlite3.Error as exc:
                conn.rollback()
                raise OperationalError(str(exc)) from exc
            except BaseException:
                conn.rollback()
                raise

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The events go in first: that first write takes the database's write lock,
        # so the links read below cannot change before this transaction commits.
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        self._insert_links(c.sqlite_cursor, new_links(stored_events, lambda wanted: self._heads(c, wanted)))
        return notification_ids

    def _heads(self, c: SQLiteCursor, wanted: list[tuple[UUID, int]]) -> dict[UUID, bytes]:
        found: dict[UUID, bytes] = {}
        for episode_id, version in wanted:
            c.execute(self.select_head, (episode_id.hex, version))
            row = c.fetchone()
            if row is not None:
                found[episode_id] = bytes(row[0])
        return found

    def _insert_links(self, c: sqlite3.Cursor, links: list[tuple[UUID, int, bytes, bytes]]) -> None:
        c.executemany(
            self.insert_link,
            [(episode_id.hex, version, digest, head) for episode_id, version, digest, head in links],
        )

    # --- reading, for verify -----------------------------------------------------------------

    def chained_episode_ids(self) -> list[UUID]:
        """Return every episode id found in the events or the chain table."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_ids)
            return sorted(as_uuid(row[0]) for row in c.fetchall())

    def read_chains(self, episode_ids: Sequence[UUID]) -> dict[UUID, tuple[list[EventRow], list[Link]]]:
        """Return the stored events and links of some episodes, as the chain covers them."""
        found: dict[UUID, tuple[list[EventRow], list[Link]]] = {i: ([], []) for i in episode_ids}
        marks = ",".join("?" * len(episode_ids))
        keys = [i.hex for i in episode_ids]
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_all_events + f"WHERE originator_id IN ({marks})", keys)
            for row in c.fetchall():
                found[as_uuid(row[0])][0].append(EventRow(row[1], str(row[2]), stored_bytes(row[3])))
            c.execute(self.select_links + f"WHERE originator_id IN ({marks})", keys)
            for row in c.fetchall():
                found[as_uuid(row[0])][1].append(Link(row[1], stored_bytes(row[2]), stored_bytes(row[3])))
        return found


def chunks(items: Sequence[UUID], size: int = CHUNK) -> Iterable[Sequence[UUID]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- verification ------------------------------------------------------------------------------


class ChainReader(Protocol):
    """What `verify` needs from a chained recorder (SQLite or PostgreSQL)."""

    def chained_episode_ids(self) -> list[UUID]: ...

    def read_chains(self, episode_ids: Sequence[UUID]) -> dict[UUID, tuple[list[EventRow], list[Link]]]: ...


@dataclass(frozen=True)
class Head:
    """The last link of an episode's chain: what to store elsewhere to anchor it."""

    episode_id: UUID
    version: int
    chain_hash: bytes

    def as_dict(self) -> dict[str, Any]:
        """Return the head as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "version": self.version,
            "chain_hash": self.chain_hash.hex(),
        }


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chains: counts, speed, heads and the first break of each episode."""

    episodes: int
    events: int
    snapshots: int
    seconds: float
    breaks: tuple[Break, ...]
    heads: tuple[Head, ...]

    @property
    def intact(self) -> bool:
        """Tell whether no break was found."""
        return not self.breaks

    @property
    def events_per_second(self) -> float:
        """Return how many events were verified per second."""
        return self.events / self.seconds if self.seconds > 0 else float(self.events)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "intact": self.intact,
            "episodes": self.episodes,
            "events": self.events,
            "snapshots": self.snapshots,
            "seconds": round(self.seconds, 6),
            "events_per_second": round(self.events_per_second),
            "breaks": [b.as_dict() for b in self.breaks],
        }


def check_anchor(episode_id: UUID, links: Sequence[Link], anchored: Head | None) -> Break | None:
    """Compare an episode's chain with the head stored elsewhere earlier (see docs/audit.md)."""
    if anchored is None:
        return None
    link = next((item for item in links if item.version == anchored.version), None)
    last = max((item.version for item in links), default=0)
    if link is None:
        return Break(
            episode_id,
            anchored.version,
            "truncated",
            f"the anchored head is version {anchored.version} but the chain ends at version {last}",
        )
    if link.chain_hash != anchored.chain_hash:
        return Break(
            episode_id,
            anchored.version,
            "rewritten",
            "the link differs from the anchored head: the chain was rewritten since it was anchored",
        )
    return None


def verify_chains(
    reader: ChainReader,
    episode_ids: Sequence[UUID] | None = None,
    anchors: dict[UUID, Head] | None = None,
    snapshot_check: Callable[[UUID], tuple[int, Break | None]] | None = None,
) -> ChainReport:
    """Walk the chain of every episode (or of some), check anchors and snapshots; report the breaks.

    `snapshot_check(episode_id)` returns how many snapshots it compared with a
    replay of the events and the first that differs; it runs only on episodes
    whose chain is intact.
    """
    from time import perf_counter

    started = perf_counter()
    anchors = anchors or {}
    ids = list(episode_ids) if episode_ids is not None else reader.chained_episode_ids()
    ids += sorted(i for i in anchors if i not in set(ids))
    breaks: list[Break] = []
    heads: list[Head] = []
    events = snapshots = 0
    for chunk in chunks(ids):
        found = reader.read_chains(chunk)
        for episode_id in chunk:
            stored, links = found[episode_id]
            events += len(stored)
            problem = check_episode(episode_id, stored, links)
            if problem is None and not links and episode_id in anchors:
                problem = Break(
                    episode_id, 1, "missing", "the episode was anchored but nothing of it is stored"
                )
            problem = problem or check_anchor(episode_id, links, anchors.get(episode_id))
            if problem is None and snapshot_check is not None and links:
                checked, problem = snapshot_check(episode_id)
                snapshots += checked
            if problem is not None:
                breaks.append(problem)
            elif links:
                last = max(links, key=lambda item: item.version)
                heads.append(Head(episode_id, last.version, last.chain_hash))
    return ChainReport(
        episodes=len(ids),
        events=events,
        snapshots=snapshots,
        seconds=perf_counter() - started,
        breaks=tuple(breaks),
        heads=tuple(heads),
    )


def snapshot_checker(app: Episodes) -> Callable[[UUID], tuple[int, Break | None]]:
    """Return a check that compares an episode's snapshots with a replay of its events.

    Snapshots are a cache the "as of" queries read from, kept outside the chain;
    a snapshot that differs from the replay of the chained events was edited.
    """
    from domain.episode import Episode

    def check(episode_id: UUID) -> tuple[int, Break | None]:
        if app.snapshots is None:
            return 0, None
        try:
            snapshots = {s.originator_version: s for s in app.snapshots.get(episode_id)}
        except Exception as exc:  # a hand-edited row may not even decode
            return 1, Break(episode_id, 0, "snapshot", f"a snapshot cannot be read ({exc})")
        if not snapshots:
            return 0, None
        episode: Episode | None = None
        for event in cast(list[Episode.Event], list(app.events.get(episode_id, lte=max(snapshots)))):
            episode = cast(Episode, event.mutate(episode))
            snapshot = cast(Episode.Snapshot | None, snapshots.get(event.originator_version))
            if snapshot is not None and Episode.Snapshot.take(episode).state != snapshot.state:
                return len(snapshots), Break(
                    episode_id,
                    event.originator_version,
                    "snapshot",
                    f"the snapshot at version {event.originator_version} differs from the replay of the "
                    "chained events (it was edited; delete it and the episode loads from its events)",
                )
        return len(snapshots), None

    return check
