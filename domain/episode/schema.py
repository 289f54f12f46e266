"""The published JSON Schema of each command document: what `careledger schema COMMAND` prints.

pydantic's schema is the base, with three changes a format-checking validator
needs to agree with what careledger accepts: a clock time is `HH:MM` or
`HH:MM:SS` (pydantic reads both; JSON Schema's `format: time` is RFC 3339's full
time with seconds and an offset, so "10:35" would fail it), `command` is
required (the importer refuses a line without it), and `$schema` names the dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from domain.episode.commands import COMMANDS
from domain.errors import InvalidInput

DIALECT = "https://json-schema.org/draft/2020-12/schema"
CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class _Published(GenerateJsonSchema):
    """pydantic's generator, with clock times as the pattern careledger reads."""

    def time_schema(self, schema: core_schema.TimeSchema) -> JsonSchemaValue:
        """Describe a clock time as HH:MM[:SS], not RFC 3339's full-time."""
        return {"type": "string", "pattern": CLOCK_TIME, "description": "a clock time, HH:MM or HH:MM:SS"}


def command_schema(command: str, commands: Mapping[str, type[BaseModel]] | None = None) -> dict[str, Any]:
    """Return the JSON Schema of one command document (draft 2020-12), of the episode's commands or the
    registry given (the clinic's commands too)."""
    known = COMMANDS if commands is None else commands
    if command not in known:
        raise InvalidInput("command", f"'{command}' is not a command; expected one of {', '.join(known)}")
    schema = known[command].model_json_schema(schema_generator=_Published)
    required = list(schema.get("required", []))
    if "command" not in required:
        required.insert(0, "command")
    return {"$schema": DIALECT, **schema, "required": required}


__all__ = ["CLOCK_TIME", "DIALECT", "command_schema"]
