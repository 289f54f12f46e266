"""The episode's own resources: the payer (Organization, Coverage), the referral and the EpisodeOfCare.

The EpisodeOfCare's `statusHistory` lists the periods the episode was active, on
hold and finished (FHIR periods include their end date, so a hold resumed on
day R ends on R - 1); each hold's reason and resumption, and the discharge's
reason and summary, ride along as careledger extensions (docs/fhir.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.episode.aggregate import Episode
from projections.interop.fhir.builder import Builder, Resource
from projections.interop.fhir.codes import (
    CS_DISCIPLINE,
    DIAGNOSIS_ROLE,
    SID_EPISODE,
    SID_PAYER,
    complex_ext,
    concept,
    day,
    ext,
    recorded,
    ref,
    resource_id,
    sub,
)

DISCIPLINES = {"PT": "physical therapy", "OT": "occupational therapy", "SLP": "speech-language pathology"}
STATUS = {"active": "active", "on_hold": "onhold", "discharged": "finished"}


def payer_resources(b: Builder) -> tuple[Resource, Resource]:
    """Add the payer's Organization and the episode's Coverage; return references to both."""
    payer = b.episode.payer
    organization: Resource = {
        "resourceType": "Organization",
        "id": resource_id("Organization", payer.payer_id, payer.name or ""),
        "identifier": [{"system": SID_PAYER, "value": payer.payer_id}],
    }
    if payer.name:
        organization["name"] = payer.name
    insurer = ref("Organization", b.add(organization), payer.name or payer.payer_id)
    coverage: Resource = {
        "resourceType": "Coverage",
        "id": resource_id("Coverage", b.episode_id),
        "status": "active",
        "beneficiary": b.patient,
        "payor": [insurer],
    }
    if payer.unit_rule:
        coverage["extension"] = [ext("unit-rule", "Code", payer.unit_rule)]
    if payer.member_id:
        coverage["subscriberId"] = payer.member_id
    return insurer, ref("Coverage", b.add(coverage))


def episode_of_care(b: Builder) -> None:
    """Add the EpisodeOfCare: status and its history, diagnoses, period, referral and care manager."""
    episode = b.episode
    opened = b.events[1]
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": b.episode_id,
        "extension": [recorded(1, opened.timestamp, opened.recorded_by)],
        "identifier": [{"system": SID_EPISODE, "value": b.episode_id}],
        "status": STATUS.get(episode.status, "active"),
        "statusHistory": status_history(b),
        "type": [concept(CS_DISCIPLINE, episode.discipline, DISCIPLINES.get(episode.discipline))],
        "diagnosis": [
            {
                "condition": b.condition(diagnosis),
                "role": concept(DIAGNOSIS_ROLE, "billing", "Billing"),
                "rank": rank,
            }
            for rank, diagnosis in enumerate(episode.diagnoses, start=1)
        ],
        "patient": b.patient,
        "period": {"start": day(episode.start_date)},
    }
    if episode.certifying_provider is not None:
        resource["extension"].append(
            ext("certifying-provider", "Reference", b.practitioner(episode.certifying_provider))
        )
    if episode.discharge is not None:
        discharge = episode.discharge
        resource["period"]["end"] = day(discharge.discharge_date)
        resource["extension"].append(
            complex_ext(
                "discharge",
                [
                    sub("reason", "String", discharge.reason),
                    sub("summary", "String", discharge.summary),
                    recorded(discharge.event_version, discharge.recorded_at, discharge.recorded_by),
                ],
            )
        )
    if episode.referring_provider is not None:
        referral: Resource = {
            "resourceType": "ServiceRequest",
            "id": resource_id("ServiceRequest", b.episode_id, "referral"),
            "status": "active",
            "intent": "order",
            "code": {"text": f"{DISCIPLINES.get(episode.discipline, episode.discipline)} referral"},
            "subject": b.patient,
            "requester": b.practitioner(episode.referring_provider),
        }
        resource["referralRequest"] = [ref("ServiceRequest", b.add(referral))]
    if episode.plans:
        latest = max(episode.plans, key=lambda p: p.plan_version)
        resource["careManager"] = b.role(latest.therapist_id, latest.credential)
    b.add(resource)


def _period(start: date, end: date | None) -> dict[str, str]:
    period = {"start": day(start)}
    if end is not None:
        period["end"] = day(max(start, end))
    return period


def status_history(b: Builder) -> list[dict[str, Any]]:
    """Return the periods the episode was active, on hold and finished, in order."""
    episode = b.episode
    resumed = [event for event in b.events.values() if isinstance(event, Episode.Resumed)]
    history: list[dict[str, Any]] = []
    cursor: date | None = episode.start_date
    for index, hold in enumerate(episode.holds):
        if cursor is not None and hold.start > cursor:
            history.append({"status": "active", "period": _period(cursor, hold.start - timedelta(days=1))})
        parts = [
            sub("reason", "String", hold.reason),
            recorded(hold.event_version, hold.recorded_at, hold.recorded_by),
        ]
        if index < len(resumed):
            event = resumed[index]
            parts.append(
                complex_ext(
                    "resumed",
                    [
                        sub("date", "Date", day(event.resume_date)),
                        recorded(event.originator_version, event.timestamp, event.recorded_by),
                    ],
                    url="resumed",
                )
            )
        end = hold.end - timedelta(days=1) if hold.end is not None else None
        history.append(
            {
                "extension": [complex_ext("hold", parts)],
                "status": "onhold",
                "period": _period(hold.start, end),
            }
        )
        cursor = hold.end
    discharge = episode.discharge
    if discharge is not None:
        if cursor is not None and discharge.discharge_date > cursor:
            end = discharge.discharge_date - timedelta(days=1)
            history.append({"status": "active", "period": _period(cursor, end)})
        history.append({"status": "finished", "period": _period(discharge.discharge_date, None)})
    elif cursor is not None and episode.status == "active":
        history.append({"status": "active", "period": _period(cursor, None)})
    return history
