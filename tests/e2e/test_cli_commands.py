"""The commands a person types, through typer's runner (in-process, real SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.e2e.conftest import ROOT

EXAMPLES = ROOT / "docs" / "examples"


def run(*args: str, user: str | None = "j.rivera", input: str | None = None) -> Any:
    env = {"CARELEDGER_USER": user} if user else {"CARELEDGER_USER": None}
    result = CliRunner().invoke(app, list(args), env=env, input=input)
    return result


@pytest.fixture
def db(db_url: str) -> str:
    """A fresh store on each backend (SQLite file, PostgreSQL schema)."""
    return db_url


def open_episode(db: str) -> str:
    done = run(
        "episode",
        "open",
        "--patient",
        "MRN-9",
        "--discipline",
        "PT",
        "--payer",
        "medicare",
        "--diagnosis",
        "M17.11",
        "--start",
        "2026-09-01",
        "--db",
        db,
        "--json",
    )
    assert done.exit_code == 0, done.output
    return str(json.loads(done.stdout)["episode_id"])


def test_help_lists_the_command_groups() -> None:
    done = run("--help")
    assert done.exit_code == 0
    for group in ("import", "episode", "visit", "exercise", "outcome", "plan", "report", "demo"):
        assert group in done.stdout


def test_a_write_without_a_user_is_refused(db: str) -> None:
    done = run(
        "episode",
        "open",
        "--patient",
        "MRN-9",
        "--discipline",
        "PT",
        "--payer",
        "medicare",
        "--diagnosis",
        "M17.11",
        "--start",
        "2026-09-01",
        "--db",
        db,
        user=None,
    )
    assert done.exit_code == 1
    assert "recorded_by: missing; pass --user" in done.stderr


def test_a_person_records_an_episode_command_by_command(db: str, tmp_path: Path) -> None:
    episode = open_episode(db)
    short = episode[:8]
    plan = json.loads((EXAMPLES / "establish_plan.json").read_text())
    for key in ("command", "command_id", "recorded_by", "episode_id"):
        plan.pop(key)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    steps = [
        ("plan", "establish", short, str(plan_file)),
        (
            "plan",
            "certify",
            short,
            "--by",
            "dr-osei",
            "--credential",
            "MD",
            "--signed-on",
            "2026-09-04",
            "--from",
            "2026-09-01",
            "--to",
            "2026-10-26",
        ),
        (
            "exercise",
            "add",
            short,
            "--id",
            "slr",
            "--name",
            "Straight leg raise, right, supine",
            "--category",
            "strengthening",
            "--sets",
            "3",
            "--reps",
            "10",
            "--load",
            "2",
            "--load-unit",
            "lb",
            "--on",
            "2026-09-01",
        ),
        (
            "exercise",
            "progress",
            short,
            "slr",
            "--reason",
            "3x10 easy",
            "--on",
            "2026-09-08",
            "--sets",
            "3",
            "--reps",
            "12",
            "--load",
            "3",
            "--load-unit",
            "lb",
        ),
        ("outcome", "record", short, "LEFS", "31", "--on", "2026-09-01"),
        ("episode", "hold", short, "--from", "2026-09-10", "--reason", "surgery"),
        ("episode", "resume", short, "--on", "2026-09-20"),
        ("episode", "discharge", short, "--on", "2026-10-20", "--reason", "goals met"),
    ]
    for step in steps:
        done = run(*step, "--db", db)
        assert done.exit_code == 0, (step, done.output)
    shown = json.loads(run("episode", "show", short, "--db", db, "--json").stdout)
    assert shown["status"] == "discharged"
    assert shown["exercises"]["slr"]["dosage"]["reps"] == 12
    assert shown["certifications"][0]["kind"] == "initial"
    history = json.loads(run("episode", "history", episode, "--db", db, "--json").stdout)
    assert [h["type"] for h in history] == [
        "Opened",
        "PlanEstablished",
        "PlanCertified",
        "ExerciseAdded",
        "ExerciseProgressed",
        "OutcomeMeasured",
        "PutOnHold",
        "Resumed",
        "Discharged",
    ]
    assert history[4]["clinical_date"] == "2026-09-08" and history[4]["recorded_by"] == "j.rivera"
    assert history[4]["fields"]["reason"] == "3x10 easy"


def test_list_and_show_render_tables_and_json(db: str) -> None:
    episode = open_episode(db)
    listed = json.loads(run("episode", "list", "--db", db, "--json").stdout)
    assert [row["episode_id"] for row in listed] == [episode]
    table = run("episode", "list", "--db", db).stdout
    assert episode[:8] in table and "MRN-9" in table
    assert "patient MRN-9" in run("episode", "show", episode, "--db", db).stdout


def test_a_query_on_a_missing_store_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    done = run("episode", "list", "--db", str(missing))
    assert done.exit_code == 3 and "no careledger store" in done.stderr
    assert not missing.exists()


def test_an_ambiguous_or_unknown_episode_prefix_is_explained(db: str) -> None:
    open_episode(db)
    assert "no episode" in run("episode", "show", "ffffffff", "--db", db).stderr
    assert "not an episode id" in run("episode", "show", "zz", "--db", db).stderr


def test_schema_lists_commands_and_prints_one(db: str) -> None:
    assert "record_visit" in run("schema").stdout
    schema = json.loads(run("schema", "record_visit").stdout)
    assert "service_lines" in schema["properties"]
    assert run("schema", "nope").exit_code == 1


def test_the_demo_builds_four_episodes_and_reports_the_knee(db: str) -> None:
    done = run("demo", "--db", db)
    assert done.exit_code == 0, done.output
    assert "4 episodes" in done.stdout and "LEFS" in done.stdout
    # the demo shows a code split by CQ/CO per unit and a recertification signed late with no reason
    assert "97530 is two claim lines (1 × GO, 1 × GO CO)" in done.stdout
    assert "recertification of plan v1 was signed on 2026-05-09" in done.stdout
    again = run("demo", "--db", db)
    assert again.exit_code == 1 and ("already exists" in again.stderr or "is not empty" in again.stderr)
    listed = json.loads(run("episode", "list", "--db", db, "--json").stdout)
    assert sorted(row["patient_ref"] for row in listed) == ["OT-2001", "PT-1001", "PT-1002", "PT-1003"]


def test_single_action_commands_also_take_their_json_document(db: str, tmp_path: Path) -> None:
    episode = open_episode(db)
    outcome = {"instrument": "LEFS", "score": "31", "taken_on": "2026-09-01"}
    discharge = {"discharge_date": "2026-09-30", "reason": "goals met"}
    (tmp_path / "outcome.json").write_text(json.dumps(outcome))
    (tmp_path / "discharge.json").write_text(json.dumps(discharge))
    assert (
        run("outcome", "record", episode, "--file", str(tmp_path / "outcome.json"), "--db", db).exit_code == 0
    )
    assert (
        run("episode", "discharge", episode, "--file", str(tmp_path / "discharge.json"), "--db", db).exit_code
        == 0
    )
    shown = json.loads(run("episode", "show", episode, "--db", db, "--json").stdout)
    assert shown["outcomes"][0]["score"] == "31"
    assert shown["discharge"]["discharge_date"] == "2026-09-30"


def test_a_negative_score_is_a_score_not_an_option(db: str) -> None:
    episode = open_episode(db)
    done = run("outcome", "record", episode, "NPRS", "-5", "--on", "2026-09-02", "--db", db)
    assert done.exit_code == 1, done.output
    assert done.stderr.startswith("error: score:")
