"""Audit reconstruction from the command line: amend, look back in time, verify, log access.

The acceptance items of the audit work run on the demo store: the knee episode's
visit 12 is corrected four days after it was recorded, and visit 9 is a late entry.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.clinic.aggregate import CLINIC_ID
from domain.demo import Recorded, demo_clinic, demo_episode_ids
from domain.episode import commands as c
from tests.e2e.conftest import careledger
from tests.tamper import RawStore

KNEE = str(demo_episode_ids()["knee"])


def run(*args: str, user: str | None = "auditor", env: dict[str, str | None] | None = None) -> Any:
    settings: dict[str, str | None] = {"CARELEDGER_USER": user}
    settings.update(env or {})
    return CliRunner().invoke(app, list(args), env=settings)


@pytest.fixture(scope="module")
def demo_db(module_db_url: str) -> str:
    db = module_db_url
    done = run("demo", "--db", db, "--quiet")
    assert done.exit_code == 0, done.output
    return db


def recorded(kind: type[c.Command], episode: str = KNEE) -> list[Recorded]:
    return [
        r
        for r in demo_clinic()
        if isinstance(r.command, kind) and str(getattr(r.command, "episode_id", "")) == episode
    ]


def as_of(db: str, moment: str) -> dict[str, Any]:
    done = run("audit", KNEE, "--as-of", moment, "--db", db, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_as_of_before_the_correction_shows_the_original_and_after_it_the_corrected_values(
    demo_db: str,
) -> None:
    # Acceptance 1: the demo's correction of visit 12 (docs/rules.md#amendments).
    (correction,) = recorded(c.CorrectVisit)
    fix: Any = correction.command
    day = str(fix.date_of_service)
    (original,) = [r.command for r in recorded(c.RecordVisit) if str(r.command.date_of_service) == day]  # type: ignore[attr-defined]
    just_before = (correction.at - timedelta(seconds=1)).isoformat()
    before = as_of(demo_db, just_before)["episode"]["visits"][day]
    assert before["total_treatment_minutes"] == original.total_treatment_minutes  # type: ignore[attr-defined]
    assert before["service_lines"][0]["minutes"] == original.service_lines[0].minutes  # type: ignore[attr-defined]
    assert before["amendments"] == []
    after = as_of(demo_db, correction.at.isoformat())["episode"]["visits"][day]
    assert after["total_treatment_minutes"] == fix.changes["total_treatment_minutes"]
    assert after["service_lines"][0]["minutes"] == fix.changes["service_lines"][0]["minutes"]
    assert after["amendments"][0]["kind"] == "correction"
    text_before = run("audit", KNEE, "--as-of", "2026-03-30", "--db", demo_db).stdout
    text_after = run("audit", KNEE, "--as-of", "2026-04-01", "--db", demo_db).stdout
    minutes = fix.changes["service_lines"][0]["minutes"]
    assert f"97110×{minutes + 5}" in text_before and f"97110×{minutes} " in text_after
    assert "corrected service_lines" in text_after and "corrected" not in text_before


def test_changes_show_the_correction_with_author_reason_and_before_after(demo_db: str) -> None:
    # Acceptance 1: --changes lists the correction with who and why.
    (correction,) = recorded(c.CorrectVisit)
    fix: Any = correction.command
    since = (correction.at - timedelta(days=1)).isoformat()
    done = run("audit", KNEE, "--changes", "--since", since, "--db", demo_db, "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    (entry,) = report["amendments"]
    assert (entry["kind"], entry["recorded_by"], entry["reason"]) == (
        "correction",
        "pt-rivera@demo-clinic",
        fix.reason,
    )
    changed = {ch["field"]: (ch["before"], ch["after"]) for ch in entry["changes"]}
    assert changed["total_treatment_minutes"] == (
        fix.changes["total_treatment_minutes"] + 5,
        fix.changes["total_treatment_minutes"],
    )
    assert [line["minutes"] for line in changed["service_lines"][1]] == [
        line["minutes"] for line in fix.changes["service_lines"]
    ]
    words = run("audit", KNEE, "--changes", "--since", "2026-03-29", "--db", demo_db).stdout.split()
    assert "correction" in words and "pt-rivera@demo-clinic" in words
    assert set(fix.reason.split()) <= set(words)  # the whole reason, wrapped in its column


def test_the_demo_late_entry_appears_only_once_it_was_written(demo_db: str) -> None:
    (late,) = recorded(c.RecordLateEntry)
    day = str(late.command.date_of_service)  # type: ignore[attr-defined]
    assert day not in as_of(demo_db, (late.at - timedelta(seconds=1)).isoformat())["episode"]["visits"]
    visit = as_of(demo_db, late.at.isoformat())["episode"]["visits"][day]
    assert visit["amendments"][0]["kind"] == "late_entry"
    history = run("visit", "history", KNEE, day, "--db", demo_db).stdout
    assert "late entry" in history and "3 days after" in history


def test_the_demo_report_shows_its_amendments(db_url: str) -> None:
    done = run("demo", "--db", db_url)
    assert done.exit_code == 0
    assert (
        "Amendments" in done.stdout
        and "late entry" in done.stdout
        and "corrected service_lines" in done.stdout
    )


def test_verify_passes_on_the_untouched_demo_and_names_the_event_after_a_direct_edit(db_url: str) -> None:
    # Acceptance 2, through the real command (exit codes included).
    assert run("demo", "--db", db_url, "--quiet").exit_code == 0
    clean = careledger("verify", "--db", db_url)
    assert clean.returncode == 0, clean.stderr
    assert b"hash chain intact: 4 episodes" in clean.stdout and b"events/s" in clean.stdout
    raw = RawStore(db_url)
    knee = raw.key(demo_episode_ids()["knee"])
    ((version,),) = raw.run(
        f"SELECT MIN(originator_version) FROM {raw.events} WHERE originator_id=? AND topic LIKE ?",
        knee,
        "%VisitRecorded",
    )
    # The edit docs/audit.md shows: SQL replace() on the state (on SQLite it also turns it into text).
    if raw.location.kind == "sqlite":
        edited_state = "replace(state, '\"minutes\":23', '\"minutes\":33')"
    else:
        edited_state = (
            "convert_to(replace(convert_from(state, 'UTF8'), '\"minutes\":23', '\"minutes\":33'), 'UTF8')"
        )
    raw.run(
        f"UPDATE {raw.events} SET state = {edited_state} WHERE originator_id=? AND originator_version=?",
        knee,
        version,
    )
    edited = careledger("verify", "--db", db_url)
    assert edited.returncode == 1
    assert f"episode {KNEE} version {version}: changed".encode() in edited.stdout
    assert b"BROKEN in 1 of 4 episodes" in edited.stdout
    one = careledger("verify", KNEE[:8], "--db", db_url, "--json")
    assert one.returncode == 1 and json.loads(one.stdout)["breaks"][0]["version"] == version


def test_verify_head_prints_heads_that_anchor_a_later_check(demo_db: str, tmp_path: Path) -> None:
    done = run("verify", "--head", "--db", demo_db)
    assert done.exit_code == 0, done.output
    heads = json.loads(done.stdout)
    # four episodes and the clinic's identity facts (decision 0010)
    assert heads["format"] == "careledger-heads/1" and len(heads["heads"]) == 5
    assert str(CLINIC_ID) in {h["episode_id"] for h in heads["heads"]}
    anchor = tmp_path / "heads.json"
    anchor.write_text(done.stdout)
    matched = run("verify", "--anchor", str(anchor), "--db", demo_db)
    assert matched.exit_code == 0 and "matching the anchored heads" in matched.stdout
    knee = next(h for h in heads["heads"] if h["episode_id"] == KNEE)
    knee["chain_hash"] = "00" * 32
    anchor.write_text(json.dumps(heads))
    rewritten = run("verify", "--anchor", str(anchor), "--db", demo_db)
    assert rewritten.exit_code == 1 and "rewritten" in rewritten.stdout
    anchor.write_text("{}")
    assert "not a heads file" in run("verify", "--anchor", str(anchor), "--db", demo_db).stderr


def test_a_person_corrects_adds_to_voids_and_records_a_late_visit(db_url: str, tmp_path: Path) -> None:
    db = db_url
    opened = run(
        *("episode", "open", "--patient", "MRN-9", "--discipline", "PT", "--payer", "medicare"),
        *("--diagnosis", "M17.11", "--start", "2026-09-01", "--db", db, "--json"),
    )
    episode = json.loads(opened.stdout)["episode_id"]
    note = {
        "date_of_service": "2026-09-02",
        "provider_id": "pt-1",
        "credential": "PT",
        "service_lines": [{"code": "97110", "minutes": 33}, {"code": "97140", "minutes": 7}],
        "total_treatment_minutes": 45,
    }
    (tmp_path / "visit.json").write_text(json.dumps(note))
    (tmp_path / "late.json").write_text(json.dumps({**note, "date_of_service": "2026-09-04"}))
    steps: list[tuple[str, ...]] = [
        ("visit", "record", episode, str(tmp_path / "visit.json")),
        ("visit", "correct", episode, "2026-09-02", "--set", "total_treatment_minutes=50", "--set",
         "patient_response=Tolerated well, pain 2/10", "--reason", "total mis-typed"),
        ("visit", "addendum", episode, "2026-09-02", "--text", "No soreness", "--reason", "phone call"),
        ("visit", "late-entry", episode, str(tmp_path / "late.json"), "--reason", "EMR was down"),
        ("visit", "void", episode, "2026-09-04", "--reason", "wrong patient"),
    ]  # fmt: skip
    for step in steps:
        done = run(*step, "--db", db)
        assert done.exit_code == 0, (step, done.output)
    refused = run("visit", "correct", episode, "2026-09-02", "--set", "total_treatment_minutes=20",
                  "--reason", "x", "--db", db)  # fmt: skip
    assert refused.exit_code == 1
    assert "changes.total_treatment_minutes: 20 is less than the 40 timed minutes" in refused.stderr
    no_reason = run("visit", "void", episode, "2026-09-02", "--db", db)
    assert no_reason.exit_code == 1 and "reason: missing" in no_reason.stderr
    shown = json.loads(run("episode", "show", episode, "--db", db, "--json").stdout)
    visit = shown["visits"]["2026-09-02"]
    assert visit["total_treatment_minutes"] == 50
    assert [a["kind"] for a in visit["amendments"]] == ["correction", "addendum"]
    assert visit["amendments"][0]["recorded_by"] == "auditor"
    assert (
        "2026-09-04" not in shown["visits"] and shown["voided_visits"][0]["date_of_service"] == "2026-09-04"
    )
    history = json.loads(run("visit", "history", episode, "2026-09-02", "--db", db, "--json").stdout)
    assert [h["kind"] for h in history] == ["recorded", "correction", "addendum"]
    assert history[1]["changes"][0] == {"field": "total_treatment_minutes", "before": 45, "after": 50}
    assert history[1]["visit"]["total_treatment_minutes"] == 50
    table = run("visit", "history", episode, "2026-09-04", "--db", db).stdout
    assert "late entry" in table and "void" in table and "wrong patient" in table


def test_audit_needs_one_mode_and_clear_times(demo_db: str) -> None:
    assert run("audit", KNEE, "--db", demo_db).exit_code == 2
    assert run("audit", KNEE, "--as-of", "2026-04-01", "--changes", "--db", demo_db).exit_code == 2
    assert run("audit", KNEE, "--changes", "--db", demo_db).exit_code == 2
    bad = run("audit", KNEE, "--as-of", "last tuesday", "--db", demo_db)
    assert bad.exit_code == 2 and "--as-of: 'last tuesday' is not a date" in bad.stderr
    early = run("audit", KNEE, "--as-of", "2026-01-01", "--db", demo_db)
    assert early.exit_code == 1 and "before episode" in early.stderr


def refuse_access_rows(db: str) -> None:
    """Make the database refuse every new access-log row (a trigger), as a failing disk would."""
    raw = RawStore(db)
    if raw.location.kind == "sqlite":
        raw.run(
            "CREATE TRIGGER refuse_reads BEFORE INSERT ON careledger_access_log "
            "BEGIN SELECT RAISE(ABORT, 'no space'); END"
        )
        return
    raw.run(
        "CREATE FUNCTION refuse_reads() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no space'; END $$ "
        "LANGUAGE plpgsql"
    )
    raw.run(
        "CREATE TRIGGER refuse_reads BEFORE INSERT ON careledger_access_log EXECUTE FUNCTION refuse_reads()"
    )


def allow_access_rows(db: str) -> None:
    raw = RawStore(db)
    raw.run(
        "DROP TRIGGER refuse_reads" + ("" if raw.location.kind == "sqlite" else " ON careledger_access_log")
    )
    if raw.location.kind != "sqlite":
        raw.run("DROP FUNCTION refuse_reads()")


def access(db: str, *args: str) -> list[dict[str, Any]]:
    done = run("audit", "access", *args, "--db", db, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_reads_of_an_episode_are_kept_in_the_store_s_access_log(demo_db: str) -> None:
    before = len(access(demo_db))
    assert run("episode", "show", KNEE[:8], "--db", demo_db, user="auditor-7").exit_code == 0
    assert run("audit", KNEE, "--as-of", "2026-04-01", "--db", demo_db, user="auditor-7").exit_code == 0
    assert run("verify", "--db", demo_db, user=None).exit_code == 0
    rows = access(demo_db)[before:]
    assert [(r["user"], r["action"], r["episode_id"]) for r in rows[:2]] == [
        ("auditor-7", "show", KNEE),
        ("auditor-7", "audit as-of", KNEE),
    ]
    assert rows[2]["action"] == "verify" and rows[2]["episode_id"] == "*" and rows[2]["user"]
    assert rows[0]["origin"] == "cli episode show" and rows[1]["origin"] == "cli audit"
    assert all(r["role"] == "local" and r["origin"].startswith("cli ") and r["at"] for r in rows)
    mine = access(demo_db, KNEE, "--user", "auditor-7")
    assert [r["action"] for r in mine][-2:] == ["show", "audit as-of"]
    assert all(r["user"] == "auditor-7" for r in mine)
    assert access(demo_db, "--since", "2999-01-01") == []


def test_a_write_leaves_no_access_row(demo_db: str) -> None:
    before = len(access(demo_db))
    shoulder = str(demo_episode_ids()["shoulder"])
    done = run("visit", "history", shoulder, "2026-05-14", "--db", demo_db, user="pt-9")
    assert done.exit_code == 0, done.output
    assert len(access(demo_db)) == before + 1  # the read left its row
    done = run(
        "episode",
        "hold",
        shoulder,
        "--from",
        "2026-05-20",
        "--reason",
        "travel",
        "--db",
        demo_db,
        user="pt-9",
    )
    assert done.exit_code == 0, done.output
    assert len(access(demo_db)) == before + 1


def test_a_read_is_refused_when_the_access_log_cannot_be_written(demo_db: str) -> None:
    assert run("episode", "show", KNEE, "--db", demo_db).exit_code == 0  # the table exists
    refuse_access_rows(demo_db)
    try:
        done = run("episode", "show", KNEE, "--db", demo_db)
        listed = run("episode", "list", "--db", demo_db, "--json")
    finally:
        allow_access_rows(demo_db)
    assert done.exit_code == 3 and "the access log could not be written; nothing was read" in done.stderr
    assert done.stdout == "" and listed.exit_code == 3 and listed.stdout == ""


def test_a_read_only_backup_is_read_and_says_its_reads_were_not_recorded(tmp_path: Path) -> None:
    import stat

    path = tmp_path / "backup.db"
    assert run("demo", "--db", str(path), "--quiet").exit_code == 0
    assert run("episode", "show", KNEE, "--db", str(path)).exit_code == 0  # the access table exists
    path.chmod(stat.S_IRUSR)
    try:
        shown = run("episode", "show", KNEE, "--db", str(path))
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert shown.exit_code == 0 and "PT-1001" in shown.stdout
    assert "is read-only: 1 read(s) of the record could not be recorded in its access log" in shown.stderr
