"""Validate bundles: with fhir.resources' R4B models, and with the invariants those models do not check.

The models check structure and data types. They do not check that a period
starts before it ends, that the elements FHIR requires (status, intent, use...)
are present with a code from their required value set, that references point
inside the bundle at a resource of the type they name, or that a Claim bills
the units careledger's billing engine computed. `problems` does; every
exported bundle passes both before it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson

from domain.errors import CareledgerError, InvalidInput
from projections.interop.fhir.codes import urn

if TYPE_CHECKING:
    from domain.billing.bill import EpisodeBill

Json = dict[str, Any]

# Elements FHIR R4 requires (1..1) that the models leave optional, with their required value sets.
REQUIRED: dict[str, dict[str, frozenset[str] | None]] = {
    "Bundle": {"type": frozenset({"collection", "document", "transaction", "batch", "searchset"})},
    "EpisodeOfCare": {
        "status": frozenset({"planned", "waitlist", "active", "onhold", "finished", "cancelled"}),
        "patient": None,
    },
    "Encounter": {
        "status": frozenset({"planned", "arrived", "triaged", "in-progress", "onleave", "finished"})
        | frozenset({"cancelled", "entered-in-error", "unknown"}),
        "class": None,
    },
    "Procedure": {
        "status": frozenset({"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed"})
        | frozenset({"entered-in-error", "unknown"}),
        "subject": None,
        "code": None,
    },
    "Observation": {
        "status": frozenset({"registered", "preliminary", "final", "amended", "corrected", "cancelled"})
        | frozenset({"entered-in-error", "unknown"}),
        "code": None,
    },
    "Claim": {
        "status": frozenset({"active", "cancelled", "draft", "entered-in-error"}),
        "use": frozenset({"claim", "preauthorization", "predetermination"}),
        "type": None,
        "patient": None,
        "created": None,
        "provider": None,
        "priority": None,
        "insurance": None,
    },
    "Coverage": {
        "status": frozenset({"active", "cancelled", "draft", "entered-in-error"}),
        "beneficiary": None,
        "payor": None,
    },
    "Provenance": {"target": None, "recorded": None, "agent": None},
    "CarePlan": {
        "status": frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"})
        | frozenset({"unknown"}),
        "intent": frozenset({"proposal", "plan", "order", "option"}),
        "subject": None,
    },
    "Goal": {
        "lifecycleStatus": frozenset({"proposed", "planned", "accepted", "active", "on-hold", "completed"})
        | frozenset({"cancelled", "entered-in-error", "rejected"}),
        "description": None,
        "subject": None,
    },
    "ClinicalImpression": {
        "status": frozenset({"in-progress", "completed", "entered-in-error"}),
        "subject": None,
    },
    "ServiceRequest": {
        "status": frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"})
        | frozenset({"unknown"}),
        "intent": frozenset({"proposal", "plan", "directive", "order", "original-order", "reflex-order"})
        | frozenset({"filler-order", "instance-order", "option"}),
        "subject": None,
    },
    "Condition": {"subject": None, "code": None},
}
CARE_PLAN_ACTIVITY_STATUS = frozenset(
    {"not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped", "unknown"}
) | frozenset({"entered-in-error"})
STATUS_HISTORY = frozenset({"planned", "waitlist", "active", "onhold", "finished", "cancelled"})


class InvalidBundle(CareledgerError):
    """A bundle breaks FHIR or one of careledger's invariants."""


def serialise(bundle: Json) -> bytes:
    """Validate a bundle with the R4B models and return the JSON they write (indented)."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        model = Bundle.model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidBundle(f"bundle: {where}: {first['msg']}") from None
    text = model.model_dump_json(exclude_none=True)
    return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2) + b"\n"


def parse(text: bytes, name: str = "bundle") -> Json:
    """Read a bundle's JSON, check it with the R4B models and return it (numbers with decimals as Decimal)."""
    import json
    from decimal import Decimal

    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise InvalidInput(name, f"malformed JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise InvalidInput(name, f"not a FHIR Bundle (resourceType {found!r})")
    try:
        Bundle.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(name, f"not a valid FHIR R4 Bundle: {where}: {first['msg']}") from None
    except KeyError as exc:  # fhir.resources looks an unknown resourceType up in a dict
        kind = str(exc.args[0]).removeprefix("R4.").removesuffix("Type") if exc.args else "?"
        raise InvalidInput(name, f"not a valid FHIR R4 Bundle: unknown resource type {kind!r}") from None
    return data


def check_invariants(bundle: Json, bill: EpisodeBill | None = None) -> None:
    """Raise InvalidBundle naming the first invariant the bundle breaks."""
    found = problems(bundle, bill)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidBundle(f"bundle: {found[0]}{more}")


def problems(bundle: Json, bill: EpisodeBill | None = None) -> list[str]:
    """Return every invariant the bundle breaks (an empty list for a good bundle)."""
    out: list[str] = []
    out += _required(bundle, "Bundle", "Bundle")
    entries = bundle.get("entry", [])
    by_id: dict[str, Json] = {}
    named: list[tuple[str, Json]] = []
    full_urls: set[str] = set()
    for index, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        kind, identifier = resource.get("resourceType", "?"), resource.get("id")
        where = f"entry {index} ({kind}/{identifier})"
        if entry.get("fullUrl") in full_urls:
            out.append(f"{where}: fullUrl {entry['fullUrl']} appears twice in the bundle")
        full_urls.add(entry.get("fullUrl"))
        if not identifier:
            out.append(f"{where}: no id")
            continue
        if identifier in by_id:
            out.append(f"{where}: id used twice")
        by_id[identifier] = resource
        named.append((where, resource))
        if entry.get("fullUrl") != urn(identifier):
            out.append(f"{where}: fullUrl {entry.get('fullUrl')} is not {urn(identifier)}")
        out += _required(resource, kind, where)
        out += [f"{where}: {p}" for p in _resource_rules(resource)]
    for path, reference in (found for where, r in named for found in _references(r, where)):
        target = reference.get("reference", "")
        if not target.startswith("urn:uuid:"):
            out.append(f"{path}: reference {target} is not to a bundle entry")
            continue
        resolved = by_id.get(target.removeprefix("urn:uuid:"))
        if resolved is None:
            out.append(f"{path}: reference {target} does not resolve inside the bundle")
        elif reference.get("type") and reference["type"] != resolved.get("resourceType"):
            out.append(f"{path}: reference typed {reference['type']} points at a {resolved['resourceType']}")
    for path, period in _periods(bundle):
        start, end = period.get("start"), period.get("end")
        if start and end and _day(end) < _day(start):
            out.append(f"{path}: period ends ({end}) before it starts ({start})")
    if bill is not None:
        out += claims_match(by_id, bill)
    return out


def _required(resource: Json, kind: str, where: str) -> list[str]:
    out = []
    for element, allowed in REQUIRED.get(kind, {}).items():
        value = resource.get(element)
        if value in (None, "", [], {}):
            out.append(f"{where}: {element} is required")
        elif allowed is not None and value not in allowed:
            out.append(f"{where}: {element} {value!r} is not in its value set")
    return out


def _resource_rules(resource: Json) -> Iterator[str]:
    kind = resource.get("resourceType")
    for path, concept in _walk_concepts(resource):
        for coding in concept.get("coding", []):
            if not coding.get("system") or not coding.get("code"):
                yield f"{path}: a coding without system or code"
    if kind == "EpisodeOfCare":
        for item in resource.get("statusHistory", []):
            if item.get("status") not in STATUS_HISTORY or not item.get("period"):
                yield "statusHistory needs a status from its value set and a period"
    if kind == "CarePlan":
        for activity in resource.get("activity", []):
            if activity.get("detail", {}).get("status") not in CARE_PLAN_ACTIVITY_STATUS:
                yield "activity.detail.status is required, from its value set"
    if kind == "Encounter":
        length = resource.get("length", {})
        if length and (length.get("system"), length.get("code")) != ("http://unitsofmeasure.org", "min"):
            yield "length must be in UCUM minutes"
        period = resource.get("period", {})
        if not period.get("start"):
            yield "period.start (the date of service) is required"
    if kind == "Procedure" and not resource.get("code", {}).get("coding"):
        yield "code needs a CPT/HCPCS coding"
    if kind == "Observation" and not resource.get("code", {}).get("coding"):
        yield "code needs a coding (LOINC or careledger's instrument system)"
    if kind == "Claim":
        yield from _claim_rules(resource)


def _claim_rules(claim: Json) -> Iterator[str]:
    diagnoses = {d.get("sequence") for d in claim.get("diagnosis", [])}
    team = {t.get("sequence") for t in claim.get("careTeam", [])}
    for number, item in enumerate(claim.get("item", []), start=1):
        if item.get("sequence") != number:
            yield f"item {number}: sequence {item.get('sequence')} out of order"
        if not item.get("productOrService", {}).get("coding"):
            yield f"item {number}: productOrService needs a code"
        for pointer in item.get("diagnosisSequence", []):
            if pointer not in diagnoses:
                yield f"item {number}: diagnosisSequence {pointer} names no diagnosis"
        for pointer in item.get("careTeamSequence", []):
            if pointer not in team:
                yield f"item {number}: careTeamSequence {pointer} names no care team member"
        quantity = item.get("quantity", {}).get("value")
        if not isinstance(quantity, int) or quantity < 1:
            yield f"item {number}: quantity {quantity!r} is not a whole number of units"


def claims_match(
    by_id: dict[str, Json], bill: EpisodeBill, *, ignore: frozenset[str] = frozenset()
) -> list[str]:
    """Check each Claim bills exactly the units the billing engine gives its visit (modifiers in
    `ignore` are left out of the comparison).
    """
    expected = {
        visit.date_of_service.isoformat(): sorted(
            (line.code, line.units, tuple(m for m in line.modifiers if m not in ignore))
            for line in visit.lines
            if line.billable and line.units > 0
        )
        for visit in bill.visits
    }
    out = []
    claimed: set[str] = set()
    for resource in by_id.values():
        if resource.get("resourceType") != "Claim":
            continue
        dos = resource.get("billablePeriod", {}).get("start", "")
        claimed.add(dos)
        lines = sorted(
            (
                item["productOrService"]["coding"][0]["code"],
                item.get("quantity", {}).get("value"),
                tuple(
                    m["coding"][0]["code"]
                    for m in item.get("modifier", [])
                    if m["coding"][0]["code"] not in ignore
                ),
            )
            for item in resource.get("item", [])
        )
        if lines != expected.get(dos):
            out.append(
                f"Claim/{resource.get('id')} ({dos}): items {lines} differ from the billing engine's "
                f"{expected.get(dos)}"
            )
    for dos, lines in expected.items():
        if lines and dos not in claimed:
            out.append(f"visit {dos}: bills {lines} but has no Claim")
    return out


def _walk(value: Any, path: str) -> Iterator[tuple[str, Json]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _references(resource: Json, where: str) -> Iterator[tuple[str, Json]]:
    for path, node in _walk(resource, where):
        if isinstance(node.get("reference"), str):
            yield path, node


def _periods(bundle: Json) -> Iterator[tuple[str, Json]]:
    for path, node in _walk(bundle, "Bundle"):
        if path.endswith(("period", "Period", "billablePeriod")) or path.endswith(".valuePeriod"):
            yield path, node


def _walk_concepts(resource: Json) -> Iterator[tuple[str, Json]]:
    for path, node in _walk(resource, resource.get("resourceType", "?")):
        if isinstance(node.get("coding"), list):
            yield path, node


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])
