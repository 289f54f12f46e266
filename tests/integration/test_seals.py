"""Read-model seals: written by the projector with the rows, the same digest on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.demo import ReplayClock, demo_clinic
from projections.store.root import Store, parse_location
from projections.views.projector import Projector
from tests.conftest import fresh_store_url
from tests.tamper import RawStore


def demo_seals(url: str) -> set[tuple[str, str, int, str]]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    with Store(parse_location(url), clock=clock) as store:
        for item in recorded:
            clock.now = item.at
            store.app.handle(item.command)
        projector = Projector(store)
        projector.catch_up()
        projector.close()
    rows = RawStore(url).run("SELECT episode_id, table_name, version, digest FROM pv_seal")
    return {(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows}


@pytest.mark.postgres
def test_the_seals_of_the_same_events_are_identical_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    with fresh_store_url("sqlite", tmp_path) as sqlite_url, fresh_store_url("postgres", tmp_path) as pg_url:
        on_sqlite, on_postgres = demo_seals(sqlite_url), demo_seals(pg_url)
    assert len(on_sqlite) == 4 * 8  # four episodes, eight read-model tables
    assert on_sqlite == on_postgres
