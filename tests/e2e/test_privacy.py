"""Privacy of what careledger writes: private files, no patient reference in names, member ids masked."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.demo import demo_episode_ids
from tests.e2e.conftest import careledger

KNEE = str(demo_episode_ids()["knee"])


def run(*args: str) -> Any:
    """Run in this process (what is printed, not how files are created)."""
    env = {"CARELEDGER_ANCHOR_DIR": None, "CARELEDGER_ACCESS_LOG": None}
    return CliRunner().invoke(app, list(args), env=env)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("private") / "demo.db"
    done = careledger("demo", "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    return db


def test_the_store_packets_and_exports_are_their_owners_only(demo_db: Path, tmp_path: Path) -> None:
    assert mode(demo_db) == 0o600
    out = tmp_path / "packets"
    assert careledger("packet", KNEE, "--db", str(demo_db), "--out", str(out)).returncode == 0
    [packet] = out.iterdir()
    assert mode(out) == 0o700 and mode(packet) == 0o600
    assert "PT-1001" not in packet.name  # the patient reference is not a file name
    claims = tmp_path / "claims.csv"
    assert careledger("export", "claims", "--db", str(demo_db), "--out", str(claims)).returncode == 0
    assert mode(claims) == 0o600


def test_a_link_planted_at_the_packet_name_is_replaced_not_written_through(
    demo_db: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "packets"
    out.mkdir()
    (out / f"packet-{KNEE}.html").symlink_to(victim)
    done = careledger("packet", KNEE, "--db", str(demo_db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "keep me"
    written = out / f"packet-{KNEE}.html"
    assert not written.is_symlink() and written.read_text().startswith("<!")
    assert sorted(p.name for p in out.iterdir()) == [written.name]  # no temporary left behind


def test_the_member_id_is_masked_in_json_and_the_packet(demo_db: Path, tmp_path: Path) -> None:
    shown = run("episode", "show", KNEE, "--db", str(demo_db), "--json")
    assert shown.exit_code == 0, shown.output
    member = json.loads(shown.stdout)["payer"]["member_id"]
    assert member.startswith("*") and len(member.strip("*")) == 4
    fhir = json.loads(run("export", "fhir", KNEE, "--db", str(demo_db)).stdout)  # exchange: whole id
    whole = next(
        r["resource"]["subscriberId"] for r in fhir["entry"] if r["resource"]["resourceType"] == "Coverage"
    )
    assert whole.endswith(member.strip("*")) and not whole.startswith("*")
    out = tmp_path / "knee.html"
    assert run("packet", KNEE, "--db", str(demo_db), "--out", str(out)).exit_code == 0
    html = out.read_text()
    assert whole not in html and member in html


def test_a_name_or_date_like_patient_reference_is_warned_about(tmp_path: Path) -> None:
    db = str(tmp_path / "warn.db")
    args = ["episode", "open", "--discipline", "PT", "--payer", "medicare", "--diagnosis", "M17.11"]
    args += ["--start", "2026-09-01", "--db", db]
    env = {"CARELEDGER_USER": "tester", "CARELEDGER_ANCHOR_DIR": None, "CARELEDGER_ACCESS_LOG": None}
    warned = CliRunner().invoke(app, [*args, "--patient", "Smith.Jane.1950-01-02"], env=env)
    assert warned.exit_code == 0 and "warning: patient_ref: it looks like it holds a date" in warned.stderr
    assert "1950" not in warned.stderr  # the warning does not repeat the reference
    quiet = CliRunner().invoke(app, [*args, "--patient", "MRN-1"], env=env)
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr
