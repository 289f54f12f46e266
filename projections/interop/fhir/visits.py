"""The visits: an Encounter per note, a Procedure per service line, a Provenance per amendment,
and a Claim per visit from the billing engine.

A voided note stays in the bundle as an `entered-in-error` Encounter (with its
Procedures), so the record's history is complete; it has no Claim. The note's
texts (necessity, skilled interventions, response, narrative, exercises with
their dosage) are careledger extensions of the Encounter (docs/fhir.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from domain.billing.claims import VisitBill
from domain.records import Amendment, Visit
from domain.rules.catalogue import code_catalogue
from domain.values import Provider
from projections.interop.fhir.builder import Builder, Resource, credential_concept
from projections.interop.fhir.care import dosage_ext
from projections.interop.fhir.codes import (
    ACT_CODE,
    CARE_TEAM_ROLE,
    CLAIM_TYPE,
    CS_AMENDMENT,
    DATA_OPERATION,
    DIAGNOSIS_ROLE,
    ICD10CM,
    PARTICIPATION,
    PRIORITY,
    PROVENANCE_AGENT,
    SID_USER,
    UCUM,
    coding,
    complex_ext,
    concept,
    day,
    ext,
    instant,
    procedure_system,
    recorded,
    ref,
    resource_id,
    sub,
)
from projections.interop.fhir.remittance import claim_responses

# Amendment kinds as Provenance activities: careledger's code, then HL7's data operation.
ACTIVITIES = {
    "late_entry": ("late-entry", "late entry", "CREATE"),
    "correction": ("amend", "correction", "UPDATE"),
    "addendum": ("addendum", "addendum", "APPEND"),
    "void": ("void", "entered in error", "NULLIFY"),
}
CURRENCY = "USD"


def encounter_id(b: Builder, visit: Visit) -> str:
    """Return the id of a visit's Encounter: from the version of its entry."""
    return resource_id("Encounter", b.episode_id, visit.event_version)


def visits(b: Builder, insurer: Resource, coverage: Resource) -> None:
    """Add every visit's Encounter, Procedures and Provenances (voided ones too), and the Claims."""
    bills = {v.date_of_service: v for v in b.bill.visits}
    every = [*b.episode.visits.values(), *b.episode.voided_visits]
    claims: dict[Any, tuple[Resource, list[Resource]]] = {}
    for visit in sorted(every, key=lambda v: v.event_version):
        voided = any(a.kind == "void" for a in visit.amendments)
        encounter = _encounter(b, visit, voided)
        for index, _ in enumerate(visit.service_lines):
            _procedure(b, visit, index, encounter, voided)
        for amendment in visit.amendments:
            _provenance(b, visit, amendment, encounter)
        bill = None if voided else bills.get(visit.date_of_service)
        if bill is not None:
            made = _claim(b, visit, bill, encounter, insurer, coverage)
            if made is not None:
                claims[visit.date_of_service] = made
    claim_responses(b, insurer, claims)


def _encounter(b: Builder, visit: Visit, voided: bool) -> Resource:
    extensions: list[Resource] = [recorded(visit.event_version, visit.recorded_at, visit.recorded_by)]
    if visit.necessity:
        extensions.append(ext("necessity", "String", visit.necessity))
    extensions += [ext("skilled-intervention", "String", text) for text in visit.skilled_interventions]
    if visit.patient_response:
        extensions.append(ext("patient-response", "String", visit.patient_response))
    if visit.narrative:
        extensions.append(ext("narrative", "String", visit.narrative))
    for performed in visit.exercises:
        extensions.append(
            complex_ext(
                "performed-exercise",
                [
                    sub("exerciseId", "String", performed.exercise_id),
                    sub("name", "String", performed.name),
                    None
                    if performed.dosage.is_empty()
                    else dosage_ext("dosage", performed.dosage, url="dosage"),
                    sub("note", "String", performed.note),
                ],
            )
        )
    participants = [
        {
            "type": [concept(PARTICIPATION, "PPRF", "primary performer")],
            "individual": b.role(visit.provider_id, visit.credential),
        }
    ]
    if visit.supervising_provider_id:
        participants.append(
            {
                "type": [concept(PARTICIPATION, "ATND", "attender")],
                "individual": b.practitioner(Provider(provider_id=visit.supervising_provider_id)),
            }
        )
    resource: Resource = {
        "resourceType": "Encounter",
        "id": encounter_id(b, visit),
        "extension": extensions,
        "status": "entered-in-error" if voided else "finished",
        "class": coding(ACT_CODE, "AMB", "ambulatory"),
        "subject": b.patient,
        "episodeOfCare": [b.episode_ref],
        "participant": participants,
        "period": {"start": day(visit.date_of_service), "end": day(visit.date_of_service)},
        "length": {"value": visit.total_treatment_minutes, "unit": "min", "system": UCUM, "code": "min"},
        "diagnosis": [
            {"condition": b.condition(d), "use": concept(DIAGNOSIS_ROLE, "billing", "Billing"), "rank": rank}
            for rank, d in enumerate(b.episode.diagnoses, start=1)
        ],
    }
    return ref("Encounter", b.add(resource), f"visit {visit.date_of_service}")


def _procedure(b: Builder, visit: Visit, index: int, encounter: Resource, voided: bool) -> None:
    line = visit.service_lines[index]
    info = code_catalogue().get(line.code)
    extensions: list[Resource | None] = [
        ext("line", "Integer", index + 1),
        ext("minutes", "Integer", line.minutes),
        ext("assistant-minutes", "Integer", line.assistant_minutes) if line.assistant_minutes else None,
        ext("start", "Time", line.start.isoformat()) if line.start else None,
        ext("end", "Time", line.end.isoformat()) if line.end else None,
        ext("recorded-units", "Integer", line.units) if line.units is not None else None,
        *(ext("recorded-modifier", "Code", m) for m in line.modifiers),
    ]
    b.add(
        {
            "resourceType": "Procedure",
            "id": resource_id("Procedure", b.episode_id, visit.event_version, index + 1),
            "extension": [e for e in extensions if e is not None],
            "status": "entered-in-error" if voided else "completed",
            "code": concept(procedure_system(line.code), line.code, text=info.description if info else None),
            "subject": b.patient,
            "encounter": encounter,
            "performedDateTime": day(visit.date_of_service),
            "performer": [{"actor": b.role(visit.provider_id, visit.credential)}],
        }
    )


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _provenance(b: Builder, visit: Visit, amendment: Amendment, encounter: Resource) -> None:
    code, display, operation = ACTIVITIES[amendment.kind]
    extensions: list[Resource] = [
        ext("event-version", "Integer", amendment.event_version),
        ext("amends-version", "Integer", amendment.amends_version),
    ]
    if amendment.kind == "correction":
        changes = [
            complex_ext(
                "change",
                [
                    sub("field", "Code", field),
                    sub("before", "String", _json(amendment.previous.get(field))),
                    sub("after", "String", _json(value)),
                ],
                url="change",
            )
            for field, value in amendment.changes.items()
        ]
        extensions.append(complex_ext("correction", changes))
    if amendment.text:
        extensions.append(ext("addendum-text", "String", amendment.text))
    b.add(
        {
            "resourceType": "Provenance",
            "id": resource_id("Provenance", b.episode_id, amendment.event_version),
            "extension": extensions,
            "target": [encounter],
            "occurredDateTime": instant(amendment.recorded_at),
            "recorded": instant(amendment.recorded_at),
            "reason": [{"text": amendment.reason}],
            "activity": {"coding": [coding(CS_AMENDMENT, code, display), coding(DATA_OPERATION, operation)]},
            "agent": [
                {
                    "type": concept(PROVENANCE_AGENT, "author", "Author"),
                    "who": {
                        "identifier": {"system": SID_USER, "value": amendment.recorded_by},
                        "display": amendment.recorded_by,
                    },
                }
            ],
        }
    )


def _money(value: Any) -> Resource:
    return {"value": value, "currency": CURRENCY}


def _claim(
    b: Builder, visit: Visit, bill: VisitBill, encounter: Resource, insurer: Resource, coverage: Resource
) -> tuple[Resource, list[Resource]] | None:
    """Add the visit's Claim; return a reference to it and its items (for a ClaimResponse)."""
    lines = [line for line in bill.lines if line.billable and line.units > 0]
    if not lines:
        return None
    care_team = [
        {
            "sequence": 1,
            "provider": b.role(visit.provider_id, visit.credential),
            "role": concept(CARE_TEAM_ROLE, "primary", "Primary provider"),
            "qualification": credential_concept(visit.credential),
        }
    ]
    provider = care_team[0]["provider"]
    if visit.supervising_provider_id:
        provider = b.practitioner(Provider(provider_id=visit.supervising_provider_id))
        care_team.append(
            {
                "sequence": 2,
                "provider": provider,
                "role": concept(CARE_TEAM_ROLE, "supervisor", "Supervising"),
            }
        )
    items = []
    for sequence, line in enumerate(lines, start=1):
        item: Resource = {
            "extension": [ext("explanation", "String", sentence) for sentence in line.explanation],
            "sequence": sequence,
            "careTeamSequence": [1],
            "diagnosisSequence": list(line.diagnosis_pointers),
            "productOrService": concept(procedure_system(line.code), line.code),
            "servicedDate": day(line.date_of_service),
            "quantity": {"value": line.units},
            "encounter": [encounter],
        }
        if line.modifiers:
            item["modifier"] = [concept(procedure_system(m), m) for m in line.modifiers]
        if line.unit_charge is not None and line.charge is not None:
            item["unitPrice"] = _money(line.unit_charge)
            item["net"] = _money(line.charge)
        if line.allowed_amount is not None:
            item["extension"].append(ext("expected-allowed", "Money", _money(line.allowed_amount)))
        items.append(item)
    last = max([visit.recorded_at, *(a.recorded_at for a in visit.amendments)])
    resource: Resource = {
        "resourceType": "Claim",
        "id": resource_id("Claim", b.episode_id, visit.event_version),
        "extension": [ext("unit-rule", "Code", bill.rule)],
        "status": "active",
        "type": concept(CLAIM_TYPE, "professional", "Professional"),
        "use": "claim",
        "patient": b.patient,
        "billablePeriod": {"start": day(visit.date_of_service), "end": day(visit.date_of_service)},
        "created": instant(last),
        "insurer": insurer,
        "provider": b.billing_organization() or provider,
        "priority": concept(PRIORITY, "normal", "Normal"),
        "careTeam": care_team,
        "diagnosis": [
            {"sequence": n, "diagnosisCodeableConcept": concept(ICD10CM, code)}
            for n, code in enumerate(b.bill.diagnoses, start=1)
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": coverage}],
        "item": items,
    }
    charges = [line.charge for line in lines]
    if all(charge is not None for charge in charges):
        resource["total"] = _money(sum((c for c in charges if c is not None), Decimal("0.00")))
    return ref("Claim", b.add(resource)), items
