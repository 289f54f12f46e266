"""Export an episode as a FHIR R4 Bundle (type collection), validated before it is written.

`build_bundle` is pure (the episode, its events and its bill in; a JSON-ready
dict out); `export_episode` loads them from the application, as the record
stands now or as it stood at a recorded time (`--as-of`), validates the bundle
with `fhir.resources` (R4B models) and with careledger's own invariants, and
returns the JSON the models serialise. The mapping, field by field: docs/fhir.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.billing.bill import bill_with_others, billing_rules
from projections.interop.fhir.builder import Builder
from projections.interop.fhir.care import exercise_programme, impressions, observations, plans
from projections.interop.fhir.codes import SID_EPISODE, instant, resource_id, urn
from projections.interop.fhir.episode import episode_of_care, payer_resources
from projections.interop.fhir.visits import visits

if TYPE_CHECKING:
    from domain.billing.bill import EpisodeBill
    from domain.clinic.aggregate import Clinic
    from domain.episode.aggregate import Episode
    from domain.episode.application import Episodes


def build_bundle(
    episode: Episode, events: Sequence[Episode.Event], bill: EpisodeBill, clinic: Clinic | None = None
) -> dict[str, Any]:
    """Return the episode as a FHIR Bundle (a JSON-ready dict); `events` are its events up to its version.

    `clinic` (its identity facts) gives the Claims their billing Organization and the
    Practitioners their NPIs.
    """
    builder = Builder(episode, events, bill, clinic)
    insurer, coverage = payer_resources(builder)
    episode_of_care(builder)
    plans(builder)
    exercise_programme(builder)
    visits(builder, insurer, coverage)
    observations(builder)
    impressions(builder)
    return {
        "resourceType": "Bundle",
        "id": resource_id("Bundle", builder.episode_id, episode.version),
        "identifier": {"system": SID_EPISODE, "value": f"{builder.episode_id}/v{episode.version}"},
        "type": "collection",
        "timestamp": instant(episode.modified_on),
        "entry": [{"fullUrl": urn(r["id"]), "resource": r} for r in builder.ordered()],
    }


def load_episode(app: Episodes, episode_id: UUID, as_of: datetime | None = None) -> Episode:
    """Return the episode now, or as it stood at recorded time `as_of`."""
    return app.episode_as_of(episode_id, as_of) if as_of is not None else app.get_episode(episode_id)


def others_of(app: Episodes, episode: Episode, as_of: datetime | None = None) -> list[Episode]:
    """Return the beneficiary's other episodes (as they stood at `as_of`), which count toward KX."""
    found: list[Episode] = []
    for other_id in app.episode_ids():
        if other_id == episode.id:
            continue
        if as_of is not None:
            version = app.version_as_of(other_id, as_of)
            if version == 0:
                continue
            other = app.get_episode(other_id, version=version)
        else:
            other = app.get_episode(other_id)
        if other.patient_ref == episode.patient_ref:
            found.append(other)
    return found


def episode_bill(app: Episodes, episode: Episode, as_of: datetime | None = None) -> EpisodeBill:
    """Bill an episode as `careledger bill` does, counting the beneficiary's other episodes toward KX."""
    return bill_with_others(
        episode, others_of(app, episode, as_of), billing_rules(episode.payer, app.payer_dirs)
    )


def export_episode(app: Episodes, episode_id: UUID, as_of: datetime | None = None) -> bytes:
    """Return the episode's validated FHIR Bundle as indented JSON."""
    from domain.episode.clinic_service import load_clinic
    from projections.interop.fhir.validate import check_invariants, serialise

    episode = load_episode(app, episode_id, as_of)
    events = app.history(episode_id)[: episode.version]
    bill = episode_bill(app, episode, as_of)
    bundle = build_bundle(episode, events, bill, load_clinic(app, as_of))
    text = serialise(bundle)
    check_invariants(bundle, bill)
    return text
