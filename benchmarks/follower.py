"""The `follower` case: a recorded visit to its findings row, through a live `careledger projections run`.

The store first gets a synthetic clinic (the demo generator's command file,
imported) and a set of fresh open episodes to visit (the demo's own episodes end
discharged). A real follower process, `careledger projections run --db URL`, is
started on it and left to catch up. Then this process records `record_visit`
commands through `store.app.handle`, round-robin over the fresh episodes, each
episode's dates one day apart (so every visit is valid), paced at a fixed rate
(50 visits/s: visit i is sent at start + i/50 s, or at once when behind).

A visit's latency runs from its command's commit returning to the moment the
follower has committed that visit's findings rows. That moment is read from the
read models' tracking table (`projection_tracking`, row `findings`): the
follower writes a page's `pv_findings` and `pv_check_visits` rows and moves that
position to the page's last notification id in ONE transaction
(projections/views/projector.py), so `position >= the visit's notification id`
is true exactly when its rows are committed, whether or not the visit produced a
finding (every visit has a `pv_check_visits` row; a `pv_findings` row only when
a rule fires). The visit's notification id is the log's head right after the
command (this process is the only writer). A thread polls the position every
2 ms on one connection of its own while a visit is outstanding; the time taken
is when the poll that saw it returned (so it errs late, by at most one poll).
At the end every visit's `pv_check_visits` row is counted.

On PostgreSQL the follower is pushed each commit (LISTEN/NOTIFY). On SQLite it
polls the log every `--interval` seconds; this case passes the command's
smallest, 0.05 s, so on SQLite about 25 ms of each latency is that wait.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.workload import open_command, visit_command

ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2026, 1, 5)
POLL_S = 0.002
SQLITE_INTERVAL_S = 0.05
_PROJECTION = "findings"


def _open(episode_id: uuid.UUID, number: int) -> dict[str, Any]:
    return open_command(episode_id, f"MRN-F{number:05d}", START.isoformat())


def _visit(episode_id: uuid.UUID, day: int) -> dict[str, Any]:
    """A visit with 97110 and 97140 and a full note, `day` days after the start."""
    return visit_command(
        episode_id,
        (START + dt.timedelta(days=day)).isoformat(),
        recorded_by="bench",
        service_lines=[{"code": "97110", "minutes": 33}, {"code": "97140", "minutes": 7}],
        total_treatment_minutes=45,
        patient_response="Tolerated well, pain 3/10.",
        narrative=f"One-on-one throughout; visit {day}.",
    )


def _position_reader(db: str) -> tuple[Callable[[], int], Callable[[], None]]:
    """Return (read the findings projection's tracked position, close), on a connection of its own."""
    from projections.store.root import parse_location
    from projections.views.schema import TRACKING

    location = parse_location(db)
    if location.kind == "sqlite":
        import sqlite3

        lite = sqlite3.connect(str(location.path), isolation_level=None, check_same_thread=False)
        lite.execute("PRAGMA busy_timeout = 30000")
        statement = f"SELECT position FROM {TRACKING} WHERE name = ?"

        def read_sqlite() -> int:
            row = lite.execute(statement, (_PROJECTION,)).fetchone()
            return int(row[0]) if row else 0

        return read_sqlite, lite.close
    from projections.store.root import connect_postgres

    pg = connect_postgres(location)
    table = f'"{location.schema}".{TRACKING}' if location.schema else TRACKING
    query = f"SELECT position FROM {table} WHERE name = %s"

    def read_postgres() -> int:
        row = pg.execute(query, (_PROJECTION,), prepare=True).fetchone()
        return int(row[0]) if row else 0

    return read_postgres, pg.close


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {}
    cut = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {
        "p50_ms": cut[49] * 1000,
        "p95_ms": cut[94] * 1000,
        "p99_ms": cut[98] * 1000,
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


class _Watcher:
    """A thread that polls the tracked position and times each outstanding visit's arrival."""

    def __init__(self, read: Callable[[], int]) -> None:
        self.read = read
        self.pending: deque[tuple[int, float]] = deque()
        self.latencies: list[float] = []
        self.position = 0
        self.polls = 0
        self.failure: BaseException | None = None
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="follower-bench-watcher", daemon=True)

    def expect(self, notification_id: int, committed: float) -> None:
        with self.lock:
            self.pending.append((notification_id, committed))
        self.wake.set()

    def outstanding(self) -> int:
        with self.lock:
            return len(self.pending)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                if not self.outstanding():
                    self.wake.wait(0.05)
                    self.wake.clear()
                    continue
                position = self.read()
                seen = time.perf_counter()
                self.polls += 1
                self.position = position
                with self.lock:
                    while self.pending and self.pending[0][0] <= position:
                        _, committed = self.pending.popleft()
                        self.latencies.append(seen - committed)
                time.sleep(POLL_S)
        except BaseException as exc:  # reported by the benchmark's thread
            self.failure = exc


def _wait_until(
    ready: Callable[[], bool], seconds: float, follower: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if follower.poll() is not None:
            raise SystemExit(f"follower: the follower exited ({follower.returncode}): {_tail(log)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"follower: not caught up after {seconds:.0f} s: {_tail(log)}")
        time.sleep(0.01)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-800:]
    except OSError:
        return "(no output)"


def _cpu_seconds(pid: int) -> float | None:
    """Return a process's user + system CPU seconds so far (Linux's /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(follower: subprocess.Popen[bytes]) -> None:
    if follower.poll() is not None:
        return
    follower.send_signal(signal.SIGTERM)
    try:
        follower.wait(timeout=15)
    except subprocess.TimeoutExpired:
        follower.kill()
        follower.wait(timeout=15)


def follower_figures(
    db: str, commands: Path, *, rate: float, seconds: float, episodes: int, log: Path
) -> dict[str, Any]:
    """Import `commands` into `db`, start a follower on it, record visits at `rate`/s for `seconds`.

    `log` receives the follower's output. Returns the latency percentiles and the rate achieved.
    """
    from domain.episode.commands import parse_command
    from domain.episode.importer import import_lines
    from projections.store.root import open_store
    from projections.views.schema import CHECK_VISITS

    total = round(rate * seconds)
    per_episode = -(-total // episodes)
    if per_episode > 300:
        raise SystemExit(f"follower: {per_episode} visits per episode would reach past today; add episodes")
    kind = "postgres" if db.startswith("postgres") else "sqlite"
    with open_store(db) as store:
        imported = 0
        with commands.open("rb") as lines:
            for outcome in import_lines(store.app, lines, default_user="bench"):
                if outcome.error is not None:
                    raise SystemExit(f"follower: the workload was rejected: {outcome.error}")
                imported += 1
        chosen = [uuid.uuid4() for _ in range(episodes)]
        for number, episode_id in enumerate(chosen):
            store.app.handle(parse_command(_open(episode_id, number)))
        planned = [parse_command(_visit(chosen[i % episodes], 1 + i // episodes)) for i in range(total)]
        head = store.app.recorder.max_notification_id() or 0

        argv = [sys.executable, "-m", "cli", "projections", "run", "--db", db]
        if kind == "sqlite":
            argv += ["--interval", str(SQLITE_INTERVAL_S)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
        read, close = _position_reader(db)
        watcher = _Watcher(read)
        switch = sys.getswitchinterval()
        with log.open("wb") as output:
            started = time.perf_counter()
            follower = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            # The follower's own catch-up of the imported store, then its switch to following.
            _wait_until(lambda: b"following" in log.read_bytes(), 300, follower, log)
            _wait_until(lambda: read() >= head, 60, follower, log)
            catch_up_s = time.perf_counter() - started
            # The watcher's thread must not wait out the default 5 ms switch interval behind
            # `handle` for the GIL before it can time a visit.
            sys.setswitchinterval(0.0005)
            watcher.thread.start()
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            cpu_before = _cpu_seconds(follower.pid)
            began = time.perf_counter()
            for index, command in enumerate(planned):
                delay = began + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                store.app.handle(command)
                committed = time.perf_counter()
                watcher.expect(store.app.recorder.max_notification_id() or 0, committed)
                if watcher.failure is not None:
                    raise watcher.failure
            sent_s = time.perf_counter() - began
            log_head = store.app.recorder.max_notification_id() or 0
            lag_events = max(0, log_head - watcher.position)
            lag_visits = watcher.outstanding()
            deadline = time.perf_counter() + 30
            while watcher.outstanding() and time.perf_counter() < deadline and watcher.failure is None:
                time.sleep(0.005)
            drain_s = time.perf_counter() - began - sent_s
            cpu_after = _cpu_seconds(follower.pid)
            if watcher.failure is not None:
                raise watcher.failure
            alive = follower.poll() is None
        finally:
            watcher.stop.set()
            watcher.wake.set()
            if watcher.thread.is_alive():
                watcher.thread.join(timeout=10)
            sys.setswitchinterval(switch)
            _stop(follower)
            close()
        rows = _check_visit_rows(store, CHECK_VISITS, chosen)
    applied = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("applied ")]
    events_applied = sum(int(line.split()[1]) for line in applied)
    latency = _percentiles(watcher.latencies)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return {
        "backend": kind,
        "follows_by": "LISTEN/NOTIFY" if kind == "postgres" else f"polling every {SQLITE_INTERVAL_S:g} s",
        "store_events_before": head,
        "store_commands_imported": imported,
        "episodes_visited": episodes,
        "follower_start_and_catch_up_s": catch_up_s,
        "target_visits_per_second": rate,
        "visits_sent": total,
        "visits_per_second": total / sent_s,
        "visits_timed": len(watcher.latencies),
        "lag_at_end_events": lag_events,
        "lag_at_end_visits": lag_visits,
        "drain_after_last_ms": drain_s * 1000,
        "check_visit_rows": rows,
        "follower_pages": len(applied),
        "follower_events_per_page": events_applied / len(applied) if applied else 0.0,
        "follower_alive_at_end": alive,
        # the follower process's CPU while visits were sent and drained (its share of one core)
        "follower_cpu_share": None if cpu is None else cpu / (sent_s + drain_s),
        "follower_cpu_ms_per_visit": None if cpu is None else cpu * 1000 / total,
        "load_average_1m_at_start": load,
        "watcher_polls": watcher.polls,
        "latency": latency,
    }


def _check_visit_rows(store: Any, table_name: str, episodes: list[uuid.UUID]) -> int:
    """Count the `pv_check_visits` rows of the visited episodes (one per visit the follower applied)."""
    from sqlalchemy import func, select

    from projections.views.schema import build_tables, make_engine

    engine = make_engine(store.location)
    try:
        table = build_tables(store.location.schema).metadata.tables
        visits = next(t for t in table.values() if t.name == table_name)
        ids = [str(e) for e in episodes]
        with engine.connect().execution_options(careledger_read_only=True) as conn:
            count = conn.execute(select(func.count()).select_from(visits).where(visits.c.episode_id.in_(ids)))
            return int(count.scalar_one())
    finally:
        engine.dispose()
