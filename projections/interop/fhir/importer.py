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

from domain.billing.bill import bill_with_others, billing_rules
from domain.episode.commands import parse_command
from domain.errors import CareledgerError, InvalidInput
from projections.interop.fhir.builder import TYPE_ORDER
from projections.interop.fhir.codes import CPT, HCPCS
from projections.interop.fhir.export import others_of
from projections.interop.fhir.reader import read_bundle
from projections.interop.fhir.reading import Json, Recorded
from projections.interop.fhir.validate import claims_match, parse, problems

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
    unread: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "commands": self.commands,
            "applied": self.applied,
            "already_applied": self.already_applied,
            "version": self.version,
            "unread": list(self.unread),
        }


PROCEDURE_SYSTEMS = frozenset({CPT, HCPCS})


def _refuse(name: str, found: list[str]) -> None:
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidInput(name, f"{found[0]}{more}; nothing was imported")


def _coded_in_cpt(index: int, resource: Json) -> list[str]:
    """Return a problem for each procedure code of a Procedure or Claim item that is not CPT or HCPCS."""
    where = f"entry {index} ({resource.get('resourceType')}/{resource.get('id')})"
    concepts = [("code", resource.get("code"))] if resource.get("resourceType") == "Procedure" else []
    if resource.get("resourceType") == "Claim":
        concepts = [
            (f"item[{n}].productOrService", item.get("productOrService"))
            for n, item in enumerate(resource.get("item", []))
        ]
    out = []
    for path, concept in concepts:
        systems = [coding.get("system") for coding in (concept or {}).get("coding", [])]
        if not PROCEDURE_SYSTEMS.intersection(systems):
            out.append(f"{where}: {path}: system {', '.join(map(str, systems))} is not CPT or HCPCS")
    return out


def check_faithful(data: Json, name: str) -> tuple[str, ...]:
    """Refuse a bundle careledger cannot read faithfully (the first problem, naming the entry and
    field); return the resources it does not read (`Type/id`), for the import's report.
    """
    _refuse(name, problems(data))
    entries = [entry.get("resource") or {} for entry in data.get("entry", [])]
    _refuse(name, [p for index, r in enumerate(entries) for p in _coded_in_cpt(index, r)])
    return tuple(
        f"{r.get('resourceType')}/{r.get('id')}" for r in entries if r.get("resourceType") not in TYPE_ORDER
    )


def _check_claims(data: Json, name: str, trial: Episodes, app: Episodes, episode_id: UUID) -> None:
    """Refuse a bundle whose Claims bill other lines than the billing engine gives its visits.

    KX is left out of the comparison: it counts the beneficiary's other episodes, which the bundle
    does not carry and the receiving store may not hold.
    """
    episode = trial.get_episode(episode_id)
    bill = bill_with_others(episode, others_of(app, episode), billing_rules(episode.payer, app.payer_dirs))
    by_id = {str(e["resource"]["id"]): e["resource"] for e in data.get("entry", [])}
    _refuse(name, claims_match(by_id, bill, ignore=frozenset({"KX"})))


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

    data = parse(text, name)
    unread = check_faithful(data, name)
    episode_id, items = read_bundle(data)
    trial = Episodes(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, payer_dirs=app.payer_dirs, timezone=app.timezone
    )
    try:
        for item in items:
            _check(item, trial)
        _check_claims(data, name, trial, app, episode_id)
    finally:
        trial.close()
    _check_existing(app, episode_id, items)
    applied = 0
    for item in items:
        result = app.handle(parse_command(item.document), recorded_at=item.at)
        applied += int(result.applied)
    return ImportResult(
        episode_id, len(items), applied, len(items) - applied, app.last_version(episode_id), unread
    )
