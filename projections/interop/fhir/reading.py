"""Helpers to read careledger's FHIR resources: codes, identifiers, references, recorded provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid5

import orjson

from domain.errors import InvalidInput
from projections.interop.fhir.codes import (
    CS_CREDENTIAL,
    ICD10CM,
    NAMESPACE,
    PARTICIPATION,
    SID_PROVIDER,
    ext_url,
    extensions,
    parse_instant,
    parts_of,
    ref_id,
)

Json = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    """One command read from a bundle: its event version, when and by whom it was first recorded."""

    version: int
    at: datetime
    by: str
    document: Json
    source: str


class Bundle:
    """A parsed bundle's resources by id and type."""

    def __init__(self, data: Json) -> None:
        self.by_id: dict[str, Json] = {}
        for entry in data.get("entry", []):
            resource = entry.get("resource") or {}
            if "id" in resource:
                self.by_id[str(resource["id"])] = resource

    def of_type(self, kind: str) -> list[Json]:
        """Return the resources of one type, in bundle order."""
        return [r for r in self.by_id.values() if r.get("resourceType") == kind]

    def get(self, reference: Json | None, source: str, what: str) -> Json:
        """Return the resource a reference points at, or refuse naming what was expected."""
        found = self.by_id.get(ref_id(reference) or "")
        if found is None:
            raise InvalidInput(source, f"{what}: the reference does not resolve inside the bundle")
        return found


def code_in(concept: Json | None, system: str) -> str | None:
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == system:
            return str(coding["code"])
    return None


def identifier_of(resource: Json, system: str) -> str | None:
    for identifier in resource.get("identifier", []):
        if identifier.get("system") == system:
            return str(identifier["value"])
    return None


def recorded_of(element: Json, source: str) -> tuple[int, datetime, str]:
    found = extensions(element, "recorded")
    if not found:
        raise InvalidInput(
            source, "no careledger 'recorded' extension: careledger imports the bundles it exports"
        )
    parts = parts_of(found[0])
    return int(parts["version"]), parse_instant(parts["at"]), str(parts["by"])


def nested_recorded(parts: Json, source: str) -> tuple[int, datetime, str]:
    element = parts.get(ext_url("recorded"))
    if not isinstance(element, dict):
        raise InvalidInput(source, "no careledger 'recorded' extension")
    return recorded_of({"extension": [element]}, source)


def provider_of(bundle: Bundle, reference: Json | None, source: str, what: str) -> Json:
    """Return the provider record a reference to a Practitioner gives: the person's provider id
    (from the Practitioner) and what this mention recorded (the reference's `provider-record`).
    """
    practitioner = bundle.get(reference, source, what)
    provider_id = identifier_of(practitioner, SID_PROVIDER)
    if provider_id is None:
        raise InvalidInput(
            source, f"Practitioner/{practitioner.get('id')} has no careledger provider identifier"
        )
    value: Json = {"provider_id": provider_id}
    for record in extensions(reference or {}, "provider-record"):
        parts = parts_of(record)
        for name in ("name", "npi", "credential"):
            if parts.get(name) is not None:
                value[name] = parts[name]
    return value


def role_of(bundle: Bundle, reference: Json | None, source: str) -> tuple[str, str]:
    role = bundle.get(reference, source, "practitioner role")
    credential = code_in((role.get("code") or [{}])[0], CS_CREDENTIAL)
    if credential is None:
        raise InvalidInput(source, "the practitioner role has no careledger credential code")
    return provider_of(bundle, role.get("practitioner"), source, "practitioner")["provider_id"], credential


def diagnosis_of(bundle: Bundle, reference: Json | None, source: str) -> Json:
    condition = bundle.get(reference, source, "condition")
    value: Json = {"code": code_in(condition.get("code"), ICD10CM)}
    if condition.get("code", {}).get("text"):
        value["description"] = condition["code"]["text"]
    return value


def dosage_of(element: Json | None) -> Json:
    if not isinstance(element, dict):
        return {}
    names = {
        "sets": "sets",
        "reps": "reps",
        "load": "load",
        "loadUnit": "load_unit",
        "resistance": "resistance",
        "durationSeconds": "duration_seconds",
        "distanceM": "distance_m",
        "position": "position",
    }
    return {names[k]: v for k, v in parts_of(element).items() if k in names}


def command(kind: str, eid: str, source: str, at: tuple[int, datetime, str], **fields: Any) -> Recorded:
    """Return a command document of the episode, with its id derived from the episode and the version."""
    version, moment, by = at
    document = {
        "command": kind,
        "command_id": str(uuid5(NAMESPACE, f"import/{eid}/{version}")),
        "recorded_by": by,
        "episode_id": eid,
        **{k: v for k, v in fields.items() if v is not None},
    }
    return Recorded(version, moment, by, document, source)


def participant_of(encounter: Json, code: str) -> Json | None:
    """Return the individual of an Encounter's participant with a participation type code."""
    for participant in encounter.get("participant", []):
        for concept in participant.get("type", []):
            if code_in(concept, PARTICIPATION) == code:
                return participant.get("individual")  # type: ignore[no-any-return]
    return None


def json_value(text: str) -> Any:
    """Read a JSON value kept as a string in an extension."""
    return orjson.loads(text)
