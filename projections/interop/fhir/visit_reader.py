"""Read one Encounter (with its Procedures and Provenances) back into the commands that recorded it.

The Encounter shows the note as it stands (corrections applied; a voided note
as it stood when voided). The entry command gets the note as first written:
each correction's values before, applied newest first. Then each amendment
follows as its own command, in the order of its version (docs/rules.md#amendments).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from domain.errors import InvalidInput
from projections.interop.fhir.codes import (
    CPT,
    CS_AMENDMENT,
    HCPCS,
    extensions,
    parse_instant,
    parts_of,
    ref_id,
    value_of,
)
from projections.interop.fhir.reading import (
    Bundle,
    Json,
    Recorded,
    code_in,
    command,
    dosage_of,
    json_value,
    participant_of,
    provider_of,
    recorded_of,
    role_of,
)

KINDS = {"late-entry": "late_entry", "amend": "correction", "addendum": "addendum", "void": "void"}


def _line(procedure: Json) -> tuple[int, Json]:
    line: Json = {
        "code": code_in(procedure["code"], CPT) or code_in(procedure["code"], HCPCS),
        "minutes": value_of(procedure, "minutes", "Integer"),
    }
    optional = {
        "assistant_minutes": value_of(procedure, "assistant-minutes", "Integer"),
        "units": value_of(procedure, "recorded-units", "Integer"),
        "start": value_of(procedure, "start", "Time"),
        "end": value_of(procedure, "end", "Time"),
    }
    line.update({k: v for k, v in optional.items() if v is not None})
    modifiers = [e["valueCode"] for e in extensions(procedure, "recorded-modifier")]
    if modifiers:
        line["modifiers"] = modifiers
    return int(value_of(procedure, "line", "Integer") or 0), line


def _exercise(element: Json) -> Json:
    parts = parts_of(element)
    value: Json = {"name": parts.get("name")}
    if parts.get("exerciseId"):
        value["exercise_id"] = parts["exerciseId"]
    if parts.get("dosage"):
        value["dosage"] = dosage_of(parts["dosage"])
    if parts.get("note"):
        value["note"] = parts["note"]
    return value


def note_of(bundle: Bundle, encounter: Json, source: str) -> Json:
    """Return the note an Encounter shows, as the fields of a record_visit command."""
    provider_id, credential = role_of(bundle, participant_of(encounter, "PPRF"), source)
    note: Json = {
        "date_of_service": encounter["period"]["start"],
        "provider_id": provider_id,
        "credential": credential,
        "total_treatment_minutes": encounter["length"]["value"],
    }
    supervisor = participant_of(encounter, "ATND")
    if supervisor is not None:
        supervising = provider_of(bundle, supervisor, source, "supervising provider")
        note["supervising_provider_id"] = supervising["provider_id"]
    procedures = [p for p in bundle.of_type("Procedure") if ref_id(p.get("encounter")) == encounter["id"]]
    if not procedures:
        raise InvalidInput(source, "no Procedure (service line) refers to this Encounter")
    note["service_lines"] = [line for _, line in sorted((_line(p) for p in procedures), key=lambda x: x[0])]
    texts = {
        "necessity": value_of(encounter, "necessity", "String"),
        "patient_response": value_of(encounter, "patient-response", "String"),
        "narrative": value_of(encounter, "narrative", "String"),
    }
    note.update({k: v for k, v in texts.items() if v is not None})
    skilled = [e["valueString"] for e in extensions(encounter, "skilled-intervention")]
    if skilled:
        note["skilled_interventions"] = skilled
    performed = [_exercise(e) for e in extensions(encounter, "performed-exercise")]
    if performed:
        note["exercises"] = performed
    return note


def _amendment(provenance: Json, source: str) -> tuple[str, tuple[Any, ...], Json]:
    kind = KINDS.get(code_in(provenance.get("activity"), CS_AMENDMENT) or "")
    if kind is None:
        raise InvalidInput(f"Provenance/{provenance.get('id')}", "no careledger amendment activity")
    who = provenance["agent"][0]["who"]
    by = (who.get("identifier") or {}).get("value") or who.get("display")
    version = value_of(provenance, "event-version", "Integer")
    if version is None or not by:
        raise InvalidInput(f"Provenance/{provenance.get('id')}", "no event version or author")
    at = (int(version), parse_instant(provenance["recorded"]), str(by))
    details: Json = {
        "reason": (provenance.get("reason") or [{}])[0].get("text"),
        "amends_version": value_of(provenance, "amends-version", "Integer"),
    }
    if kind == "correction":
        changes = []
        for correction in extensions(provenance, "correction"):
            for change in correction.get("extension", []):
                parts = parts_of(change)
                changes.append((parts["field"], json_value(parts["before"]), json_value(parts["after"])))
        details["changes"] = changes
    if kind == "addendum":
        details["text"] = value_of(provenance, "addendum-text", "String")
    return kind, at, details


def visit_commands(bundle: Bundle, eid: str, encounter: Json) -> Iterator[Recorded]:
    """Yield the entry command of an Encounter's note, then each of its amendments, oldest first."""
    source = f"Encounter/{encounter.get('id')} (visit {encounter.get('period', {}).get('start')})"
    note = note_of(bundle, encounter, source)
    provenances = [
        p
        for p in bundle.of_type("Provenance")
        if any(ref_id(t) == encounter["id"] for t in p.get("target", []))
    ]
    amendments = sorted((_amendment(p, source) for p in provenances), key=lambda a: a[1][0])
    original = dict(note)
    for kind, _, details in reversed(amendments):
        if kind == "correction":
            for field, before, _after in details["changes"]:
                original[field] = before
    late = [details for kind, _, details in amendments if kind == "late_entry"]
    entry = recorded_of(encounter, source)
    if late:
        yield command("record_late_entry", eid, source, entry, reason=late[0]["reason"], **original)
    else:
        yield command("record_visit", eid, source, entry, **original)
    dos = note["date_of_service"]
    for kind, at, details in amendments:
        target: Json = {"date_of_service": dos, "amends_version": details["amends_version"]}
        if kind == "correction":
            changes = {field: after for field, _before, after in details["changes"]}
            yield command(
                "correct_visit", eid, source, at, changes=changes, reason=details["reason"], **target
            )
        elif kind == "addendum":
            yield command(
                "add_addendum", eid, source, at, text=details["text"], reason=details["reason"], **target
            )
        elif kind == "void":
            yield command("void_visit", eid, source, at, reason=details["reason"], **target)
