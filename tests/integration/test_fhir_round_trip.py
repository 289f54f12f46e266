"""FHIR export and import on real stores (SQLite, and PostgreSQL when reachable).

Equivalent, for the round trip, means byte for byte: the bundle exported after
an import into an empty store is the same JSON as the bundle imported. That
holds because the import replays each fact's command at its original version,
with its original author and recorded time (docs/rules.md#amendments), and every resource id
derives from the episode and those versions. Nothing is ignored but the command
ids (not part of a bundle); Claims are recomputed by the billing engine and come
out the same because the same rules bill the same visits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.errors import InvalidInput
from projections.interop.fhir.export import episode_bill, export_episode
from projections.interop.fhir.importer import import_bundle
from projections.interop.fhir.validate import parse, problems
from projections.store.root import Store, parse_location
from tests.fhir_scenario import episode_id as scenario_id
from tests.fhir_scenario import load, scenario


@pytest.fixture
def demo(db_url: str) -> Iterator[Store]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(db_url), clock=clock)
    for item in recorded:
        clock.now = item.at
        store.app.handle(item.command)
    load(store, scenario())
    yield store
    store.close()


def _state(store: Store, episode_id: object) -> dict[str, object]:
    episode = store.app.get_episode(episode_id)  # type: ignore[arg-type]
    return {"version": episode.version, **episode.state().model_dump(exclude={"commands"})}


def _events(store: Store, episode_id: object) -> list[tuple[object, ...]]:
    return [
        (type(e).__name__, e.originator_version, e.timestamp, e.recorded_by, e.payload())
        for e in store.app.history(episode_id)  # type: ignore[arg-type]
    ]


@pytest.mark.slow
def test_every_demo_episode_and_the_full_scenario_survive_the_round_trip_byte_for_byte(
    demo: Store, empty: Store
) -> None:
    ids = [*demo_episode_ids().values(), scenario_id()]
    for episode_id in ids:
        text = export_episode(demo.app, episode_id)
        bundle = parse(text)
        assert problems(bundle, episode_bill(demo.app, demo.app.get_episode(episode_id))) == []
        result = import_bundle(empty.app, text)
        assert result.episode_id == episode_id and result.applied == result.commands
        assert export_episode(empty.app, episode_id) == text
        assert _state(empty, episode_id) == _state(demo, episode_id)
        assert _events(empty, episode_id) == _events(demo, episode_id)


def test_importing_the_same_bundle_again_changes_nothing(demo: Store, empty: Store) -> None:
    knee = demo_episode_ids()["knee"]
    text = export_episode(demo.app, knee)
    first = import_bundle(empty.app, text)
    again = import_bundle(empty.app, text)
    assert (again.applied, again.already_applied) == (0, first.commands)
    assert empty.app.last_version(knee) == first.version


def test_an_episode_exported_as_of_a_past_time_round_trips_to_that_state(demo: Store, empty: Store) -> None:
    knee = demo_episode_ids()["knee"]
    correction = next(
        e for e in demo.app.history(knee) if type(e).__name__ == "VisitCorrected"
    )  # the knee's visit 12 is corrected four days later
    before = correction.timestamp - timedelta(seconds=1)
    text = export_episode(demo.app, knee, before)
    bundle = json.loads(text)
    assert not any(
        r["resource"]["resourceType"] == "Provenance" and "correction" in json.dumps(r)
        for r in bundle["entry"]
    )
    import_bundle(empty.app, text)
    assert empty.app.last_version(knee) == correction.originator_version - 1
    assert export_episode(empty.app, knee) == text


def test_an_episode_already_in_the_store_with_other_facts_is_refused_and_nothing_changes(
    demo: Store, empty: Store
) -> None:
    ids = demo_episode_ids()
    knee, back = export_episode(demo.app, ids["knee"]), export_episode(demo.app, ids["back"])
    import_bundle(empty.app, back)
    forged = knee.replace(str(ids["knee"]).encode(), str(ids["back"]).encode())
    with pytest.raises(InvalidInput, match="already in this store"):
        import_bundle(empty.app, forged)
    assert empty.app.last_version(ids["back"]) == demo.app.last_version(ids["back"])


def test_a_bundle_that_breaks_a_rule_is_refused_naming_the_resource_and_nothing_is_written(
    demo: Store, empty: Store
) -> None:
    knee = demo_episode_ids()["knee"]
    bundle = json.loads(export_episode(demo.app, knee))
    encounter = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
    encounter["length"]["value"] = (
        5  # fewer total minutes than the timed minutes (docs/rules.md#time-integrity)
    )
    with pytest.raises(InvalidInput) as refused:
        import_bundle(empty.app, json.dumps(bundle).encode())
    assert f"Encounter/{encounter['id']}" in str(refused.value)
    assert "total_treatment_minutes" in str(refused.value)
    assert list(empty.app.episode_ids()) == []
