"""`careledger import fhir` as a user runs it on a bundle it cannot read faithfully, or only in part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.demo import demo_episode_ids
from tests.e2e.conftest import careledger

KNEE = str(demo_episode_ids()["knee"])


@pytest.fixture(scope="module")
def knee(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("source") / "demo.db"
    assert careledger("demo", "--db", str(db), "--quiet").returncode == 0
    exported = careledger("export", "fhir", KNEE, "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    return dict(json.loads(exported.stdout))


def test_a_dangling_reference_is_refused_in_one_line_and_nothing_is_stored(
    knee: dict[str, Any], tmp_path: Path
) -> None:
    bundle = json.loads(json.dumps(knee))
    procedure = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure")
    procedure["encounter"]["reference"] = "urn:uuid:00000000-0000-5000-8000-000000000009"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(bundle))
    db = tmp_path / "store.db"
    done = careledger("import", "fhir", str(path), "--db", str(db))
    assert done.returncode == 1
    error = done.stderr.decode()
    assert error.count("\n") == 1 and f"(Procedure/{procedure['id']}).encounter" in error
    assert "does not resolve inside the bundle; nothing was imported" in error
    listed = careledger("episode", "list", "--db", str(db), "--json")
    assert listed.returncode != 0 or json.loads(listed.stdout) == []


def test_resources_it_does_not_read_are_listed(knee: dict[str, Any], tmp_path: Path) -> None:
    bundle = json.loads(json.dumps(knee))
    flag_id = "00000000-0000-5000-8000-00000000000a"
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    flag = {
        "resourceType": "Flag",
        "id": flag_id,
        "status": "active",
        "code": {"text": "fall risk"},
        "subject": {"reference": f"urn:uuid:{patient['id']}", "type": "Patient"},
    }
    bundle["entry"].append({"fullUrl": f"urn:uuid:{flag_id}", "resource": flag})
    path = tmp_path / "with-flag.json"
    path.write_text(json.dumps(bundle))
    done = careledger("import", "fhir", str(path), "--db", str(tmp_path / "store.db"))
    assert done.returncode == 0, done.stderr
    assert f"not read (careledger does not record them): Flag/{flag_id}" in done.stdout.decode()
