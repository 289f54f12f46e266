"""The findings read model on real stores (SQLite, and PostgreSQL when reachable): the same answer as the
engine with every other episode in view, copied notes and KX across episodes, the clinic-wide view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.findings import CheckContext, check_episode, with_other_episodes
from projections.store.root import Store, parse_location
from projections.views.findings_query import FindingsReader
from tests import builders as b


@pytest.fixture
def demo(db_url: str) -> Iterator[tuple[Store, ReplayClock]]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(db_url), clock=clock)
    for item in recorded:
        clock.now = item.at
        store.app.handle(item.command)
    yield store, clock
    store.close()


@pytest.fixture
def reader(demo: tuple[Store, ReplayClock]) -> Iterator[FindingsReader]:
    read = FindingsReader(demo[0])
    read.refresh()
    yield read
    read.close()


def engine_answer(store: Store, episode_id: UUID) -> list[dict[str, Any]]:
    """What `check_episode` says with every other episode of the store in its context."""
    everyone = [store.app.get_episode(i) for i in store.app.episode_ids()]
    episode = store.app.get_episode(episode_id)
    context = with_other_episodes(episode, everyone, CheckContext.default())
    return [f.as_dict() for f in check_episode(episode, context)]


def test_the_read_model_answers_what_the_engine_does(
    demo: tuple[Store, ReplayClock], reader: FindingsReader
) -> None:
    """docs/rules.md#plan-of-care, docs/rules.md#documentation: stored findings plus the cross-episode checks
    at query time equal the pure engine.
    """
    store, _ = demo
    for name, episode_id in demo_episode_ids().items():
        answer = reader.episode(episode_id)
        assert answer["findings"] == engine_answer(store, episode_id), name
    assert reader.episode(demo_episode_ids()["knee"])["findings"] == []


def test_the_clinic_view_counts_what_the_episodes_hold(reader: FindingsReader) -> None:
    """The clinic-wide view: per rule, episodes and visits; the episode most at risk first."""
    clinic = reader.clinic()
    ids = demo_episode_ids()
    per_episode = [reader.episode(i) for i in ids.values()]
    assert clinic["counts"] == {
        k: sum(a["counts"][k] for a in per_episode) for k in ("error", "warning", "info")
    }
    assert clinic["episodes"] == 4 and clinic["visits"] == sum(a["visits"] for a in per_episode)
    # the back, and the shoulder with its late recertification (docs/rules.md#certification)
    assert clinic["at_risk"][0]["episode_id"] == str(ids["back"]) and clinic["episodes_with_errors"] == 2
    cloned = next(r for r in clinic["rules"] if r["rule_id"] == "note.cloned")
    assert cloned["episodes"] == 3 and cloned["severity"] == "warning"
    overdue = next(r for r in clinic["rules"] if r["rule_id"] == "clock.progress_report_overdue")
    assert (overdue["episodes"], overdue["visits"]) == (1, 3)


def test_since_leaves_out_findings_dated_before_it(reader: FindingsReader) -> None:
    """--since: only findings dated on or after the date."""
    back = demo_episode_ids()["back"]
    since = date(2026, 4, 1)
    answer = reader.episode(back, since)
    assert answer["findings"] and all(f["date"] >= since.isoformat() for f in answer["findings"])
    assert len(answer["findings"]) < len(reader.episode(back)["findings"])
    assert reader.clinic(since)["counts"]["error"] < reader.clinic()["counts"]["error"]


def test_a_note_copied_from_another_patients_episode_is_found_after_catch_up(
    demo: tuple[Store, ReplayClock], reader: FindingsReader
) -> None:
    """docs/rules.md#cloned-notes: the same author (pt-brooks) copies the low-back narrative into a new
    episode.
    """
    store, clock = demo
    back = store.app.get_episode(demo_episode_ids()["back"])
    source = back.visits[max(back.visits)]
    clock.now = clock.now + timedelta(days=1)
    opened = store.app.handle(b.open_episode(patient_ref="PT-2002", start_date="2026-04-20"))
    day = "2026-04-21"
    store.app.handle(
        b.visit(
            opened.episode_id,
            date_of_service=day,
            provider_id="pt-brooks",
            narrative=source.narrative,
            necessity="Lumbar strain limits lifting to 5 kg at work; needs graded lifting practice.",
        )
    )
    reader.refresh()
    answer = reader.episode(opened.episode_id)
    (cloned,) = [f for f in answer["findings"] if f["rule_id"] == "note.cloned"]
    assert cloned["date_of_service"] == day and "same author pt-brooks" in cloned["message"]
    assert any(e.get("episode_id") == str(back.id) for e in cloned["evidence"])
    assert answer["findings"] == engine_answer(store, opened.episode_id)
    assert reader.episode(back.id)["findings"] == engine_answer(store, back.id)


def test_kx_counts_the_beneficiarys_other_episodes(
    demo: tuple[Store, ReplayClock], reader: FindingsReader
) -> None:
    """docs/rules.md#modifiers, docs/rules.md#modifier-use: the knee's patient, a second PT episode: over the
    threshold at its first visit.
    """
    store, clock = demo
    clock.now = clock.now + timedelta(days=1)
    opened = store.app.handle(b.open_episode(patient_ref="PT-1001", start_date="2026-05-04"))
    store.app.handle(
        b.visit(
            opened.episode_id,
            date_of_service="2026-05-05",
            necessity="Continue therapy.",
            service_lines=[{"code": "97110", "minutes": 30, "modifiers": ["GP"]}],
            total_treatment_minutes=30,
        )
    )
    reader.refresh()
    answer = reader.episode(opened.episode_id)
    rules = {f["rule_id"] for f in answer["findings"]}
    assert {"modifier.kx_missing", "modifier.kx_without_necessity"} <= rules
    assert answer["findings"] == engine_answer(store, opened.episode_id)
    alone = check_episode(store.app.get_episode(opened.episode_id), CheckContext.default())
    assert not {f.rule_id for f in alone} & {"modifier.kx_missing", "modifier.kx_without_necessity"}
    clinic = {r["rule_id"]: r for r in reader.clinic()["rules"]}
    assert (
        clinic["modifier.kx_missing"]["episodes"] == 1
        and clinic["modifier.kx_without_necessity"]["visits"] == 1
    )


def test_an_unknown_episode_is_refused(reader: FindingsReader) -> None:
    """One-line error, as every query."""
    from domain.errors import EpisodeNotFound

    with pytest.raises(EpisodeNotFound):
        reader.episode(UUID(int=7))
