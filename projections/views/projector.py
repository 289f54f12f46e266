"""The adapter that keeps the read models up to date: fold, write rows, track, in one transaction.

`Projector.catch_up()` reads the notification log after the lowest tracked
position, in pages. Each page is decoded, each event applied once to its
episode in memory (an LRU of episodes; a missing one is loaded at the version
before the event), and then, in ONE database transaction, the rows of every
episode the page touched are replaced in every projection that had not yet seen
those events, and the projections' positions move to the end of the page. The
transaction first locks the tracking rows (SQLite: BEGIN IMMEDIATE; PostgreSQL:
SELECT ... FOR UPDATE) and re-reads the positions, so two processes catching up
at once never apply a page twice. A failure anywhere rolls the page back whole:
rows and positions stay consistent, and the next catch-up starts again from the
same position. See docs/decisions/0004-projections.md.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import PersistenceError
from sqlalchemy import Connection, Table, delete, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError

from domain.clinic.aggregate import CLINIC_TOPICS
from domain.errors import DamagedEvent, StoreUnavailable
from domain.findings.engine import VisitMemo
from domain.rules.catalogue import rules_fingerprint
from projections.views.context import ViewContext
from projections.views.registry import PROJECTIONS, Derived, Projection
from projections.views.schema import SEAL, PostgresCopy, SqliteInsert, Tables, build_tables, make_engine
from projections.views.seal import seal_rows

if TYPE_CHECKING:
    import psycopg
    from eventsourcing.persistence import Notification

    from domain.episode.aggregate import Episode
    from projections.store.root import Store

Progress = Callable[[int, int], None]
PAGE_SIZE = 1000
CACHE_SIZE = 1000
# Episodes whose per-visit findings are kept (the most recently derived). Peak RSS of rebuilding
# the benchmark's 100,000 events: 288 MB without, 304 MB with 256, 352 MB with all 1,000 folded.
MEMO_SIZE = 256


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands against the log."""

    name: str
    version: int
    position: int
    log_position: int
    inputs: str = ""

    @property
    def lag(self) -> int:
        """How many notifications the projection has not applied yet (at most)."""
        return max(0, self.log_position - self.position)

    def as_dict(self) -> dict[str, Any]:
        """Return the status as JSON-ready values."""
        return {
            "name": self.name,
            "version": self.version,
            "inputs": self.inputs,
            "position": self.position,
            "log_position": self.log_position,
            "lag": self.lag,
        }


class EpisodeFold:
    """The episodes in memory, each advanced by applying its events (the aggregate's own fold)."""

    def __init__(self, store: Store, size: int = CACHE_SIZE, memo_size: int = MEMO_SIZE) -> None:
        self.app = store.app
        self.size = size
        self.memo_size = memo_size
        self._episodes: OrderedDict[UUID, Episode] = OrderedDict()
        # each folded episode's per-visit findings, kept while the episode is (re-derived only where
        # an event changed their inputs, domain.findings.engine.VisitMemo)
        self._memos: OrderedDict[UUID, VisitMemo] = OrderedDict()

    def apply(self, event: Any) -> Episode:
        """Apply one event to its episode, loading the episode at the version before it if needed."""
        episode_id: UUID = event.originator_id
        version: int = event.originator_version
        episode = self._episodes.get(episode_id)
        if episode is None or episode.version != version - 1:
            episode = None if version == 1 else self.app.repository.get(episode_id, version=version - 1)
            self._memos.pop(episode_id, None)  # a loaded episode's records are new objects: derive afresh
        episode = cast("Episode", event.mutate(episode))
        self._episodes[episode_id] = episode
        self._episodes.move_to_end(episode_id)
        while len(self._episodes) > self.size:
            evicted, _ = self._episodes.popitem(last=False)
            self._memos.pop(evicted, None)
        return episode

    def memo(self, episode_id: UUID) -> VisitMemo:
        """Return the per-visit findings kept for a folded episode."""
        found = self._memos.get(episode_id)
        if found is None:
            found = self._memos[episode_id] = VisitMemo()
            while len(self._memos) > self.memo_size:
                self._memos.popitem(last=False)
        else:
            self._memos.move_to_end(episode_id)
        return found

    def clear(self) -> None:
        """Forget every episode (after a failed page, or before a rebuild)."""
        self._episodes.clear()
        self._memos.clear()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often while folding: decoding makes many short-lived objects."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), max(before[1], 50), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)


class Projector:
    """Keeps a store's read models in step with its event log."""

    def __init__(
        self,
        store: Store,
        *,
        context: ViewContext | None = None,
        projections: Sequence[Projection] = PROJECTIONS,
        page_size: int = PAGE_SIZE,
        cache_size: int = CACHE_SIZE,
        memo_size: int = MEMO_SIZE,
    ) -> None:
        self.store = store
        self.location = store.location
        self.context = context or ViewContext.from_payer_profiles(store.app.payer_dirs)
        self.projections = tuple(projections)
        self.page_size = page_size
        self.engine = make_engine(store.location)
        self.tables: Tables = build_tables(store.location.schema)
        self.fold = EpisodeFold(store, cache_size, memo_size)
        self._sqlite_inserts: dict[str, SqliteInsert] = {}
        self._postgres_copies: dict[str, PostgresCopy] = {}
        self._deletes: dict[tuple[str, bool], str] = {}
        self._ready = False

    def close(self) -> None:
        """Release the database connections of the read models."""
        self.engine.dispose()

    # --- setup ---------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        """Create the tables and tracking rows on first use; rebuild a projection that is stale.

        A projection is stale when its code version or the fingerprint of the rule
        tables it reads (`Projection.inputs`, e.g. a clinic's new lexicon or
        thresholds) differs from the ones its rows were built with: it is emptied
        here, and the catch-up that follows rebuilds it from the log, so no query
        serves rows built from other rules.
        """
        if self._ready:
            return
        tracking = self.tables.tracking
        with self._transaction() as conn:
            if self.location.kind == "postgres":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242004)")
            tracking.create(conn, checkfirst=True)
            unsealed = not inspect(conn).has_table(SEAL, schema=self.tables.seal.schema)
            self.tables.seal.create(conn, checkfirst=True)
            self._add_inputs_column(conn)
            stored = {
                row.name: (row.version, row.inputs)
                for row in conn.execute(select(tracking.c.name, tracking.c.version, tracking.c.inputs))
            }
            for proj in self.projections:
                if proj.name not in stored:
                    # Position 0 means nothing applied: start from empty tables, whatever is there.
                    conn.execute(
                        tracking.insert().values(
                            name=proj.name, position=0, version=proj.version, inputs=self.inputs[proj.name]
                        )
                    )
                    self._reset(conn, proj)
                elif (
                    unsealed
                    or stored[proj.name] != (proj.version, self.inputs[proj.name])
                    or self._outdated(conn, proj)
                ):
                    self._reset(conn, proj)  # rows built before seals existed are rebuilt with their seals
        self._ready = True

    @cached_property
    def inputs(self) -> dict[str, str]:
        """The fingerprint of the rule tables each projection reads, as they are read now."""
        dirs = self.context.payer_dirs
        return {proj.name: rules_fingerprint(proj.inputs, dirs) for proj in self.projections}

    def _add_inputs_column(self, conn: Connection) -> None:
        """Add the `inputs` column to a tracking table made before it existed (its projections rebuild)."""
        table = self.tables.tracking
        columns = {column["name"] for column in inspect(conn).get_columns(table.name, schema=table.schema)}
        if "inputs" not in columns:
            name = f'"{table.schema}".{table.name}' if table.schema else table.name
            conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN inputs VARCHAR(64)")

    def _outdated(self, conn: Connection, proj: Projection) -> bool:
        """Tell whether a projection's stored tables lack a column its code declares."""
        inspector = inspect(conn)
        for name in proj.tables:
            table = self.tables.named(name)
            if not inspector.has_table(name, schema=table.schema):
                return True
            stored = {column["name"] for column in inspector.get_columns(name, schema=table.schema)}
            if set(table.columns.keys()) - stored:
                return True
        return False

    def _reset(self, conn: Connection, proj: Projection) -> None:
        """Drop and create a projection's tables and set its position to 0 (in the caller's transaction)."""
        for name in proj.tables:
            table = self.tables.named(name)
            table.drop(conn, checkfirst=True)
            table.create(conn)
        seal = self.tables.seal
        conn.execute(delete(seal).where(seal.c.table_name.in_(proj.tables)))
        conn.execute(
            update(self.tables.tracking)
            .where(self.tables.tracking.c.name == proj.name)
            .values(position=0, version=proj.version, inputs=self.inputs[proj.name])
        )

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreUnavailable(
                f"database: the read models could not be updated ({getattr(exc, 'orig', None) or exc})"
            ) from exc
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: the event log could not be read ({exc})") from exc

    # --- queries about the projections -----------------------------------------------------

    def log_position(self) -> int:
        """Return the id of the last notification in the log (0 when empty)."""
        return self.store.app.recorder.max_notification_id() or 0

    def status(self) -> list[ProjectionStatus]:
        """Return each projection's position against the log."""
        self.ensure_tables()
        head = self.log_position()
        with self.engine.connect().execution_options(careledger_read_only=True) as conn:
            rows = {r.name: r for r in conn.execute(select(self.tables.tracking))}
        return [
            ProjectionStatus(
                p.name, p.version, rows[p.name].position if p.name in rows else 0, head, self.inputs[p.name]
            )
            for p in self.projections
        ]

    # --- catching up ---------------------------------------------------------------------

    def catch_up(self, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event up to `until` (default: the last one now in the log); return how many."""
        self.ensure_tables()
        target = self.log_position() if until is None else until
        applied = 0
        with _fewer_collections():
            while True:
                count, done, position = self._step(target, None)
                applied += count
                if progress is not None:
                    progress(position, target)
                if done:
                    return applied

    def apply_notifications(self, notifications: Sequence[Notification]) -> int:
        """Apply notifications a subscription delivered (those not yet applied); return how many."""
        self.ensure_tables()
        if not notifications:
            return 0
        applied = 0
        with _fewer_collections():
            while True:
                count, done, _ = self._step(notifications[-1].id, notifications)
                applied += count
                if done:
                    return applied

    def rebuild(
        self, names: Sequence[str] = (), progress: Progress | None = None, until: int | None = None
    ) -> int:
        """Drop the named projections' tables (all when none named) and rebuild them from the log.

        In this process; `projections.views.parallel.rebuild` shares the work among
        worker processes and writes the same rows.
        """
        self.reset(names)
        return self.catch_up(until, progress=progress)

    def reset(self, names: Sequence[str] = ()) -> None:
        """Empty the named projections' tables (all when none named) and set their positions to 0."""
        self.ensure_tables()
        chosen = [p for p in self.projections if not names or p.name in names]
        with self._transaction() as conn:
            self._lock_positions(conn)
            for proj in chosen:
                self._reset(conn, proj)
        self.fold.clear()

    def _lock_positions(self, conn: Connection) -> dict[str, int]:
        tracking = self.tables.tracking
        query = select(tracking.c.name, tracking.c.position).where(
            tracking.c.name.in_([p.name for p in self.projections])
        )
        if self.location.kind == "postgres":
            query = query.with_for_update()
        return {row.name: int(row.position) for row in conn.execute(query)}

    def _step(self, target: int, delivered: Sequence[Notification] | None) -> tuple[int, bool, int]:
        """Apply one page in one transaction; return (events applied, done, position reached)."""
        try:
            with self._transaction() as conn:
                positions = self._lock_positions(conn)
                low = min(positions.values())
                if low >= target:
                    return 0, True, low
                page, end = self.page_after(low, target, delivered)
                if page:
                    self._apply_page(conn, page, positions)
                self._advance(conn, positions, end)
                return len(page), end >= target, end
        except BaseException:
            self.fold.clear()
            raise

    def page_after(
        self, low: int, target: int, delivered: Sequence[Notification] | None = None
    ) -> tuple[list[Notification], int]:
        """Return the next page of the log after `low` (up to `target`) and the position it ends at.

        The pages are fixed by the log and the page size: every process reading from the
        same position cuts the same pages (projections/views/parallel.py relies on it).
        """
        page = self._page(low, target, delivered)
        end = page[-1].id if page else target
        if len(page) < self.page_size:
            end = max(end, target)
        return page, end

    def _page(self, low: int, target: int, delivered: Sequence[Notification] | None) -> list[Notification]:
        if delivered is not None:
            fresh = [n for n in delivered if n.id > low]
            if fresh and fresh[0].id == low + 1:
                return fresh[: self.page_size]
        return list(
            self.store.app.recorder.select_notifications(
                low, self.page_size, stop=target, inclusive_of_start=False
            )
        )

    def positions(self) -> dict[str, int]:
        """Return each projection's tracked position (read in a transaction of its own)."""
        with self._transaction() as conn:
            return self._lock_positions(conn)

    def write_page(self, work: PageWork, expected: dict[str, int], end: int) -> dict[str, int] | None:
        """Write a page derived elsewhere, in one transaction, if the positions are still `expected`.

        Returns the positions after the page, or None (writing nothing) when another
        process moved them since: the page is no longer the next one.
        """
        with self._transaction() as conn:
            positions = self._lock_positions(conn)
            if positions != expected:
                return None
            self.write(conn, work)
            return self._advance(conn, positions, end)

    def _advance(self, conn: Connection, positions: dict[str, int], end: int) -> dict[str, int]:
        """Move the positions behind `end` to it; return the positions after."""
        tracking = self.tables.tracking
        behind = [name for name, position in positions.items() if position < end]
        if behind:
            conn.execute(update(tracking).where(tracking.c.name.in_(behind)).values(position=end))
        return advanced(positions, end)

    def _apply_page(self, conn: Connection, page: Sequence[Notification], positions: dict[str, int]) -> None:
        self.write(conn, self.derive(page, positions))

    def derive(
        self, page: Sequence[Notification], positions: dict[str, int], share: tuple[int, int] = (0, 1)
    ) -> PageWork:
        """Fold a page's events and derive the rows they change, ready for the driver (no database write).

        `share` (k, n) derives only the episodes whose id modulo n is k: a rebuild split over
        n processes gives each one share (projections/views/parallel.py).
        """
        to_event = self.store.app.mapper.to_domain_event
        episodes: dict[UUID, Episode] = {}
        first_seen: dict[UUID, int] = {}
        last_seen: dict[UUID, int] = {}
        opened: set[UUID] = set()
        damaged: set[UUID] = set()
        mine, shares = share
        for notification in page:
            episode_id = UUID(str(notification.originator_id))
            if episode_id in damaged or notification.topic.startswith(CLINIC_TOPICS):
                # The clinic's identity facts are not episode events (decision 0010).
                continue
            if shares > 1 and episode_id.int % shares != mine:
                continue
            try:
                event = to_event(notification)
                episode = self.fold.apply(event)
            except DamagedEvent:
                # One unreadable row stops its episode, not the store: its rows lose their seals
                # (queries refuse it, naming the version) and every other episode goes on.
                damaged.add(episode_id)
                for seen in (episodes, first_seen, last_seen):
                    seen.pop(episode_id, None)
                opened.discard(episode_id)
                continue
            episodes[episode.id] = episode
            first_seen.setdefault(episode.id, notification.id)
            last_seen[episode.id] = notification.id
            if event.originator_version == 1:
                opened.add(episode.id)
        work = PageWork(damaged=sorted(str(e) for e in damaged))
        derived = {
            episode_id: Derived(episode, self.context, self.fold.memo(episode_id))
            for episode_id, episode in episodes.items()
        }
        for proj in self.projections:
            position = positions[proj.name]
            touched = [e for e, last in last_seen.items() if last > position]
            if touched:
                fresh = {e for e in touched if e in opened and first_seen[e] > position}
                self._derive_rows(work, proj, [derived[e] for e in touched], fresh)
        return work

    def _derive_rows(self, work: PageWork, proj: Projection, items: list[Derived], fresh: set[UUID]) -> None:
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in proj.tables}
        seals: list[dict[str, Any]] = []
        tables = [self.tables.named(name) for name in proj.tables]
        for item in items:
            episode_rows = proj.rows(item)
            for name, table_rows in episode_rows.items():
                rows[name].extend(table_rows)
            seals.extend(seal_rows(tables, str(item.episode.id), item.episode.version, episode_rows))
        stale = [str(item.episode.id) for item in items if item.episode.id not in fresh]
        if stale:
            work.stale[proj.name] = stale
        for table in tables:
            if rows[table.name]:
                work.values.setdefault(table.name, []).extend(self._values(table, rows[table.name]))
        work.seals.extend(self._values(self.tables.seal, seals))

    def write(self, conn: Connection, work: PageWork) -> None:
        """Replace the rows a page's work changes, in the caller's transaction.

        The stale rows go first, one DELETE per table for the whole page (on PostgreSQL
        sent together in one pipeline), then each table's new rows and the page's seals
        in one insert (PostgreSQL: one COPY) each.
        """
        seal = self.tables.seal
        deletes: list[tuple[str, tuple[Any, ...]]] = []
        if work.damaged:
            deletes.append((self._delete_sql(seal), (self._ids(work.damaged),)))
        for proj in self.projections:
            stale = work.stale.get(proj.name)
            if not stale:
                continue
            ids = self._ids(stale)
            deletes.append((self._delete_sql(seal, by_table=True), (ids, self._ids(proj.tables))))
            deletes.extend((self._delete_sql(self.tables.named(name)), (ids,)) for name in proj.tables)
        if deletes and self.location.kind == "postgres":
            raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
            with raw.pipeline(), raw.cursor() as cursor:
                for statement, parameters in deletes:
                    cursor.execute(statement, parameters)
        else:
            for statement, parameters in deletes:
                conn.exec_driver_sql(statement, parameters)
        for name, values in work.values.items():
            self._write_values(conn, self.tables.named(name), values)
        self._write_values(conn, seal, work.seals)

    def _ids(self, ids: Sequence[str]) -> Any:
        """Episode ids (or table names) as one parameter: a PostgreSQL array, or JSON text for SQLite."""
        return list(ids) if self.location.kind == "postgres" else orjson.dumps(list(ids)).decode()

    def _delete_sql(self, table: Table, by_table: bool = False) -> str:
        """The DELETE of some episodes' rows of a table (and of the seal rows of some tables)."""
        key = (table.name, by_table)
        found = self._deletes.get(key)
        if found is None:
            # The table's own name, quoted by the dialect; the ids are parameters.
            name = self.engine.dialect.identifier_preparer.format_table(table)
            if self.location.kind == "postgres":
                found = f"DELETE FROM {name} WHERE episode_id = ANY(%s)"  # noqa: S608
                found += " AND table_name = ANY(%s)" if by_table else ""
            else:
                found = f"DELETE FROM {name} WHERE episode_id IN (SELECT value FROM json_each(?))"  # noqa: S608
                found += " AND table_name IN (SELECT value FROM json_each(?))" if by_table else ""
            self._deletes[key] = found
        return found

    def _values(self, table: Table, rows: list[dict[str, Any]]) -> list[Any]:
        """Turn rows into the values the driver takes (SQLite: its parameters; PostgreSQL: COPY rows)."""
        if self.location.kind == "sqlite":
            return self._sqlite_insert(table).values(rows)
        return self._postgres_copy(table).values(rows)

    def _write_values(self, conn: Connection, table: Table, values: list[Any]) -> None:
        if not values:
            return
        if self.location.kind == "sqlite":
            conn.exec_driver_sql(self._sqlite_insert(table).statement, values)
        else:
            self._postgres_copy(table).write(conn, values)

    def _sqlite_insert(self, table: Table) -> SqliteInsert:
        insert = self._sqlite_inserts.get(table.name)
        if insert is None:
            insert = self._sqlite_inserts[table.name] = SqliteInsert.of(table, self.engine.dialect)
        return insert

    def _postgres_copy(self, table: Table) -> PostgresCopy:
        copy = self._postgres_copies.get(table.name)
        if copy is None:
            copy = self._postgres_copies[table.name] = PostgresCopy.of(table, self.engine.dialect)
        return copy


def advanced(positions: dict[str, int], end: int) -> dict[str, int]:
    """The positions after a page ending at `end` was applied."""
    return {name: max(position, end) for name, position in positions.items()}


@dataclass
class PageWork:
    """What a page of notifications changes in the read models, as the driver takes it.

    `stale` names, per projection, the episodes whose rows are replaced (their old
    rows and seals are deleted first); `values` holds the new rows of each table and
    `seals` their seals, already converted for the backend; `damaged` are the
    episodes with an unreadable event (their seals are deleted, so queries refuse them).
    Work derived by several processes for one page is merged before it is written.
    """

    damaged: list[str] = field(default_factory=list)
    stale: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)
    seals: list[Any] = field(default_factory=list)

    def merge(self, other: PageWork) -> None:
        """Add another share's work for the same page."""
        self.damaged.extend(other.damaged)
        for name, ids in other.stale.items():
            self.stale.setdefault(name, []).extend(ids)
        for name, values in other.values.items():
            self.values.setdefault(name, []).extend(values)
        self.seals.extend(other.seals)
