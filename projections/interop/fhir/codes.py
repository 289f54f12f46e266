"""The names careledger's FHIR bundles use: code systems, identifier systems, extensions and ids.

Every id is a uuid5 of what the resource stands for (the episode, the event
version of the fact), so the same record always gives the same ids, and an
export → import → export round trip gives the same bundle. The careledger
systems live under `https://careledger.invalid/fhir` (the `.invalid` top-level
domain is reserved: these names identify, they do not resolve). docs/fhir.md
lists every one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

BASE = "https://careledger.invalid/fhir"
NAMESPACE = uuid5(NAMESPACE_URL, BASE)

# Standard systems.
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
EIN = "urn:oid:2.16.840.1.113883.4.4"  # US employer identification number (tax id)
TAXONOMY = "http://nucc.org/provider-taxonomy"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
CARE_TEAM_ROLE = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EPISODE_OF_CARE_EXT = "http://hl7.org/fhir/StructureDefinition/workflow-episodeOfCare"

# careledger's own identifier systems.
SID_EPISODE = f"{BASE}/sid/episode"
SID_PATIENT = f"{BASE}/sid/patient-ref"
SID_PROVIDER = f"{BASE}/sid/provider"
SID_PAYER = f"{BASE}/sid/payer"
SID_USER = f"{BASE}/sid/user"
SID_GOAL = f"{BASE}/sid/goal"
SID_PLAN = f"{BASE}/sid/plan-version"

# careledger's own code systems.
CS_INSTRUMENT = f"{BASE}/CodeSystem/instrument"
CS_DISCIPLINE = f"{BASE}/CodeSystem/discipline"
CS_CREDENTIAL = f"{BASE}/CodeSystem/credential"
CS_AMENDMENT = f"{BASE}/CodeSystem/amendment"
CS_GOAL_TERM = f"{BASE}/CodeSystem/goal-term"
CS_CARE_PLAN = f"{BASE}/CodeSystem/care-plan"
CS_ACTIVITY = f"{BASE}/CodeSystem/plan-activity"
CS_IMPRESSION = f"{BASE}/CodeSystem/clinical-impression"
CS_EXERCISE_CATEGORY = f"{BASE}/CodeSystem/exercise-category"


def ext_url(name: str) -> str:
    """Return the URL of a careledger extension."""
    return f"{BASE}/StructureDefinition/{name}"


def resource_id(kind: str, *parts: object) -> str:
    """Return the stable id of a resource: a uuid5 of its kind and what it stands for."""
    return str(uuid5(NAMESPACE, "/".join([kind, *(str(p) for p in parts)])))


def urn(identifier: str) -> str:
    """Return the fullUrl of a bundle entry with this id."""
    return f"urn:uuid:{identifier}"


def ref(resource_type: str, identifier: str, display: str | None = None) -> dict[str, Any]:
    """Return a Reference to a resource of the bundle."""
    value: dict[str, Any] = {"reference": urn(identifier), "type": resource_type}
    if display:
        value["display"] = display
    return value


def ref_id(reference: dict[str, Any] | None) -> str | None:
    """Return the id a bundle Reference points at (None when it is not one)."""
    if not reference:
        return None
    text = reference.get("reference")
    if not isinstance(text, str) or not text.startswith("urn:uuid:"):
        return None
    return text.removeprefix("urn:uuid:")


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """Return a Coding."""
    value = {"system": system, "code": code}
    if display:
        value["display"] = display
    return value


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    """Return a CodeableConcept with one coding."""
    value: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        value["text"] = text
    return value


def procedure_system(code: str) -> str:
    """Return the code system of a procedure code or modifier: HCPCS level II when it starts with a letter."""
    return HCPCS if code[:1].isalpha() else CPT


def instant(moment: datetime) -> str:
    """Return a FHIR instant (UTC, microseconds kept)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """Read a FHIR instant back into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def day(value: date) -> str:
    """Return a FHIR date."""
    return value.isoformat()


# --- extensions ----------------------------------------------------------------------------------


def ext(name: str, kind: str, value: Any) -> dict[str, Any]:
    """Return a simple careledger extension (kind: String, Integer, Date, Code, Time, Reference...)."""
    return {"url": ext_url(name), f"value{kind}": value}


def complex_ext(
    name: str, parts: Iterable[dict[str, Any] | None], *, url: str | None = None
) -> dict[str, Any]:
    """Return a complex extension from sub-extensions (None parts are left out)."""
    return {"url": url or ext_url(name), "extension": [p for p in parts if p is not None]}


def sub(name: str, kind: str, value: Any) -> dict[str, Any] | None:
    """Return a sub-extension of a complex extension, or None for an empty value."""
    if value is None or value == "" or value == []:
        return None
    return {"url": name, f"value{kind}": value}


def recorded(version: int, at: datetime, by: str) -> dict[str, Any]:
    """Return the `recorded` extension: which event made this fact, when and by whom it was recorded."""
    return complex_ext(
        "recorded",
        [sub("version", "Integer", version), sub("at", "Instant", instant(at)), sub("by", "String", by)],
    )


def extensions(element: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Return an element's careledger extensions of one name, in order."""
    url = ext_url(name)
    return [e for e in element.get("extension", []) if e.get("url") == url]


def value_of(element: dict[str, Any], name: str, kind: str) -> Any:
    """Return the value of an element's (single) careledger extension, or None."""
    found = extensions(element, name)
    return found[0].get(f"value{kind}") if found else None


def parts_of(extension: dict[str, Any]) -> dict[str, Any]:
    """Return a complex extension's sub-extensions by name: the value, or the sub-extension itself."""
    values: dict[str, Any] = {}
    for part in extension.get("extension", []):
        value = next((v for k, v in part.items() if k.startswith("value")), part)
        if part["url"] in values:
            existing = values[part["url"]]
            values[part["url"]] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            values[part["url"]] = value
    return values


def listed(value: Any) -> list[Any]:
    """Return a repeated sub-extension's values as a list (one value, several, or none)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def as_uuid(text: str) -> UUID:
    """Read a UUID (ids in careledger bundles are UUIDs)."""
    return UUID(text)
