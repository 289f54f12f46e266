"""How long `careledger check --all` takes on a store of N visits (default 10,000).

    .venv/bin/python benchmarks/check_all.py [--visits 10000] [--dir DIR] [--repeat 3]

Builds a SQLite store from `domain.demo.synthetic_clinic` (whole episodes, until
the visits reach N) through the JSON Lines importer, then, on copies of it:

- cold: `careledger check --all --json` as a whole process on a store whose read
  models were never built (it catches the findings and summary projections up
  first, then answers);
- the catch-up alone (the findings and summary projections, in process);
- warm: `careledger check --all --json` again on the caught-up store, `--repeat`
  times (the query: findings, copied notes across episodes, KX);
- one episode: `careledger check EPISODE --json` on the caught-up store.

Wall-clock times of the whole process (interpreter start, imports and output
included). A benchmark, not a test: the machine's load moves the figures.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.demo import synthetic_clinic  # noqa: E402
from domain.episode import commands as c  # noqa: E402
from domain.episode.importer import import_lines  # noqa: E402
from projections.store.root import Store, parse_location  # noqa: E402
from projections.views.findings_query import FindingsReader  # noqa: E402
from tests.readmodels import episode_key  # noqa: E402


def commands_for(visits: int) -> tuple[list[bytes], int, int]:
    """Return the JSON lines of whole synthetic episodes until they hold `visits` visits."""
    lines: list[bytes] = []
    counted = episodes = 0
    current = None
    for recorded in synthetic_clinic(10**7):
        key = episode_key(recorded)
        if key != current:
            if counted >= visits:
                break
            current, episodes = key, episodes + 1
        if isinstance(recorded.command, (c.RecordVisit, c.RecordLateEntry)):
            counted += 1
        lines.append(orjson.dumps(recorded.command.model_dump(mode="json")))
    return lines, counted, episodes


def run(*args: str) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, cwd=ROOT, check=False, timeout=600
    )
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--dir", help="where to build the stores (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="careledger-check-"))
    directory.mkdir(parents=True, exist_ok=True)
    base = directory / "base.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)

    lines, visits, episodes = commands_for(args.visits)
    started = time.perf_counter()
    with Store(parse_location(str(base)), create=True) as store:
        rejected = [o for o in import_lines(store.app, lines) if o.error]
        events = store.app.recorder.max_notification_id()
    imported = time.perf_counter() - started
    if rejected:
        raise SystemExit(f"{len(rejected)} lines rejected, first: {rejected[0].as_dict()}")
    print(f"store: {episodes} episodes, {visits} visits, {events} events; imported in {imported:.1f} s")

    cold = directory / "cold.db"
    shutil.copy(base, cold)
    seconds, done = run("check", "--all", "--db", str(cold), "--json")
    answer = orjson.loads(done.stdout)
    print(
        f"cold  careledger check --all --json (catch-up included): {seconds:.2f} s, exit {done.returncode}; "
        f"{answer['counts']} in {answer['episodes_with_findings']} episodes"
    )

    alone = directory / "catchup.db"
    shutil.copy(base, alone)
    with Store(parse_location(str(alone))) as store:
        reader = FindingsReader(store)
        started = time.perf_counter()
        applied = reader.refresh()
        caught_up = time.perf_counter() - started
        reader.close()
    print(f"catch-up of the findings and summary projections alone: {applied} events in {caught_up:.2f} s")

    warm: list[float] = []
    for _ in range(args.repeat):
        seconds, done = run("check", "--all", "--db", str(cold), "--json")
        warm.append(seconds)
    print(
        f"warm  careledger check --all --json ({args.repeat} runs): median {statistics.median(warm):.2f} s, "
        f"max {max(warm):.2f} s"
    )
    at_risk = answer["at_risk"][0]["episode_id"]
    seconds, done = run("check", at_risk, "--db", str(cold), "--json")
    found = orjson.loads(done.stdout)
    print(f"one   careledger check EPISODE --json: {seconds:.2f} s ({len(found['findings'])} findings)")
    print(f"stores in {directory}")


if __name__ == "__main__":
    main()
