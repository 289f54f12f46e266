"""User text is text on the terminal: no escape sequence reaches it, and brackets are not rich markup.

The door refuses control characters now, but stores hold text accepted before
(and other systems write events): so the episode here is written through the
application directly, with escape sequences (clear screen, OSC 52 clipboard,
OSC 8 link) and markup-like brackets in every kind of record text, and every
command that prints it is run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from projections.store.root import Store, parse_location
from tests import builders as b
from tests.conftest import FixedClock

ESCAPES = "\x1b[2J\x1b]52;c;aGk=\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"
BRACKETS = "pain [left knee] 3/10 [/]"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("unsafe") / "unsafe.db")
    clock = FixedClock()
    with Store(parse_location(path), clock=clock) as store:
        # The importer's batch handler takes commands as the door already checked them: here it
        # stands for text a careledger before the door accepted.
        write = store.app.importer()
        opened = b.open_episode(start_date="2026-09-01")
        write([opened])
        episode_id = opened.episode_id
        assert episode_id is not None
        for command in (
            b.plan(episode_id, goals=[{"goal_id": "G1", "term": "long", "text": f"{BRACKETS} {ESCAPES}"}]),
            b.add_exercise(episode_id, name=f"Leg raise [/] {ESCAPES}"),
            b.visit(episode_id, necessity=f"{BRACKETS} {ESCAPES}", patient_response=ESCAPES),
            b.correction(episode_id, {"total_treatment_minutes": 44}, reason=f"timer [/] {ESCAPES}"),
        ):
            clock.now += timedelta(seconds=1)
            [result] = write([command])
            assert not isinstance(result, Exception), result
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(
        app, list(args), env={"CARELEDGER_USER": "auditor", "CARELEDGER_ANCHOR_DIR": None}
    )


def episode_id(path: str) -> str:
    done = run("episode", "list", "--db", path, "--json")
    assert done.exit_code == 0, done.output
    import json

    return str(json.loads(done.stdout)[0]["episode_id"])


@pytest.mark.parametrize(
    "command",
    [
        ["episode", "show"],
        ["episode", "history"],
        ["visit", "history", "{id}", "2026-09-02"],
        ["audit", "{id}", "--changes", "--since", "2026-01-01"],
        ["audit", "{id}", "--as-of", "2027-01-01"],
        ["timeline"],
        ["progression"],
        ["check"],
        ["bill"],
    ],
)
def test_no_escape_sequence_reaches_the_terminal_and_brackets_stay_text(
    store_path: str, command: list[str]
) -> None:
    key = episode_id(store_path)
    args = [part.replace("{id}", key) for part in command]
    if "{id}" not in command:
        args.append(key)
    done = run(*args, "--db", store_path)
    assert done.exit_code in (0, 1), done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout


def test_markup_like_text_is_printed_as_written(store_path: str) -> None:
    shown = run("episode", "show", episode_id(store_path), "--db", store_path)
    assert shown.exit_code == 0, shown.output
    assert "pain [left knee] 3/10 [/]" in shown.stdout and "[long]" in shown.stdout
    assert "timer [/]" in shown.stdout
    assert "\\x1b[2J" in shown.stdout  # the escape is shown, visibly, not executed
