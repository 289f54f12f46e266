"""Anchoring as normal operation: every committed write appends its heads to a log outside the store.

On both stores, with CARELEDGER_ANCHOR_DIR set: the log grows with each write
(commands, batches), is created 0600 and never written through a symlink, and
`verify` and every query compare the chains with it, which catches what the
chain alone cannot: the newest events deleted with their links, and both tables
rewritten.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from domain.errors import StoreUnavailable, Tampered
from projections.store.anchor import ENV_ANCHOR_DIR, log_name, read_anchor
from projections.store.root import Store, parse_location
from projections.store.verify import ChainReport, verify_chains
from tests import builders as b
from tests.conftest import FixedClock
from tests.tamper import RawStore


@pytest.fixture
def anchor_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "anchors"
    monkeypatch.setenv(ENV_ANCHOR_DIR, str(directory))
    return directory


@pytest.fixture
def store(db_url: str, clock: FixedClock, anchor_dir: Path) -> Iterator[Store]:
    opened = Store(parse_location(db_url), clock=clock)
    yield opened
    opened.close()


def log_of(store: Store, anchor_dir: Path) -> Path:
    return anchor_dir / log_name(store.location.display, store.location.path)


def verify_with_log(store: Store) -> ChainReport:
    recorder: Any = store.app.recorder
    store._anchors = None  # read the log as it is now
    return verify_chains(recorder, None, store.anchors())


def episode_with_visits(store: Store, clock: FixedClock, visits: int = 4) -> UUID:
    episode_id = store.app.handle(b.open_episode(start_date="2026-06-01")).episode_id
    for n in range(visits):
        clock.now += timedelta(seconds=1)
        store.app.handle(b.visit(episode_id, date_of_service=f"2026-06-0{n + 1}"))
    return episode_id


def test_every_committed_write_appends_its_heads_to_a_private_log(
    store: Store, clock: FixedClock, anchor_dir: Path
) -> None:
    episode_id = episode_with_visits(store, clock)
    other = b.open_episode(start_date="2026-06-01")
    results = store.app.handle_batch([other, b.visit(episode_id, date_of_service="2026-06-08")])
    log = log_of(store, anchor_dir)
    lines = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert len(lines) == 6  # five single commands, one batch
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert {h["episode_id"] for h in lines[-1]["heads"]} == {str(episode_id), str(results[0].episode_id)}  # type: ignore[union-attr]
    anchored = read_anchor(log)
    assert max(h.version for h in anchored[episode_id]) == 6
    report = verify_with_log(store)
    assert report.intact
    assert {(h.episode_id, h.version, h.chain_hash) for h in report.heads} == {
        (e, max(h.version for h in heads), max(heads, key=lambda h: h.version).chain_hash)
        for e, heads in anchored.items()
    }


def test_the_newest_event_deleted_with_its_link_is_caught_by_the_log(
    store: Store, db_url: str, clock: FixedClock
) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    raw.delete(raw.events, episode_id, 5)
    raw.delete(raw.chain, episode_id, 5)
    report = verify_with_log(store)
    assert [(p.episode_id, p.version, p.kind) for p in report.breaks] == [(episode_id, 5, "truncated")]
    with pytest.raises(Tampered, match="version 5: truncated"):
        store.require_intact([episode_id])


def test_both_tables_rewritten_are_caught_by_the_log(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock)
    raw = RawStore(db_url)
    raw.delete(raw.events, episode_id, 5)
    raw.delete(raw.chain, episode_id, 5)
    store.app.recorder.heads.on_commit = None  # type: ignore[attr-defined]  # the rewriter does not anchor
    clock.now += timedelta(seconds=1)
    store.app.handle(b.visit(episode_id, date_of_service="2026-06-04", total_treatment_minutes=90))
    report = verify_with_log(store)
    assert [(p.episode_id, p.version, p.kind) for p in report.breaks] == [(episode_id, 5, "rewritten")]


def test_the_log_is_never_written_through_a_symlink(
    store: Store, clock: FixedClock, anchor_dir: Path
) -> None:
    anchor_dir.mkdir()
    target = anchor_dir.parent / "elsewhere"
    target.write_bytes(b"")
    log_of(store, anchor_dir).symlink_to(target)
    with pytest.raises(StoreUnavailable, match="could not be appended"):
        store.app.handle(b.open_episode(start_date="2026-06-01"))
    assert target.read_bytes() == b""


def test_a_removed_episode_is_caught_by_the_log(store: Store, db_url: str, clock: FixedClock) -> None:
    episode_id = episode_with_visits(store, clock, visits=1)
    raw = RawStore(db_url)
    for table in (raw.events, raw.chain):
        raw.run(f"DELETE FROM {table} WHERE originator_id=?", raw.key(episode_id))
    report = verify_with_log(store)
    assert [(p.episode_id, p.version, p.kind) for p in report.breaks] == [(episode_id, 1, "missing")]
