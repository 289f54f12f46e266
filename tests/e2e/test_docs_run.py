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
from typing import Any

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


# --- the ```sh blocks: synopses checked against the CLI, the service example run ---------------------

SHELL_BLOCK = re.compile(r"```(?:sh|bash)\n(.*?)```", re.S)


def shell_lines(document: str) -> list[str]:
    """The command lines of a document's ```sh blocks, continuations joined and comments cut."""
    text = (ROOT / document).read_text(encoding="utf-8")
    lines: list[str] = []
    for block in SHELL_BLOCK.findall(text):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def synopsis_problems(line: str, root: Any) -> list[str]:
    """What in a `careledger …` synopsis line the CLI does not have: a command or an option."""
    words = line.split()
    if Path(words[0]).name != "careledger":
        return []
    command, path = root, ["careledger"]
    for word in words[1:]:
        subcommands = getattr(command, "commands", None)
        if not subcommands or word not in subcommands:
            break
        command = subcommands[word]
        path.append(word)
    if getattr(command, "commands", None):
        return [f"{line}: `{' '.join(path)}` needs a command ({', '.join(sorted(command.commands))})"]
    known = {opt for p in command.params for opt in getattr(p, "opts", ())} | {"--help"}
    used = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line.split(" | ")[0].split(" > ")[0]))
    return [f"{line}: `{' '.join(path)}` has no option {option}" for option in sorted(used - known)]


def test_every_synopsis_in_the_docs_names_commands_and_options_the_cli_has() -> None:
    import typer.main

    from cli.main import app

    root = typer.main.get_command(app)
    checked = 0
    problems: list[str] = []
    for document in DOCUMENTS:
        for line in shell_lines(document):
            if Path(line.split()[0]).name == "careledger":
                checked += 1
                problems.extend(f"{document}: {p}" for p in synopsis_problems(line, root))
    assert checked > 60, checked
    assert not problems, "\n".join(problems)
    # the check itself: a command or option the CLI lacks is named
    assert synopsis_problems("careledger episode shw EPISODE", root)
    assert synopsis_problems("careledger bill EPISODE --visits 2026-04-20", root)
    assert not synopsis_problems("careledger bill EPISODE --visit 2026-04-20 --json", root)


@pytest.mark.slow
def test_the_readme_service_example_runs(tmp_path: Path) -> None:
    """The README's `serve --demo` line, then its two curl lines with the token it printed."""
    import json
    import socket
    import time
    import urllib.request

    lines = shell_lines("README.md")
    serve = next(line for line in lines if " serve --demo " in line)
    curls = [line for line in lines if line.startswith("curl ") and "127.0.0.1:8080" in line]
    assert len(curls) == 2 and "POST" in curls[0], curls
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    argv = [Path(sys.executable).parent / "careledger", *shlex.split(serve)[1:], "--port", str(port)]
    server = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        token = None
        assert server.stdout is not None
        for raw in server.stdout:
            found = re.search(r"admin token \(shown once\): (\S+)", raw.decode())
            if found:
                token = found.group(1)
                break
        assert token, "serve --demo printed no admin token"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.2)
        outputs = []
        for curl in curls:
            done = subprocess.run(
                ["bash", "-c", curl.replace("127.0.0.1:8080", f"127.0.0.1:{port}")],
                env={**env, "TOKEN": token},
                capture_output=True,
                timeout=60,
                check=True,
            )
            outputs.append(json.loads(done.stdout))
        recorded, timeline = outputs
        assert recorded["episode_id"] == "465a97f2-1208-5592-9168-1dd5ac1ff153", recorded
        visits = [e for e in timeline["entries"] if e["kind"] == "visit"]
        assert any(str(e["clinical_date"]) == "2026-05-18" for e in visits), visits[-3:]
    finally:
        server.terminate()
        server.wait(timeout=30)
