"""A FHIR import refuses what it cannot read faithfully: one line naming the entry and the field,
and nothing stored (SQLite, and PostgreSQL when reachable). Resources it does not read are listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.errors import InvalidInput
from projections.interop.fhir.export import export_episode
from projections.interop.fhir.importer import import_bundle
from projections.store.root import Store, parse_location

Json = dict[str, Any]


@pytest.fixture(scope="module")
def knee(tmp_path_factory: pytest.TempPathFactory) -> Json:
    """The demo knee episode's bundle, as exported."""
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    store = Store(parse_location(str(tmp_path_factory.mktemp("source") / "careledger.db")), clock=clock)
    for item in recorded:
        clock.now = item.at
        store.app.handle(item.command)
    text = export_episode(store.app, demo_episode_ids()["knee"])
    store.close()
    return dict(json.loads(text))


def first(bundle: Json, kind: str) -> Json:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def dangling_procedure_encounter(b: Json) -> None:
    first(b, "Procedure")["encounter"]["reference"] = "urn:uuid:00000000-0000-5000-8000-000000000001"


def dangling_encounter_subject(b: Json) -> None:
    first(b, "Encounter")["subject"]["reference"] = "urn:uuid:00000000-0000-5000-8000-000000000002"


def dangling_claim_item_encounter(b: Json) -> None:
    first(b, "Claim")["item"][0]["encounter"][0]["reference"] = (
        "urn:uuid:00000000-0000-5000-8000-000000000003"
    )


def duplicate_full_url(b: Json) -> None:
    copy = json.loads(json.dumps(b["entry"][-1]))
    copy["resource"]["id"] = "00000000-0000-5000-8000-000000000004"
    b["entry"].append(copy)


def invalid_episode_status(b: Json) -> None:
    first(b, "EpisodeOfCare")["status"] = "on-hold"


def procedure_not_in_cpt(b: Json) -> None:
    first(b, "Procedure")["code"]["coding"][0]["system"] = "http://snomed.info/sct"


def procedure_without_code(b: Json) -> None:
    del first(b, "Procedure")["code"]


def claim_bills_another_unit(b: Json) -> None:
    first(b, "Claim")["item"][0]["quantity"]["value"] += 1


CASES: dict[str, tuple[Callable[[Json], None], tuple[str, ...]]] = {
    "dangling Procedure.encounter": (
        dangling_procedure_encounter,
        ("(Procedure/", ".encounter", "does not resolve"),
    ),
    "dangling Encounter.subject": (
        dangling_encounter_subject,
        ("(Encounter/", ".subject", "does not resolve"),
    ),
    "dangling Claim.item.encounter": (
        dangling_claim_item_encounter,
        ("(Claim/", ".item[0].encounter[0]", "does not resolve"),
    ),
    "duplicate fullUrl": (duplicate_full_url, ("fullUrl", "appears twice")),
    "EpisodeOfCare.status on-hold": (
        invalid_episode_status,
        ("(EpisodeOfCare/", "status 'on-hold'", "value set"),
    ),
    "Procedure coded in SNOMED": (
        procedure_not_in_cpt,
        ("(Procedure/", "code: system http://snomed.info/sct", "CPT"),
    ),
    "Procedure without a code": (procedure_without_code, ("(Procedure/", "code is required")),
    "Claim bills another unit": (claim_bills_another_unit, ("Claim/", "differ from the billing engine")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bundle_careledger_cannot_read_faithfully_is_refused_naming_entry_and_field_and_nothing_is_stored(
    knee: Json, empty: Store, case: str
) -> None:
    breaks, expected = CASES[case]
    bundle = json.loads(json.dumps(knee))
    breaks(bundle)
    with pytest.raises(InvalidInput) as refused:
        import_bundle(empty.app, json.dumps(bundle).encode(), "upload.json")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("upload.json: ") and message.endswith("nothing was imported")
    for part in expected:
        assert part in message, (case, message)
    assert list(empty.app.episode_ids()) == []


def test_resources_careledger_does_not_read_are_listed_in_the_import_report(knee: Json, empty: Store) -> None:
    bundle = json.loads(json.dumps(knee))
    flag_id = "00000000-0000-5000-8000-000000000005"
    flag = {
        "resourceType": "Flag",
        "id": flag_id,
        "status": "active",
        "code": {"text": "fall risk"},
        "subject": first(bundle, "Encounter")["subject"],
    }
    bundle["entry"].append({"fullUrl": f"urn:uuid:{flag_id}", "resource": flag})
    result = import_bundle(empty.app, json.dumps(bundle).encode(), "upload.json")
    assert result.unread == (f"Flag/{flag_id}",)
    assert result.as_dict()["unread"] == [f"Flag/{flag_id}"]
    assert result.applied == result.commands > 0
