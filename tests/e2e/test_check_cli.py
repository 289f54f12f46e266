"""`careledger check` as a biller runs it, and the units and findings of `audit --as-of`
(docs/rules.md#plan-of-care, docs/rules.md#documentation).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.demo import demo_clinic, demo_episode_ids
from domain.episode import commands as c
from tests.e2e.conftest import careledger

IDS = {name: str(episode_id) for name, episode_id in demo_episode_ids().items()}


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"CARELEDGER_USER": "biller"})


def as_json(*args: str, code: int = 0) -> Any:
    done = run(*args, "--json")
    assert done.exit_code == code, done.output
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("check") / "demo.db")
    assert run("demo", "--db", db, "--quiet").exit_code == 0
    return db


def test_the_knee_passes_and_exits_0(demo: str) -> None:
    """docs/rules.md#documentation (issue 5): the well-documented knee: no finding, exit 0, billing may go
    ahead.
    """
    done = run("check", IDS["knee"][:8], "--db", demo)
    assert done.exit_code == 0, done.output
    assert "24 visits checked · 0 errors · 0 warnings · 0 info: nothing a reviewer would deny" in done.stdout


def test_the_low_back_lists_its_findings_by_visit_with_fixes_and_exits_1(demo: str) -> None:
    """docs/rules.md#documentation (issue 5): by visit, most severe first, each with its fix, rule source and
    evidence.
    """
    done = run("check", IDS["back"], "--db", demo)
    assert done.exit_code == 1, done.output
    out = done.stdout
    assert out.index("\nEpisode\n") < out.index("\nVisit 2026-03-03\n") < out.index("\nVisit 2026-03-05\n")
    visit = out[out.index("\nVisit 2026-03-05\n") : out.index("\nVisit 2026-03-10\n")]
    severities = [line.split()[0] for line in visit.splitlines() if line.startswith("  ") and line[2] != " "]
    order = {"ERROR": 0, "WARNING": 1, "INFO": 2}
    assert severities == sorted(severities, key=order.__getitem__) and severities[0] == "ERROR"
    assert "note.cloned · necessity, narrative" in visit and "fix: Write what happened at this visit" in visit
    assert "docs/rules.md#cloned-notes; CMS PIM ch.3 §3.3.2.1.1 · evidence: v" in visit
    assert "By rule" in out and "time.units_exceed_minutes" in out


def test_the_json_has_the_documented_shape(demo: str) -> None:
    """docs/checks.md: the JSON of `check EPISODE --json`."""
    answer = as_json("check", IDS["back"], "--db", demo, code=1)
    assert list(answer) == [
        "episode_id",
        "patient_ref",
        "discipline",
        "payer",
        "status",
        "version",
        "since",
        "lexicon",
        "visits",
        "counts",
        "findings",
    ]
    assert answer["counts"]["error"] == sum(f["severity"] == "error" for f in answer["findings"])
    rules = {f["rule_id"] for f in answer["findings"]}
    assert {"note.cloned", "progression.plateau", "response.missing"} <= rules


def test_the_clinic_view_ranks_the_episodes_at_risk(demo: str) -> None:
    """The clinic-wide view: per rule, episodes and visits; the episodes most at risk."""
    done = run("check", "--all", "--db", demo)
    assert done.exit_code == 1, done.output
    assert "Documentation checks of 4 episodes, 56 visits" in done.stdout
    assert "Episodes most at risk" in done.stdout and IDS["back"][:8] in done.stdout
    answer = as_json("check", "--all", "--db", demo, "--top", "2", code=1)
    assert [e["episode_id"] for e in answer["at_risk"]][:1] == [IDS["back"]] and len(answer["at_risk"]) == 2
    assert {r["rule_id"] for r in answer["rules"]} >= {"note.cloned", "clock.certification_late"}


def test_since_leaves_out_earlier_findings(demo: str) -> None:
    """--since DATE: findings dated on or after it."""
    answer = as_json("check", IDS["back"], "--db", demo, "--since", "2026-04-14", code=1)
    assert answer["since"] == "2026-04-14" and answer["visits"] == 2
    assert {f["date"] for f in answer["findings"]} <= {"2026-04-14", "2026-04-16"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "00000000-0000-0000-0000-000000000000"), "error: episode_id: no episode"),
        (("check", "zz"), "error: episode: 'zz' is not an episode id"),
        (("check", "--all", "--since", "yesterday"), "error: --since: 'yesterday' is not a date"),
    ],
)
def test_a_check_that_cannot_run_exits_2_with_one_line(
    demo: str, args: tuple[str, ...], message: str
) -> None:
    """Exit 2 (not 1): a script tells 'that was not an episode' from 'errors found'."""
    done = run(*args, "--db", demo)
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1


def test_an_episode_and_all_together_are_a_usage_error(demo: str) -> None:
    """Usage: EPISODE or --all."""
    assert run("check", IDS["back"], "--all", "--db", demo).exit_code == 2
    assert run("check", "--db", demo).exit_code == 2


def test_the_real_command_gates_billing_by_its_exit_code(demo: str) -> None:
    """The exit codes a billing script sees: 0 for the knee, 1 for the low back, 2 for a typo."""
    assert careledger("check", IDS["knee"], "--db", demo).returncode == 0
    assert careledger("check", IDS["back"], "--db", demo).returncode == 1
    typo = careledger("check", "4391zz", "--db", demo)
    assert typo.returncode == 2 and typo.stdout == b"" and typo.stderr.startswith(b"error: ")


# --- audit --as-of: units and findings as they stood (issue 6) ---------------------------------------


def as_of(db: str, name: str, moment: str) -> Any:
    done = run("audit", IDS[name], "--as-of", moment, "--db", db, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_audit_as_of_shows_the_units_as_billed_before_and_after_a_correction(demo: str) -> None:
    """docs/rules.md#amendments, docs/rules.md#eight-minute-rule: the knee's visit 12 before and after its
    97110 minutes were corrected.
    """
    (correction,) = [r for r in demo_clinic() if isinstance(r.command, c.CorrectVisit)]
    fix: Any = correction.command
    day = str(fix.date_of_service)
    before = as_of(demo, "knee", (correction.at - timedelta(seconds=1)).isoformat())["checks"]
    after = as_of(demo, "knee", correction.at.isoformat())["checks"]

    def visit(checks: dict[str, Any]) -> dict[str, Any]:
        return next(v for v in checks["units"] if v["date_of_service"] == day)

    minutes = fix.changes["service_lines"][0]["minutes"]
    assert visit(before)["timed_minutes"] - visit(after)["timed_minutes"] == 5
    lines = {line["code"]: line for line in visit(after)["lines"]}
    assert lines["97110"]["minutes"] == minutes and "GP" in lines["97110"]["modifiers"]
    assert after["findings"] == [] and "other episodes" in after["scope"]


def test_audit_as_of_shows_the_findings_as_they_stood(demo: str) -> None:
    """docs/rules.md#certification: before the low back's certification was recorded it was missing,
    not late."""
    (certified,) = [
        r
        for r in demo_clinic()
        if isinstance(r.command, c.CertifyPlan) and str(r.command.episode_id) == IDS["back"]
    ]
    before = {
        f["rule_id"]
        for f in as_of(demo, "back", (certified.at - timedelta(seconds=1)).isoformat())["checks"]["findings"]
    }
    after = {f["rule_id"] for f in as_of(demo, "back", certified.at.isoformat())["checks"]["findings"]}
    assert "clock.certification_late" not in before and "clock.visit_outside_certification" in before
    assert "clock.certification_late" in after
    text = run("audit", IDS["back"], "--as-of", "2026-03-20", "--db", demo).stdout
    assert "Units and modifiers as they stood" in text and "Findings as they stood:" in text
    assert "note.cloned" in text and "2026-03-24" not in text.split("Units and modifiers as they stood")[1]
