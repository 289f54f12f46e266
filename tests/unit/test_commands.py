"""Command documents: bad input gets one line that names the field and the problem."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from domain.episode.commands import COMMANDS, RecordVisit, parse_command
from domain.errors import InvalidInput


def visit_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "command": "record_visit",
        "command_id": str(uuid4()),
        "recorded_by": "tester",
        "episode_id": str(uuid4()),
        "date_of_service": "2026-09-02",
        "provider_id": "pt-1",
        "credential": "PT",
        "service_lines": [{"code": "97110", "minutes": 33}],
        "total_treatment_minutes": 40,
    }
    document.update(changes)
    return document


def problem(document: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_command(document if isinstance(document, bytes) else json.dumps(document).encode())
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (-5, "greater than or equal to 0"),
        ("33", "valid integer"),
        (33.5, "valid integer"),
        (2000, "less than"),
    ],
)
def test_minutes_must_be_a_non_negative_integer(minutes: Any, expected: str) -> None:
    error = problem(visit_document(service_lines=[{"code": "97110", "minutes": minutes}]))
    assert error.field == "service_lines.0.minutes"
    assert expected in error.problem


def test_an_unknown_field_is_named() -> None:
    error = problem(visit_document(colour="red"))
    assert (error.field, error.problem) == ("colour", "unknown field")


def test_a_missing_field_is_named() -> None:
    document = visit_document()
    del document["date_of_service"]
    assert (problem(document).field, problem(document).problem) == ("date_of_service", "missing")


def test_every_invalid_field_is_named_in_one_line() -> None:
    document = visit_document(colour="red")
    for name in ("provider_id", "credential", "total_treatment_minutes"):
        del document[name]
    error = problem(document)
    assert str(error) == (
        "provider_id: missing; credential: missing; total_treatment_minutes: missing; colour: unknown field"
    )


def test_a_missing_or_unknown_command_lists_the_commands() -> None:
    document = visit_document()
    del document["command"]
    assert "record_visit" in problem(document).problem
    assert "'record_vist' is not a command" in problem(visit_document(command="record_vist")).problem


def test_malformed_json_is_reported_as_such() -> None:
    assert problem(b'{"command": "record_visit", ').problem.startswith("malformed JSON")


def test_a_code_is_five_characters() -> None:
    assert problem(visit_document(service_lines=[{"code": "9711", "minutes": 3}])).field == (
        "service_lines.0.code"
    )


def test_icd10_codes_are_checked_and_normalised() -> None:
    from domain.values import Diagnosis

    assert Diagnosis(code="m1711").code == "M17.11"
    assert Diagnosis(code="S93.401A").code == "S93.401A"
    with pytest.raises(ValueError, match="ICD-10"):
        Diagnosis(code="17.11")


def test_commands_are_frozen_and_their_digest_ignores_key_order() -> None:
    document = visit_document()
    command = parse_command(json.dumps(document))
    reordered = parse_command(json.dumps(dict(reversed(list(document.items())))))
    assert command.digest() == reordered.digest()
    with pytest.raises(ValueError, match="frozen"):
        command.recorded_by = "someone else"  # type: ignore[misc]


def test_every_command_type_has_its_name_as_default() -> None:
    for name, cls in COMMANDS.items():
        assert cls.model_fields["command"].default == name
    assert isinstance(parse_command(visit_document()), RecordVisit)


def test_every_command_is_decided_by_the_episode_method_of_its_name() -> None:
    from domain.episode.aggregate import Episode

    assert next(iter(COMMANDS)) == "open_episode" and callable(Episode.open)
    for name in list(COMMANDS)[1:]:
        assert callable(getattr(Episode, name, None)), f"no Episode.{name} decides the command {name}"


def test_the_registry_holds_each_command_once_in_the_order_they_are_defined() -> None:
    from domain.episode import commands

    defined = [
        value
        for value in vars(commands).values()
        if isinstance(value, type) and issubclass(value, commands.Command) and value in COMMANDS.values()
    ]
    assert list(COMMANDS.values()) == defined
    assert len(COMMANDS) == 19


def test_stating_a_default_does_not_change_the_digest() -> None:
    # So a command stored today still replays as "already applied" after a later
    # version adds an optional field with a default.
    document = visit_document()
    explicit = {**document, "narrative": "", "exercises": []}
    assert parse_command(json.dumps(document)).digest() == parse_command(json.dumps(explicit)).digest()
    changed = {**document, "narrative": "seen one-on-one"}
    assert parse_command(json.dumps(document)).digest() != parse_command(json.dumps(changed)).digest()
