"""The published command schemas (`careledger schema COMMAND`) accept every shipped example with
format checking on, require `command` (import refuses a line without it) and name their dialect."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@cache
def published(command: str) -> dict[str, Any]:
    done = CliRunner().invoke(app, ["schema", command])
    assert done.exit_code == 0, done.output
    schema: dict[str, Any] = json.loads(done.stdout)
    return schema


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        found.append((path.name, json.loads(path.read_text(encoding="utf-8"))))
    for number, line in enumerate((EXAMPLES / "episode.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            found.append((f"episode.jsonl:{number}", json.loads(line)))
    return found


def check(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize(("name", "document"), documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_shipped_example_validates_against_its_published_schema_with_formats(
    name: str, document: dict[str, Any]
) -> None:
    assert check(published(document["command"]), document) == [], name


def test_the_format_check_refuses_what_the_importer_refuses() -> None:
    schema = published("record_visit")
    visit = json.loads((EXAMPLES / "record_visit.json").read_text(encoding="utf-8"))
    for field, value in (("date_of_service", "09/10/2026"), ("command_id", "not-a-uuid")):
        assert check(schema, {**visit, field: value}), field
    lines = [{**visit["service_lines"][1], "start": "25:61"}]
    assert check(schema, {**visit, "service_lines": lines})


def test_a_schema_requires_command_and_names_its_dialect() -> None:
    schema = published("record_visit")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "command" in schema["required"]
    visit = json.loads((EXAMPLES / "record_visit.json").read_text(encoding="utf-8"))
    assert check(schema, {k: v for k, v in visit.items() if k != "command"})
