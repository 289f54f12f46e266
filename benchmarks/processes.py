"""Benchmark cases that time whole `careledger` processes: CLI latency and the memory of an import."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# What each command needs to import before it can run (measured bare, in a fresh interpreter).
LIBRARIES = {
    "--help": "import typer",
    "episode show": "import typer, pydantic, orjson, eventsourcing.sqlite, rich",
    "timeline": "import typer, pydantic, orjson, eventsourcing.sqlite, rich, sqlalchemy",
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}


def wall(argv: list[str], repeat: int) -> float:
    """Median wall time in ms of running a process `repeat` times (each must succeed)."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, env=_env(), cwd=ROOT, check=False)
        samples.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(samples)


def careledger_ms(args: list[str], repeat: int) -> float:
    """Median wall time in ms of a cold `careledger ARGS` process."""
    return wall([sys.executable, "-m", "cli", *args], repeat)


def bare_import_ms(statement: str, repeat: int) -> float:
    """Median wall time in ms of a fresh interpreter that only runs `statement`."""
    return wall([sys.executable, "-c", statement], repeat)


def cli_latency(db: str, prefix: str, repeat: int) -> dict[str, Any]:
    """Cold wall times of --help, `episode show` and `timeline` on a store, beside their bare imports."""
    out: dict[str, Any] = {"python_startup_ms": bare_import_ms("pass", repeat)}
    for name, args in (
        ("--help", ["--help"]),
        ("episode show", ["episode", "show", prefix, "--db", db]),
        ("timeline", ["timeline", prefix, "--db", db]),
    ):
        out[name] = {
            "command_ms": careledger_ms(args, repeat),
            "imports_ms": bare_import_ms(LIBRARIES[name], repeat),
        }
    return out


# Runs the CLI and, at exit, writes the process's own peak RSS (VmHWM, KiB) to the file named
# first. Not ru_maxrss: Linux carries the high-water mark of the parent's memory into a child
# started by fork or vfork, across exec, so a child of a big benchmark process looks big too.
_MEASURED_CLI = """
import atexit, sys
out = sys.argv[1]
def report():
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM"))
    with open(out, "w") as file:
        file.write(peak.split()[1])
atexit.register(report)
sys.argv = ["careledger", *sys.argv[2:]]
from cli.main import run
run()
"""


def import_peak_rss(db: str, commands: Path) -> dict[str, float]:
    """Run `careledger import FILE` in a process; return its wall time, events/s and peak RSS."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".rss") as peak:
        argv = ["import", str(commands), "--db", db, "--user", "bench", "-q"]
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED_CLI, peak.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_env(),
            cwd=ROOT,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"import of {commands} failed: {done.stderr.decode()[-500:]}")
        peak_kib = int(Path(peak.name).read_text() or 0)
    lines = sum(1 for _ in commands.open("rb"))
    return {
        "events": lines,
        "seconds": seconds,
        "events_per_second": lines / seconds,
        "peak_rss_mb": peak_kib / 1024,
    }
