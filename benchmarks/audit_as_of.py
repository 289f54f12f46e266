"""How fast `audit --as-of` answers on a 200-visit episode, inside the process.

    .venv/bin/python benchmarks/audit_as_of.py [--db PATH_OR_URL] [--visits 200] [--repeat 200]

Builds one episode with N visits (and a correction every 20th visit) in a fresh
store (a temporary SQLite file by default), then times, at random recorded
times: the library call `Episodes.episode_as_of` and the whole CLI command
`careledger audit EPISODE --as-of T --json` run in-process by typer's runner
(opening the store, the query, and the JSON output). Prints the median, the
95th percentile and the maximum of each, and `verify`'s speed on the store.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from typer.testing import CliRunner

from cli.main import app as cli
from domain.episode import commands as c
from projections.store.root import Store, parse_location
from projections.store.verify import snapshot_checker, verify_chains
from tests import builders as b


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def build(db: str, visits: int) -> tuple[UUID, list[datetime]]:
    clock = Clock()
    with Store(parse_location(db), clock=clock) as store:
        start = date(2025, 9, 1)
        episode_id = store.app.handle(b.open_episode(start_date=str(start))).episode_id
        times = [clock.now]
        for n in range(visits):
            clock.now += timedelta(hours=6)
            day = str(start + timedelta(days=n))
            store.app.handle(b.visit(episode_id, date_of_service=day, total_treatment_minutes=45 + n % 5))
            times.append(clock.now)
            if n % 20 == 19:
                clock.now += timedelta(hours=1)
                fix = b.command(
                    c.CorrectVisit,
                    episode_id,
                    date_of_service=day,
                    changes={"narrative": f"v{n}"},
                    reason="typo",
                )
                store.app.handle(fix)
                times.append(clock.now)
        return episode_id, times


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store to build in (default: a temporary SQLite file)")
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp(prefix="careledger-bench-")) / "bench.db")
    episode_id, times = build(db, args.visits)
    rng = random.Random(1)
    moments = [times[0] + (times[-1] - times[0]) * rng.random() for _ in range(args.repeat)]

    library: list[float] = []
    with Store(parse_location(db)) as store:
        versions = store.app.last_version(episode_id)
        for moment in moments:
            started = time.perf_counter()
            store.app.episode_as_of(episode_id, moment)
            library.append((time.perf_counter() - started) * 1000)
        report = verify_chains(store.app.recorder, None, None, snapshot_checker(store.app))  # type: ignore[arg-type]

    runner = CliRunner()
    command: list[float] = []
    for moment in moments[: max(20, args.repeat // 4)]:
        started = time.perf_counter()
        done = runner.invoke(
            cli, ["audit", str(episode_id), "--as-of", moment.isoformat(), "--db", db, "--json"]
        )
        command.append((time.perf_counter() - started) * 1000)
        if done.exit_code != 0:
            raise SystemExit(done.output)

    print(f"store: {parse_location(db).display}; episode of {args.visits} visits, {versions} events")
    print(f"Episodes.episode_as_of ({len(library)} random times): {summary(library)}")
    print(f"careledger audit --as-of --json, in-process ({len(command)} runs): {summary(command)}")
    print(
        f"verify: {report.events} events, {report.snapshots} snapshots in {report.seconds * 1000:.1f} ms "
        f"({report.events_per_second:,.0f} events/s), intact={report.intact}"
    )


if __name__ == "__main__":
    main()
