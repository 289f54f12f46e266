"""The benchmark cases that run inside this process: ingest, replay, projections, audit.

Each returns a dict of figures (rates in events/s, times in ms or s); `run.py`
takes medians over repeats and compares them with the issue's targets.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application, project_aggregate

from benchmarks.baseline import Record, raw_app
from benchmarks.workload import Workload, read_stream
from domain.episode.importer import BATCH_SIZE, import_lines
from projections.store.root import Store, parse_location
from projections.views import parallel
from projections.views.projector import Projector
from tests import builders as b


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Return (seconds, result) of one call, after a full garbage collection."""
    gc.collect()
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


# --- 1. ingest -------------------------------------------------------------------------------


def ingest_careledger(db: str, workload: Workload) -> float:
    """Import the command file through `domain.episode.importer.import_lines`; return events/s."""
    with Store(parse_location(db)) as store:

        def run() -> int:
            rejected = 0
            for outcome in import_lines(store.app, read_stream(workload.path), default_user="bench"):
                rejected += outcome.error is not None
            return rejected

        seconds, rejected = timed(run)
        if rejected:
            raise SystemExit(f"ingest: {rejected} commands were rejected; the workload must be all valid")
        stored = store.app.recorder.max_notification_id() or 0
    return stored / seconds


def reimport_careledger(db: str, workload: Workload) -> dict[str, float]:
    """Import a command file, then import it again (every line already applied); return both times."""
    with Store(parse_location(db)) as store:

        def run() -> int:
            return sum(
                1
                for outcome in import_lines(store.app, read_stream(workload.path), default_user="bench")
                if outcome.result is not None and outcome.result.applied
            )

        first, applied = timed(run)
        again, reapplied = timed(run)
    if applied != workload.commands or reapplied:
        raise SystemExit(f"reimport: {applied} applied first, {reapplied} again; expected all, then none")
    return {"first_s": first, "again_s": again, "ratio": again / first}


def ingest_raw(db: str, workload: Workload) -> float:
    """Store the same commands' JSON as events of eventsourcing's own Aggregate, same batches; events/s."""
    with Store(parse_location(db)) as located:  # only to reuse the location's settings
        env = {k: v for k, v in located.location.es_env.items() if k != "APPLICATION_RECORDER_TOPIC"}
    app = raw_app(env)
    try:

        def run() -> int:
            streams: dict[str, int] = {}
            batch: list[tuple[int, dict[str, Any]]] = []
            stored = 0
            for line in read_stream(workload.path):
                document = orjson.loads(line)
                key = document.get("episode_id") or document["command_id"]
                batch.append((streams.setdefault(key, len(streams)), document))
                if len(batch) == BATCH_SIZE:
                    stored += store_batches_keeping(app, [batch])
                    batch = []
            return stored + store_batches_keeping(app, [batch])

        seconds, stored = timed(run)
    finally:
        _AGGREGATES.pop(id(app), None)
        app.close()
    return float(stored) / seconds


_AGGREGATES: dict[int, dict[int, Record]] = {}


def store_batches_keeping(app: Application[UUID], batches: list[list[tuple[int, dict[str, Any]]]]) -> int:
    """`store_batches`, keeping the aggregates between calls (as careledger's import keeps episodes)."""
    aggregates = _AGGREGATES.setdefault(id(app), {})
    stored = 0
    for batch in batches:
        touched: dict[int, Record] = {}
        for stream, payload in batch:
            found = aggregates.get(stream)
            if found is None:
                found = aggregates[stream] = Record(payload)
            else:
                found.record(payload)
            touched[stream] = found
            stored += 1
        if touched:
            app.save(*touched.values())
    return stored


# --- 2. replay -------------------------------------------------------------------------------


def build_long_episode(db: str, events: int) -> UUID:
    """Store one episode of `events` events: the opening, then a visit a day with a full note."""
    clock_now = [datetime(2026, 11, 1, 9, tzinfo=UTC)]
    with Store(parse_location(db), clock=lambda: clock_now[0]) as store:
        start = date(2023, 1, 2)
        episode_id = store.app.handle(b.open_episode(start_date=str(start))).episode_id
        handle = store.app.importer()
        commands = [
            b.visit(episode_id, date_of_service=str(start + timedelta(days=n))) for n in range(events - 1)
        ]
        for first in range(0, len(commands), BATCH_SIZE):
            handle(commands[first : first + BATCH_SIZE])
        return episode_id


def replay_careledger(db: str, episode_id: UUID, repeat: int) -> dict[str, float]:
    """Median ms to load the episode with its snapshot, and from its events alone.

    A snapshot's visit notes are validated when first read (domain/lazy.py), so
    beside the load itself this also times a load followed by reading every note.
    """
    with Store(parse_location(db)) as store:
        app = store.app
        with_snapshot = [timed(lambda: app.get_episode(episode_id))[0] for _ in range(repeat)]
        every_note = [timed(lambda: app.get_episode(episode_id).state())[0] for _ in range(repeat)]
        events_only = [
            timed(lambda: project_aggregate(None, app.events.get(episode_id)))[0] for _ in range(repeat)
        ]
        sample = app.get_episode(episode_id)
        if len(sample.visits) != sample.version - 1:
            raise SystemExit("replay: the loaded episode lacks visits")
    return {
        "with_snapshot_ms": statistics.median(with_snapshot) * 1000,
        "with_snapshot_every_note_read_ms": statistics.median(every_note) * 1000,
        "events_only_ms": statistics.median(events_only) * 1000,
    }


def replay_raw(db: str, careledger_db: str, episode_id: UUID, repeat: int) -> dict[str, float]:
    """The same events' JSON in eventsourcing's own Aggregate: load with a snapshot and without."""
    with Store(parse_location(careledger_db)) as store:
        payloads = [e.payload() for e in store.app.history(episode_id)]
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": db, "IS_SNAPSHOTTING_ENABLED": "y"}
    app = raw_app(env)
    try:
        record = Record(payloads[0])
        for payload in payloads[1:]:
            record.record(payload)
        app.save(record)
        app.take_snapshot(record.id)
        with_snapshot = [timed(lambda: app.repository.get(record.id))[0] for _ in range(repeat)]
        events_only = [
            timed(lambda: project_aggregate(None, app.events.get(record.id)))[0] for _ in range(repeat)
        ]
    finally:
        app.close()
    return {
        "with_snapshot_ms": statistics.median(with_snapshot) * 1000,
        "events_only_ms": statistics.median(events_only) * 1000,
    }


# --- 3. projections --------------------------------------------------------------------------


def rebuild(db: str, workers: int | None = None) -> dict[str, float]:
    """Rebuild every read model from the log (`careledger projections rebuild`); events, seconds, events/s.

    `workers` None is the command's default (a worker process per core from 20,000 events);
    1 keeps the whole rebuild in this process.
    """
    with Store(parse_location(db)) as store:
        projector = Projector(store)
        try:
            events = projector.log_position()
            shares = parallel.plan_shares(projector, workers, events)
            seconds, events = timed(lambda: parallel.rebuild(projector, workers=workers))
        finally:
            projector.close()
    return {"events": events, "workers": shares, "seconds": seconds, "events_per_second": events / seconds}


# --- 5. audit --------------------------------------------------------------------------------


def audit_as_of(db: str, visits: int, repeat: int) -> dict[str, float]:
    """Median and p95 ms of `Episodes.episode_as_of` on an episode of `visits` visits."""
    import random

    from benchmarks.audit_as_of import build

    episode_id, times = build(db, visits)
    rng = random.Random(1)
    moments = [times[0] + (times[-1] - times[0]) * rng.random() for _ in range(repeat)]
    with Store(parse_location(db)) as store:
        samples = sorted(timed(lambda m=m: store.app.episode_as_of(episode_id, m))[0] * 1000 for m in moments)
    return {"median_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


def verify_store(db: str) -> dict[str, float]:
    """Walk every chain of the store (and compare each snapshot with a replay); return events/s."""
    from projections.store.verify import snapshot_checker, verify_chains

    with Store(parse_location(db)) as store:
        report = verify_chains(store.app.recorder, None, None, snapshot_checker(store.app))  # type: ignore[arg-type]
    if not report.intact:
        raise SystemExit("verify: the benchmark store's chain is broken")
    return {
        "events": report.events,
        "snapshots": report.snapshots,
        "seconds": report.seconds,
        "events_per_second": report.events_per_second,
    }
