"""A payer's remittance as a FHIR R4 ClaimResponse, and back (docs/fhir.md, docs/billing.md#835).

Each `RemittanceReceived` of the episode becomes a ClaimResponse pointing at the visit's Claim:
per line (`item`, by the Claim item's sequence) the charge (`submitted`), the payment
(`benefit`) and each adjustment (category: the X12 adjustment group; reason: the CARC), the
remark codes (RARC) as process notes, and the payment. The remittance's own fields ride along as
the `remittance` extension (its JSON), with the `recorded` extension, so a careledger import
replays the same event.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from domain.billing.remittance import denied_amount
from domain.records import Remittance, RemittanceFields
from projections.interop.fhir.builder import Builder, Resource
from projections.interop.fhir.codes import (
    BASE,
    CLAIM_TYPE,
    concept,
    day,
    ext,
    extensions,
    instant,
    recorded,
    resource_id,
)
from projections.interop.fhir.reading import Bundle, Recorded, command, recorded_of

CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CS_GROUP = f"{BASE}/CodeSystem/claim-adjustment-group"
SID_PAYER_CLAIM = f"{BASE}/sid/payer-claim-control-number"


def _money(value: Any) -> Resource:
    return {"value": value, "currency": "USD"}


def claim_responses(
    b: Builder, insurer: Resource, claims: dict[Any, tuple[Resource, list[Resource]]]
) -> None:
    """Add a ClaimResponse for each remittance of the episode (`claims`: each date's Claim and items)."""
    for remit in b.episode.remittances:
        claim, items = claims.get(remit.date_of_service, (None, []))
        b.add(_response(b, remit, insurer, claim, items))


def _sequence(line: Any, items: list[Resource], fallback: int) -> int:
    for item in items:
        code = item["productOrService"]["coding"][0]["code"]
        modifiers = [c["coding"][0]["code"] for c in item.get("modifier", [])]
        if code == line.code and set(modifiers) == set(line.modifiers):
            return int(item["sequence"])
    return fallback


def _response(
    b: Builder, remit: Remittance, insurer: Resource, claim: Resource | None, items: list[Resource]
) -> Resource:
    fields = remit.model_dump(mode="json", include=set(RemittanceFields.model_fields))
    lines = []
    for number, line in enumerate(remit.lines, start=1):
        adjudication = [
            {"category": concept(ADJUDICATION, "submitted"), "amount": _money(line.charge)},
            {"category": concept(ADJUDICATION, "benefit"), "amount": _money(line.paid)},
            *(
                {
                    "category": concept(CS_GROUP, a.group),
                    "reason": concept(CARC, a.reason),
                    "amount": _money(a.amount),
                }
                for a in line.adjustments
            ),
        ]
        lines.append(
            {
                "itemSequence": _sequence(line, items, number),
                "adjudication": adjudication,
            }
        )
    notes = [
        {"number": n, "type": "print", "text": f"{code} (RARC, line {i})"}
        for n, (i, code) in enumerate(
            ((i, code) for i, line in enumerate(remit.lines, start=1) for code in line.remarks), start=1
        )
    ]
    denied = sum((denied_amount(line) for line in remit.lines), 0)
    resource: Resource = {
        "resourceType": "ClaimResponse",
        "id": resource_id("ClaimResponse", b.episode_id, remit.event_version),
        "extension": [
            recorded(remit.event_version, remit.recorded_at, remit.recorded_by),
            ext("remittance", "String", orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()),
        ],
        "identifier": [{"system": SID_PAYER_CLAIM, "value": remit.payer_claim_control_number}],
        "status": "active",
        "type": concept(CLAIM_TYPE, "professional", "Professional"),
        "use": "claim",
        "patient": b.patient,
        "created": instant(remit.recorded_at),
        "insurer": insurer,
        "outcome": "complete",
        "disposition": f"claim {remit.claim_id}: paid {remit.paid} of {remit.charge}, denied {denied}",
        "item": lines,
        "payment": {
            "type": concept("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete", "Complete"),
            "amount": _money(remit.paid),
            "identifier": {"value": remit.trace_number},
        },
        "total": [
            {"category": concept(ADJUDICATION, "submitted"), "amount": _money(remit.charge)},
            {"category": concept(ADJUDICATION, "benefit"), "amount": _money(remit.paid)},
        ],
    }
    if remit.paid_on is not None:
        resource["payment"]["date"] = day(remit.paid_on)
    if claim is not None:
        resource["request"] = claim
    if notes:
        resource["processNote"] = notes
    return resource


def read_remittances(bundle: Bundle, eid: str) -> Iterator[Recorded]:
    """Yield the `record_remittance` command of each careledger ClaimResponse of the bundle."""
    for resource in bundle.of_type("ClaimResponse"):
        source = f"ClaimResponse/{resource.get('id')}"
        found = extensions(resource, "remittance")
        if not found:
            continue  # not one careledger wrote: reported as unread by the importer's check
        fields = orjson.loads(found[0]["valueString"])
        yield command("record_remittance", eid, source, recorded_of(resource, source), **fields)
