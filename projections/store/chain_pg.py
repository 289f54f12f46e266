"""The hash chain on PostgreSQL: eventsourcing's application recorder plus a link per event.

Kept apart from `projections.store.chain` so that a SQLite store never imports psycopg.
The links are written in the events' own transaction, after the recorder's
`LOCK TABLE ... IN EXCLUSIVE MODE` (taken here first, and again, harmlessly, by
eventsourcing before it inserts the events), so writers are serialised and the
link a batch continues from cannot change under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from projections.store.chain import (
    ADOPT_REFUSED,
    NO_CHAIN,
    AdoptRefused,
    ChainBroken,
    CommitHeads,
    EventRow,
    Link,
    Tail,
    as_uuid,
    new_links,
    stored_bytes,
)

# The fingerprints of an episode's events and links up to a version (row kind 0), then the events
# (kind 1) and links (kind 2) after it. Functions are named in pg_catalog, so no function of the
# same name in another schema on the search path can stand in for them.
_TAIL = (
    "SELECT 0 AS kind, 0::bigint AS version, NULL::text AS topic, "
    # an event's element: its version (8 bytes) and SHA-256(len(topic) as 4 bytes || topic || state)
    "(SELECT pg_catalog.sha256(COALESCE(pg_catalog.string_agg("
    "pg_catalog.int8send(originator_version) || pg_catalog.sha256("
    "pg_catalog.int4send(pg_catalog.octet_length(pg_catalog.convert_to(topic, 'UTF8'))) "
    "|| pg_catalog.convert_to(topic, 'UTF8') || state), "
    "''::bytea ORDER BY originator_version), ''::bytea)) FROM {schema}.{events} "
    "WHERE originator_id = %s AND originator_version <= %s) AS a, "
    # a link's element: its version (8 bytes), event digest and chain hash
    "(SELECT pg_catalog.sha256(COALESCE(pg_catalog.string_agg("
    "pg_catalog.int8send(originator_version) || event_digest || chain_hash, "
    "''::bytea ORDER BY originator_version), ''::bytea)) FROM {schema}.{chain} "
    "WHERE originator_id = %s AND originator_version <= %s) AS b "
    "UNION ALL SELECT 1, originator_version, topic, state, NULL FROM {schema}.{events} "
    "WHERE originator_id = %s AND originator_version > %s "
    "UNION ALL SELECT 2, originator_version, NULL, event_digest, chain_hash FROM {schema}.{chain} "
    "WHERE originator_id = %s AND originator_version > %s"
)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, plus a hash-chain link for every event."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError("the hash chain needs POSTGRES_ENABLE_DB_FUNCTIONS off")
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        self.id_type = "uuid" if datastore.originator_id_type == "uuid" else "text"
        self.heads = CommitHeads()

    def _sql(self, text: str) -> Composed:
        return SQL(text).format(
            schema=Identifier(self.datastore.schema),
            events=Identifier(self.events_table_name),
            chain=Identifier(self.chain_table_name),
            id_type=SQL(self.id_type),
        )

    def create_table(self) -> None:
        """Create the events table, and the chain table when the store holds no event yet.

        Events without a chain table are never linked here (see `adopt_unchained`).
        """
        super().create_table()
        if self.chain_table_present():
            return
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)  # serialise with writers and with another first opener
            if self._has_chain(curs):
                return
            curs.execute(self._sql("SELECT 1 AS one FROM {schema}.{events} LIMIT 1"))
            if curs.fetchone() is None:
                curs.execute(self._chain_statement())

    def _chain_statement(self) -> Composed:
        return self._sql(
            "CREATE TABLE {schema}.{chain} ("
            "originator_id {id_type} NOT NULL, originator_version bigint NOT NULL, "
            "event_digest bytea NOT NULL, chain_hash bytea NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        )

    def _has_chain(self, curs: Cursor[DictRow]) -> bool:
        name = f'"{self.datastore.schema}"."{self.chain_table_name}"'
        curs.execute(SQL("SELECT to_regclass(%s) IS NOT NULL AS present"), (name,))
        row = curs.fetchone()
        return bool(row is not None and row["present"])

    def chain_table_present(self) -> bool:
        """Tell whether the store has its hash-chain table."""
        with self.datastore.transaction(commit=False) as curs:
            return self._has_chain(curs)

    def adopt_unchained(self) -> int:
        """Link a store written before the chain existed (no chain table yet); return the events linked."""
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            if self._has_chain(curs):
                raise AdoptRefused(ADOPT_REFUSED)
            curs.execute(self._chain_statement())
            curs.execute(
                self._sql(
                    "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
                    "ORDER BY originator_id, originator_version"
                )
            )
            stored = [
                StoredEvent(
                    originator_id=r["originator_id"],
                    originator_version=r["originator_version"],
                    topic=r["topic"],
                    state=bytes(r["state"]),
                )
                for r in curs.fetchall()
            ]
            links = new_links(stored, lambda _: {})
            self._insert_links(curs, links)
        self.heads.start()
        self.heads.add(links)
        self.heads.committed()
        return len(stored)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Store events and their links in one transaction; then hand the new heads on."""
        self.heads.start()
        notification_ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        self.heads.committed()
        return notification_ids

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # eventsourcing calls this first in the insert transaction (outside its own error
        # trap, so a failure here rolls everything back). Lock, read the links the batch
        # continues from, and insert the new links; the events follow in the same transaction.
        super()._insert_events(curs, stored_events, **kwargs)
        if not stored_events:
            return
        self._lock_table(curs)
        if not self._has_chain(curs):
            raise ChainBroken(NO_CHAIN)
        firsts: dict[UUID, int] = {}
        for stored in stored_events:
            episode_id = as_uuid(stored.originator_id)
            firsts[episode_id] = min(
                firsts.get(episode_id, stored.originator_version), stored.originator_version
            )
        heads = self._heads(curs, firsts)
        links = new_links(stored_events, lambda _: heads)
        self._insert_links(curs, links)
        self.heads.add(links)

    def _heads(self, curs: Cursor[DictRow], firsts: dict[UUID, int]) -> dict[UUID, bytes]:
        """Return the links the batch continues from; refuse a batch another writer got ahead of.

        A link already stored at a batch's first version means another writer
        stored that version first (we hold the table lock now, so it has
        committed). That is the same conflict as a duplicate event, and is raised
        as one (IntegrityError, which the application retries) here, before any
        insert: inside psycopg's pipeline a failed insert surfaces only as
        "pipeline aborted", which eventsourcing would retry as a connection error.
        """
        curs.execute(
            self._sql(
                "SELECT c.originator_id, c.originator_version, c.chain_hash FROM {schema}.{chain} AS c "
                "JOIN unnest(%s::{id_type}[], %s::bigint[]) AS w(originator_id, first_version) "
                "ON c.originator_id = w.originator_id "
                "AND c.originator_version BETWEEN w.first_version - 1 AND w.first_version"
            ),
            (self._ids(list(firsts)), list(firsts.values())),
        )
        heads: dict[UUID, bytes] = {}
        for row in curs.fetchall():
            episode_id = as_uuid(row["originator_id"])
            if row["originator_version"] == firsts[episode_id]:
                raise IntegrityError(
                    f"episode {episode_id} version {firsts[episode_id]} was stored by another writer"
                )
            heads[episode_id] = bytes(row["chain_hash"])
        return heads

    def _insert_links(self, curs: Cursor[DictRow], links: list[tuple[UUID, int, bytes, bytes]]) -> None:
        if not links:
            return
        curs.execute(
            self._sql(
                "INSERT INTO {schema}.{chain} (originator_id, originator_version, event_digest, chain_hash) "
                "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::bytea[], %s::bytea[])"
            ),
            (
                self._ids([link[0] for link in links]),
                [link[1] for link in links],
                [link[2] for link in links],
                [link[3] for link in links],
            ),
        )

    def _ids(self, ids: list[UUID]) -> list[Any]:
        return ids if self.id_type == "uuid" else [str(i) for i in ids]

    # --- reading, for verify -----------------------------------------------------------------

    def chained_episode_ids(self) -> list[UUID]:
        """Return every episode id found in the events or the chain table."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT originator_id FROM {schema}.{events} "
                    "UNION SELECT originator_id FROM {schema}.{chain}"
                )
                if self._has_chain(curs)
                else self._sql("SELECT DISTINCT originator_id FROM {schema}.{events}")
            )
            return sorted(as_uuid(r["originator_id"]) for r in curs.fetchall())

    def read_tail(self, episode_id: UUID, after: int) -> Tail | None:
        """Return an episode's chain past version `after`, with the fingerprints of what comes before.

        One statement (one snapshot): PostgreSQL hashes every stored event and link
        up to `after` (pg_catalog's sha256, the same fingerprint as
        `projections.store.chain.fingerprint`), so only the rows after it travel.
        A row whose bytes or version changed, or that was deleted or inserted,
        changes a fingerprint; NULL bytes drop the row from it, which changes it too.
        """
        key = self._ids([episode_id])[0]
        with self.datastore.cursor() as curs:  # one statement, one snapshot: no BEGIN needed
            curs.execute(self._sql(_TAIL), (key, after, key, after, key, after, key, after), prepare=True)
            rows = curs.fetchall()
        tail = Tail(events_before=b"", links_before=b"", events=[], links=[])
        for row in rows:
            if row["kind"] == 0:
                tail = Tail(bytes(row["a"]), bytes(row["b"]), tail.events, tail.links)
            elif row["kind"] == 1:
                tail.events.append(EventRow(row["version"], str(row["topic"]), stored_bytes(row["a"])))
            else:
                tail.links.append(Link(row["version"], stored_bytes(row["a"]), stored_bytes(row["b"])))
        return tail

    def read_chains(self, episode_ids: Sequence[UUID]) -> dict[UUID, tuple[list[EventRow], list[Link]]]:
        """Return the stored events and links of some episodes, as the chain covers them."""
        found: dict[UUID, tuple[list[EventRow], list[Link]]] = {i: ([], []) for i in episode_ids}
        ids = self._ids(list(episode_ids))
        with self.datastore.transaction(commit=False) as curs:
            # One snapshot for both reads, so a write committed in between is seen whole or not at all.
            curs.execute(SQL("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            curs.execute(
                self._sql(
                    "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
                    "WHERE originator_id = ANY(%s::{id_type}[])"
                ),
                (ids,),
            )
            for r in curs.fetchall():
                found[as_uuid(r["originator_id"])][0].append(
                    EventRow(r["originator_version"], str(r["topic"]), stored_bytes(r["state"]))
                )
            if not self._has_chain(curs):
                return found  # every event is unchained
            curs.execute(
                self._sql(
                    "SELECT originator_id, originator_version, event_digest, chain_hash "
                    "FROM {schema}.{chain} WHERE originator_id = ANY(%s::{id_type}[])"
                ),
                (ids,),
            )
            for r in curs.fetchall():
                link = Link(
                    r["originator_version"], stored_bytes(r["event_digest"]), stored_bytes(r["chain_hash"])
                )
                found[as_uuid(r["originator_id"])][1].append(link)
        return found
