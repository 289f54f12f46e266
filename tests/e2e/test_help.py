"""Every command's help: an example that names the command and only options the command has,
the commands grouped in the root's help, and the packet and review told apart."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import typer.main
from typer.testing import CliRunner

from cli.common import COMMAND_GROUPS
from cli.main import app
from tests.e2e.conftest import careledger


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from commands(sub, (*path, name))
    else:
        yield path, command


ROOT = typer.main.get_command(app)
EVERY = list(commands(ROOT))


def test_every_command_has_an_example_using_only_its_own_options() -> None:
    assert len(EVERY) > 40
    for path, command in EVERY:
        text = command.help or ""
        found = re.search(r"Example: (careledger .+)", text)
        assert found, " ".join(path)
        words = shlex.split(found.group(1).split(" && ")[0].split(" > ")[0])
        assert tuple(words[1 : 1 + len(path)]) == path, (path, words)
        known = {opt for p in command.params if p.param_type_name == "option" for opt in p.opts}
        used = {w.split("=")[0] for w in words if w.startswith("--")}
        assert used <= known, (path, used - known)


def test_the_root_help_lists_every_command_under_its_group() -> None:
    grouped = [name for _, members in COMMAND_GROUPS for name in members]
    assert sorted(grouped) == sorted(ROOT.commands)  # type: ignore[attr-defined]
    text = CliRunner().invoke(app, ["--help"]).output
    positions = [text.index(f"{title} commands:") for title, _ in COMMAND_GROUPS]
    assert positions == sorted(positions)
    assert "--version" in text


def test_projections_help_names_every_registered_projection() -> None:
    from projections.views.registry import PROJECTIONS

    text = " ".join(CliRunner().invoke(app, ["projections", "--help"]).output.split())
    rebuild = " ".join(CliRunner().invoke(app, ["projections", "rebuild", "--help"]).output.split())
    for projection in PROJECTIONS:
        assert projection.name in text and projection.name in rebuild, projection.name


def test_shell_completion_can_be_shown_and_installed_from_the_root() -> None:
    text = CliRunner().invoke(app, ["--help"]).output
    assert "--install-completion" in text and "--show-completion" in text
    # typer's switch to take the shell named rather than the one it detects (make runs sh)
    shown = careledger("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert shown.returncode == 0 and b"_careledger_completion" in shown.stdout


def test_usage_and_option_lines_carry_no_type_decorations() -> None:
    """`EPISODE`, not `{EPISODE}` or `EPISODE <str>`; `--db TEXT`, not `--db <str>`."""
    for path, _command in EVERY:
        text = CliRunner().invoke(app, [*path, "--help"], prog_name="careledger", terminal_width=100).output
        usage = text.splitlines()[0]
        assert usage.startswith(f"Usage: careledger {' '.join(path)}"), (path, usage)
        assert not re.search(r"[{}]", usage), (path, usage)
        assert not re.search(r"<\w[^>]*>", text), (path, re.findall(r"<\w[^>]*>", text))
        assert "......" not in text, path
