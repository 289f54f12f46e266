"""The read-model commands a person types: timeline, progression, outcomes, continuity, projections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.demo import demo_clinic, demo_episode_ids
from domain.demo.identity import demo_identity
from tests.e2e.conftest import ROOT

IDS = {name: str(episode_id) for name, episode_id in demo_episode_ids().items()}

# the demo stores one event per command, and the clinic's identity facts after its Started event
# (decision 0010), which the projector reads past
DEMO_EVENTS = len(demo_clinic()) + 1 + len(demo_identity())


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"CARELEDGER_USER": "j.rivera"})


def as_json(*args: str) -> Any:
    done = run(*args, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo(module_db_url: str) -> str:
    db = module_db_url
    assert run("demo", "--db", db, "--quiet").exit_code == 0
    return db


def test_the_timeline_lists_every_fact_with_its_recorded_time(demo: str) -> None:
    answer = as_json("timeline", IDS["back"][:8], "--db", demo)
    assert answer["episode_id"] == IDS["back"] and answer["patient_ref"] == "PT-1002"
    kinds = [e["kind"] for e in answer["entries"]]
    assert kinds.count("visit") == 14 and kinds[0] == "opened" and "certification" in kinds
    cert = next(e for e in answer["entries"] if e["kind"] == "certification")
    assert cert["clinical_date"] == "2026-04-08" and cert["recorded_at"].startswith("2026-04-08T17:30")
    text = run("timeline", IDS["back"], "--db", demo).stdout
    assert "progress report by pt-brooks" in text and "recorded (UTC)" in text


def test_progression_shows_the_back_plateau_and_one_exercise_in_detail(demo: str) -> None:
    back = as_json("progression", IDS["back"], "--db", demo)
    assert back["plateau_visits"] == 6
    assert {ex["exercise_id"]: ex["plateau"] for ex in back["exercises"]} == {
        "lb-strength": True,
        "core": True,
        "bridge": True,
    }
    knee = as_json("progression", IDS["knee"], "--db", demo, "--exercise", "slr")
    [slr] = knee["exercises"]
    assert [p["dosage_text"] for p in slr["points"]][::8] == ["3x10 @ 1 lb", "3x10 @ 3 lb", "3x10 @ 5 lb"]
    text = run("progression", IDS["knee"], "--db", demo, "--exercise", "slr").stdout
    assert "dosage at each visit" in text and "▁" in text
    assert (
        "0 progressions or regressions; 3 plateaus flagged"
        in run("progression", IDS["back"], "--db", demo).stdout
    )


def test_outcomes_show_the_knee_past_its_mcid_with_a_sparkline(demo: str) -> None:
    answer = as_json("outcomes", IDS["knee"], "--db", demo)
    [lefs] = answer["instruments"]
    assert lefs["instrument"] == "LEFS" and lefs["reaches_mcid"] is True and lefs["mcid"] == "9"
    text = run("outcomes", IDS["knee"], "--db", demo).stdout
    assert "24 → 55: change +31, 31 better (129.2% of baseline)" in text
    assert "✓ reaches the MCID" in text and "█" in text


def test_continuity_lists_the_back_gaps_with_their_rules(demo: str) -> None:
    answer = as_json("continuity", IDS["back"], "--db", demo, "--today", "2026-05-01")
    assert answer["medicare_rules"] is True and answer["errors"] == 3
    assert answer["clocks"]["as_of"]["today"] == "2026-05-01"
    assert all("docs/rules.md#" in g["rule"] for g in answer["gaps"])
    text = run("continuity", IDS["back"], "--db", demo).stdout
    assert (
        "certification_late" in text and "progress_report_late" in text and "no valid certification" in text
    )
    shoulder = as_json("continuity", IDS["shoulder"], "--db", demo, "--today", "2026-05-20")
    assert shoulder["clocks"]["as_of"]["certification_expires_in_days"] == 11
    assert shoulder["clocks"]["report_due_in"] == 8


def test_episode_list_keeps_its_keys_and_adds_the_open_gaps(demo: str) -> None:
    rows = as_json("episode", "list", "--db", demo)
    assert set(rows[0]) >= {
        "episode_id",
        "patient_ref",
        "discipline",
        "payer",
        "status",
        "start_date",
        "visits",
        "last_visit",
        "version",
        "open_gaps",
    }
    assert [(r["patient_ref"], r["open_gaps"]) for r in rows] == [
        ("PT-1001", 0),
        ("PT-1002", 3),
        ("OT-2001", 2),
        ("PT-1003", 0),
    ]
    assert "gaps" in run("episode", "list", "--db", demo).stdout


def test_a_write_brings_the_read_models_up_to_date(tmp_path: Path) -> None:
    # SQLite only: there a CLI write catches the read models up; on PostgreSQL `projections run` does.
    db = str(tmp_path / "w.db")
    assert run("demo", "--db", db, "--quiet").exit_code == 0
    status = as_json("projections", "status", "--db", db)
    assert {s["lag"] for s in status} == {
        DEMO_EVENTS
    }  # the demo writes through the library: nothing caught up yet
    done = run("outcome", "record", IDS["back"], "ODI", "38", "--on", "2026-04-16", "--db", db)
    assert done.exit_code == 0, done.output
    assert {(s["position"], s["lag"]) for s in as_json("projections", "status", "--db", db)} == {
        (DEMO_EVENTS + 1, 0)
    }


def test_rebuild_reports_its_rate_and_refuses_an_unknown_projection(demo: str) -> None:
    result = as_json("projections", "rebuild", "continuity", "--db", demo)
    assert (
        result["rebuilt"] == ["continuity"]
        and result["events"] == DEMO_EVENTS
        and result["events_per_second"] > 0
    )
    assert "rebuilt timeline, progression" in run("projections", "rebuild", "--db", demo).stdout
    done = run("projections", "rebuild", "billing", "--db", demo)
    assert done.exit_code == 1 and "projection: 'billing' is unknown" in done.stderr


@pytest.mark.slow
def test_a_rebuild_in_worker_processes_gives_the_answers_of_one_in_this_process(demo: str) -> None:
    """A real `careledger` process that starts two workers; then what `check --all` reads is the same."""

    def careledger(*args: str, workers: str = "") -> Any:
        env = {**os.environ, "CARELEDGER_USER": "j.rivera", "CARELEDGER_REBUILD_WORKERS": workers}
        return subprocess.run(
            [sys.executable, "-m", "cli", *args, "--db", demo],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )

    answers = []
    for workers in ("2", "1"):
        done = careledger("projections", "rebuild", "--json", workers=workers)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["events"] == DEMO_EVENTS
        checked = run("check", "--all", "--db", demo, "--json")  # exit 1: the demo has errors
        answers.append((checked.exit_code, json.loads(checked.stdout)))
    assert answers[0] == answers[1] and answers[0][1]["episodes"] == 4
    done = careledger("projections", "rebuild", "--workers", "2", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["events"] == DEMO_EVENTS
    done = careledger("projections", "rebuild", workers="many")
    assert done.returncode == 1
    assert (
        done.stderr.strip() == "error: CARELEDGER_REBUILD_WORKERS: 'many' is not a whole number of processes"
    )


def test_run_once_catches_up_and_exits(db_url: str) -> None:
    db = db_url
    assert run("demo", "--db", db, "--quiet").exit_code == 0
    done = run("projections", "run", "--once", "--db", db)
    assert done.exit_code == 0 and f"caught up: {DEMO_EVENTS} events applied" in done.stderr


def test_bad_options_are_refused_in_one_line(demo: str) -> None:
    assert run("progression", IDS["knee"], "--db", demo, "--plateau-visits", "1").exit_code == 2
    done = run("continuity", IDS["knee"], "--db", demo, "--today", "tomorrow")
    assert (
        done.exit_code == 2 and done.stderr.strip() == "error: --today: 'tomorrow' is not a date (YYYY-MM-DD)"
    )
    done = run("progression", IDS["knee"], "--db", demo, "--exercise", "nope")
    assert done.exit_code == 1 and "exercise: 'nope' is not an exercise" in done.stderr
    assert "no episode" in run("timeline", "ffffffff", "--db", demo).stderr


def test_help_does_not_load_sqlalchemy() -> None:
    probe = (
        "import sys\nfrom cli.main import run\nsys.argv = ['careledger', '--help']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('LOADED' if 'sqlalchemy' in sys.modules else 'CLEAN', file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.stderr.strip().endswith("CLEAN"), done.stderr
    assert "continuity" in done.stdout and "projections" in done.stdout
