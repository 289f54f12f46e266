"""The bundle under construction: resources by id, and the shared resources every part refers to.

`Builder` holds one episode's state, its events (for the few facts the state
does not keep: who opened the episode, each resumption, the equipment of an
exercise change) and its bill, and collects resources by id, so a practitioner
or a condition named twice is one resource. The parts of the bundle are built by
`projections.interop.fhir.episode`, `visits` and `care`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.values import Diagnosis, Provider
from projections.interop.fhir.codes import (
    CS_CREDENTIAL,
    EIN,
    EPISODE_OF_CARE_EXT,
    ICD10CM,
    NPI,
    SID_PATIENT,
    SID_PROVIDER,
    TAXONOMY,
    complex_ext,
    concept,
    ref,
    resource_id,
    sub,
)

if TYPE_CHECKING:
    from domain.billing.bill import EpisodeBill
    from domain.clinic.aggregate import Clinic
    from domain.episode.aggregate import Episode

Resource = dict[str, Any]

# The order of resource types in the bundle: context first, then the plan, the visits, the measures.
TYPE_ORDER = (
    "Patient",
    "Organization",
    "Coverage",
    "Practitioner",
    "PractitionerRole",
    "Condition",
    "ServiceRequest",
    "EpisodeOfCare",
    "CarePlan",
    "Goal",
    "Encounter",
    "Procedure",
    "Claim",
    "ClaimResponse",
    "Provenance",
    "Observation",
    "ClinicalImpression",
)

CREDENTIAL_NAMES = {
    "PT": "physical therapist",
    "PTA": "physical therapist assistant",
    "OT": "occupational therapist",
    "OTA": "occupational therapy assistant",
    "SLP": "speech-language pathologist",
    "MD": "doctor of medicine",
    "DO": "doctor of osteopathic medicine",
    "NP": "nurse practitioner",
    "PA": "physician assistant",
    "CNS": "clinical nurse specialist",
    "DPM": "doctor of podiatric medicine",
}


class Builder:
    """Collects the resources of one episode's bundle, each once."""

    def __init__(
        self,
        episode: Episode,
        events: Sequence[Episode.Event],
        bill: EpisodeBill,
        clinic: Clinic | None = None,
    ) -> None:
        self.clinic = clinic
        self.episode = episode
        self.episode_id = str(episode.id)
        self.events = {event.originator_version: event for event in events}
        self.bill = bill
        self.resources: dict[str, Resource] = {}

    def add(self, resource: Resource) -> str:
        """Add a resource (the first one with its id wins) and return its id."""
        self.resources.setdefault(resource["id"], resource)
        return str(resource["id"])

    def ordered(self) -> list[Resource]:
        """Return the resources grouped by type in bundle order, each type in the order added."""
        rank = {name: index for index, name in enumerate(TYPE_ORDER)}
        values = list(self.resources.values())
        return sorted(values, key=lambda r: rank.get(r["resourceType"], len(rank)))

    # --- shared resources ------------------------------------------------------------------

    @property
    def patient(self) -> Resource:
        """A reference to the patient: only the opaque reference, no demographics."""
        patient_ref = self.episode.patient_ref
        identifier = self.add(
            {
                "resourceType": "Patient",
                "id": resource_id("Patient", patient_ref),
                "identifier": [{"system": SID_PATIENT, "value": patient_ref}],
            }
        )
        return ref("Patient", identifier)

    @property
    def episode_ref(self) -> Resource:
        """A reference to the EpisodeOfCare (its id is the episode's id)."""
        return ref("EpisodeOfCare", self.episode_id)

    @property
    def episode_ext(self) -> Resource:
        """The standard workflow-episodeOfCare extension, for resources without an episodeOfCare element."""
        return {"url": EPISODE_OF_CARE_EXT, "valueReference": self.episode_ref}

    def practitioner(self, provider: Provider) -> Resource:
        """Return a reference to the Practitioner of a provider: one per person (provider id).

        The Practitioner gathers what any mention recorded of the person (the first name, credential
        and each NPI); the reference carries what this mention recorded (extension `provider-record`),
        so the import gives each command the provider record it was given.
        """
        identifier = resource_id("Practitioner", provider.provider_id)
        known = self.resources.get(identifier, {})
        identifiers = known.get("identifier") or [{"system": SID_PROVIDER, "value": provider.provider_id}]
        for npi in (provider.npi, self._clinic_npi(provider.provider_id)):
            if npi and {"system": NPI, "value": npi} not in identifiers:
                identifiers = [*identifiers, {"system": NPI, "value": npi}]
        resource: Resource = {"resourceType": "Practitioner", "id": identifier, "identifier": identifiers}
        name = known.get("name") or ([{"text": provider.name}] if provider.name else None)
        if name:
            resource["name"] = name
        qualification = known.get("qualification") or (
            [{"code": credential_concept(provider.credential)}] if provider.credential else None
        )
        if qualification:
            resource["qualification"] = qualification
        self.resources[identifier] = resource
        reference = ref("Practitioner", identifier, provider.name or provider.provider_id)
        record = [
            sub("name", "String", provider.name),
            sub("npi", "String", provider.npi),
            sub("credential", "Code", provider.credential),
        ]
        if any(record):
            reference["extension"] = [complex_ext("provider-record", record)]
        return reference

    def _clinic_npi(self, provider_id: str) -> str | None:
        """Return the NPI the clinic's identity facts give a provider id (decision 0010), if any."""
        if self.clinic is None:
            return None
        known = self.clinic.providers.get(provider_id) or self.clinic.physicians.get(provider_id)
        return known.npi if known is not None else None

    def billing_organization(self) -> Resource | None:
        """Return a reference to the billing provider's Organization (NPI, tax id), if the clinic has one."""
        provider = self.clinic.billing_provider if self.clinic is not None else None
        if provider is None:
            return None
        address = provider.address
        identifier = resource_id("Organization", "billing-provider", provider.npi, provider.name)
        lines = [address.line1, *([address.line2] if address.line2 else [])]
        self.add(
            {
                "resourceType": "Organization",
                "id": identifier,
                "identifier": [
                    {"system": NPI, "value": provider.npi},
                    {"system": EIN, "value": provider.tax_id},
                ],
                "type": [{"coding": [{"system": TAXONOMY, "code": provider.taxonomy}]}],
                "name": provider.name,
                "address": [
                    {
                        "line": lines,
                        "city": address.city,
                        "state": address.state,
                        "postalCode": address.zip,
                        "country": "US",
                    }
                ],
            }
        )
        return ref("Organization", identifier, provider.name)

    def role(self, provider_id: str, credential: str) -> Resource:
        """Return a reference to the PractitionerRole of a therapist acting with a credential."""
        practitioner = self.practitioner(Provider(provider_id=provider_id))
        identifier = resource_id("PractitionerRole", provider_id, credential)
        self.add(
            {
                "resourceType": "PractitionerRole",
                "id": identifier,
                "active": True,
                "practitioner": practitioner,
                "code": [credential_concept(credential)],
            }
        )
        return ref("PractitionerRole", identifier, f"{provider_id} ({credential})")

    def condition(self, diagnosis: Diagnosis) -> Resource:
        """Return a reference to the Condition of an ICD-10-CM diagnosis (with its description as text)."""
        identifier = resource_id("Condition", self.episode_id, diagnosis.code, diagnosis.description or "")
        code: Resource = {"coding": [{"system": ICD10CM, "code": diagnosis.code}]}
        if diagnosis.description:
            code["text"] = diagnosis.description
        self.add({"resourceType": "Condition", "id": identifier, "code": code, "subject": self.patient})
        return ref("Condition", identifier, diagnosis.code)


def credential_concept(credential: str) -> Resource:
    """Return a credential (PT, PTA, MD...) as a CodeableConcept of careledger's credential system."""
    return concept(CS_CREDENTIAL, credential, CREDENTIAL_NAMES.get(credential))
