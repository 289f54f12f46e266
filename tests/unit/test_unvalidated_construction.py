"""Speed-ups that must not change behaviour: unvalidated construction, native string constraints.

`Episode._trigger` builds each event without validation (`domain.values.construct`,
a faster `model_construct`) and the events' `update` methods build the records
(Visit, Plan, ...) the same way, for speed.
These tests replay the whole demo clinic and check that every event and every
episode state equals what full pydantic validation of the same values gives.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.demo import ReplayClock, demo_clinic
from domain.episode.aggregate import Episode
from domain.episode.application import Episodes
from domain.records import EpisodeState
from domain.values import Code, Modifier, construct


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


def _same_as_model_construct(model: Any) -> None:
    cls = type(model)
    values = dict(model.__dict__)
    with_defaults_left_out = {
        name: value
        for name, value in values.items()
        if cls.model_fields[name].is_required()
        or value != cls.model_fields[name].get_default(call_default_factory=True)
    }
    for given_values in (values, with_defaults_left_out, {**values, "not_a_field": 1}):
        ours = construct(cls, dict(given_values))
        theirs = cls.model_construct(**given_values)
        assert list(ours.__dict__.items()) == list(theirs.__dict__.items())  # same values, same order
        assert ours.model_fields_set == theirs.model_fields_set
        assert ours.model_dump_json() == theirs.model_dump_json()
        assert ours == theirs


def test_construct_gives_what_model_construct_gives_for_every_event_and_record() -> None:
    app = _demo_app()
    kinds: set[str] = set()
    for episode_id in app.episode_ids():
        for event in app.history(episode_id):
            _same_as_model_construct(event)
            kinds.add(type(event).__name__)
        state = app.get_episode(episode_id).state()
        records = [
            *state.visits.values(),
            *state.plans,
            *state.certifications,
            *state.outcomes,
            *state.progress_reports,
            *state.reevaluations,
            *([state.discharge] if state.discharge else []),
        ]
        for record in records:
            _same_as_model_construct(record)
            kinds.add(type(record).__name__)
    assert {"VisitRecorded", "Visit", "Plan", "Certification", "Outcome", "Discharge"} <= kinds


@given(st.one_of(st.text(max_size=8), st.integers(), st.none()), st.sampled_from([2, 5]))
def test_codes_and_modifiers_are_stripped_and_upper_cased_as_before(value: Any, width: int) -> None:
    # The former Python validator (strip, upper, then the pattern), against the native constraints.
    native = TypeAdapter(Code if width == 5 else Modifier)
    pattern = re.compile(rf"^[0-9A-Z]{{{width}}}$")
    expected = value.strip().upper() if isinstance(value, str) else value
    accepted = isinstance(expected, str) and pattern.fullmatch(expected) is not None
    if accepted:
        assert native.validate_python(value) == expected
    else:
        with pytest.raises(ValidationError):
            native.validate_python(value)
