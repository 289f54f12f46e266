"""Read a careledger FHIR bundle back into the commands that recorded it.

Every fact in a careledger bundle carries the `recorded` extension (the version
of the event that made it, when and by whom it was recorded), and each amendment
is a Provenance with its version; so the commands come back in their original
order, with their authors and times, and replaying them gives the same events,
versions and ids. A visit's original note is the Encounter's current values with
each correction undone, newest first (a correction's Provenance keeps the values
before and after). Claims are not read: the billing engine computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput
from projections.interop.fhir.codes import (
    CS_CARE_PLAN,
    CS_DISCIPLINE,
    CS_GOAL_TERM,
    CS_IMPRESSION,
    CS_INSTRUMENT,
    SID_GOAL,
    SID_PATIENT,
    SID_PAYER,
    extensions,
    parts_of,
    value_of,
)
from projections.interop.fhir.reading import (
    Bundle,
    Recorded,
    code_in,
    command,
    diagnosis_of,
    dosage_of,
    identifier_of,
    nested_recorded,
    provider_of,
    recorded_of,
    role_of,
)
from projections.interop.fhir.remittance import read_remittances
from projections.interop.fhir.visit_reader import visit_commands

Json = dict[str, Any]


def read_bundle(data: Json) -> tuple[UUID, list[Recorded]]:
    """Return the episode id and its commands, in the order of their original versions."""
    bundle = Bundle(data)
    episodes = bundle.of_type("EpisodeOfCare")
    if len(episodes) != 1:
        raise InvalidInput("bundle", f"holds {len(episodes)} EpisodeOfCare resources; careledger imports one")
    episode = episodes[0]
    try:
        episode_id = UUID(str(episode["id"]))
    except ValueError:
        raise InvalidInput("EpisodeOfCare.id", f"'{episode['id']}' is not a careledger episode id") from None
    eid = str(episode_id)
    readers: list[Callable[[Bundle, str], Iterator[Recorded]]] = [
        lambda b, e: _episode(b, e, episode),
        _plans,
        _exercises,
        _visits,
        _outcomes,
        _impressions,
        read_remittances,
    ]
    found: list[Recorded] = []
    for reader in readers:
        try:
            found.extend(reader(bundle, eid))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise InvalidInput("bundle", f"a careledger resource is missing a part ({exc!r})") from None
    found.sort(key=lambda r: r.version)
    versions = [r.version for r in found]
    if len(set(versions)) != len(versions):
        twice = sorted({v for v in versions if versions.count(v) > 1})
        raise InvalidInput("bundle", f"event version {twice[0]} is claimed by two facts")
    return episode_id, found


def _episode(bundle: Bundle, eid: str, episode: Json) -> Iterator[Recorded]:
    source = f"EpisodeOfCare/{eid}"
    patient = bundle.get(episode.get("patient"), source, "patient")
    coverages = bundle.of_type("Coverage")
    if len(coverages) != 1:
        raise InvalidInput(source, f"the bundle holds {len(coverages)} Coverage resources; expected one")
    coverage = coverages[0]
    payer_org = bundle.get(coverage["payor"][0], source, "payer")
    payer: Json = {"payer_id": identifier_of(payer_org, SID_PAYER), "name": payer_org.get("name")}
    payer["unit_rule"] = value_of(coverage, "unit-rule", "Code")
    payer["member_id"] = coverage.get("subscriberId")
    diagnoses = sorted(episode.get("diagnosis", []), key=lambda d: d.get("rank", 0))
    fields: Json = {
        "patient_ref": identifier_of(patient, SID_PATIENT),
        "discipline": code_in((episode.get("type") or [{}])[0], CS_DISCIPLINE),
        "payer": {k: v for k, v in payer.items() if v is not None},
        "diagnoses": [diagnosis_of(bundle, d["condition"], source) for d in diagnoses],
        "start_date": episode["period"]["start"],
    }
    certifier = value_of(episode, "certifying-provider", "Reference")
    if certifier:
        fields["certifying_provider"] = provider_of(bundle, certifier, source, "certifier")
    for referral in episode.get("referralRequest", []):
        request = bundle.get(referral, source, "referral")
        fields["referring_provider"] = provider_of(bundle, request.get("requester"), source, "referrer")
    yield command("open_episode", eid, source, recorded_of(episode, source), **fields)
    for item in episode.get("statusHistory", []):
        for hold in extensions(item, "hold"):
            parts = parts_of(hold)
            at = nested_recorded(parts, source)
            yield command(
                "hold_episode",
                eid,
                source,
                at,
                start_date=item["period"]["start"],
                reason=parts.get("reason"),
            )
            resumed = parts.get("resumed")
            if isinstance(resumed, dict):
                inner = parts_of(resumed)
                yield command(
                    "resume_episode", eid, source, nested_recorded(inner, source), resume_date=inner["date"]
                )
    for discharge in extensions(episode, "discharge"):
        parts = parts_of(discharge)
        yield command(
            "discharge_episode",
            eid,
            source,
            nested_recorded(parts, source),
            discharge_date=episode["period"]["end"],
            reason=parts.get("reason"),
            summary=parts.get("summary"),
        )


def _category(resource: Json) -> str | None:
    return code_in((resource.get("category") or [{}])[0], CS_CARE_PLAN)


def _plans(bundle: Bundle, eid: str) -> Iterator[Recorded]:
    for plan in bundle.of_type("CarePlan"):
        if _category(plan) != "plan-of-care":
            continue
        source = f"CarePlan/{plan['id']}"
        therapist, credential = role_of(bundle, plan.get("author"), source)
        goals = []
        for reference in plan.get("goal", []):
            goal = bundle.get(reference, source, "goal")
            target = (goal.get("target") or [{}])[0]
            goals.append(
                {
                    "goal_id": identifier_of(goal, SID_GOAL),
                    "term": code_in((goal.get("category") or [{}])[0], CS_GOAL_TERM),
                    "text": goal["description"]["text"],
                    "measure": (target.get("measure") or {}).get("text"),
                    "target": target.get("detailString"),
                    "target_date": target.get("dueDate"),
                }
            )
        fields: Json = {
            "established_on": plan["created"],
            "therapist_id": therapist,
            "credential": credential,
        }
        interventions = []
        for activity in plan.get("activity", []):
            detail = activity["detail"]
            kind = detail["code"]["coding"][0]["code"]
            if kind == "treatment":
                repeat = detail["scheduledTiming"]["repeat"]
                fields["frequency_per_week"] = repeat["frequency"]
                fields["duration_weeks"] = (repeat.get("boundsDuration") or {}).get("value")
                fields["duration_visits"] = repeat.get("count")
            elif kind == "intervention":
                interventions.append(detail["description"])
        fields["goals"] = [{k: v for k, v in g.items() if v is not None} for g in goals]
        fields["planned_interventions"] = interventions
        fields["diagnoses"] = [diagnosis_of(bundle, r, source) for r in plan.get("addresses", [])]
        yield command("establish_plan", eid, source, recorded_of(plan, source), **fields)
        for cert in extensions(plan, "certification"):
            parts = parts_of(cert)
            yield command(
                "certify_plan",
                eid,
                source,
                nested_recorded(parts, source),
                certifier=provider_of(bundle, parts.get("certifier"), source, "certifier"),
                signed_on=parts.get("signedOn"),
                verbal_order_on=parts.get("verbalOrderOn"),
                period_start=parts["period"]["start"],
                period_end=parts["period"]["end"],
                plan_version=parts.get("planVersion"),
                delay_reason=parts.get("delayReason"),
            )


CHANGE_COMMANDS = {
    "progressed": "progress_exercise",
    "regressed": "regress_exercise",
    "discontinued": "discontinue_exercise",
}


def _exercises(bundle: Bundle, eid: str) -> Iterator[Recorded]:
    for programme in bundle.of_type("CarePlan"):
        if _category(programme) != "exercise-programme":
            continue
        source = f"CarePlan/{programme['id']}"
        for activity in programme.get("activity", []):
            detail = activity["detail"]
            exercise_id = value_of(detail, "exercise-id", "String")
            for change in extensions(detail, "exercise-change"):
                parts = parts_of(change)
                at = nested_recorded(parts, source)
                common: Json = {
                    "exercise_id": exercise_id,
                    "effective_date": parts["effectiveDate"],
                    "reason": parts.get("reason"),
                }
                if parts["kind"] == "added":
                    yield command(
                        "add_exercise",
                        eid,
                        source,
                        at,
                        name=parts.get("name"),
                        body_region=parts.get("bodyRegion"),
                        category=detail["code"]["coding"][0]["code"],
                        movement=parts.get("movement"),
                        equipment=parts.get("equipment"),
                        dosage=dosage_of(parts.get("dosage")),
                        **common,
                    )
                elif parts["kind"] == "discontinued":
                    yield command("discontinue_exercise", eid, source, at, **common)
                else:
                    yield command(
                        CHANGE_COMMANDS[parts["kind"]],
                        eid,
                        source,
                        at,
                        name=parts.get("name"),
                        equipment=parts.get("equipment"),
                        dosage=dosage_of(parts.get("dosage")),
                        **common,
                    )


def _visits(bundle: Bundle, eid: str) -> Iterator[Recorded]:
    for encounter in bundle.of_type("Encounter"):
        yield from visit_commands(bundle, eid, encounter)


def _outcomes(bundle: Bundle, eid: str) -> Iterator[Recorded]:
    for observation in bundle.of_type("Observation"):
        source = f"Observation/{observation['id']}"
        instrument = code_in(observation.get("code"), CS_INSTRUMENT)
        if instrument is None:
            raise InvalidInput(source, "no careledger instrument code")
        performer = (observation.get("performer") or [None])[0]
        measured_by = provider_of(bundle, performer, source, "performer") if performer else None
        yield command(
            "record_outcome",
            eid,
            source,
            recorded_of(observation, source),
            instrument=instrument,
            score=str(observation["valueQuantity"]["value"]),
            taken_on=observation["effectiveDateTime"],
            measured_by=measured_by["provider_id"] if measured_by else None,
            note=(observation.get("note") or [{}])[0].get("text"),
        )


def _impressions(bundle: Bundle, eid: str) -> Iterator[Recorded]:
    for impression in bundle.of_type("ClinicalImpression"):
        source = f"ClinicalImpression/{impression['id']}"
        author, credential = role_of(bundle, impression.get("assessor"), source)
        kind = code_in(impression.get("code"), CS_IMPRESSION)
        plan = (impression.get("note") or [{}])[0].get("text")
        at = recorded_of(impression, source)
        if kind == "progress-report":
            assessments = []
            for item in extensions(impression, "goal-assessment"):
                parts = parts_of(item)
                assessments.append(
                    {"goal_id": parts["goal"], "status": parts["status"], "note": parts.get("note", "")}
                )
            yield command(
                "record_progress_report",
                eid,
                source,
                at,
                report_date=impression["date"],
                period_start=impression["effectivePeriod"]["start"],
                period_end=impression["effectivePeriod"]["end"],
                author_id=author,
                credential=credential,
                goal_assessments=assessments,
                assessment=impression.get("summary"),
                plan=plan,
            )
        elif kind == "reevaluation":
            yield command(
                "record_reevaluation",
                eid,
                source,
                at,
                evaluated_on=impression["effectiveDateTime"],
                provider_id=author,
                credential=credential,
                findings=impression.get("summary"),
                plan_changes=plan,
            )


__all__ = ["read_bundle"]
