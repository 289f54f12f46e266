"""Tampering through the command line, as someone with write access to the database would try it.

Each test edits the stored rows directly (tests/tamper.py) and checks that
`verify` reports it and that no query answers from the tampered record. The
threat model in docs/audit.md names these tests line by line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.demo import demo_episode_ids
from tests.tamper import RawStore

IDS = demo_episode_ids()
KNEE = IDS["knee"]
TAMPERED = 3


def run(*args: str, env: dict[str, str | None] | None = None) -> Any:
    settings: dict[str, str | None] = {
        "CARELEDGER_USER": "auditor",
        "CARELEDGER_ACCESS_LOG": None,
        "CARELEDGER_ANCHOR_DIR": None,
    }
    settings.update(env or {})
    return CliRunner().invoke(app, list(args), env=settings)


def demo(db: str, env: dict[str, str | None] | None = None) -> RawStore:
    done = run("demo", "--db", db, "--quiet", env=env)
    assert done.exit_code == 0, done.output
    return RawStore(db)


def edit_event(raw: RawStore, version: int) -> None:
    topic, state = raw.event(KNEE, version)
    raw.set_event(KNEE, version, topic, state.replace(b"pt-rivera", b"pt-forged", 1))


def test_an_edit_hidden_by_dropping_the_chain_table_is_reported_and_refused(db_url: str) -> None:
    raw = demo(db_url)
    edit_event(raw, 8)
    raw.run(f"DROP TABLE {raw.chain}")
    verify = run("verify", "--db", db_url)
    assert verify.exit_code == 1, verify.output
    assert "no hash-chain table" in verify.stdout and f"episode {KNEE} version 1: unchained" in verify.stdout
    again = run("verify", "--db", db_url)  # opening it again did not rebuild the chain
    assert again.exit_code == 1
    for query in (["episode", "show"], ["check"], ["bill"], ["export", "fhir"]):
        refused = run(*query, str(KNEE), "--db", db_url)
        assert refused.exit_code == TAMPERED, (query, refused.output)
        assert f"episode {KNEE} version 1: unchained" in refused.stderr
    for gate in (["check", "--all"], ["export", "claims"]):  # every episode: every chain
        assert run(*gate, "--db", db_url).exit_code == TAMPERED, gate


def test_adopt_is_refused_when_the_store_has_a_chain_table(db_url: str) -> None:
    demo(db_url)
    refused = run("verify", "--adopt", "--db", db_url)
    assert refused.exit_code == 1 and "already has a hash-chain table" in refused.stderr


def test_the_anchor_log_catches_the_newest_event_deleted_with_its_link(db_url: str, tmp_path: Path) -> None:
    env: dict[str, str | None] = {"CARELEDGER_ANCHOR_DIR": str(tmp_path / "anchors")}
    raw = demo(db_url, env)
    (log,) = (tmp_path / "anchors").iterdir()
    ((last,),) = raw.run(
        f"SELECT MAX(originator_version) FROM {raw.events} WHERE originator_id=?", raw.key(KNEE)
    )
    raw.delete(raw.events, KNEE, last)
    raw.delete(raw.chain, KNEE, last)
    assert run("verify", "--db", db_url).exit_code == 0  # the chain alone is consistent
    verify = run("verify", "--db", db_url, env=env)  # the log is read by default
    assert verify.exit_code == 1 and f"episode {KNEE} version {last}: truncated" in verify.stdout
    explicit = run("verify", "--anchor", str(log), "--db", db_url)
    assert explicit.exit_code == 1 and "truncated" in explicit.stdout
    refused = run("check", str(KNEE), "--db", db_url, env=env)
    assert refused.exit_code == TAMPERED and "truncated" in refused.stderr


def test_verify_head_output_is_accepted_as_an_anchor(db_url: str, tmp_path: Path) -> None:
    demo(db_url)
    heads = run("verify", "--head", "--db", db_url)
    assert heads.exit_code == 0
    anchor = tmp_path / "heads.json"
    anchor.write_text(heads.stdout)
    assert json.loads(heads.stdout)["format"] == "careledger-heads/1"
    assert run("verify", "--anchor", str(anchor), "--db", db_url).exit_code == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_tampered_episode_is_refused_but_others_are_served(db_url: str) -> None:
    raw = demo(db_url)
    edit_event(raw, 8)
    assert run("episode", "show", str(KNEE), "--db", db_url).exit_code == TAMPERED
    others = [i for name, i in IDS.items() if name != "knee"]
    assert run("episode", "show", str(others[0]), "--db", db_url).exit_code == 0


BACK = IDS["back"]


def test_deleted_findings_rows_do_not_pass_the_billing_gate(db_url: str) -> None:
    raw = demo(db_url)
    before = run("check", str(BACK), "--db", db_url)
    assert before.exit_code == 1, before.output  # the back episode has errors
    raw.run("DELETE FROM pv_findings WHERE episode_id=?", str(BACK))
    gate = run("check", str(BACK), "--db", db_url)
    assert gate.exit_code == TAMPERED, gate.output
    assert f"episode {BACK} version" in gate.stderr and "pv_findings" in gate.stderr
    assert run("check", "--all", "--db", db_url).exit_code == TAMPERED
    verify = run("verify", "--db", db_url)
    assert verify.exit_code == 1 and "pv_findings" in verify.stdout


def test_resealed_findings_rows_are_caught_by_recomputing_from_events(db_url: str) -> None:
    from projections.views.schema import build_tables
    from projections.views.seal import rows_digest

    raw = demo(db_url)
    assert run("check", str(BACK), "--db", db_url).exit_code == 1  # builds the read models
    raw.run("DELETE FROM pv_findings WHERE episode_id=?", str(BACK))
    empty = rows_digest(build_tables(None).named("pv_findings"), [])
    raw.run("UPDATE pv_seal SET digest=? WHERE episode_id=? AND table_name='pv_findings'", empty, str(BACK))
    gate = run("check", str(BACK), "--db", db_url)
    assert gate.exit_code == TAMPERED, gate.output
    assert "recomputed from the episode's events" in gate.stderr


def test_an_edited_view_row_is_refused(db_url: str) -> None:
    raw = demo(db_url)
    assert run("outcomes", str(KNEE), "--db", db_url).exit_code == 0  # builds the read models
    raw.run("UPDATE pv_outcomes SET verdict='improved' WHERE episode_id=?", str(KNEE))
    shown = run("outcomes", str(KNEE), "--db", db_url)
    assert shown.exit_code == TAMPERED and "pv_outcomes" in shown.stderr
