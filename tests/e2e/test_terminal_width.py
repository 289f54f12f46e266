"""The main views in an 80-column terminal: no line longer, no word broken; severity in colour on a
terminal only (never piped, never with NO_COLOR)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from domain.demo import demo_episode_ids
from tests.e2e.conftest import ROOT, careledger, demo_store

BACK = str(demo_episode_ids()["back"])
KNEE = str(demo_episode_ids()["knee"])
VIEWS = [
    ["episode", "list"],
    ["check", BACK],
    ["check", "--all"],
    ["bill", BACK],
    ["audit", BACK, "--as-of", "2026-04-01"],
    ["audit", KNEE, "--changes", "--since", "2026-03-01"],
    ["review", BACK],
]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(tmp_path_factory, "width")


def _words(text: str) -> set[str]:
    """The words of a text, without the rules under table heads and the colons of record labels."""
    return {word.rstrip(":") for word in text.split() if word.strip("─")}


@pytest.mark.slow
@pytest.mark.parametrize("view", VIEWS, ids=lambda v: " ".join(v[:2]))
def test_at_80_columns_no_line_is_longer_and_no_word_is_broken(demo_db: Path, view: list[str]) -> None:
    narrow = careledger(*view, "--db", str(demo_db), env={"COLUMNS": "80"})
    wide = careledger(*view, "--db", str(demo_db), env={"COLUMNS": "400"})
    assert narrow.returncode == wide.returncode and narrow.returncode in (0, 1), (
        narrow.stderr
    )  # 1: errors found
    text = narrow.stdout.decode()
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert too_long == []
    # a word cut in two leaves pieces that are no word of the same view printed wide
    pieces = _words(text) - _words(wide.stdout.decode())
    assert pieces == set(), sorted(pieces)[:10]


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run careledger with its stdout and stderr on a pseudo-terminal; return what it wrote."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_") and k != "NO_COLOR"}
    full_env.update(env, COLUMNS="100", TERM="xterm-256color")
    full_env.pop("FORCE_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        stdout=follower,
        stderr=follower,
        env=full_env,
        cwd=ROOT,
    )
    os.close(follower)  # the child holds it: reading ends when the child exits
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) in (0, 1)  # check exits 1 when it finds errors
    return b"".join(chunks).decode()


@pytest.mark.slow
def test_severity_is_coloured_on_a_terminal_and_plain_when_piped_or_no_color(demo_db: Path) -> None:
    args = ["check", BACK, "--db", str(demo_db)]
    coloured = _on_a_terminal(args, {})
    assert re.search(r"\x1b\[[0-9;]*31m\s*ERROR", coloured)  # red
    assert re.search(r"\x1b\[[0-9;]*33m\s*WARNING", coloured)  # yellow
    colour = re.compile(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])m")  # a foreground colour (bold may stay)
    assert colour.search(coloured)
    assert not colour.search(_on_a_terminal(args, {"NO_COLOR": "1"}))
    assert b"\x1b[" not in careledger(*args).stdout


@pytest.mark.slow
def test_an_import_on_a_terminal_shows_its_count_rate_and_time_left(tmp_path: Path) -> None:
    commands = (ROOT / "docs" / "examples" / "episode.jsonl").read_text(encoding="utf-8")
    big = tmp_path / "big.jsonl"
    big.write_text(commands * (1_100_000 // len(commands) + 1), encoding="utf-8")  # over 1 MB: a bar
    shown = _on_a_terminal(["import", str(big), "--db", str(tmp_path / "store.db")], {})
    assert re.search(r"importing big\.jsonl .*\d+%.* [\d,]+ commands, [\d,]+/s ETA", shown)
    assert "commands: 20 applied" in shown and " 0 rejected" in shown
