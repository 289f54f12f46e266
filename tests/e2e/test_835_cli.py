"""`careledger import 835` and `careledger denials` as a user runs them, on the demo's remittance.

The demo writes Medicare's 835 for its claims (`careledger demo --remittance`); pyx12 accepts it
with 0 errors and catches copies broken on purpose. The denials report's totals are held to a
count made here from the file's own segments.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import careledger as run
from tests.x12check import pyx12_835_errors

USER = {"CARELEDGER_USER": "biller@demo-clinic"}


class Done:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def careledger(*args: str, env: dict[str, str] | None = None) -> Done:
    done = run(*args, env=env)
    return Done(done.returncode, done.stdout.decode(), done.stderr.decode())


def segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def independent_count(text: str) -> tuple[int, int, Decimal]:
    """Count from the file: service lines, lines with a denial, dollars denied (any CAS but the
    patient's share, PR, and the contract's CARC 45 and 253)."""
    lines, denied_lines, denied = 0, 0, Decimal(0)
    current: Decimal | None = None
    for parts in segments(text):
        if parts[0] in ("SVC", "CLP", "SE"):
            if current is not None and current > 0:
                denied_lines += 1
                denied += current
            current = Decimal(0) if parts[0] == "SVC" else None
            lines += parts[0] == "SVC"
        elif parts[0] == "CAS" and current is not None and parts[1] != "PR":
            for i in range(2, len(parts), 3):
                if parts[i] and parts[i] not in ("45", "253"):
                    current += Decimal(parts[i + 1])
    return lines, denied_lines, denied


def events(db: str) -> int:
    done = careledger("verify", "--db", db)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split(",")[1].split()[0])


@pytest.fixture(scope="module")
def imported(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """The demo store with its 835 imported once; the file; the import's output."""
    db, out = module_db_url, tmp_path_factory.mktemp("x12") / "demo.835"
    built = careledger("demo", "--db", db, "--quiet", "--remittance", str(out))
    assert built.returncode == 0, built.stderr
    done = careledger("import", "835", str(out), "--db", db, env=USER)
    assert done.returncode == 0, done.stderr
    return db, out, done.stdout


def test_the_demos_835_passes_pyx12_with_no_error(imported: tuple[str, Path, str]) -> None:
    text = imported[1].read_text()
    assert pyx12_835_errors(text) == []
    found = segments(text)
    assert found[0][0] == "ISA" and found[1][-1] == "005010X221A1"
    assert sum(p[0] == "CLP" for p in found) > 20


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("CAS*CO*", "CAS*ZZ*", "CAS01"),  # an adjustment group that does not exist
        ("SVC*HC:", "SVC*QQ:", "SVC01"),  # a product qualifier outside its list
        ("CLP*", "CLX*", "CLX"),  # a segment the 835 does not have, where the claim should be
    ],
)
def test_a_broken_copy_is_caught_by_pyx12_and_refused_whole(
    imported: tuple[str, Path, str], tmp_path: Path, old: str, new: str, named: str
) -> None:
    db, out, _ = imported
    broken = out.read_text().replace(old, new, 1)
    assert pyx12_835_errors(broken), f"pyx12 accepted a file with {new!r}"
    path = tmp_path / "broken.835"
    path.write_text(broken)
    before = events(db)
    done = careledger("import", "835", str(path), "--db", db, env=USER)
    assert done.returncode == 1
    assert "pyx12" in done.stderr and "nothing was imported" in done.stderr
    assert named in done.stderr or new.rstrip("*:") in done.stderr, done.stderr
    assert events(db) == before


def test_import_records_every_claim_and_a_reimport_changes_nothing(imported: tuple[str, Path, str]) -> None:
    db, out, first = imported
    claims = sum(p[0] == "CLP" for p in segments(out.read_text()))
    lines = independent_count(out.read_text())[0]
    assert f"{claims} claims recorded ({lines} lines), 0 already recorded, 0 refused" in first
    before = events(db)
    again = careledger("import", "835", str(out), "--db", db, "--json", env=USER)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["applied"], result["already_applied"], result["refused"]) == (0, claims, [])
    assert events(db) == before


def test_denials_totals_match_an_independent_count_of_the_file(imported: tuple[str, Path, str]) -> None:
    db, out, _ = imported
    lines, denied_lines, denied = independent_count(out.read_text())
    done = careledger("denials", "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    totals = report["totals"]
    assert (totals["lines"], totals["denied_lines"], Decimal(totals["denied"])) == (
        lines,
        denied_lines,
        denied,
    )
    assert sum(Decimal(r["amount"]) for r in report["by_reason"]) == denied
    reasons = {r["reason"] for r in report["by_reason"]}
    assert {"50", "151", "29", "27"} <= reasons  # predicted by check, and not
    by_rule = {r["rule_id"]: r for r in report["by_rule"]}
    cloned = by_rule["note.cloned"]
    flagged = [r for r in report["lines"] if any(f["rule_id"] == "note.cloned" for f in r["findings"])]
    hits = [r for r in flagged if Decimal(r["denied"]) > 0]
    assert (cloned["flagged_lines"], cloned["denied_lines"]) == (len(flagged), len(hits))
    assert cloned["precision"] == round(len(hits) / len(flagged), 4)
    assert cloned["recall"] == round(len(hits) / denied_lines, 4)
    unseen = [r for r in report["lines"] if Decimal(r["denied"]) > 0 and not r["findings"]]
    assert totals["unseen_lines"] == len(unseen) > 0


def test_denials_prints_the_table(imported: tuple[str, Path, str]) -> None:
    done = careledger("denials", "--db", imported[0], "--payer", "medicare", env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "By check rule" in done.stdout and "precision" in done.stdout
    assert "CO-151" in done.stdout and "The time limit for filing has expired." in done.stdout
    # each code's words once (in the reason and remark tables), not on every line it hit
    assert done.stdout.count("The time limit for filing has expired.") == 1
    assert "Remark codes" in done.stdout and done.stdout.count("exceeds our acceptable") == 1
    none = careledger("denials", "--db", imported[0], "--payer", "nobody", "--json")
    assert json.loads(none.stdout)["totals"]["lines"] == 0


def test_claims_careledger_never_sent_are_refused_line_by_line(
    imported: tuple[str, Path, str], tmp_path: Path
) -> None:
    db, out, _ = imported
    text = out.read_text()
    foreign = text.replace("CLP*94ecc961-", "CLP*00000000-").replace("NM1*QC*1*PT-1001*", "NM1*QC*1*PT-9999*")
    unknown = foreign.count("CLP*00000000-")
    at = foreign.index("CLP*43913a2b-")  # a claim of the back episode: one of its lines recoded
    recoded = foreign[:at] + foreign[at:].replace("SVC*HC:97110:GP*", "SVC*HC:97999:GP*", 1)
    path = tmp_path / "foreign.835"
    path.write_text(recoded)
    before = events(db)
    done = careledger("import", "835", str(path), "--db", db, "--json", env=USER)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    reasons = [r["reason"] for r in result["refused"]]
    assert sum("careledger sent no claim with this id" in r for r in reasons) == unknown > 0
    assert next(r for r in result["refused"] if r["line"] == "97999 GP")["reason"].startswith(
        "the visit billed no 97999"
    )
    assert result["applied"] == 0  # every other claim was recorded before: nothing new
    assert events(db) == before
    assert "refused: segment" in done.stderr


def test_a_file_that_does_not_balance_is_refused_naming_the_segment(
    imported: tuple[str, Path, str], tmp_path: Path
) -> None:
    db, out, _ = imported
    text = out.read_text()
    parts = segments(text)
    svc = next(p for p in parts if p[0] == "SVC")
    wrong = "*".join([*svc[:3], str(Decimal(svc[3]) + 1), *svc[4:]])
    path = tmp_path / "unbalanced.835"
    path.write_text(text.replace("*".join(svc), wrong, 1))
    done = careledger("import", "835", str(path), "--db", db, env=USER)
    assert done.returncode == 1
    assert "(SVC)" in done.stderr and "is not the" in done.stderr and "nothing was imported" in done.stderr


def test_findings_are_taken_as_of_the_claim_so_a_later_fix_keeps_the_prediction(
    db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "demo.835"
    assert careledger("demo", "--db", db_url, "--quiet", "--remittance", str(out)).returncode == 0
    assert careledger("import", "835", str(out), "--db", db_url, env=USER).returncode == 0
    day = "2026-04-13"
    fixed = careledger(
        "visit", "correct", "465a", day, "--db", db_url, "--user", "ot-1",
        "--set", "necessity=Shoulder flexion 100 degrees today (90 last visit) still stops her lifting "
        "a 2 kg pan to the top shelf; scapular control fails after 6 repetitions.",
        "--set", 'skilled_interventions=["graded scapular retraction cues at 100 degrees", '
        '"task practice: pan to shelf with 1 kg"]',
        "--set", "patient_response=Lifted 1 kg pan to shelf 5 times with cues; fatigue after the fifth.",
        "--reason", "the note was copied forward; rewritten from the session log",
    )  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    added = careledger(
        "visit", "addendum", "465a", day, "--db", db_url, "--user", "ot-1",
        "--text", "Today: reached 100 degrees shoulder flexion, up from 90; overhead reach to cupboard "
        "now with 2 kg; progressed theraband to green because last week's red was easy.",
        "--reason", "visit-specific findings",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    today = json.loads(careledger("check", "465a", "--db", db_url, "--json").stdout)
    assert not [f for f in today["findings"] if f["date_of_service"] == day and f["rule_id"] == "note.cloned"]
    report = json.loads(careledger("denials", "--db", db_url, "--json").stdout)
    rows = [r for r in report["lines"] if r["date_of_service"] == day and r["episode_id"].startswith("465a")]
    assert rows and all(any(f["rule_id"] == "note.cloned" for f in r["findings"]) for r in rows)
    assert all(r["findings_as_of"] < "2026-04-17" for r in rows)


def test_the_record_shows_what_the_payer_did_beside_what_careledger_expected(
    imported: tuple[str, Path, str], tmp_path: Path
) -> None:
    db = imported[0]
    report = json.loads(careledger("denials", "--db", db, "--json").stdout)
    row = next(r for r in report["lines"] if r["episode_id"].startswith("465a") and r["status"] == "denied")
    day, code = row["date_of_service"], row["code"]
    shown = careledger("episode", "show", "465a", "--db", db, env={"COLUMNS": "200"}).stdout
    assert "Remittances" in shown and f"{code} " in shown and "denied" in shown
    bill = careledger("bill", "465a", "--visit", day, "--db", db, env={"COLUMNS": "200"}).stdout
    assert "payer: Medicare Part B paid" in bill and "(expected allowed" in bill and "(CO-" in bill
    as_json = json.loads(careledger("bill", "465a", "--visit", day, "--db", db, "--json").stdout)
    assert [r["claim_id"] for r in as_json["remittances"]] == [row["claim_id"]]
    timeline = careledger("timeline", "465a", "--db", db, "--json").stdout
    assert f"remittance from Medicare Part B for claim {row['claim_id']}" in timeline
    recorded = row["recorded_at"]
    before = careledger("audit", "465a", "--as-of", "2026-06-01T00:00:00Z", "--db", db).stdout
    after = careledger("audit", "465a", "--as-of", recorded, "--db", db).stdout
    assert "Remittances" not in before and "Remittances" in after
    packet = tmp_path / "packet.html"
    assert careledger("packet", "465a", "--db", db, "--out", str(packet)).returncode == 0
    html = packet.read_text()
    assert "Payer remittances" in html and row["claim_id"] in html


def test_the_fhir_export_carries_each_remittance_as_a_claimresponse_that_imports_back(
    imported: tuple[str, Path, str], tmp_path: Path
) -> None:
    db = imported[0]
    first = tmp_path / "shoulder.json"
    assert careledger("export", "fhir", "465a", "--db", db, "--out", str(first)).returncode == 0
    bundle = json.loads(first.read_text())
    responses = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClaimResponse"]
    claims = {e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim"}
    report = json.loads(careledger("denials", "--db", db, "--json").stdout)
    mine = {r["claim_id"] for r in report["lines"] if r["episode_id"].startswith("465a")}
    assert len(responses) == len(mine) > 0
    assert all(
        r["request"]["reference"].removeprefix("urn:uuid:") in claims for r in responses if "request" in r
    )
    reasons = {
        a["reason"]["coding"][0]["code"]
        for r in responses
        for item in r["item"]
        for a in item["adjudication"]
        if "reason" in a
    }
    assert "50" in reasons
    other = str(tmp_path / "other.db")
    done = careledger("import", "fhir", str(first), "--db", other)
    assert done.returncode == 0, done.stderr
    again = tmp_path / "again.json"
    assert careledger("export", "fhir", "465a", "--db", other, "--out", str(again)).returncode == 0
    back = [e["resource"] for e in json.loads(again.read_text())["entry"]]
    assert [r for r in back if r["resourceType"] == "ClaimResponse"] == responses
