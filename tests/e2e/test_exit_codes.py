"""One exit code per kind of error, in every command: a date that does not parse and an episode that
is not in the store are usage errors (2) whichever command reads them, a version the episode does
not have is refused, and `careledger --version` answers."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.common import EXIT_CODES
from cli.main import app
from domain.demo import demo_episode_ids
from tests.e2e.conftest import ROOT

BACK = str(demo_episode_ids()["back"])


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"CARELEDGER_USER": "j.rivera"})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("exits") / "demo.db")
    assert run("demo", "--db", db, "--quiet").exit_code == 0
    return db


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["check", BACK, "--since", "04/20/2026"], "--since"),
        (["bill", BACK, "--visit", "04/20/2026"], "--visit"),
        (["continuity", BACK, "--today", "04/20/2026"], "--today"),
        (["audit", BACK, "--as-of", "04/20/2026"], "--as-of"),
        (["packet", BACK, "--out", "x.html", "--as-of", "04/20/2026"], "--as-of"),
        (["review", BACK, "--as-of", "04/20/2026"], "--as-of"),
        (["export", "claims", "--since", "04/20/2026"], "--since"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else v,
)
def test_a_date_that_does_not_parse_is_a_usage_error_naming_the_option(
    demo: str, args: list[str], option: str
) -> None:
    done = run(*args, "--db", demo)
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith(f"error: {option}: '04/20/2026' is not a date")


@pytest.mark.parametrize("command", ["check", "bill", "continuity", "timeline", "review", "episode show"])
def test_an_episode_not_in_the_store_is_a_usage_error_in_every_command(demo: str, command: str) -> None:
    for name in ("ffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff"):
        done = run(*command.split(), name, "--db", demo)
        assert done.exit_code == 2 and "no episode" in done.stderr, (name, done.output)


def test_episode_show_refuses_a_version_the_episode_does_not_have(demo: str) -> None:
    last = run("episode", "show", BACK, "--db", demo, "--json")
    assert last.exit_code == 0
    for wrong in ("999", "0", "-1"):
        done = run("episode", "show", BACK, "--version", wrong, "--db", demo)
        assert done.exit_code == 2 and done.stderr.startswith("error: --version: "), done.output
    assert (
        "has versions 1 to 23, not 999"
        in run("episode", "show", BACK, "--version", "999", "--db", demo).stderr
    )
    assert run("episode", "show", BACK, "--version", "23", "--db", demo).exit_code == 0


def test_careledger_version_prints_the_installed_version() -> None:
    done = run("--version")
    assert done.exit_code == 0 and done.stdout.strip() == f"careledger {version('careledger')}"


def test_the_user_guide_documents_every_exit_code_as_the_cli_defines_them() -> None:
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in guide, code


def test_the_library_refuses_a_version_the_episode_does_not_have(tmp_path: Path) -> None:
    from domain.errors import InvalidInput
    from projections.store.root import Store, parse_location

    with Store(parse_location(str(tmp_path / "one.db"))) as store:
        opened = run(
            "episode", "open", "--db", str(tmp_path / "one.db"), "--patient", "PT-9", "--discipline", "PT",
            "--payer", "medicare", "--diagnosis", "M54.50", "--start", "2026-03-02",
        )  # fmt: skip
        assert opened.exit_code == 0, opened.output
        [episode_id] = store.app.episode_ids()
        assert store.app.get_episode(episode_id, version=1).version == 1
        for wrong in (0, 2, 3):
            with pytest.raises(InvalidInput, match="version"):
                store.app.get_episode(episode_id, version=wrong)
