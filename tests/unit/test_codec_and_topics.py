"""Stored events: the pydantic/orjson codec, upcasting, and topics that never move."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.episode.aggregate import Episode
from domain.episode.codec import OrjsonTranscoder, PydanticMapper

ROOT = Path(__file__).resolve().parents[2]

# Topics are stored in every event row. These lists change only by adding to them.
# Until 2026-12 the aggregate lived in domain/episode.py: events stored then carry these topics.
OLD_TOPICS = {
    "domain.episode:Episode",
    "domain.episode:Episode.Opened",
    "domain.episode:Episode.PlanEstablished",
    "domain.episode:Episode.PlanCertified",
    "domain.episode:Episode.VisitRecorded",
    "domain.episode:Episode.ExerciseAdded",
    "domain.episode:Episode.ExerciseProgressed",
    "domain.episode:Episode.ExerciseRegressed",
    "domain.episode:Episode.ExerciseDiscontinued",
    "domain.episode:Episode.OutcomeMeasured",
    "domain.episode:Episode.ProgressReportRecorded",
    "domain.episode:Episode.ReEvaluationRecorded",
    "domain.episode:Episode.PutOnHold",
    "domain.episode:Episode.Resumed",
    "domain.episode:Episode.Discharged",
    "domain.episode:Episode.Snapshot",
    "domain.episode:Episode.LateEntryRecorded",
    "domain.episode:Episode.VisitCorrected",
    "domain.episode:Episode.VisitAddendumAppended",
    "domain.episode:Episode.VisitVoided",
}
# Where the aggregate lives now (domain/episode/aggregate.py): what new events are stored under.
CURRENT_TOPICS = {topic.replace("domain.episode:", "domain.episode.aggregate:") for topic in OLD_TOPICS} | {
    # events added after the move: they have only this topic
    "domain.episode.aggregate:Episode.RemittanceReceived",
}


def event_classes() -> dict[str, type[Any]]:
    return {
        get_topic(cls): cls
        for cls in vars(Episode).values()
        if isinstance(cls, type)
        and issubclass(cls, (Episode.Event, Episode.Snapshot))
        and cls is not Episode.Event
    }


def test_every_current_topic_is_a_class_of_the_aggregate() -> None:
    topics = set(event_classes()) | {get_topic(Episode)}
    assert topics >= CURRENT_TOPICS, f"moved or renamed: {CURRENT_TOPICS - topics}"


def test_every_topic_stored_before_the_move_resolves_to_the_same_class_as_today() -> None:
    for old in sorted(OLD_TOPICS):
        current = old.replace("domain.episode:", "domain.episode.aggregate:")
        assert resolve_topic(old) is resolve_topic(current), old


def test_an_event_stored_under_its_old_topic_is_read_as_the_current_class() -> None:
    from tests.conftest import NOW

    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    event = Episode.OutcomeMeasured(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=NOW,
        command_id=uuid4(),
        command_digest="d" * 64,
        recorded_by="tester",
        instrument="LEFS",
        score="31.5",
        taken_on="2026-09-02",
    )
    stored = mapper.to_stored_event(event)
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic="domain.episode:Episode.OutcomeMeasured",
        state=stored.state,
    )
    assert mapper.to_domain_event(old) == event


def test_the_event_catalogue_documents_every_event() -> None:
    catalogue = (ROOT / "docs" / "events.md").read_text()
    for topic in event_classes():
        assert f"`{topic.split(':')[1]}`" in catalogue, f"{topic} is not in docs/events.md"


def test_an_event_round_trips_through_the_codec() -> None:
    from tests.conftest import NOW

    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    event = Episode.OutcomeMeasured(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=NOW,
        command_id=uuid4(),
        command_digest="d" * 64,
        recorded_by="tester",
        instrument="LEFS",
        score="31.5",
        taken_on="2026-09-02",
    )
    stored = mapper.to_stored_event(event)
    assert stored.topic == "domain.episode.aggregate:Episode.OutcomeMeasured"
    state = orjson.loads(stored.state)
    assert "originator_id" not in state and state["score"] == "31.5"
    assert mapper.to_domain_event(stored) == event


class _Versioned(Episode.OutcomeMeasured):
    """A stand-in for a future version of an event that renamed `note` to `comment`."""

    class_version: ClassVar[int] = 2
    comment: str = ""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["comment"] = state.pop("note", "")


def test_events_of_an_older_version_are_upcast_when_read() -> None:
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    v1_state = {
        "timestamp": "2026-09-02T10:00:00Z",
        "command_id": str(uuid4()),
        "command_digest": "d" * 64,
        "recorded_by": "tester",
        "instrument": "LEFS",
        "score": "40",
        "taken_on": "2026-09-02",
        "note": "after session",
    }
    stored = StoredEvent(
        originator_id=uuid4(),
        originator_version=2,
        topic=get_topic(_Versioned),
        state=json.dumps(v1_state).encode(),
    )
    event = mapper.to_domain_event(stored)
    assert event.comment == "after session"
    assert orjson.loads(mapper.to_stored_event(event).state)["class_version"] == 2


def test_the_event_catalogue_is_generated_from_the_code() -> None:
    from tests.eventdoc import render

    assert (ROOT / "docs" / "events.md").read_text() == render(), (
        "run `make docs` to regenerate docs/events.md"
    )


def test_a_correction_round_trips_with_its_changes_as_json_values() -> None:
    from tests.conftest import NOW

    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    event = Episode.VisitCorrected(
        originator_id=uuid4(),
        originator_version=9,
        timestamp=NOW,
        command_id=uuid4(),
        command_digest="d" * 64,
        recorded_by="tester",
        date_of_service="2026-09-02",
        amends_version=4,
        changes={"total_treatment_minutes": 50, "service_lines": [{"code": "97110", "minutes": 33}]},
        reason="typo",
    )
    stored = mapper.to_stored_event(event)
    assert stored.topic == "domain.episode.aggregate:Episode.VisitCorrected"
    assert mapper.to_domain_event(stored) == event
