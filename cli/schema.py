"""`careledger schema [COMMAND]`: the JSON Schema of the command documents."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import emit_json


def schema(
    command: Annotated[
        str | None, typer.Argument(help="Command type, e.g. record_visit; omit to list them.")
    ] = None,
) -> None:
    """Print the JSON Schema of a command document, or list the command types.

    Example: careledger schema record_visit
    """
    from domain.clinic.commands import CLINIC_COMMANDS
    from domain.episode.commands import COMMANDS as EPISODE_COMMANDS
    from domain.episode.schema import command_schema

    COMMANDS = {**EPISODE_COMMANDS, **CLINIC_COMMANDS}
    if command is None:
        for name, cls in COMMANDS.items():
            typer.echo(f"{name:24} {(cls.__doc__ or '').strip().splitlines()[0]}")
        return
    emit_json(command_schema(command, COMMANDS))
