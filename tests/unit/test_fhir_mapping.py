"""The FHIR mapping on an in-memory store: what each resource carries, and the invariants we check.

fhir.resources validates structure and types; `projections.interop.fhir.validate.problems`
checks what it does not (periods, required codes, references inside the bundle,
Claim units against the billing engine). Each invariant is shown to catch a
bundle that breaks it, so none of these tests can pass on a check that does nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.episode.application import Episodes
from domain.errors import InvalidInput
from projections.interop.fhir.codes import CPT, CS_AMENDMENT, CS_INSTRUMENT, HCPCS, LOINC, procedure_system
from projections.interop.fhir.export import episode_bill, export_episode
from projections.interop.fhir.validate import parse, problems, serialise

Json = dict[str, Any]


@pytest.fixture(scope="module")
def app() -> Iterator[Episodes]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    episodes = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    for item in recorded:
        clock.now = item.at
        episodes.handle(item.command)
    yield episodes
    episodes.close()


def _bundle(app: Episodes, name: str) -> Json:
    return parse(export_episode(app, demo_episode_ids()[name]))


def _resources(bundle: Json, kind: str) -> list[Json]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _bill(app: Episodes, name: str) -> Any:
    episode_id = demo_episode_ids()[name]
    return episode_bill(app, app.get_episode(episode_id))


@pytest.mark.parametrize("name", ["knee", "back", "shoulder", "ankle"])
def test_each_demo_episode_exports_a_bundle_that_validates_and_keeps_our_invariants(
    app: Episodes, name: str
) -> None:
    bundle = _bundle(app, name)
    assert bundle["type"] == "collection"
    assert problems(bundle, _bill(app, name)) == []
    episode = app.get_episode(demo_episode_ids()[name])
    assert len(_resources(bundle, "Encounter")) == len(episode.visits)
    assert len(_resources(bundle, "Observation")) == len(episode.outcomes)


def test_the_same_record_exports_the_same_bytes(app: Episodes) -> None:
    knee = demo_episode_ids()["knee"]
    assert export_episode(app, knee) == export_episode(app, knee)


def test_the_patient_is_an_opaque_reference_without_demographics(app: Episodes) -> None:
    [patient] = _resources(_bundle(app, "knee"), "Patient")
    assert set(patient) == {"resourceType", "id", "identifier"}
    assert patient["identifier"][0]["value"] == "PT-1001"


def test_an_encounter_carries_the_date_the_minutes_in_ucum_and_who_furnished_it(app: Episodes) -> None:
    bundle = _bundle(app, "knee")
    episode = app.get_episode(demo_episode_ids()["knee"])
    first = min(episode.visits)
    encounter = next(r for r in _resources(bundle, "Encounter") if r["period"]["start"] == first.isoformat())
    assert encounter["period"] == {"start": first.isoformat(), "end": first.isoformat()}
    assert encounter["length"] == {
        "value": episode.visits[first].total_treatment_minutes,
        "unit": "min",
        "system": "http://unitsofmeasure.org",
        "code": "min",
    }
    assert encounter["episodeOfCare"][0]["reference"] == f"urn:uuid:{episode.id}"
    role_id = encounter["participant"][0]["individual"]["reference"].removeprefix("urn:uuid:")
    role = next(r for r in _resources(bundle, "PractitionerRole") if r["id"] == role_id)
    assert role["code"][0]["coding"][0]["code"] == "PT"


def test_procedures_use_the_cpt_system_and_the_visit_date(app: Episodes) -> None:
    bundle = _bundle(app, "knee")
    procedures = _resources(bundle, "Procedure")
    assert {p["code"]["coding"][0]["system"] for p in procedures} == {CPT}
    dates = {e["id"]: e["period"]["start"] for e in _resources(bundle, "Encounter")}
    for procedure in procedures:
        assert (
            procedure["performedDateTime"]
            == dates[procedure["encounter"]["reference"].removeprefix("urn:uuid:")]
        )


def test_codes_and_modifiers_that_start_with_a_letter_are_hcpcs() -> None:
    assert [procedure_system(c) for c in ("97110", "G0283", "59", "GP", "KX")] == [
        CPT,
        HCPCS,
        CPT,
        HCPCS,
        HCPCS,
    ]


def test_claim_items_bill_the_units_and_modifiers_of_the_billing_engine(app: Episodes) -> None:
    bundle = _bundle(app, "knee")
    bill = _bill(app, "knee")
    claims = {c["billablePeriod"]["start"]: c for c in _resources(bundle, "Claim")}
    kx_visits = 0
    for visit in bill.visits:
        claim = claims[visit.date_of_service.isoformat()]
        billed = [line for line in visit.lines if line.billable and line.units > 0]
        assert [i["quantity"]["value"] for i in claim["item"]] == [line.units for line in billed]
        assert [[m["coding"][0]["code"] for m in i.get("modifier", [])] for i in claim["item"]] == [
            list(line.modifiers) for line in billed
        ]
        assert all(i["diagnosisSequence"] == [1, 2] for i in claim["item"])
        assert claim["use"] == "claim" and claim["type"]["coding"][0]["code"] == "professional"
        kx_visits += visit.kx
    assert kx_visits == 4  # the knee crosses the 2026 threshold on its 21st visit (docs/billing.md)


def test_an_outcome_uses_loinc_where_the_catalogue_has_one_and_the_local_code_always(app: Episodes) -> None:
    [odi] = _resources(_bundle(app, "back"), "Observation")[:1]
    systems = [c["system"] for c in odi["code"]["coding"]]
    assert systems == [LOINC, CS_INSTRUMENT]
    assert odi["code"]["coding"][0]["code"] == "97908-8"
    lefs = _resources(_bundle(app, "knee"), "Observation")[0]
    assert [c["system"] for c in lefs["code"]["coding"]] == [CS_INSTRUMENT]
    assert lefs["valueQuantity"]["value"] == 24 and lefs["effectiveDateTime"] == "2026-03-02"


def test_each_amendment_is_a_provenance_with_its_activity_author_time_and_reason(app: Episodes) -> None:
    bundle = _bundle(app, "knee")
    provenances = _resources(bundle, "Provenance")
    activities = sorted(
        next(c["code"] for c in p["activity"]["coding"] if c["system"] == CS_AMENDMENT) for p in provenances
    )
    assert activities == [
        "amend",
        "late-entry",
    ]  # visit 9 late, visit 12 corrected (docs/rules.md#amendments)
    encounters = {e["id"] for e in _resources(bundle, "Encounter")}
    for provenance in provenances:
        assert provenance["target"][0]["reference"].removeprefix("urn:uuid:") in encounters
        assert provenance["agent"][0]["who"]["identifier"]["value"] == "pt-rivera@demo-clinic"
        assert provenance["reason"][0]["text"]


def test_problems_finds_a_period_that_ends_before_it_starts(app: Episodes) -> None:
    bundle = copy.deepcopy(_bundle(app, "knee"))
    encounter = _resources(bundle, "Encounter")[0]
    encounter["period"]["end"] = "2020-01-01"
    assert any("ends (2020-01-01) before it starts" in p for p in problems(bundle))


def test_problems_finds_references_that_leave_the_bundle_or_name_the_wrong_type(app: Episodes) -> None:
    bundle = copy.deepcopy(_bundle(app, "knee"))
    procedure = _resources(bundle, "Procedure")[0]
    procedure["encounter"]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    _resources(bundle, "Procedure")[1]["subject"]["type"] = "Group"
    found = problems(bundle)
    assert any("does not resolve inside the bundle" in p for p in found)
    assert any("typed Group points at a Patient" in p for p in found)


def test_problems_finds_a_missing_status_and_a_code_outside_its_value_set(app: Episodes) -> None:
    bundle = copy.deepcopy(_bundle(app, "knee"))
    del _resources(bundle, "Encounter")[0]["status"]
    _resources(bundle, "Claim")[0]["use"] = "bill"
    found = problems(bundle)
    assert any("status is required" in p for p in found)
    assert any("use 'bill' is not in its value set" in p for p in found)


def test_problems_finds_a_claim_whose_units_differ_from_the_billing_engine(app: Episodes) -> None:
    bundle = copy.deepcopy(_bundle(app, "knee"))
    _resources(bundle, "Claim")[0]["item"][0]["quantity"]["value"] += 1
    assert any("differ from the billing engine" in p for p in problems(bundle, _bill(app, "knee")))


def test_the_r4b_models_refuse_a_bundle_with_an_unknown_element(app: Episodes) -> None:
    bundle = copy.deepcopy(_bundle(app, "knee"))
    _resources(bundle, "Encounter")[0]["minutes"] = 5
    with pytest.raises(Exception, match="minutes"):
        serialise(bundle)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"{not json", "malformed JSON"),
        (b'{"resourceType": "Patient", "id": "x"}', "not a FHIR Bundle"),
        (
            b'{"resourceType": "Bundle", "type": "collection", '
            b'"entry": [{"resource": {"resourceType": "Nope"}}]}',
            "not a valid FHIR R4 Bundle",
        ),
    ],
)
def test_reading_refuses_what_is_not_a_valid_bundle_in_one_line(text: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as refused:
        parse(text, "upload.json")
    assert "\n" not in str(refused.value) and str(refused.value).startswith("upload.json: ")


def test_a_bundle_without_careledger_provenance_is_refused_with_the_reason(app: Episodes) -> None:
    from projections.interop.fhir.reader import read_bundle

    bundle = copy.deepcopy(_bundle(app, "ankle"))
    episode = _resources(bundle, "EpisodeOfCare")[0]
    episode["extension"] = [e for e in episode["extension"] if not e["url"].endswith("/recorded")]
    with pytest.raises(InvalidInput, match="careledger imports the bundles it exports"):
        read_bundle(json.loads(json.dumps(bundle, default=str)))


def test_episode_ids_survive_as_the_episode_of_care_id(app: Episodes) -> None:
    [episode] = _resources(_bundle(app, "shoulder"), "EpisodeOfCare")
    assert UUID(episode["id"]) == demo_episode_ids()["shoulder"]
    assert episode["status"] == "active" or episode["status"] == "finished"
