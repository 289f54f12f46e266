"""Following the event log: live on PostgreSQL (LISTEN/NOTIFY), by polling on SQLite.

On PostgreSQL, eventsourcing's `recorder.subscribe(gt=position)` yields every
notification after the projections' position as soon as it is committed (the
recorder serialises inserts with a table lock, so ids are committed in order;
careledger never enables POSTGRES_ENABLE_DB_FUNCTIONS, see decision 0001). A
feeder thread moves them into a queue; the caller's thread drains it in pages
and hands each page to `Projector.apply_notifications`, which applies what no
other process has applied yet, in one transaction per page. SQLite cannot push,
so there the follower catches up every `interval` seconds.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from domain.errors import CareledgerError, StoreUnavailable
from projections.views.projector import Projector

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

OnApplied = Callable[[int, int], None]
_QUEUE_MAX = 20_000


def follow(
    projector: Projector,
    stop: threading.Event,
    *,
    interval: float = 1.0,
    on_applied: OnApplied | None = None,
) -> None:
    """Keep the projections up to date until `stop` is set."""
    projector.ensure_tables()
    if projector.location.kind != "postgres":
        _poll(projector, stop, interval, on_applied)
        return
    position = min(s.position for s in projector.status())
    feed: queue.Queue[Notification] = queue.Queue(maxsize=_QUEUE_MAX)
    failures: list[BaseException] = []
    subscription = projector.store.app.recorder.subscribe(gt=position)

    def pump() -> None:
        try:
            for notification in subscription:
                while not stop.is_set():
                    try:
                        feed.put(notification, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # reported to the caller's thread
            failures.append(exc)
            stop.set()

    with subscription:
        thread = threading.Thread(target=pump, name="careledger-log-follower", daemon=True)
        thread.start()
        try:
            while not stop.is_set():
                batch = _drain(feed, projector.page_size)
                if batch:
                    count = projector.apply_notifications(batch)
                    if count and on_applied is not None:
                        on_applied(count, batch[-1].id)
        finally:
            stop.set()
            subscription.stop()
    thread.join(timeout=5)
    if failures:
        failure = failures[0]
        if isinstance(failure, CareledgerError):
            raise failure
        raise StoreUnavailable(f"database: lost the subscription to the event log ({failure})") from failure


def _drain(feed: queue.Queue[Notification], limit: int) -> list[Notification]:
    try:
        batch = [feed.get(timeout=0.2)]
    except queue.Empty:
        return []
    while len(batch) < limit:
        try:
            batch.append(feed.get_nowait())
        except queue.Empty:
            break
    return batch


def _poll(projector: Projector, stop: threading.Event, interval: float, on_applied: OnApplied | None) -> None:
    while not stop.is_set():
        count = projector.catch_up()
        if count and on_applied is not None:
            on_applied(count, projector.log_position())
        stop.wait(interval)
