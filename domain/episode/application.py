"""The application service: one method per command, returning plain values.

`Episodes` is an eventsourcing `Application`. It validates nothing itself: the
commands are typed, and the aggregate checks its invariants. It adds what a
command lacks (the episode, the time, the author's identity as stored), makes
commands idempotent by `command_id`, retries on a concurrent write, and turns
storage errors into domain errors.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, ClassVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import IntegrityError, Mapper, PersistenceError
from eventsourcing.utils import Environment, EnvType

from domain.episode import commands as c
from domain.episode.aggregate import CommandMeta, Episode, topics_of
from domain.episode.audit import AuditEntry, ChangeReport, changes_in, last_version_at, visit_history
from domain.errors import (
    CareledgerError,
    CommandConflict,
    ConcurrencyConflict,
    EpisodeNotFound,
    InvalidInput,
    StoreUnavailable,
)
from domain.rules.catalogue import payer_profiles

Clock = Callable[[], datetime]

EPISODE_NAMESPACE = uuid5(NAMESPACE_URL, "https://careledger.invalid/episode")
SNAPSHOT_INTERVAL = 50
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class RetryPolicy:
    """How often a command is tried again after another writer changed its episode, and how long to wait.

    Attempt n (from 1) that fails waits a random time between 0 and
    min(max_delay, base_delay * 2**(n-1)) seconds ("full jitter"), so writers that
    collided do not collide again in step. After `attempts` tries the command
    fails with ConcurrencyConflict and nothing is stored.
    """

    attempts: int = MAX_ATTEMPTS
    base_delay: float = 0.005
    max_delay: float = 0.25
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    jitter: Callable[[float, float], float] = field(default=random.uniform, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidInput("attempts", f"{self.attempts} must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise InvalidInput("retry delay", "must not be negative")

    def wait(self, failed_attempt: int) -> None:
        """Sleep before the next attempt, after attempt number `failed_attempt` (from 1) failed."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (failed_attempt - 1))
        if ceiling > 0:
            self.sleep(self.jitter(0, ceiling))


@dataclass(frozen=True)
class CommandResult:
    """What happened to a command: the episode, its version now, and the event stored."""

    command_id: UUID
    command: str
    episode_id: UUID
    version: int
    applied: bool
    event: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values."""
        return {
            "command_id": str(self.command_id),
            "command": self.command,
            "episode_id": str(self.episode_id),
            "version": self.version,
            "applied": self.applied,
            "event": self.event,
        }


def derived_episode_id(command_id: UUID) -> UUID:
    """Return the episode id an `open_episode` without `episode_id` gets."""
    return uuid5(EPISODE_NAMESPACE, str(command_id))


class Episodes(Application[UUID]):
    """The careledger application: episodes of care as event-sourced aggregates."""

    name = "careledger"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Episode: SNAPSHOT_INTERVAL}

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        clock: Clock | None = None,
        payer_dirs: Sequence[Path] = (),
        retry: RetryPolicy | None = None,
        timezone: tzinfo = UTC,
    ) -> None:
        try:
            super().__init__(env)
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: cannot open the event store ({exc})") from exc
        self.clock: Clock = clock or datetime_now_with_tzinfo
        self.payer_dirs = tuple(payer_dirs)
        self.retry = retry or RetryPolicy()
        # The clinic's time zone: a command's "today" is the date there when it is recorded
        # (a setting of the store, so every server decides the same command the same way).
        self.timezone = timezone

    # --- configuration -------------------------------------------------------------------

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Use only the given settings, never stray process environment variables."""
        settings = dict(type(self).env)
        if type(self).snapshotting_intervals:
            settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        settings.update(env or {})
        return Environment(name, settings)

    def construct_mapper(self) -> Mapper[UUID]:
        """Use the pydantic/orjson mapper (see `domain.episode.codec`)."""
        from domain.episode.codec import OrjsonTranscoder, PydanticMapper

        return PydanticMapper(
            transcoder=OrjsonTranscoder(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )

    # --- commands ------------------------------------------------------------------------

    def handle(self, command: c.Command, *, recorded_at: datetime | None = None) -> CommandResult:
        """Apply one command atomically; retry (with jittered backoff) if another writer got there first.

        `recorded_at` replays a fact recorded elsewhere at that time (a FHIR bundle's
        provenance): it becomes the event's recorded time instead of now, and must
        come after the episode's last recorded time.
        """
        c.check_at_door(command.model_dump(mode="json", exclude_none=True))  # a Python caller's too
        attempts = self.retry.attempts
        for attempt in range(1, attempts + 1):
            pending: dict[UUID, Episode] = {}
            result = self._decide(command, pending, recorded_at=recorded_at)
            try:
                self._save(pending.values())
            except IntegrityError:
                if attempt < attempts:
                    self.retry.wait(attempt)
                continue
            return result
        raise ConcurrencyConflict(self._episode_id_of(command), attempts)

    def handle_batch(self, commands: Sequence[c.Command]) -> list[CommandResult | CareledgerError]:
        """Apply commands in order, storing the accepted ones in one transaction.

        Each command is atomic on its own: a rejected command stores nothing and
        does not stop the others. If another writer changed one of the episodes
        meanwhile, the batch is applied again one command at a time.
        """
        refused: dict[int, CareledgerError] = {}
        for index, command in enumerate(commands):
            try:
                c.check_at_door(command.model_dump(mode="json", exclude_none=True))
            except InvalidInput as error:
                refused[index] = error
        done = iter(self._batch([x for i, x in enumerate(commands) if i not in refused], _EpisodeCache(0)))
        return [refused[i] if i in refused else next(done) for i in range(len(commands))]

    def _batch(
        self, commands: Sequence[c.Command], cache: _EpisodeCache
    ) -> list[CommandResult | CareledgerError]:
        results: list[CommandResult | CareledgerError] = []
        touched: dict[UUID, Episode] = {}
        for command in commands:
            try:
                results.append(self._decide(command, touched, cache))
            except StoreUnavailable:
                raise  # the store is gone: not a reason to reject this command, and the rest would fail too
            except CareledgerError as error:
                results.append(error)
        try:
            self._save(touched.values())
        except IntegrityError:
            cache.clear()
            return [self._handle_quietly(command) for command in commands]
        for episode_id, episode in touched.items():
            cache.put(episode_id, episode)
        return results

    def importer(self, cache_size: int = 1000) -> Callable[[Sequence[c.Command]], list[Any]]:
        """Return a batch handler that keeps recently used episodes in memory between batches."""
        cache = _EpisodeCache(cache_size)
        return lambda batch: self._batch(batch, cache)

    def _handle_quietly(self, command: c.Command) -> CommandResult | CareledgerError:
        try:
            return self.handle(command)
        except StoreUnavailable:
            raise
        except CareledgerError as error:
            return error

    # --- queries -------------------------------------------------------------------------

    def get_episode(self, episode_id: UUID, version: int | None = None) -> Episode:
        """Return the episode (at a version, if given: one it has, from 1 to its current version)."""
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise InvalidInput("version", f"{version!r} is not a version: versions count from 1")
        try:
            episode: Episode = self.repository.get(episode_id, version=version)
        except AggregateNotFoundError:
            raise EpisodeNotFound(episode_id) from None
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc
        if version is not None and episode.version != version:
            raise InvalidInput(
                "version", f"episode {episode_id} has versions 1 to {episode.version}, not {version}"
            )
        return episode

    def history(self, episode_id: UUID) -> list[Episode.Event]:
        """Return every stored event of an episode, oldest first."""
        try:
            events = cast(list[Episode.Event], list(self.events.get(episode_id)))
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc
        if not events:
            raise EpisodeNotFound(episode_id)
        return events

    # --- audit: the record as it stood at a recorded time (see domain/audit.py) ---------------

    def last_version(self, episode_id: UUID) -> int:
        """Return the episode's current version without loading it."""
        stored = self._select(episode_id, desc=True, limit=1)
        if not stored:
            raise EpisodeNotFound(episode_id)
        return int(stored[0].originator_version)

    def recorded_at(self, episode_id: UUID, version: int) -> datetime:
        """Return when version `version` of the episode was recorded."""
        stored = self._select(episode_id, gt=version - 1, lte=version)
        if not stored:
            raise EpisodeNotFound(episode_id)
        event = cast(Episode.Event, self.mapper.to_domain_event(stored[0]))
        return event.timestamp

    def version_as_of(self, episode_id: UUID, at: datetime) -> int:
        """Return the last version recorded at or before `at` (0 if the episode was not open yet)."""
        last = self.last_version(episode_id)
        return last_version_at(at, last, lambda version: self.recorded_at(episode_id, version))

    def episode_as_of(self, episode_id: UUID, at: datetime) -> Episode:
        """Return the episode as it stood at recorded time `at` (from the nearest snapshot)."""
        version = self.version_as_of(episode_id, at)
        if version == 0:
            opened = self.recorded_at(episode_id, 1)
            raise InvalidInput(
                "as_of", f"{at.isoformat()} is before episode {episode_id} was opened ({opened.isoformat()})"
            )
        return self.get_episode(episode_id, version=version)

    def changes_between(
        self, episode_id: UUID, since: datetime, until: datetime | None = None
    ) -> ChangeReport:
        """Return each amendment (before and after) and other event recorded after `since`, to `until`."""
        if until is not None and until < since:
            raise InvalidInput("until", f"{until.isoformat()} is before since {since.isoformat()}")
        first = self.version_as_of(episode_id, since)
        last = self.version_as_of(episode_id, until) if until is not None else self.last_version(episode_id)
        start = self.get_episode(episode_id, version=first) if first else None
        try:
            events = cast(list[Episode.Event], list(self.events.get(episode_id, gt=first, lte=last)))
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc
        amendments, recorded = changes_in(start, events)
        return ChangeReport(
            episode_id=episode_id,
            since=since,
            until=until,
            from_version=first,
            to_version=last,
            amendments=tuple(amendments),
            recorded=tuple(recorded),
        )

    def visit_history(self, episode_id: UUID, date_of_service: date) -> list[AuditEntry]:
        """Return every version of the visit on a date of service: who, when, why and what changed."""
        entries = visit_history(self.history(episode_id), date_of_service)
        if not entries:
            raise InvalidInput("date_of_service", f"no visit on {date_of_service} was ever recorded")
        return entries

    def _select(self, episode_id: UUID, **options: Any) -> Sequence[Any]:
        try:
            return self.recorder.select_events(episode_id, **options)
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: {exc}") from exc

    def episode_ids(self) -> Iterator[UUID]:
        """Yield the id of every episode, in the order they were opened."""
        topics = topics_of(Episode.Opened)
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 1000, topics=topics)
            for notification in page:
                yield UUID(str(notification.originator_id))
            if len(page) < 1000:
                return
            start = page[-1].id + 1

    # --- internals -----------------------------------------------------------------------

    def _decide(
        self,
        command: c.Command,
        touched: dict[UUID, Episode],
        cache: _EpisodeCache | None = None,
        recorded_at: datetime | None = None,
    ) -> CommandResult:
        """Run a command against its episode (loading it once per batch); store nothing."""
        digest = command.digest()
        episode_id = self._episode_id_of(command)
        episode = touched.get(episode_id) or (cache.get(episode_id) if cache else None)
        if episode is None:
            episode = self._load_or_none(episode_id)
            if episode is not None and cache is not None:
                # Keep it even if this command changes nothing (a replayed line): re-importing a
                # file, or resuming one after a crash, then loads each episode once, not per line.
                cache.put(episode_id, episode)
        if isinstance(command, c.OpenEpisode):
            if episode is not None:
                return self._replayed(command, digest, episode, "episode_id")
            meta = self._meta(command, digest, None, recorded_at)
            episode = Episode.open(episode_id, self._with_unit_rule(command), meta)
            touched[episode_id] = episode
            return self._result(command, episode)
        if episode is None:
            raise EpisodeNotFound(episode_id)
        if str(command.command_id) in episode.commands:
            return self._replayed(command, digest, episode, "command_id")
        before = episode.version
        # Each command is decided by the Episode method of its name (domain.episode.commands).
        getattr(episode, command.command)(command, self._meta(command, digest, episode, recorded_at))
        if episode.version != before:
            touched[episode_id] = episode
        return self._result(command, episode)

    def _replayed(self, command: c.Command, digest: str, episode: Episode, field: str) -> CommandResult:
        known = episode.commands.get(str(command.command_id))
        if known is None:
            raise InvalidInput(field, f"episode {episode.id} already exists")
        if known != digest:
            raise CommandConflict(command.command_id)
        return CommandResult(
            command_id=command.command_id,
            command=command.command,
            episode_id=episode.id,
            version=episode.version,
            applied=False,
            event=None,
        )

    def _result(self, command: c.Command, episode: Episode) -> CommandResult:
        event = episode.pending_events[-1] if episode.pending_events else None
        return CommandResult(
            command_id=command.command_id,
            command=command.command,
            episode_id=episode.id,
            version=episode.version,
            applied=True,
            event=type(event).__name__ if event is not None else None,
        )

    def _meta(
        self,
        command: c.Command,
        digest: str,
        episode: Episode | None = None,
        recorded_at: datetime | None = None,
    ) -> CommandMeta:
        if recorded_at is not None:
            if recorded_at.tzinfo is None:
                raise InvalidInput(
                    "recorded_at", "give a time with its offset (e.g. 2026-03-02T17:30:00+00:00)"
                )
            if episode is not None and recorded_at <= episode.modified_on:
                raise InvalidInput(
                    "recorded_at",
                    f"{recorded_at.isoformat()} is not after the episode's last recorded time "
                    f"{episode.modified_on.isoformat()}",
                )
        now = recorded_at or self.clock()
        if episode is not None and now <= episode.modified_on:
            # Keep recorded times strictly increasing within an episode, even if the
            # clock steps back, so "as of T" never splits an episode's order.
            now = episode.modified_on + timedelta(microseconds=1)
        return CommandMeta(
            command_id=command.command_id,
            command_digest=digest,
            recorded_by=command.recorded_by,
            timestamp=now,
            today=now.astimezone(self.timezone).date(),
        )

    def _with_unit_rule(self, command: c.OpenEpisode) -> c.OpenEpisode:
        if command.payer.unit_rule is not None:
            return command
        profile = payer_profiles(self.payer_dirs).get(command.payer.payer_id)
        if profile is None:
            known = ", ".join(sorted(payer_profiles(self.payer_dirs)))
            raise InvalidInput(
                "payer.unit_rule",
                f"payer '{command.payer.payer_id}' has no profile (known: {known}); "
                "give unit_rule cms or ama",
            )
        payer = command.payer.model_copy(update={"unit_rule": profile.unit_rule})
        return command.model_copy(update={"payer": payer})

    @staticmethod
    def _episode_id_of(command: c.Command) -> UUID:
        if isinstance(command, c.OpenEpisode):
            return command.episode_id or derived_episode_id(command.command_id)
        if isinstance(command, c.EpisodeCommand):
            return command.episode_id
        raise InvalidInput("command", f"'{command.command}' does not name an episode")

    def _load_or_none(self, episode_id: UUID) -> Episode | None:
        # One indexed look-up first: an import opens thousands of new episodes, and
        # the repository would look for a snapshot and then for events of each.
        if not self._select(episode_id, desc=True, limit=1):
            return None
        try:
            return self.get_episode(episode_id)
        except EpisodeNotFound:
            return None

    def _save(self, episodes: Iterable[Episode]) -> None:
        batch = [e for e in episodes if e.pending_events]
        if not batch:
            return
        try:
            self.save(*batch)
        except IntegrityError:
            raise
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: nothing was stored ({exc})") from exc

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot an episode from memory when a save crosses a multiple of the interval."""
        if self.snapshots is None:
            return
        crossed: set[UUID] = set()
        for event in processing_event.events:
            if event.originator_version % SNAPSHOT_INTERVAL == 0:
                crossed.add(event.originator_id)
        snapshots = []
        for episode_id in crossed:
            episode = processing_event.aggregates.get(episode_id)
            if isinstance(episode, Episode):
                snapshots.append(Episode.Snapshot.take(episode))
        if snapshots:
            self.snapshots.put(snapshots)


class _EpisodeCache:
    """A small LRU of episodes kept between import batches (size 0 keeps nothing)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[UUID, Episode] = OrderedDict()

    def get(self, episode_id: UUID) -> Episode | None:
        episode = self._items.get(episode_id)
        if episode is not None:
            self._items.move_to_end(episode_id)
        return episode

    def put(self, episode_id: UUID, episode: Episode) -> None:
        if self.size <= 0:
            return
        self._items[episode_id] = episode
        self._items.move_to_end(episode_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
