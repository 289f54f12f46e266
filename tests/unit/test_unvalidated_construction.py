"""Events and records are built without validating already-validated values: they must equal validated ones.

`Episode._trigger` builds each event with `model_construct` and the events'
`update` methods build the records (Visit, Plan, ...) the same way, for speed.
These tests replay the whole demo clinic and check that every event and every
episode state equals what full pydantic validation of the same values gives.
"""

from __future__ import annotations

from typing import Any

from domain.application import Episodes
from domain.demo import ReplayClock, demo_clinic
from domain.episode import Episode
from domain.records import EpisodeState


def _demo_app() -> Episodes:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    for item in recorded:
        clock.now = item.at
        app.handle(item.command)
    return app


def test_every_event_built_for_the_demo_equals_its_validated_copy() -> None:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    seen: set[str] = set()
    for item in recorded:
        clock.now = item.at
        touched: dict[Any, Episode] = {}
        app._decide(item.command, touched)  # decided, not stored: the events as built
        for episode in touched.values():
            for event in episode.pending_events:
                validated = type(event).model_validate(event.model_dump())
                assert validated == event
                assert validated.model_dump_json() == event.model_dump_json()
                seen.add(type(event).__name__)
        app.handle(item.command)
    assert {"Opened", "VisitRecorded", "PlanEstablished", "ExerciseAdded", "OutcomeMeasured"} <= seen


def test_every_episode_state_built_by_the_events_equals_its_validated_copy() -> None:
    app = _demo_app()
    for episode_id in app.episode_ids():
        episode: Episode = app.get_episode(episode_id)
        state = episode.state()
        dumped: dict[str, Any] = state.model_dump()
        assert EpisodeState.model_validate(dumped) == state
        assert EpisodeState.model_validate_json(state.model_dump_json()) == state
