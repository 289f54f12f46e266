"""The read models on real stores: a SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from domain.demo import Recorded, ReplayClock, demo_clinic, demo_episode_ids, synthetic_clinic
from domain.episode import commands as c
from projections.store.root import Store, parse_location
from projections.views.projector import Projector
from projections.views.queries import ReadModels
from projections.views.runner import follow
from projections.views.schema import make_engine
from tests.conftest import drop_pg_schema, new_pg_schema_url, require_postgres
from tests.readmodels import apply, dump, episode_key, import_batch, interleaved


@pytest.fixture
def demo(db_url: str) -> Iterator[Store]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(db_url), clock=clock)
    for item in recorded:
        clock.now = item.at
        store.app.handle(item.command)
    yield store
    store.close()


@pytest.fixture
def models(demo: Store) -> Iterator[ReadModels]:
    read = ReadModels(demo)
    read.refresh()
    yield read
    read.close()


def test_the_knee_improves_its_lefs_past_the_mcid(models: ReadModels) -> None:
    answer = models.outcomes(demo_episode_ids()["knee"])
    [lefs] = answer["instruments"]
    assert (str(lefs["baseline"]["score"]), str(lefs["latest"]["score"])) == ("24", "55")
    assert lefs["reaches_mcid"] is True and lefs["verdict"] == "improved_past_mcid"
    assert [s["verdict"] for s in lefs["scores"]][1:] == ["improved_past_mcid"] * 3


def test_the_knee_progresses_and_the_back_plateaus(models: ReadModels) -> None:
    ids = demo_episode_ids()
    knee = models.progression(ids["knee"])
    changed = [
        r.command
        for r in demo_clinic()
        if isinstance(r.command, (c.ProgressExercise, c.RegressExercise))
        and r.command.episode_id == ids["knee"]
    ]
    assert sum(ex["changes"] for ex in knee["exercises"]) == len(changed) > 0
    assert not any(
        ex["plateau"] for ex in knee["exercises"]
    )  # docs/rules.md#progression: every exercise moves or stops
    back = models.progression(ids["back"])
    assert sum(ex["changes"] for ex in back["exercises"]) == 0
    assert all(ex["plateau"] for ex in back["exercises"])
    assert {p["visits"] for ex in back["exercises"] for p in ex["plateaus"]} == {14}
    one = models.progression(ids["knee"], exercise="slr", plateau_visits=10)
    assert [ex["exercise_id"] for ex in one["exercises"]] == ["slr"] and not one["exercises"][0]["plateau"]


def test_the_back_shows_its_late_certification_and_late_progress_report(models: ReadModels) -> None:
    answer = models.continuity(demo_episode_ids()["back"], date(2026, 5, 1))
    codes = {g["code"] for g in answer["gaps"]}
    assert {"certification_late", "progress_report_late", "not_validly_certified"} <= codes
    late = next(g for g in answer["gaps"] if g["code"] == "progress_report_late")
    assert "treatment day 13" in late["message"] and "docs/rules.md#progress-reports" in late["rule"]
    assert [v["report_due"] for v in answer["visits"]].count(True) == 4
    assert not any(v["certified"] for v in answer["visits"])
    knee = models.continuity(demo_episode_ids()["knee"], date(2026, 5, 1))
    assert knee["gaps"] == [] and all(v["certified"] for v in knee["visits"])


def test_the_timeline_and_the_list_cover_every_episode(models: ReadModels, demo: Store) -> None:
    listed = models.episodes()
    assert [row["patient_ref"] for row in listed] == ["PT-1001", "PT-1002", "OT-2001", "PT-1003"]
    assert {row["patient_ref"]: row["open_gaps"] for row in listed}["PT-1002"] == 3
    knee = demo_episode_ids()["knee"]
    entries = models.timeline(knee)["entries"]
    assert len(entries) == demo.app.get_episode(knee).version
    assert [e["clinical_date"] for e in entries] == sorted(e["clinical_date"] for e in entries)


def test_a_query_includes_an_event_another_process_wrote_just_before(demo: Store, db_url: str) -> None:
    read = ReadModels(demo)
    read.refresh()
    other = Store(parse_location(db_url), clock=demo.app.clock)
    try:
        from domain.episode import commands as c
        from tests import builders as b

        shoulder = demo_episode_ids()["shoulder"]
        other.app.handle(
            b.command(c.RecordOutcome, shoulder, instrument="QuickDASH", score="30", taken_on="2026-05-14")
        )
        read.refresh()
        [dash] = read.outcomes(shoulder)["instruments"]
        assert str(dash["latest"]["score"]) == "30"
    finally:
        other.close()
        read.close()


def test_two_processes_catching_up_at_once_apply_each_event_once(demo: Store, db_url: str) -> None:
    head = demo.app.recorder.max_notification_id()
    stores = [Store(parse_location(db_url)) for _ in range(2)]
    projectors = [Projector(s, page_size=7) for s in stores]
    for projector in projectors:
        projector.ensure_tables()
    counts: list[int] = []
    threads = [threading.Thread(target=lambda p=p: counts.append(p.catch_up())) for p in projectors]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(counts) == head
        incremental = dump(projectors[0])
        projectors[1].rebuild()
        assert dump(projectors[1]) == incremental
    finally:
        for projector, store in zip(projectors, stores, strict=True):
            projector.close()
            store.close()


def test_a_rebuild_equals_the_read_models_built_while_a_clinic_was_imported(db_url: str) -> None:
    """Acceptance 2 at a small size: the synthetic clinic imported in batches, caught up after each."""
    recorded = list(synthetic_clinic(40, seed=4))
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(db_url), clock=clock)
    projector = Projector(store, page_size=64)
    try:
        for start in range(0, len(recorded), 97):
            import_batch(store, clock, recorded[start : start + 97])
            projector.catch_up()
        assert projector.log_position() == len(recorded) > 1000
        incremental = dump(projector)
        assert projector.rebuild() == len(recorded)
        assert dump(projector) == incremental
    finally:
        projector.close()
        store.close()


def test_a_projection_whose_version_changed_is_rebuilt(models: ReadModels) -> None:
    before = dump(models.projector)
    tracking = models.tables.tracking
    with models.projector.engine.begin() as conn:
        conn.execute(update(tracking).where(tracking.c.name == "outcomes").values(version=0))
    fresh = Projector(models.store)
    try:
        assert {s.name: s.position for s in fresh.status()}["outcomes"] == 0
        fresh.catch_up()
        assert dump(fresh) == before
    finally:
        fresh.close()


def test_a_projection_without_a_tracking_row_starts_again_from_empty_tables(models: ReadModels) -> None:
    before = dump(models.projector)
    tracking = models.tables.tracking
    with models.projector.engine.begin() as conn:
        conn.execute(delete(tracking).where(tracking.c.name == "timeline"))
    fresh = Projector(models.store)
    try:
        fresh.catch_up()
        assert dump(fresh) == before
    finally:
        fresh.close()


def test_rebuilding_one_projection_keeps_the_others(models: ReadModels) -> None:
    before = dump(models.projector)
    applied = models.projector.rebuild(["timeline"])
    assert applied == models.projector.log_position()
    assert dump(models.projector) == before


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (the live runner needs LISTEN/NOTIFY)."""
    base = require_postgres()
    url, schema = new_pg_schema_url(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, schema)


@pytest.mark.postgres
def test_the_live_runner_on_postgresql_misses_nothing(pg_url: str) -> None:
    db_url = pg_url
    commands = interleaved(6, seed=11, rng=random.Random(3))
    seed_clock = ReplayClock(commands[0].at)
    seed_store = Store(parse_location(db_url), clock=seed_clock)
    follower_store = Store(parse_location(db_url))
    projector = Projector(follower_store, page_size=20)
    stop = threading.Event()
    applied: list[int] = []
    runner = threading.Thread(
        target=follow, args=(projector, stop), kwargs={"on_applied": lambda n, _: applied.append(n)}
    )
    try:
        apply(seed_store, seed_clock, commands[:10])
        runner.start()
        shares: dict[int, list[Recorded]] = {0: [], 1: [], 2: []}
        owners: dict[object, int] = {}
        for recorded in commands[10:]:  # each episode stays with one writer, in order
            owner = owners.setdefault(episode_key(recorded), len(owners) % 3)
            shares[owner].append(recorded)
        # Stores are opened one after another: eventsourcing's CREATE ... IF NOT EXISTS races on PostgreSQL.
        clocks = [ReplayClock(commands[0].at) for _ in shares]
        writer_stores = [Store(parse_location(db_url), clock=clock) for clock in clocks]
        writers = [
            threading.Thread(target=apply, args=(writer, clock, share))
            for writer, clock, share in zip(writer_stores, clocks, shares.values(), strict=True)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        for writer_store in writer_stores:
            writer_store.close()
        head = projector.log_position()
        deadline = time.monotonic() + 60
        while min(s.position for s in projector.status()) < head and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        runner.join(timeout=10)
        assert not runner.is_alive()
        live = dump(projector)
        assert {s.position for s in projector.status()} == {head}
        assert sum(applied) == head == len(commands)  # every event came through the subscription
        projector.rebuild()
        assert dump(projector) == live
    finally:
        stop.set()
        projector.close()
        follower_store.close()
        seed_store.close()


def test_the_follower_on_sqlite_polls_the_log(tmp_path: Path) -> None:
    path = str(tmp_path / "poll.db")
    commands = interleaved(2, seed=5, rng=random.Random(1))
    clock = ReplayClock(commands[0].at)
    store = Store(parse_location(path), clock=clock)
    projector = Projector(store)
    stop = threading.Event()
    applied: list[int] = []
    runner = threading.Thread(
        target=follow,
        args=(projector, stop),
        kwargs={"interval": 0.05, "on_applied": lambda n, _: applied.append(n)},
    )
    try:
        runner.start()
        apply(store, clock, commands)
        deadline = time.monotonic() + 20
        while sum(applied) < len(commands) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        runner.join(timeout=5)
        assert sum(applied) == len(commands)
    finally:
        stop.set()
        projector.close()
        store.close()


def test_the_prepared_sqlite_insert_stores_what_sqlalchemy_types_store(tmp_path: Path) -> None:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(str(tmp_path / "fast.db")), clock=clock)
    projector = Projector(store)
    try:
        apply(store, clock, recorded)
        projector.catch_up()  # rows written through SqliteInsert
        typed = make_engine(parse_location(str(tmp_path / "typed.db")))  # the projector's engine settings
        tables = projector.tables
        tables.metadata.create_all(typed)
        with projector.engine.connect() as source, typed.begin() as target:
            for table in tables.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in source.execute(select(table))]
                if rows:
                    target.execute(table.insert(), rows)  # the same rows through SQLAlchemy's types
        typed.dispose()
        for table in tables.metadata.sorted_tables:
            query = f"SELECT * FROM {table.name} ORDER BY 1, 2"
            with (
                sqlite3.connect(tmp_path / "fast.db") as fast,
                sqlite3.connect(tmp_path / "typed.db") as slow,
            ):
                assert fast.execute(query).fetchall() == slow.execute(query).fetchall(), table.name
    finally:
        projector.close()
        store.close()
