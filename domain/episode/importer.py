"""Batch import of JSON Lines command files.

Each line is one command document. Lines are validated one by one; valid
commands are applied in order, in batches that are stored in one transaction,
each command atomic on its own (a rejected line stores nothing and the others go
on). Re-importing a file is a no-op, because commands are idempotent by
`command_id`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from domain import door
from domain.episode.application import CommandResult, Episodes
from domain.episode.commands import Command, parse_command
from domain.errors import CareledgerError, InvalidInput

BATCH_SIZE = 500


@dataclass(frozen=True)
class LineOutcome:
    """What happened to one line: its result, or the one-line reason it was rejected."""

    line: int
    result: CommandResult | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the outcome as JSON-ready values."""
        if self.result is not None:
            return {"line": self.line, **self.result.as_dict()}
        return {"line": self.line, "error": self.error}


def parse_line(raw: bytes, default_user: str | None = None) -> Command:
    """Validate one line as a command, filling `recorded_by` from the default user."""
    document = door.load_json(raw)  # a key given twice is refused
    if not isinstance(document, dict):
        raise InvalidInput("", "a command must be a JSON object")
    if default_user and "recorded_by" not in document:
        document["recorded_by"] = default_user
    return parse_command(document)


def import_lines(
    app: Episodes,
    lines: Iterable[bytes],
    *,
    default_user: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[LineOutcome]:
    """Apply a stream of JSON Lines; yield one outcome per non-blank line, in order."""
    with fewer_collections():
        yield from _import(app, lines, default_user, batch_size)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect garbage less often: validating and storing commands makes many short-lived objects.

    The import keeps no cycles alive between batches, so the generational
    collector mostly scans live episodes in vain; at the default thresholds it
    took about a quarter of an import's time.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), max(before[1], 50), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _import(
    app: Episodes, lines: Iterable[bytes], default_user: str | None, batch_size: int
) -> Iterator[LineOutcome]:
    handle = app.importer()
    pending: list[tuple[int, Command]] = []
    outcomes: dict[int, LineOutcome] = {}
    order: list[int] = []

    def flush() -> Iterator[LineOutcome]:
        if pending:
            results = handle([command for _, command in pending])
            for (number, _), result in zip(pending, results, strict=True):
                if isinstance(result, CareledgerError):
                    outcomes[number] = LineOutcome(number, error=str(result))
                else:
                    outcomes[number] = LineOutcome(number, result=result)
            pending.clear()
        for number in order:
            yield outcomes.pop(number)
        order.clear()

    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        order.append(number)
        try:
            pending.append((number, parse_line(raw, default_user)))
        except CareledgerError as error:
            outcomes[number] = LineOutcome(number, error=str(error))
        if len(order) >= batch_size:
            yield from flush()
    yield from flush()
