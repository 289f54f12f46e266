"""`careledger units` and `careledger bill` as a biller types them (typer's runner, real SQLite files)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.demo import demo_episode_ids
from projections.store.root import Store, parse_location
from tests import builders as b
from tests.e2e.conftest import ROOT


def run(*args: str, env: dict[str, str | None] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env={"CARELEDGER_PAYERS_DIR": None, **(env or {})})


# --- the calculator ---------------------------------------------------------------------------------


def test_units_gives_the_cpm5_example_and_says_why() -> None:
    # docs/rules.md#eight-minute-rule worked example.
    done = run("units", "97110=33", "97140=7")
    assert done.exit_code == 0, done.output
    assert "CMS 8-minute rule: 40 timed minutes, 3 units" in done.stdout
    assert "97140 gets a leftover unit: its 7 remaining minutes rank 1st (ahead of 97110 3)." in done.stdout


def test_units_says_one_unit_in_the_singular() -> None:
    done = run("units", "97110=10")
    assert done.exit_code == 0, done.output
    assert "CMS 8-minute rule: 10 timed minutes, 1 unit (" in done.stdout


def test_units_json_has_the_documented_shape() -> None:
    done = run("units", "--json", "97110=33", "97140=7")
    result = json.loads(done.stdout)
    assert {k: result[k] for k in ("rule", "total_timed_minutes", "total_units")} == {
        "rule": "cms",
        "total_timed_minutes": 40,
        "total_units": 3,
    }
    assert [(line["code"], line["minutes"], line["timed"], line["units"]) for line in result["lines"]] == [
        ("97110", 33, True, 2),
        ("97140", 7, True, 1),
    ]
    assert isinstance(result["explanation"], list) and result["explanation"]


@pytest.mark.parametrize(("rule", "units"), [("cms", 3), ("ama", 4)])
def test_units_follows_the_chosen_rule(rule: str, units: int) -> None:
    # docs/rules.md#ama-midpoint-rule: 24 + 23 minutes are 3 units under CMS, 4 under AMA.
    done = run("units", "--rule", rule, "--json", "97110=24", "97112=23")
    assert json.loads(done.stdout)["total_units"] == units


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("97110=abc", "error: 97110=abc: minutes 'abc' are not a whole number"),
        ("9711=5", "error: 9711=5: '9711' is not a CPT/HCPCS code"),
        ("97999=5", "error: 97999=5: '97999' is not in the code catalogue"),
        ("97110", "error: 97110: give CODE=MINUTES"),
        ("97110=2000", "error: 97110=2000: 2000 minutes is more than a day"),
    ],
)
def test_units_refuses_bad_arguments_in_one_line(argument: str, message: str) -> None:
    done = run("units", argument)
    assert done.exit_code == 1
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1


def test_units_refuses_an_unknown_rule_as_a_usage_error() -> None:
    assert run("units", "--rule", "medicaid", "97110=30").exit_code == 2


def test_units_never_touches_the_store_or_its_libraries(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cli.main import app\n"
        "done = CliRunner().invoke(app, ['units', '97110=33', '97140=7'])\n"
        "assert done.exit_code == 0, done.output\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'eventsourcing', 'psycopg', 'projections', 'sqlite3'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert not list(tmp_path.iterdir())


# --- claim lines of the demo episodes (acceptance 3) -----------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(module_db_url: str) -> str:
    db = module_db_url
    done = run("demo", "--db", db, "--quiet")
    assert done.exit_code == 0, done.output
    return db


def bill(db: str, name: str, *extra: str) -> dict[str, Any]:
    done = run("bill", str(demo_episode_ids()[name]), "--db", db, "--json", *extra)
    assert done.exit_code == 0, done.output
    return dict(json.loads(done.stdout))


def test_the_knee_bills_gp_cq_on_pta_visits_and_kx_once_over_the_threshold(demo_db: str) -> None:
    # docs/rules.md#modifiers: GP on every line, CQ when a PTA furnished the service, KX above the threshold.
    knee = bill(demo_db, "knee")
    visits = knee["visits"]
    assert len(visits) == 24
    billed = [line for v in visits for line in v["lines"] if line["units"]]
    assert all("GP" in line["modifiers"] for line in billed)
    for visit in visits:
        cq = [("CQ" in line["modifiers"]) for line in visit["lines"] if line["units"]]
        assert all(cq) if visit["credential"] == "PTA" else not any(cq)
    assert sum(v["credential"] == "PTA" for v in visits) == 5
    kx = [v["kx"] for v in visits]
    first = kx.index(True)
    assert first > 0 and all(kx[first:]) and not any(kx[:first])
    assert all("KX" in line["modifiers"] for v in visits[first:] for line in v["lines"] if line["units"])
    (status,) = knee["thresholds"]
    assert status["year"] == 2026 and status["group"] == "PT+SLP" and status["threshold"] == "2480.00"
    assert status["kx_from"] == visits[first]["date_of_service"]
    assert float(visits[first - 1]["year_to_date_after"]) <= 2480 < float(visits[first]["year_to_date_after"])
    assert all(line["explanation"] for v in visits for line in v["lines"])


def test_the_shoulder_bills_go_and_co_on_the_ota_visits(demo_db: str) -> None:
    shoulder = bill(demo_db, "shoulder")
    for visit in shoulder["visits"]:
        for line in visit["lines"]:
            if line["units"]:
                assert "GO" in line["modifiers"]
                if visit["credential"] == "OTA":
                    assert "CO" in line["modifiers"]
                elif not line["split"]:
                    assert "CO" not in line["modifiers"]
    assert any(v["credential"] == "OTA" for v in shoulder["visits"])
    # the OT visit where the OTA furnished 12 of 97530's 24 minutes: one unit with CO, one without
    # (docs/rules.md#cq-co, CMS's PT 12 / PTA 12 example)
    [shared] = [v for v in shoulder["visits"] if any(x["split"] for x in v["lines"])]
    split = [(x["units"], x["modifiers"]) for x in shared["lines"] if x["code"] == "97530"]
    assert split == [(1, ["GO"]), (1, ["GO", "CO"])]


def test_the_ankle_bills_by_the_ama_rule(demo_db: str) -> None:
    # docs/rules.md#ama-midpoint-rule: 24 + 23 minutes are 2 + 2 units on the commercial payer.
    ankle = bill(demo_db, "ankle")
    assert ankle["unit_rule"] == "ama" and ankle["thresholds"] == []
    last = ankle["visits"][-1]
    assert {line["code"]: line["units"] for line in last["lines"]} == {"97110": 2, "97112": 2}


def test_the_back_shows_the_units_its_notes_overbill(demo_db: str) -> None:
    back = bill(demo_db, "back")
    notes = [n for v in back["visits"] for n in v["notes"] if n["rule_id"] == "units.recorded_differs"]
    assert notes and all(n["source"].endswith("docs/rules.md#eight-minute-rule") for n in notes)


def test_bill_shows_one_visit_as_text_with_its_reasons(demo_db: str) -> None:
    knee = demo_episode_ids()["knee"]
    done = run("bill", str(knee)[:8], "--db", demo_db, "--visit", "2026-04-24")
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert "2026-04-24" in out and "GP KX" in out
    assert "KX: the 2026 PT+SLP allowed amount is" in out
    assert "Therapy threshold 2026 PT+SLP:" in out and "KX from 2026-04-" in out


@pytest.mark.parametrize(
    ("visit", "message"),
    [
        ("2026-13-01", "error: --visit: '2026-13-01' is not a date"),
        ("2026-03-03", "error: --visit: no visit on 2026-03-03"),
    ],
)
def test_bill_refuses_a_visit_it_does_not_have(demo_db: str, visit: str, message: str) -> None:
    done = run("bill", str(demo_episode_ids()["knee"]), "--db", demo_db, "--visit", visit)
    assert done.exit_code == 2  # a usage error, as in every command (docs/user-guide.md, exit codes)
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1


def test_a_clinic_payer_file_with_a_bad_field_is_one_line_naming_file_and_field(
    demo_db: str, tmp_path: Path
) -> None:
    (tmp_path / "medicare.toml").write_text(
        'payer_id = "medicare"\nname = "M"\nversion = "1"\neffective = "2026-01-01"\nunit_rule = "cms"\n'
        'kx_threshold = "sometimes"\n'
    )
    done = run(
        "bill", str(demo_episode_ids()["knee"]), "--db", demo_db, env={"CARELEDGER_PAYERS_DIR": str(tmp_path)}
    )
    assert done.exit_code == 1
    assert done.stderr.startswith(f"error: {tmp_path / 'medicare.toml'}: kx_threshold: ")
    assert done.stderr.count("\n") == 1


def test_bill_counts_the_beneficiarys_other_episodes_toward_kx(db_url: str) -> None:
    # docs/rules.md#modifiers: the threshold is per beneficiary and year, PT and SLP together, OT apart.
    db = db_url
    with Store(parse_location(db), clock=lambda: datetime(2026, 11, 20, tzinfo=UTC)) as store:
        ids = {}
        for key, discipline, code in (
            ("knee", "PT", "M17.11"),
            ("hip", "PT", "M16.11"),
            ("hand", "OT", "M79.641"),
        ):
            opened = b.open_episode(patient_ref="MRN-2", discipline=discipline, diagnoses=[{"code": code}])
            ids[key] = store.app.handle(opened).episode_id
        day = date(2026, 9, 1)
        for n in range(10):
            lines = [{"code": "97110", "minutes": 120}]
            store.app.handle(
                b.visit(
                    ids["knee"],
                    date_of_service=str(day + timedelta(days=n)),
                    service_lines=lines,
                    total_treatment_minutes=120,
                )
            )
        for key, code in (("hip", "97110"), ("hand", "97530")):
            for n in (20, 22):
                lines = [{"code": code, "minutes": 30}]
                store.app.handle(
                    b.visit(
                        ids[key],
                        date_of_service=str(day + timedelta(days=n)),
                        service_lines=lines,
                        credential="OT" if key == "hand" else "PT",
                    )
                )
    knee, hip, hand = (
        json.loads(run("bill", str(ids[k]), "--db", db, "--json").stdout) for k in ("knee", "hip", "hand")
    )
    knee_total = sum(float(v["allowed_amount"]) for v in knee["visits"])
    assert knee_total > 2480
    assert float(hip["thresholds"][0]["other_episodes"]) == pytest.approx(knee_total)
    assert float(hip["thresholds"][0]["this_episode"]) < 2480
    assert all(v["kx"] for v in hip["visits"])
    assert hip["thresholds"][0]["kx_from"] == "2026-09-21"
    assert hand["thresholds"][0]["other_episodes"] == "0.00" and not any(v["kx"] for v in hand["visits"])
