"""`careledger export 837p` as a user runs it, with the file checked by pyx12 (tests/x12check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.demo import demo_episode_ids
from tests.e2e.conftest import careledger
from tests.x12check import pyx12_errors

IDS = {name: str(i) for name, i in demo_episode_ids().items()}


@pytest.fixture(scope="module")
def demo_file(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """The demo store (SQLite, and PostgreSQL when reachable), its 837P file and the export's report."""
    db, out = module_db_url, tmp_path_factory.mktemp("x12") / "demo.837"
    assert careledger("demo", "--db", db, "--quiet").returncode == 0
    done = careledger("export", "837p", "--all", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return db, out, done.stderr.decode()


def segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def test_the_demos_837p_passes_pyx12_with_no_error(demo_file: tuple[str, Path, str]) -> None:
    _, out, _ = demo_file
    text = out.read_text()
    assert pyx12_errors(text) == []
    found = segments(text)
    assert found[0].startswith("ISA*") and found[-1].startswith("IEA*1*")
    assert any(s.startswith("GS*HC*") and s.endswith("*X*005010X222A1") for s in found)
    assert "NM1*85*2*Riverbend Physical Therapy (fictitious)*****XX*1999000015" in found
    assert "REF*EI*000000001" in found and "PRV*BI*PXC*261QR0400X" in found
    assert sum(s.startswith("CLM*") for s in found) > 10
    assert any(s.startswith("NM1*DN*1*Osei*Ama") for s in found)


@pytest.mark.parametrize(
    ("old", "new", "segment"),
    [
        ("*UN*", "*XX*", "SV1"),  # a unit code outside its code list
        ("NM1*85*2*", "NM1*85*7*", "NM1"),  # an entity type that does not exist
        ("CLM*", "CLX*", "CLX"),  # a segment the 837P does not have, where the claim should be
    ],
)
def test_pyx12_catches_a_segment_broken_on_purpose(
    demo_file: tuple[str, Path, str], old: str, new: str, segment: str
) -> None:
    text = demo_file[1].read_text().replace(old, new, 1)
    errors = pyx12_errors(text)
    assert errors, f"pyx12 accepted a file with {new!r}"
    assert any(segment in e for e in errors) or any(e.startswith(("IK5*R", "AK9*R")) for e in errors)


def test_visits_that_are_not_ready_are_left_out_and_listed_with_the_reason(
    demo_file: tuple[str, Path, str],
) -> None:
    _, out, report = demo_file
    claims = [s for s in segments(out.read_text()) if s.startswith("CLM*")]
    ankle = IDS["ankle"][:8]
    assert not any(c.startswith(f"CLM*{ankle}") for c in claims)
    assert f"left out: {ankle} 2026-05-05: the payer's member id is not recorded" in report
    back = IDS["back"][:8]
    assert not any(c.startswith(f"CLM*{back}") for c in claims)
    assert f"left out: {back} 2026-03-05: " in report and "time.units_exceed_minutes" in report


def test_a_store_without_a_billing_provider_writes_nothing_and_says_what_to_record(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    opened = careledger(
        "import", str(Path(__file__).parents[2] / "docs" / "examples" / "episode.jsonl"), "--db", str(db)
    )
    assert opened.returncode == 0, opened.stderr
    out = tmp_path / "none.837"
    done = careledger("export", "837p", "--all", "--db", str(db), "--out", str(out))
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines()[-1].startswith("error: billing_provider: ")
    assert "careledger clinic billing-provider" in done.stderr.decode()
    assert not out.exists()


def test_a_visit_whose_rendering_provider_has_no_npi_is_left_out(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    example = Path(__file__).parents[2] / "docs" / "examples" / "episode.jsonl"
    assert careledger("import", str(example), "--db", str(db)).returncode == 0
    record = careledger(
        "clinic", "billing-provider", "--db", str(db), "--user", "ops", "--name", "Example Clinic",
        "--npi", "1999000015", "--tax-id", "000000001", "--taxonomy", "261QR0400X",
        "--line1", "1 Example Way", "--city", "Springfield", "--state", "IL", "--zip", "627010001",
        "--phone", "2175550100",
    )  # fmt: skip
    assert record.returncode == 0, record.stderr
    done = careledger("export", "837p", "--all", "--db", str(db))
    assert done.returncode == 1
    assert "has no NPI recorded (careledger clinic provider)" in done.stderr.decode()
    assert "no visit is ready to bill; nothing was written" in done.stderr.decode()
    assert json.loads(careledger("clinic", "show", "--db", str(db), "--json").stdout)["version"] == 2


def test_one_episode_since_a_date_claims_only_its_visits_from_then(demo_file: tuple[str, Path, str]) -> None:
    db = demo_file[0]
    knee = IDS["knee"][:8]
    done = careledger("export", "837p", knee, "--since", "2026-04-01", "--db", str(db))
    assert done.returncode == 0, done.stderr
    claims = [s.split("*")[1] for s in segments(done.stdout.decode()) if s.startswith("CLM*")]
    assert claims and all(c.startswith(f"{knee}-") and c[-8:] >= "20260401" for c in claims)
    assert pyx12_errors(done.stdout.decode()) == []
    both = careledger("export", "837p", knee, "--all", "--db", str(db))
    assert both.returncode == 1 and "give one EPISODE or --all" in both.stderr.decode()
    bad = careledger("export", "837p", "--all", "--since", "April", "--db", str(db))
    assert bad.returncode == 2 and "--since: 'April' is not a date" in bad.stderr.decode()
