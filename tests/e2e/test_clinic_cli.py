"""`careledger clinic ...` as a user runs it: identity facts with NPIs, refused in one line when wrong."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import careledger

BILLING = (
    "--name", "Riverbend Physical Therapy (fictitious)", "--tax-id", "00-0000001", "--taxonomy", "261QR0400X",
    "--line1", "100 Example Way", "--city", "Springfield", "--state", "IL", "--zip", "62701-0001",
)  # fmt: skip


def test_a_wrong_npi_is_refused_in_one_line_naming_the_field_and_nothing_is_stored(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    done = careledger(
        "clinic", "billing-provider", *BILLING, "--npi", "1999000016", "--db", db, "--user", "ops"
    )
    assert done.returncode == 1
    assert done.stderr.decode().count("\n") == 1
    assert done.stderr.decode().startswith("error: npi: 1999000016 fails the NPI check digit")
    assert not Path(db).exists()
    person = ("clinic", "provider", "pt-x", "--first-name", "A", "--last-name", "B")
    assert careledger(*person, "--npi", "1999000023", "--db", db, "--user", "ops").returncode == 0
    refused = careledger(
        "clinic", "billing-provider", *BILLING, "--npi", "199900001", "--db", db, "--user", "ops"
    )
    assert refused.returncode == 1 and "npi:" in refused.stderr.decode()
    shown = json.loads(careledger("clinic", "show", "--db", db, "--json").stdout)
    assert shown["version"] == 2 and shown["billing_provider"] is None


def test_a_changed_npi_is_a_new_fact_and_show_as_of_gives_the_old_one(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    rivera = ("clinic", "provider", "pt-rivera", "--first-name", "Maria", "--last-name", "Rivera")
    first = careledger(
        *rivera, "--npi", "1999000023", "--taxonomy", "225100000X", "--db", db, "--user", "ops"
    )
    assert first.returncode == 0, first.stderr
    before = json.loads(careledger("clinic", "show", "--db", db, "--json").stdout)
    at = before["rendering_providers"]["pt-rivera"]["recorded"]["recorded_at"]
    again = careledger(*rivera, "--npi", "1999000031", "--db", db, "--user", "ops")
    assert again.returncode == 0, again.stderr
    now = json.loads(careledger("clinic", "show", "--db", db, "--json").stdout)
    then = json.loads(careledger("clinic", "show", "--db", db, "--json", "--as-of", at).stdout)
    assert now["rendering_providers"]["pt-rivera"]["npi"] == "1999000031"
    assert then["rendering_providers"]["pt-rivera"]["npi"] == "1999000023"
    assert now["rendering_providers"]["pt-rivera"]["recorded"]["recorded_by"] == "ops"


def test_the_clinic_commands_have_json_schemas(tmp_path: Path) -> None:
    listed = careledger("schema").stdout.decode()
    for name in ("record_billing_provider", "record_rendering_provider", "record_physician"):
        assert name in listed
    schema = json.loads(careledger("schema", "record_billing_provider").stdout)
    assert {"name", "npi", "tax_id", "taxonomy", "address"} <= set(schema["required"])
