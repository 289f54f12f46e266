"""careledger's benchmarks: `make bench` (or `.venv/bin/python benchmarks/run.py [--quick]`).

Builds its workload from the demo generator (`synthetic_clinic`), runs each case
several times, prints a table and writes benchmarks/results.json with the
medians and the ratios to the raw library measured in the same run. Stores and
command files live in CARELEDGER_BENCH_DIR (default /tmp/careledger-bench).

    --quick            small sizes, one repeat (a smoke run of every case), written to
                       CARELEDGER_BENCH_DIR/results-quick.json, never over benchmarks/results.json
    --output PATH      where to write the results (default benchmarks/results.json)
    --size N           events in the large store (default 1,000,000)
    --ingest N         events in the ingest workload (default 100,000)
    --repeat N         repeats of each timed case (default 3)
    --reuse            keep a large store built by an earlier run (skips the memory case)
    --postgres URL     also run the PostgreSQL cases (default: CARELEDGER_BENCH_POSTGRES or
                       CARELEDGER_TEST_POSTGRES); --no-postgres to skip them
    --only a,b         run only these cases: ingest, reimport, replay, memory, projections, cli, audit,
                       service, remit, follower
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import cases, processes
from benchmarks.workload import (
    WORK_DIR,
    command_file,
    generator_fingerprint,
    scratch_postgres,
    scratch_sqlite,
)
from domain.episode.application import derived_episode_id

CASES = (
    "ingest",
    "reimport",
    "replay",
    "memory",
    "projections",
    "cli",
    "audit",
    "service",
    "remit",
    "follower",
)
RESULTS = Path(__file__).resolve().parent / "results.json"


def median_of(runs: list[float]) -> float:
    return float(statistics.median(runs))


def check(target: str, met: bool) -> dict[str, Any]:
    return {"target": target, "met": met}


def ingest(args: argparse.Namespace, out: dict[str, Any]) -> None:
    workload = command_file(args.ingest)
    backends: list[tuple[str, Any]] = [("sqlite", scratch_sqlite)]
    if args.postgres:
        backends.append(("postgres", lambda prefix="": scratch_postgres(args.postgres)))
    for name, scratch in backends:
        ours, raw = [], []
        for _ in range(args.repeat):
            with scratch("ingest") as db:
                ours.append(cases.ingest_careledger(db, workload))
            with scratch("raw") as db:
                raw.append(cases.ingest_raw(db, workload))
        entry = {
            "events": workload.commands,
            "careledger_events_per_second": median_of(ours),
            "raw_events_per_second": median_of(raw),
            "runs": {"careledger": ours, "raw": raw},
        }
        entry["ratio"] = entry["careledger_events_per_second"] / entry["raw_events_per_second"]
        if name == "sqlite":
            entry["checks"] = [
                check("ratio >= 0.7 (issue 18)", entry["ratio"] >= 0.7),
                check(">= 10,000 events/s (issue 18)", entry["careledger_events_per_second"] >= 10_000),
            ]
        out[f"ingest_{name}"] = entry
        report(f"ingest {name}", entry, f"ingest_{name}")


def reimport(args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Re-import an imported file: every line is a replay, and must cost no more than 1.2x the first."""
    workload = command_file(min(args.ingest, 10_000))
    runs = []
    for _ in range(args.repeat):
        with scratch_sqlite("reimport") as db:
            runs.append(cases.reimport_careledger(db, workload))
    entry: dict[str, Any] = {
        "commands": workload.commands,
        "first_s": median_of([r["first_s"] for r in runs]),
        "again_s": median_of([r["again_s"] for r in runs]),
        "runs": runs,
    }
    entry["ratio"] = entry["again_s"] / entry["first_s"]
    entry["checks"] = [check("re-import <= 1.2x the first import", entry["ratio"] <= 1.2)]
    out["reimport"] = entry
    report("reimport", entry, "reimport")


def replay(args: argparse.Namespace, out: dict[str, Any]) -> None:
    with scratch_sqlite("replay") as db, scratch_sqlite("replay-raw") as raw_db:
        episode_id = cases.build_long_episode(db, 1000)
        ours = cases.replay_careledger(db, episode_id, args.replay_repeat)
        raw = cases.replay_raw(raw_db, db, episode_id, args.replay_repeat)
    entry: dict[str, Any] = {
        "events": 1000,
        "episode": "1 opening + 999 visits with full notes (tests/builders.py visit)",
        "careledger": ours,
        "raw": raw,
        "ratio_with_snapshot": ours["with_snapshot_ms"] / raw["with_snapshot_ms"],
        "ratio_events_only": ours["events_only_ms"] / raw["events_only_ms"],
    }
    entry["checks"] = [
        check("with snapshot <= 1.5x raw", entry["ratio_with_snapshot"] <= 1.5),
        check("events only <= 1.5x raw", entry["ratio_events_only"] <= 1.5),
        check("with snapshot <= 5 ms", ours["with_snapshot_ms"] <= 5),
    ]
    out["replay"] = entry
    report("replay", entry, "replay")


def big_store(args: argparse.Namespace) -> Path:
    return WORK_DIR / f"store-{args.size}-{generator_fingerprint()}.db"


def small_store() -> tuple[Path, str]:
    """A 10,000-event store with caught-up read models (built once), and an episode prefix in it."""
    workload = command_file(10_000)
    path = WORK_DIR / f"store-10000-{generator_fingerprint()}.db"
    if not path.exists():
        processes.import_peak_rss(str(path), workload.path)
        cases.rebuild(str(path))
    return path, prefix_of(workload.path)


def prefix_of(commands: Path) -> str:
    first = json.loads(commands.open("rb").readline())
    return derived_episode_id(uuid.UUID(first["command_id"])).hex[:8]


def memory(args: argparse.Namespace, out: dict[str, Any]) -> None:
    path = big_store(args)
    if args.reuse and path.exists():
        out["memory"] = {"skipped": f"--reuse: {path} kept from an earlier run"}
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    workload = command_file(args.size)
    entry: dict[str, Any] = processes.import_peak_rss(str(path), workload.path)
    entry["checks"] = [check("peak RSS <= 200 MB (issue 18)", entry["peak_rss_mb"] <= 200)]
    out["memory"] = entry
    report("memory (careledger import)", entry, "memory")


def projections(args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Rebuild every read model: as `projections rebuild` does (a worker process per core from
    20,000 events), and in one process (`--workers 1`), back to back in each repeat."""
    backends: list[tuple[str, Any, str]] = [("sqlite", scratch_sqlite, ">= 20,000 events/s (issue 18)")]
    if args.postgres:
        backends.append(
            ("postgres", lambda prefix="": scratch_postgres(args.postgres), ">= 12,000 events/s (issue 18)")
        )
    for name, scratch, target in backends:
        with scratch("rebuild") as db:
            cases.ingest_careledger(db, command_file(args.ingest))
            runs, alone = [], []
            for _ in range(args.repeat):
                runs.append(cases.rebuild(db))
                alone.append(cases.rebuild(db, workers=1))
        rate = median_of([r["events_per_second"] for r in runs])
        one = median_of([r["events_per_second"] for r in alone])
        entry = {
            "events": runs[0]["events"],
            "workers": runs[0]["workers"],
            "events_per_second": rate,
            "one_process_events_per_second": one,
            "workers_to_one_process": rate / one,
            "runs": runs,
            "one_process_runs": alone,
        }
        minimum = 20_000 if name == "sqlite" else 12_000
        entry["checks"] = [check(target, rate >= minimum)]
        out[f"rebuild_{name}"] = entry
        report(f"rebuild {name}", entry, f"rebuild_{name}")
    path = big_store(args)
    if path.exists():
        big = cases.rebuild(str(path))
        big["checks"] = [check("< 60 s (issue 18)", big["seconds"] < 60)]
        out["rebuild_large"] = big
        report(f"rebuild {args.size:,} events", big, "rebuild_large")


def cli(args: argparse.Namespace, out: dict[str, Any]) -> None:
    small, small_prefix = small_store()
    path = big_store(args)
    if not path.exists():
        out["cli"] = {"skipped": f"no large store at {path}: run the memory case first"}
        return
    prefix = prefix_of(command_file(args.size).path)
    large = processes.cli_latency(str(path), prefix, args.cli_repeat)
    tiny = processes.cli_latency(str(small), small_prefix, args.cli_repeat)
    entry: dict[str, Any] = {
        "large_store_events": args.size,
        "large": large,
        "small_store_events": 10_000,
        "small": tiny,
    }
    ratios = {
        name: large[name]["command_ms"] / tiny[name]["command_ms"] for name in ("episode show", "timeline")
    }
    entry["ratio_large_to_small"] = ratios
    entry["checks"] = [
        check("--help <= 300 ms", large["--help"]["command_ms"] <= 300),
        check("episode show <= 350 ms (issue 18)", large["episode show"]["command_ms"] <= 350),
        check("timeline <= 350 ms (issue 18)", large["timeline"]["command_ms"] <= 350),
        check("query on large store <= 1.3x small", max(ratios.values()) <= 1.3),
    ]
    out["cli"] = entry
    report("cli latency", entry, "cli")


def audit(args: argparse.Namespace, out: dict[str, Any]) -> None:
    with scratch_sqlite("audit") as db:
        out["audit_as_of"] = cases.audit_as_of(db, 200, args.replay_repeat * 5)
    report("audit --as-of (200 visits)", out["audit_as_of"], "audit_as_of")
    path = big_store(args)
    if path.exists():
        out["verify_large"] = cases.verify_store(str(path))
        report(f"verify {args.size:,} events", out["verify_large"], "verify_large")


def service(args: argparse.Namespace, out: dict[str, Any]) -> None:
    from benchmarks.service import in_process_rate, service_figures

    clients, visits = (4, 25) if args.quick else (8, 150)
    name = "postgres" if args.postgres else "sqlite"
    scratch = (lambda prefix="": scratch_postgres(args.postgres)) if args.postgres else scratch_sqlite
    # Each repeat measures the service and then the in-process rate on a fresh store, back to back;
    # the run with the median ratio is reported (the machine's load moves both rates run to run).
    runs = []
    for _ in range(args.repeat):
        with scratch("service") as db:
            run = service_figures(db, clients, visits, workers=2)
        with scratch("in-process") as db:
            run["in_process_commands_per_second"] = in_process_rate(db, clients, visits)
        run["ratio"] = run["commands_per_second"] / run["in_process_commands_per_second"]
        runs.append(run)
    runs.sort(key=lambda run: run["ratio"])
    entry = dict(runs[len(runs) // 2])
    entry["runs"] = [{"ratio": r["ratio"], "get_episode_p95_ms": r["get_episode"]["p95_ms"]} for r in runs]
    entry["backend"] = name
    entry["checks"] = [
        check("no failed request", entry["failures"] == 0),
        check("service >= 0.6x in-process command rate", entry["ratio"] >= 0.6),
        check("GET /episodes/{id} p95 <= 25 ms", entry["get_episode"]["p95_ms"] <= 25),
    ]
    out["service"] = entry
    report(f"service ({name}, {clients} clients, 2 workers)", entry, "service")


def remit(args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Import an 835 of 10,000 service lines (pyx12 validation, matching, events); then re-import it."""
    from benchmarks.remit import import_figures

    lines, episodes = (1_000, 120) if args.quick else (10_000, 1_200)
    with scratch_sqlite("remit") as db:
        entry = import_figures(db, lines, episodes)
    entry["checks"] = [
        check(f"{lines:,}-line 835 imports in < 20 s", entry["import_s"] < 20),
        check("re-import records nothing", entry["reimport_applied"] == 0),
    ]
    out["remit"] = entry
    report(f"import 835 ({lines:,} lines)", entry, "remit")


def follower(args: argparse.Namespace, out: dict[str, Any]) -> None:
    """A live `careledger projections run`: a recorded visit to its findings row (benchmarks/follower.py)."""
    import tempfile

    from benchmarks.follower import follower_figures

    rate = 50.0
    seconds, store_commands = (5.0, 2_000) if args.quick else (30.0, 5_000)
    name = "postgres" if args.postgres else "sqlite"
    scratch = (lambda prefix="": scratch_postgres(args.postgres)) if args.postgres else scratch_sqlite
    workload = command_file(store_commands)
    # Each repeat on a fresh store with a fresh follower; the run with the median p95 is reported
    # (the machine's load moves the tail most), with every run's p95 beside it.
    runs = []
    for _ in range(args.repeat):
        with scratch("follower") as db, tempfile.TemporaryDirectory(prefix="follower-", dir=WORK_DIR) as logs:
            runs.append(
                follower_figures(
                    db,
                    workload.path,
                    rate=rate,
                    seconds=seconds,
                    episodes=max(10, round(rate * seconds) // 10),
                    log=Path(logs) / "follower.log",
                )
            )
    runs.sort(key=lambda run: float(run["latency"].get("p95_ms", float("inf"))))
    entry = dict(runs[len(runs) // 2])
    entry["p95_ms_of_each_run"] = [round(float(r["latency"].get("p95_ms", float("inf"))), 1) for r in runs]
    entry["runs"] = [
        {**r["latency"], "load_average_1m_at_start": r["load_average_1m_at_start"]} for r in runs
    ]
    latency = entry["latency"]
    target = f"p95 <= 150 ms at {rate:g} visits/s (issue 18{'' if args.postgres else ', set for PostgreSQL'})"
    entry["checks"] = [
        check(target, latency.get("p95_ms", float("inf")) <= 150),
        check(f"achieved >= {0.9 * rate:g} visits/s", entry["visits_per_second"] >= 0.9 * rate),
        check("every visit reached its findings rows", entry["check_visit_rows"] == entry["visits_sent"]),
    ]
    out["follower"] = entry
    report(f"live follower ({name}, {rate:g} visits/s for {seconds:g} s)", entry, "follower")


# The committed results (benchmarks/results.json as it was when the run started): each figure is
# printed beside the one it replaces, so a run shows before and after (issue 18).
PREVIOUS: dict[str, Any] = {}


def report(name: str, entry: dict[str, Any], key: str | None = None) -> None:
    flat = {k: v for k, v in entry.items() if k not in ("runs", "checks") and not isinstance(v, dict)}
    nested = {k: v for k, v in entry.items() if isinstance(v, dict)}
    before = PREVIOUS.get(key, {}) if key else {}
    print(f"\n== {name}" + ("   (previous: benchmarks/results.json of the last full run)" if before else ""))
    for field, value in {**flat, **nested}.items():
        old = before.get(field) if isinstance(before, dict) else None
        print(f"   {field:32} {fmt(value)}" + (f"   (previous {fmt(old)})" if old is not None else ""))
    for item in entry.get("checks", []):
        print(f"   {'MET ' if item['met'] else 'MISS'} {item['target']}")
    sys.stdout.flush()


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict):
        return "  ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line; a --quick run writes beside its stores, not over results.json."""
    parser = argparse.ArgumentParser(description="careledger benchmarks")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, default=int(os.environ.get("SIZE", 1_000_000)))
    parser.add_argument("--ingest", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CARELEDGER_BENCH_POSTGRES") or os.environ.get("CARELEDGER_TEST_POSTGRES"),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.output is None:
        # A smoke run's small sizes are not the figures docs/scaling.md quotes: it never
        # replaces the committed results.json unless --output names it.
        args.output = WORK_DIR / "results-quick.json" if args.quick else RESULTS
    if args.quick:
        args.size, args.ingest, args.repeat = min(args.size, 20_000), min(args.ingest, 5_000), 1
    if args.no_postgres:
        args.postgres = None
    args.replay_repeat = 5 if args.quick else 20
    args.cli_repeat = 1 if args.quick else 5
    args.chosen = [c for c in args.only.split(",") if c]
    unknown = set(args.chosen) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))} (known: {', '.join(CASES)})")
    return args


def main() -> None:
    args = options()
    chosen = args.chosen
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if RESULTS.exists():
        PREVIOUS.update(json.loads(RESULTS.read_text()))
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "settings": {
            "size": args.size,
            "ingest": args.ingest,
            "repeat": args.repeat,
            "postgres": bool(args.postgres),
            "work_dir": str(WORK_DIR),
            "command": " ".join(sys.argv),
        },
    }
    if set(chosen) != set(CASES) and args.output.exists():
        # A partial run updates the cases it ran and keeps the others of the last run.
        previous = json.loads(args.output.read_text())
        meta = {"started", "machine", "settings", "seconds", "targets_met", "targets", "partial_runs"}
        kept = {k: v for k, v in previous.items() if k not in meta}
        runs = [*previous.get("partial_runs", []), " ".join(sys.argv)]
        results = {**kept, **results, "previous_settings": previous.get("settings"), "partial_runs": runs}
    started = time.perf_counter()
    for name in CASES:  # fixed order: memory builds the large store the later cases read
        if name in chosen:
            {
                "ingest": ingest,
                "reimport": reimport,
                "replay": replay,
                "projections": projections,
                "memory": memory,
                "cli": cli,
                "audit": audit,
                "service": service,
                "remit": remit,
                "follower": follower,
            }[name](args, results)
    results["seconds"] = time.perf_counter() - started
    checks = [
        (case, c)
        for case, entry in results.items()
        if isinstance(entry, dict)
        for c in entry.get("checks", [])
    ]
    results["targets_met"] = sum(c["met"] for _, c in checks)
    results["targets"] = len(checks)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(
        f"\n{results['targets_met']} of {len(checks)} targets met "
        f"in {results['seconds']:.0f} s; wrote {args.output}"
    )
    for case, item in checks:
        print(f"  {'MET ' if item['met'] else 'MISS'} {case}: {item['target']}")
    shutil.rmtree(WORK_DIR / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
