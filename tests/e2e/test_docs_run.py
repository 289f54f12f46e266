"""The README's and docs' examples run as printed: a doctest for the shell and for Python.

Each ```console block is a session: a line `$ COMMAND` runs in bash (careledger on the
PATH, the working directory a fresh one per document with `docs/` linked in, `export`
lines kept for the later commands) and the lines up to the next `$ ` are the output it
must print. `$ cat FILE` of a file that does not exist yet writes it (the document shows
what to put in it). Timings (`0.008 s`, `15,632 events/s`) may differ. A ```python block
runs, after the document's console blocks, in the same directory. A block right after
`<!-- not run: REASON -->` is skipped (the reason says why: a store the reader has and
the test does not). The README builds the demo clinic itself; every other document
starts where the README's tour leaves the reader: the demo clinic in `tour.db`, with
`CARELEDGER_DB=tour.db` and `CARELEDGER_USER=j.rivera` exported.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- not run: [^>]*-->\s*\n)?```(console|python)\n(.*?)```", re.S)
VOLATILE = re.compile(r"\d[\d,]*(\.\d+)? ?(s|ms|events/s)\b")


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


def blocks(document: str) -> list[tuple[str, str]]:
    """Return the document's runnable blocks: (kind, text)."""
    text = (ROOT / document).read_text(encoding="utf-8")
    return [(m.group(2), m.group(3)) for m in BLOCK.finditer(text) if not m.group(1)]


def steps(session: str) -> list[Step]:
    """Split a console block into commands and the output each must print."""
    found: list[Step] = []
    open_command: list[str] | None = None
    for line in session.splitlines():
        if open_command is not None:
            open_command.append(line)
            if _balanced("\n".join(open_command)):
                found.append(Step("\n".join(open_command)))
                open_command = None
            continue
        if line.startswith("$ "):
            command = line[2:]
            if _balanced(command):
                found.append(Step(command))
            else:
                open_command = [command]
        elif found:
            found[-1].expected.append(line)
    return found


def _balanced(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:
        return False
    return not command.rstrip().endswith("\\")


def _normal(lines: list[str]) -> list[str]:
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return VOLATILE.sub(r"N \2", text).splitlines()


def run_document(document: str, workdir: Path) -> list[str]:
    """Run a document's examples; return what differs from what it prints."""
    (workdir / "docs").symlink_to(ROOT / "docs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_") and k != "NO_COLOR"}
    env.update(PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}", COLUMNS="120")
    if document != "README.md":
        tour = ["careledger", "demo", "--db", "tour.db", "--quiet"]
        subprocess.run(tour, cwd=workdir, env=env, capture_output=True, timeout=120, check=True)
        env.update(CARELEDGER_DB="tour.db", CARELEDGER_USER="j.rivera")
    problems: list[str] = []
    last = 0
    found = blocks(document)
    for kind, text in [b for b in found if b[0] == "console"] + [b for b in found if b[0] == "python"]:
        if kind == "python":
            done = subprocess.run(
                [sys.executable, "-c", text],
                cwd=workdir,
                env=env,
                capture_output=True,
                timeout=120,
                check=False,
            )
            if done.returncode != 0:
                problems.append(f"python block failed:\n{text}\n{done.stderr.decode()[-2000:]}")
            continue
        for step in steps(text):
            words = step.command.split()
            if words[:1] == ["export"]:
                for assignment in shlex.split(step.command)[1:]:
                    name, _, value = assignment.partition("=")
                    env[name] = value
                continue
            if words[:1] == ["cat"] and len(words) == 2 and not (workdir / words[1]).exists():
                (workdir / words[1]).write_text("\n".join(step.expected) + "\n", encoding="utf-8")
                continue
            command = (
                step.command.replace("$?", str(last)) if step.command.startswith("echo $?") else step.command
            )
            done = subprocess.run(
                ["bash", "-c", command], cwd=workdir, env=env, capture_output=True, timeout=120, check=False
            )
            last = done.returncode
            shown = (done.stdout + done.stderr).decode()
            if _normal(shown.splitlines()) != _normal(step.expected):
                problems.append(
                    f"$ {step.command}\n--- the document shows\n"
                    + "\n".join(step.expected)
                    + "\n--- it printed\n"
                    + shown
                )
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("document", [d for d in DOCUMENTS if blocks(d)])
def test_every_example_in_the_document_runs_as_printed(document: str, tmp_path: Path) -> None:
    problems = run_document(document, tmp_path)
    assert not problems, "\n\n".join(problems)
