"""What one worker process holds: the open store, the read models, and the follower of the event log.

Commands go to the store's `Episodes` application (its own connection pool).
The read models have their own connections (the projector's engine), so a
catch-up never waits for a command's connection; catch-ups in one process take
turns (a lock), and each read catches its read models up first, as the CLI does,
so a client reads what it wrote. With `--follow`, a thread keeps the read models
current in the background, so that catch-up is usually empty.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from cli.service.config import ServiceConfig
from projections.store.root import Store, open_store
from projections.views.findings_query import FindingsReader
from projections.views.projector import Projector
from projections.views.queries import ReadModels


class Bodies:
    """The JSON of recent episodes at a version (GET /episodes/{id}), per worker, most recent kept.

    A version of an episode never changes once stored (and is verified again before
    every read), so its JSON is built once; a write makes a new version, a new key.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[UUID, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, episode_id: UUID, version: int) -> bytes | None:
        """Return the episode's JSON at this version, if kept."""
        with self._lock:
            item = self._items.get(episode_id)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(episode_id)
            return item[1]

    def put(self, episode_id: UUID, version: int, body: bytes) -> None:
        """Keep the episode's JSON at a version (replacing an older one of the same episode)."""
        with self._lock:
            kept = self._items.get(episode_id)
            if kept is not None and kept[0] > version:
                return
            self._items[episode_id] = (version, body)
            self._items.move_to_end(episode_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Service:
    """The store and read models of one worker, opened at start-up and closed at shutdown."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.store: Store = open_store(config.db, create=True)
        if self.store.read_only:
            self.store.close()
            from domain.errors import StoreUnavailable

            raise StoreUnavailable(
                f"db: {self.store.location.display} is read-only; the service records every read in its store"
            )
        self.projector = Projector(self.store)
        self.projector.ensure_tables()
        self.models = ReadModels(self.store, self.projector)
        self.findings = FindingsReader(self.store, self.projector)
        self.bodies = Bodies()
        self._catching_up = threading.Lock()
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._follow_projector: Projector | None = None
        if config.follow:
            self._start_following()

    def _start_following(self) -> None:
        from projections.views.runner import follow

        self._follow_projector = Projector(self.store)
        projector = self._follow_projector

        def run() -> None:
            while not self._stop.is_set():
                try:
                    follow(projector, self._stop, interval=0.5)
                except Exception:  # the store went away: try again; reads still catch up
                    self._stop.wait(2.0)

        self._follower = threading.Thread(target=run, name="careledger-follow", daemon=True)
        self._follower.start()

    def catch_up(self) -> None:
        """Bring the read models up to the end of the event log (one catch-up at a time)."""
        with self._catching_up:
            self.projector.catch_up()

    @contextmanager
    def fresh(self) -> Iterator[ReadModels]:
        """Yield the read models, caught up first."""
        self.catch_up()
        yield self.models

    def lag(self) -> int:
        """Return how many events the read models are behind the log."""
        return max((s.lag for s in self.projector.status()), default=0)

    def close(self) -> None:
        """Stop following and close every connection."""
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
        if self._follow_projector is not None:
            self._follow_projector.close()
        self.projector.close()
        self.store.close()
