"""The door: what pydantic would coerce or let through in an incoming command is refused, naming the field."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from domain.episode.commands import parse_command
from domain.errors import InvalidInput
from tests.unit.test_commands import visit_document as base_document


def visit_document(**fields: Any) -> dict[str, Any]:
    lines = [{"code": "97110", "minutes": 33, "start": "10:00", "end": "10:33"}]
    values: dict[str, Any] = {"service_lines": lines, "necessity": "Knee flexion limits stairs after TKA."}
    return base_document(**{**values, **fields})


def refusal(document: dict[str, Any] | str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_command(document)
    return caught.value


def test_a_valid_document_passes_the_door() -> None:
    assert parse_command(visit_document()).command == "record_visit"


def test_a_key_given_twice_is_refused_naming_it() -> None:
    text = json.dumps(visit_document()).replace(
        '"provider_id": "pt-1"', '"provider_id": "pta-evil", "provider_id": "pt-1"'
    )
    error = refusal(text)
    assert error.field == "provider_id" and "twice" in error.problem


@pytest.mark.parametrize(
    "value",
    [1788739200, "1788739200", "2026-09-02T00:00:00+14:00", "2026-9-2", "02/09/2026", 2026.5, True],
)
def test_a_date_that_is_not_yyyy_mm_dd_is_refused(value: Any) -> None:
    error = refusal(visit_document(date_of_service=value))
    assert error.field == "date_of_service" and "YYYY-MM-DD" in error.problem


@pytest.mark.parametrize("start", ["10:00+02:00", "10:00Z", 36000, "10h00"])
def test_a_time_with_an_offset_or_as_a_number_is_refused(start: Any) -> None:
    lines = [{"code": "97110", "minutes": 33, "start": start, "end": "10:33"}]
    error = refusal(visit_document(service_lines=lines))
    assert error.field == "service_lines.0.start" and "no offset" in error.problem


def test_a_correction_is_held_to_the_same_rules_inside_its_changes() -> None:
    document = {
        "command": "correct_visit",
        "command_id": str(uuid4()),
        "recorded_by": "tester",
        "episode_id": str(uuid4()),
        "date_of_service": "2026-09-02",
        "changes": {"service_lines": [{"code": "97110", "minutes": 30, "start": "10:00+02:00"}]},
        "reason": "timer",
    }
    assert refusal(document).field == "changes.service_lines.0.start"


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+cmd|'/Ccalc'!A0", "@SUM(A1)", "-2+3", "\tpt"])
def test_an_identifier_a_spreadsheet_would_run_is_refused(value: str) -> None:
    error = refusal(visit_document(provider_id=value))
    assert error.field == "provider_id"


@pytest.mark.parametrize(
    "text", ["a\x00b", "clear\x1b[2J", "osc\x1b]52;c;aGk=\x07", "bidi\u202eevil", "c1\x9b"]
)
def test_control_characters_and_bidi_overrides_are_refused_in_any_text(text: str) -> None:
    error = refusal(visit_document(necessity=text))
    assert error.field == "necessity" and "control character" in error.problem


def test_a_line_break_is_refused_in_a_one_line_field_but_not_in_a_note() -> None:
    assert refusal(visit_document(provider_id="pt\n1")).field == "provider_id"
    assert refusal(visit_document(credential="P\nT")).field == "credential"
    assert parse_command(visit_document(necessity="line one\nline two\ttabbed")).command == "record_visit"


def test_refusals_never_echo_the_rejected_value() -> None:
    secret = "Jane Smith 1950-01-02"
    for document in (
        visit_document(date_of_service=secret),
        visit_document(total_treatment_minutes=secret),
        visit_document(provider_id="=" + secret),
    ):
        assert secret not in str(refusal(document))


def test_nan_and_infinity_are_not_numbers() -> None:
    for value in (float("nan"), float("inf")):
        text = json.dumps(visit_document(total_treatment_minutes=value))  # writes NaN / Infinity
        assert "is not a JSON number" in refusal(text).problem


def test_a_python_caller_is_held_to_the_door_too() -> None:
    from datetime import UTC, time

    from domain.episode.application import Episodes
    from tests import builders as b

    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    episode_id = app.handle(b.open_episode(start_date="2026-06-01")).episode_id
    offset = [{"code": "97110", "minutes": 30, "start": time(10, tzinfo=UTC), "end": time(10, 30)}]
    with pytest.raises(InvalidInput) as caught:  # was a TypeError (aware against naive) in the rules
        app.handle(b.visit(episode_id, date_of_service="2026-06-02", service_lines=offset))
    assert caught.value.field == "service_lines.0.start"
    results = app.handle_batch(
        [b.visit(episode_id, date_of_service="2026-06-02", service_lines=offset), b.visit(episode_id)]
    )
    assert isinstance(results[0], InvalidInput) and not isinstance(results[1], InvalidInput)
