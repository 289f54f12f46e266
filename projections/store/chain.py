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

Opening a store never links events that are already stored: a chain table that
is missing beside stored events is evidence (of tampering, or of a store written
before the chain), and only `careledger verify --adopt` (`adopt_unchained`)
links such a store, once, and only while no chain table exists. After each
committed write the recorder hands the new heads to `on_commit` (set by the
store to append them to the anchor log, projections/store/anchor.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

GENESIS = bytes(32)


class ChainBroken(PersistenceError):
    """The link before a new event is missing: the chain was damaged; nothing was stored."""


class AdoptRefused(PersistenceError):
    """`adopt_unchained` was asked to link a store that already has a chain table."""


NO_CHAIN = (
    "the store has events but no hash-chain table: it was removed (tampering) or the store was written "
    "before the chain; `careledger verify` reports it, and only for a store from before the chain "
    "`careledger verify --adopt` links it"
)
ADOPT_REFUSED = (
    "refused: this store already has a hash-chain table; linking its events again would launder "
    "any edit made to them (`careledger verify` reports what is unchained)"
)

# What a recorder hands to `on_commit` after a write committed: (episode, version, chain hash) per episode.
Heads = list[tuple[UUID, int, bytes]]
OnCommit = Callable[[Heads], None]


def last_heads(links: Sequence[tuple[UUID, int, bytes, bytes]]) -> Heads:
    """Return the newest (episode, version, chain hash) of each episode among new links."""
    newest: dict[UUID, tuple[int, bytes]] = {}
    for episode_id, version, _, head in links:
        if version > newest.get(episode_id, (0, b""))[0]:
            newest[episode_id] = (version, head)
    return [(episode_id, version, head) for episode_id, (version, head) in newest.items()]


class CommitHeads:
    """The links a thread's write transaction added, handed to `on_commit` once it committed."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.on_commit: OnCommit | None = None

    def start(self) -> None:
        """Forget links of an earlier attempt (a write that rolled back)."""
        self._local.links = []

    def add(self, links: list[tuple[UUID, int, bytes, bytes]]) -> None:
        """Remember links written in the current transaction."""
        if not hasattr(self._local, "links"):
            self._local.links = []
        self._local.links.extend(links)

    def committed(self) -> None:
        """Hand the heads of the committed transaction to `on_commit`."""
        links: list[tuple[UUID, int, bytes, bytes]] = getattr(self._local, "links", [])
        self._local.links = []
        if self.on_commit is not None and links:
            self.on_commit(last_heads(links))


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
class Tail:
    """An episode's chain read past a version verified earlier (projections/store/verified.py).

    `events_before` and `links_before` are the fingerprints (`fingerprint`) of
    every stored event and link up to that version, computed where the rows are
    (by PostgreSQL, or here for SQLite); `events` and `links` are the rows after it.
    """

    events_before: bytes
    links_before: bytes
    events: list[EventRow]
    links: list[Link]


def event_element(version: int, digest: bytes) -> bytes:
    """Return one event's part of a fingerprint: its version (8 bytes) and its event digest."""
    return version.to_bytes(8, "big") + digest


def link_element(link: Link) -> bytes:
    """Return one link's part of a fingerprint: its version (8 bytes), event digest and chain hash."""
    return link.version.to_bytes(8, "big") + link.event_digest + link.chain_hash


def fingerprint(elements: Iterator[bytes] | Sequence[bytes]) -> Any:
    """Return a SHA-256 hasher fed the elements in order (version order); `.digest()` is the fingerprint."""
    hasher = hashlib.sha256()
    for element in elements:
        hasher.update(element)
    return hasher


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


# --- SQLite ----------------------------------------------------------------------------------


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, plus a hash-chain link for every event."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.heads = CommitHeads()
        chain = self.chain_table_name = f"{events_table_name}_chain"
        events = self.events_table_name
        # Table names are ours (never user input); values always go in as parameters.
        self.select_all_events = f"SELECT originator_id, originator_version, topic, state FROM {events} "  # noqa: S608
        self.select_head = f"SELECT chain_hash FROM {chain} WHERE originator_id=? AND originator_version=?"  # noqa: S608
        self.insert_link = f"INSERT INTO {chain} VALUES (?,?,?,?)"  # noqa: S608
        self.select_ids = f"SELECT originator_id FROM {events} UNION SELECT originator_id FROM {chain}"  # noqa: S608
        self.select_event_ids = f"SELECT DISTINCT originator_id FROM {events}"  # noqa: S608
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
        """Create the events table, and the chain table when the store holds no event yet.

        Events without a chain table are never linked here (see `adopt_unchained`).
        """
        super().create_table()
        if self.chain_table_present():
            return
        # Take the write lock before looking, so an event cannot be stored in between.
        with self._immediate() as c:
            if self._has_chain(c):
                return
            c.execute(f"SELECT 1 FROM {self.events_table_name} LIMIT 1")  # noqa: S608
            if c.fetchone() is None:
                c.execute(self._chain_statement())

    def _has_chain(self, c: sqlite3.Cursor | SQLiteCursor) -> bool:
        c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.chain_table_name,))
        return c.fetchone() is not None

    def chain_table_present(self) -> bool:
        """Tell whether the store has its hash-chain table."""
        with self.datastore.transaction(commit=False) as c:
            return self._has_chain(c)

    def adopt_unchained(self) -> int:
        """Link a store written before the chain existed (no chain table yet); return the events linked."""
        with self._immediate() as c:
            if self._has_chain(c):
                raise AdoptRefused(ADOPT_REFUSED)
            c.execute(self._chain_statement())
            c.execute(self.select_all_events + "ORDER BY originator_id, originator_version")
            stored = [
                StoredEvent(
                    originator_id=row[0], originator_version=row[1], topic=row[2], state=stored_bytes(row[3])
                )
                for row in c.fetchall()
            ]
            links = new_links(stored, lambda _: {})
            self._insert_links(c, links)
        self.heads.start()
        self.heads.add(links)
        self.heads.committed()
        return len(stored)

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

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Store events and their links in one transaction; then hand the new heads on."""
        self.heads.start()
        notification_ids = super().insert_events(stored_events, **kwargs)
        self.heads.committed()
        return notification_ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The events go in first: that first write takes the database's write lock,
        # so the links read below cannot change before this transaction commits.
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if not self._has_chain(c):
            raise ChainBroken(NO_CHAIN)
        links = new_links(stored_events, lambda wanted: self._heads(c, wanted))
        self._insert_links(c.sqlite_cursor, links)
        self.heads.add(links)
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
            c.execute(self.select_ids if self._has_chain(c) else self.select_event_ids)
            return sorted({as_uuid(row[0]) for row in c.fetchall()})

    def read_tail(self, episode_id: UUID, after: int) -> Tail | None:
        """Return an episode's chain past version `after`, with the fingerprints of what comes before.

        SQLite runs in this process, so the rows up to `after` are read and hashed
        here (one read transaction for all of it). None when there is no chain table.
        """
        key = (episode_id.hex,)
        with self.datastore.transaction(commit=False) as c:
            if not self._has_chain(c):
                return None
            c.execute(self.select_all_events + "WHERE originator_id=? ORDER BY originator_version", key)
            stored = [EventRow(row[1], str(row[2]), stored_bytes(row[3])) for row in c.fetchall()]
            c.execute(self.select_links + "WHERE originator_id=? ORDER BY originator_version", key)
            links = [Link(row[1], stored_bytes(row[2]), stored_bytes(row[3])) for row in c.fetchall()]
        return Tail(
            events_before=fingerprint(
                event_element(e.version, event_digest(e.topic, e.state)) for e in stored if e.version <= after
            ).digest(),
            links_before=fingerprint(link_element(link) for link in links if link.version <= after).digest(),
            events=[e for e in stored if e.version > after],
            links=[link for link in links if link.version > after],
        )

    def read_chains(self, episode_ids: Sequence[UUID]) -> dict[UUID, tuple[list[EventRow], list[Link]]]:
        """Return the stored events and links of some episodes, as the chain covers them."""
        found: dict[UUID, tuple[list[EventRow], list[Link]]] = {i: ([], []) for i in episode_ids}
        marks = ",".join("?" * len(episode_ids))
        keys = [i.hex for i in episode_ids]
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_all_events + f"WHERE originator_id IN ({marks})", keys)
            for row in c.fetchall():
                found[as_uuid(row[0])][0].append(EventRow(row[1], str(row[2]), stored_bytes(row[3])))
            if not self._has_chain(c):
                return found  # every event is unchained
            c.execute(self.select_links + f"WHERE originator_id IN ({marks})", keys)
            for row in c.fetchall():
                found[as_uuid(row[0])][1].append(Link(row[1], stored_bytes(row[2]), stored_bytes(row[3])))
        return found
