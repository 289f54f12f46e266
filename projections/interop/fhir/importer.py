"""Import a careledger FHIR bundle into a store: the commands that recorded the episode, replayed.

The commands are first run against an empty in-memory store, so a bundle that
does not make a valid episode is refused with the resource and the problem, and
nothing is written. Then each is applied to the store as recorded at the
time it was first recorded (`Episodes.handle(..., recorded_at=...)`), so the
imported episode keeps when (and by whom) each fact was written (docs/rules.md#amendments: a
note keeps both its dates), and its
versions and ids are those of the exported one. Command ids are derived from the
episode and the version, so importing the same bundle again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.episode.commands import parse_command
from domain.errors import CareledgerError, InvalidInput
from projections.interop.fhir.reader import read_bundle
from projections.interop.fhir.reading import Recorded
from projections.interop.fhir.validate import parse

if TYPE_CHECKING:
    from domain.episode.application import Episodes


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the episode, how many commands, how many were new."""

    episode_id: UUID
    commands: int
    applied: int
    already_applied: int
    version: int

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "commands": self.commands,
            "applied": self.applied,
            "already_applied": self.already_applied,
            "version": self.version,
        }


def _check(item: Recorded, app: Episodes) -> None:
    try:
        app.handle(parse_command(item.document), recorded_at=item.at)
    except CareledgerError as error:
        raise InvalidInput(item.source, f"{item.document['command']}: {error}") from None


def _check_existing(app: Episodes, episode_id: UUID, items: list[Recorded]) -> None:
    """Refuse a bundle whose episode is in the store with facts other than the bundle's own (first) ones."""
    from domain.errors import EpisodeNotFound

    try:
        existing = app.get_episode(episode_id)
    except EpisodeNotFound:
        return
    for item in items:
        known = existing.commands.get(str(item.document["command_id"]))
        if item.version <= existing.version and known != parse_command(item.document).digest():
            raise InvalidInput(
                "episode_id",
                f"episode {episode_id} is already in this store with other facts (version {item.version} "
                "differs); nothing was imported",
            )


def import_bundle(app: Episodes, text: bytes, name: str = "bundle") -> ImportResult:
    """Read a bundle and record its episode in the store; refuse it whole if it is not valid."""
    from domain.episode.application import Episodes

    episode_id, items = read_bundle(parse(text, name))
    trial = Episodes(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, payer_dirs=app.payer_dirs, timezone=app.timezone
    )
    try:
        for item in items:
            _check(item, trial)
    finally:
        trial.close()
    _check_existing(app, episode_id, items)
    applied = 0
    for item in items:
        result = app.handle(parse_command(item.document), recorded_at=item.at)
        applied += int(result.applied)
    return ImportResult(episode_id, len(items), applied, len(items) - applied, app.last_version(episode_id))
