"""A read model built from other rule tables is never served: a changed lexicon or threshold rebuilds it.

A clinic's rules folder (CARELEDGER_RULES_DIR) overrides any shipped table. Each
projection stores a fingerprint of the tables it reads; the next query after a
change finds the fingerprint different, rebuilds that projection from the log,
and answers from the new rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from domain.rules.catalogue import RULES_DIR_ENV
from projections.store.root import Store, parse_location
from projections.views.findings_query import FindingsReader
from projections.views.projector import Projector
from tests import builders as b

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _shipped(name: str) -> str:
    return resources.files("domain").joinpath("data", name).read_text(encoding="utf-8")


def _episode(store: Store) -> str:
    episode_id = store.app.handle(b.open_episode(start_date="2026-09-01")).episode_id
    store.app.handle(b.plan(episode_id))
    store.app.handle(
        b.visit(
            episode_id,
            date_of_service="2026-09-02",
            necessity="Right TKA (Z96.651): knee stiffness hampers gardening.",
            service_lines=[{"code": "97110", "minutes": 38, "modifiers": ["GP"]}],
            total_treatment_minutes=40,
        )
    )
    return str(episode_id)


def _rules(reader: FindingsReader, episode_id: str) -> set[str]:
    from uuid import UUID

    reader.refresh()
    return {f["rule_id"] for f in reader.episode(UUID(episode_id))["findings"]}


def _status(store: Store) -> dict[str, dict[str, object]]:
    projector = Projector(store)
    try:
        return {s.name: s.as_dict() for s in projector.status()}
    finally:
        projector.close()


def test_a_word_added_to_the_clinics_lexicon_rebuilds_the_findings_that_read_it(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        episode_id = _episode(store)
        reader = FindingsReader(store)
        try:
            assert "necessity.vague" in _rules(reader, episode_id)  # "gardening" is no functional limitation
        finally:
            reader.close()
        before = _status(store)
    folder = tmp_path / "rules"
    folder.mkdir()
    lexicon = _shipped("lexicon.toml")
    added = re.sub(
        r"functional_limitations = \[\n", 'functional_limitations = [\n  "gardening",\n', lexicon, count=1
    )
    assert added != lexicon
    (folder / "lexicon.toml").write_text(added)
    monkeypatch.setenv(RULES_DIR_ENV, str(folder))
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        reader = FindingsReader(store)
        try:
            assert "necessity.vague" not in _rules(reader, episode_id)
        finally:
            reader.close()
        after = _status(store)
    assert after["findings"]["inputs"] != before["findings"]["inputs"]
    assert after["timeline"]["inputs"] == before["timeline"]["inputs"]  # reads no table: not rebuilt
    assert after["findings"]["position"] == after["findings"]["log_position"]


def test_a_lower_threshold_in_the_clinics_folder_rebuilds_the_findings_with_kx(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        episode_id = _episode(store)
        reader = FindingsReader(store)
        try:
            assert "modifier.kx_missing" not in _rules(reader, episode_id)
        finally:
            reader.close()
    folder = tmp_path / "rules"
    folder.mkdir()
    thresholds = re.sub(r'2026 = "[0-9.]+"', '2026 = "10.00"', _shipped("thresholds.toml"))
    (folder / "thresholds.toml").write_text(thresholds)
    monkeypatch.setenv(RULES_DIR_ENV, str(folder))
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        reader = FindingsReader(store)
        try:
            # the note writes GP without KX, and the year's amount is now above the clinic's threshold
            assert "modifier.kx_missing" in _rules(reader, episode_id)
        finally:
            reader.close()


def test_a_store_whose_tracking_rows_predate_the_fingerprint_is_rebuilt_and_then_kept(db_url: str) -> None:
    from sqlalchemy import text

    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        episode_id = _episode(store)
        reader = FindingsReader(store)
        try:
            expected = _rules(reader, episode_id)
            engine = reader.projector.engine
            table = reader.tables.tracking
            name = f'"{table.schema}".{table.name}' if table.schema else table.name
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {name} DROP COLUMN inputs"))
        finally:
            reader.close()
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        reader = FindingsReader(store)
        try:
            assert _rules(reader, episode_id) == expected
        finally:
            reader.close()
        status = _status(store)
    assert all(s["inputs"] for s in status.values())
    assert all(status[name]["position"] == status[name]["log_position"] for name in ("findings", "summary"))
