"""FHIR's own invariants, evaluated by a FHIRPath engine (fhirpathpy) nobody here wrote.

The R4 specification states its constraints as FHIRPath expressions; the ones
below are copied from it (their keys name them; `hasValue()`, which fhirpathpy
does not implement, is written with `exists()`). Every demo episode's bundle and
the every-fact scenario's bundle must satisfy each of them on every element.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from fhirpathpy import compile
from fhirpathpy.models import models

from domain.demo import demo_episode_ids
from tests.fhirdefs import demo_bundles

R4 = models["r4"]
SID = "https://careledger.invalid/fhir/sid/provider"

# (key, the resource type it applies to ("" = every resource), the elements it is on ("" = the
# resource), its expression), as in the R4 specification. ele-1 (every element has a value or
# children) is checked on the JSON by `empty_elements`: as a FHIRPath query over every descendant
# it takes seconds a bundle in fhirpathpy.
INVARIANTS = (
    ("ext-1", "", "descendants().ofType(Extension)", "extension.exists() != value.exists()"),
    (
        "per-1",
        "",
        "descendants().ofType(Period)",
        "start.exists().not() or end.exists().not() or (start <= end)",
    ),
    ("qty-3", "", "descendants().ofType(Quantity)", "code.empty() or system.exists()"),
    ("dom-2", "", "", "contained.contained.empty()"),
    ("dom-4", "", "", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"),
    ("dom-5", "", "", "contained.meta.security.empty()"),
    (
        "bdl-7",
        "Bundle",
        "",
        "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl).isDistinct()",
    ),
    ("bdl-8", "Bundle", "", "entry.fullUrl.all(contains('/_history/').not())"),
    ("bdl-3", "Bundle", "", "entry.request.empty() or type = 'batch' or type = 'transaction'"),
    ("bdl-4", "Bundle", "", "entry.response.empty() or type = 'batch-response' or type = 'history'"),
    ("cpl-3", "CarePlan", "activity", "detail.empty() or reference.empty()"),
    ("obs-6", "Observation", "", "dataAbsentReason.empty() or value.empty()"),
    (
        "obs-7",
        "Observation",
        "",
        "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()",
    ),
    ("gol-1", "Goal", "target", "(detail.exists() and measure.exists()) or detail.exists().not()"),
)


@cache
def _check(kind: str, path: str, expression: str) -> Any:
    """Compile, once, the query for the elements of a resource type that break an expression."""
    return compile(f"{'.'.join(p for p in (kind, path) if p)}.where(({expression}).not())", R4)


def violations(bundle: dict[str, Any]) -> list[str]:
    """Return `<key> <resource>: <element>` for each element of the bundle that breaks an invariant."""
    resources = [bundle, *(entry["resource"] for entry in bundle.get("entry", []))]
    found = []
    for key, kind, path, expression in INVARIANTS:
        for resource in resources:
            if (kind and resource["resourceType"] != kind) or (not kind and resource is bundle):
                continue
            check = _check(resource["resourceType"], path, expression)
            for bad in check(resource, {"resource": resource}):
                text = json.dumps(bad, default=str)[:160]
                found.append(f"{key} {resource['resourceType']}/{resource.get('id')}: {text}")
    return found + [f"ele-1 {path}" for path in empty_elements(bundle, "Bundle")]


def empty_elements(value: Any, path: str) -> Iterator[str]:
    """Yield the path of each element with neither a value nor children (FHIR's ele-1)."""
    if value in ({}, [], "", None):
        yield path
    elif isinstance(value, dict):
        for name, child in value.items():
            yield from empty_elements(child, f"{path}.{name}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from empty_elements(child, f"{path}[{index}]")


@pytest.fixture(scope="module")
def bundles() -> dict[str, dict[str, Any]]:
    """Every demo episode's bundle and the every-fact scenario's, with the demo clinic's identity."""
    names = [*demo_episode_ids(), "scenario"]
    return dict(zip(names, demo_bundles(), strict=True))


def test_every_demo_bundle_and_the_every_fact_bundle_keep_fhirs_invariants(
    bundles: dict[str, dict[str, Any]],
) -> None:
    for name, bundle in bundles.items():
        assert violations(bundle) == [], name


def test_the_invariant_check_catches_an_empty_extension_a_period_backwards_and_a_repeated_full_url(
    bundles: dict[str, dict[str, Any]],
) -> None:
    bundle = json.loads(json.dumps(bundles["knee"]))
    entries = bundle["entry"]
    encounter = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Encounter")
    encounter["extension"].append({"url": "https://careledger.invalid/fhir/StructureDefinition/dosage"})
    episode = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "EpisodeOfCare")
    episode["period"] = {"start": "2026-05-02", "end": "2026-05-01"}
    entries.append(dict(entries[0]))
    encounter["extension"][0]["valueString"] = ""
    keys = {problem.split()[0] for problem in violations(bundle)}
    assert keys == {"ext-1", "per-1", "bdl-7", "ele-1"}


def test_each_person_is_one_practitioner_whatever_each_mention_recorded(
    bundles: dict[str, dict[str, Any]],
) -> None:
    for name, bundle in bundles.items():
        people = [
            next(i["value"] for i in e["resource"]["identifier"] if i["system"].endswith("/sid/provider"))
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Practitioner"
        ]
        assert sorted(people) == sorted(set(people)), name
    knee = bundles["knee"]["entry"]
    osei = [e["resource"] for e in knee if e["resource"]["resourceType"] == "Practitioner"]
    assert [p["name"][0]["text"] for p in osei if "dr-osei" in json.dumps(p)] == ["Dr. A. Osei"]


def test_an_amendments_provenance_occurred_when_it_was_recorded_not_on_the_date_of_service(
    bundles: dict[str, dict[str, Any]],
) -> None:
    provenances = [
        e["resource"]
        for bundle in bundles.values()
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Provenance"
    ]
    assert provenances
    assert all(p["occurredDateTime"] == p["recorded"] for p in provenances)


def test_a_claim_bills_the_charge_masters_charge_and_cq_co_only_lowers_the_expected_allowed_amount(
    bundles: dict[str, dict[str, Any]],
) -> None:
    from datetime import date
    from decimal import Decimal

    from domain.rules.catalogue import load_charge_master, load_fee_schedule

    charges, fees = load_charge_master(), load_fee_schedule("fee_schedule_example.toml")
    reduced = 0
    for bundle in bundles.values():
        for entry in bundle["entry"]:
            claim = entry["resource"]
            if claim["resourceType"] != "Claim":
                continue
            for item in claim["item"]:
                code = item["productOrService"]["coding"][0]["code"]
                year = date.fromisoformat(item["servicedDate"]).year
                units = item["quantity"]["value"]
                modifiers = {m["coding"][0]["code"] for m in item.get("modifier", [])}
                assert Decimal(str(item["unitPrice"]["value"])) == charges.fee(code, year)
                assert Decimal(str(item["net"]["value"])) == charges.fee(code, year) * units
                allowed = next(
                    e["valueMoney"]["value"] for e in item["extension"] if "expected-allowed" in e["url"]
                )
                fee = fees.fee(code, year)
                assert fee is not None
                if modifiers & {"CQ", "CO"}:
                    reduced += 1
                    assert Decimal(str(allowed)) < fee * units
            assert Decimal(str(claim["total"]["value"])) == sum(
                Decimal(str(item["net"]["value"])) for item in claim["item"]
            )
    assert reduced > 0


def test_claims_carry_the_billing_organisation_and_the_therapists_npis(
    bundles: dict[str, dict[str, Any]],
) -> None:
    entries = {e["resource"]["id"]: e["resource"] for e in bundles["knee"]["entry"]}
    claims = [r for r in entries.values() if r["resourceType"] == "Claim"]
    assert claims
    for claim in claims:
        provider = entries[claim["provider"]["reference"].removeprefix("urn:uuid:")]
        assert provider["resourceType"] == "Organization"
        assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1999000015"} in provider["identifier"]
        assert {"system": "urn:oid:2.16.840.1.113883.4.4", "value": "000000001"} in provider["identifier"]
    rivera = next(
        r
        for r in entries.values()
        if r["resourceType"] == "Practitioner" and {"system": SID, "value": "pt-rivera"} in r["identifier"]
    )
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1999000023"} in rivera["identifier"]


def test_every_careledger_extension_in_the_bundles_has_a_published_structure_definition(
    bundles: dict[str, dict[str, Any]],
) -> None:
    """docs/fhir/ holds what `python -m tests.fhirdefs` writes from these bundles; each is a valid
    R4 StructureDefinition (read by fhir.resources) that a validator can check the extensions with."""
    from fhir.resources.R4B.structuredefinition import StructureDefinition

    from tests.fhirdefs import TARGET, render

    expected = render(bundles.values())
    published = {p.name: p.read_text() for p in TARGET.glob("StructureDefinition-careledger-*.json")}
    assert published == expected, "docs/fhir/ is stale: run python -m tests.fhirdefs"
    used = {
        e["url"]
        for b in bundles.values()
        for entry in b["entry"]
        for e in json.loads(json.dumps(entry["resource"])).get("extension", [])
        if e["url"].startswith("https://careledger.invalid/")
    }
    urls = {json.loads(text)["url"] for text in published.values()}
    assert used <= urls
    for text in published.values():
        StructureDefinition.model_validate_json(text)
