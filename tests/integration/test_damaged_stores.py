"""Read-only and damaged stores: a backup is read and verified read-only; one bad row stops one episode.

An unwritable SQLite store is opened read-only (immutable): reads and `verify`
work, a write is refused with exit 3 and the file is not touched. A stored row
that cannot be decoded is named (episode and version), never a pydantic
traceback, and the projector and `episode list` keep serving every other episode.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from domain.errors import DamagedEvent, Tampered
from projections.store.root import Store, parse_location
from projections.views.queries import ReadModels
from tests import builders as b
from tests.conftest import FixedClock
from tests.tamper import RawStore


def run(*args: str) -> Any:
    env = {"CARELEDGER_USER": "tester", "CARELEDGER_ANCHOR_DIR": None, "CARELEDGER_ACCESS_LOG": None}
    return CliRunner().invoke(cli, list(args), env=env)


def two_episodes(store: Store, clock: FixedClock) -> tuple[UUID, UUID]:
    ids = []
    for _ in range(2):
        episode_id = store.app.handle(b.open_episode(start_date="2026-09-01")).episode_id
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(episode_id))
        clock.now += timedelta(seconds=1)
        ids.append(episode_id)
    return ids[0], ids[1]


@pytest.fixture
def store(db_url: str, clock: FixedClock) -> Iterator[Store]:
    opened = Store(parse_location(db_url), clock=clock)
    yield opened
    opened.close()


def test_an_unwritable_sqlite_store_is_read_and_verified_without_writing(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "backup.db"
    with Store(parse_location(str(path)), clock=clock) as store:
        first, _ = two_episodes(store, clock)
    assert run("timeline", str(first), "--db", str(path)).exit_code == 0  # builds the read models
    with Store(parse_location(str(path)), clock=clock) as store:  # one more event: the views lag behind
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(first, date_of_service="2026-09-03"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        assert run("verify", "--db", str(path)).exit_code == 0
        shown = run("episode", "show", str(first), "--db", str(path))
        assert shown.exit_code == 0, shown.output
        lagging = run("timeline", str(first), "--db", str(path))  # served as built, not caught up
        assert lagging.exit_code == 0, lagging.output
        assert run("check", str(first), "--db", str(path)).exit_code in (0, 1)
        write = run("visit", "void", str(first), "2026-09-02", "--reason", "x", "--db", str(path))
        assert write.exit_code == 3, write.output
        assert "readonly" in write.stderr and "Traceback" not in write.output
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.db"]


def test_an_undecodable_row_is_named_and_the_other_episodes_are_served(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    damaged, healthy = two_episodes(store, clock)
    raw = RawStore(db_url)
    topic, _ = raw.event(damaged, 2)
    raw.set_event(damaged, 2, topic, b'{"date_of_service": 5}')
    with pytest.raises(DamagedEvent, match=f"episode {damaged} version 2: undecodable"):
        store.app.get_episode(damaged)
    models = ReadModels(store)
    try:
        models.refresh()  # the projector goes on past the bad row
        listed = [row["episode_id"] for row in models.episodes()]
        assert listed == [str(healthy)]
        assert [str(p.episode_id) for p in models.refused] == [str(damaged)]
        assert models.timeline(healthy)["entries"]
        with pytest.raises(Tampered, match=str(damaged)):
            models.timeline(damaged)
    finally:
        models.close()


def test_a_forged_row_past_the_last_version_does_not_stop_the_listing(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    forged, healthy = two_episodes(store, clock)
    RawStore(db_url).insert_event(forged, 3, "domain.episode.aggregate:Nothing", b"{}")
    listing = run("episode", "list", "--db", db_url)
    assert listing.exit_code == 0, listing.output
    assert str(healthy)[:8] in listing.stdout and str(forged)[:8] not in listing.stdout
    assert f"episode {forged} version" in listing.stderr
    shown = run("episode", "show", str(forged), "--db", db_url)
    assert shown.exit_code == 3 and f"episode {forged} version 3" in shown.stderr


def test_a_file_that_is_not_a_store_is_one_line_exit_3_and_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a careledger store\n" * 100)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    commands = tmp_path / "commands.jsonl"
    commands.write_text(b.open_episode().model_dump_json() + "\n", encoding="utf-8")
    for args in (["episode", "list"], ["verify"], ["import", str(commands)]):
        done = CliRunner().invoke(cli, [*args, "--db", str(path)])
        assert done.exit_code == 3, (args, done.output)
        assert done.exception is None or isinstance(done.exception, SystemExit), (args, done.exception)
        assert done.stderr.strip().splitlines() == [
            f"error: database: cannot open {path} (file is not a database)"
        ], (args, done.stderr)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
