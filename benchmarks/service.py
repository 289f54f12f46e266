"""The `service` case: concurrent HTTP clients against `careledger serve`, next to `Episodes.handle`.

Each client has its own episode (so the figures measure the service, not clients
racing for one episode), records R visits through POST /commands, then reads its
episode R times through GET /episodes/{id}. The same commands are applied
in-process, one after another, on a fresh store of the same backend: the ratio of
the two command rates is what HTTP, JSON, authentication and the access log cost.
Loopback only; the clients are bounded threads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx

from benchmarks.workload import open_command, visit_command

ROOT = Path(__file__).resolve().parents[1]


def _open(episode_id: uuid.UUID) -> dict[str, Any]:
    return open_command(episode_id, f"MRN-{episode_id.hex[:8]}", "2026-01-05")


def _visit(episode_id: uuid.UUID, number: int) -> dict[str, Any]:
    return visit_command(episode_id, (dt.date(2026, 1, 6) + dt.timedelta(days=number)).isoformat())


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"p50_ms": cut[49] * 1000, "p95_ms": cut[94] * 1000, "p99_ms": cut[98] * 1000}


def in_process_rate(db: str, clients: int, visits: int) -> float:
    """Return commands per second of `Episodes.handle`, one after another, on the same workload."""
    from domain.episode.commands import parse_command
    from projections.store.root import open_store

    with open_store(db) as store:
        episodes = [uuid.uuid4() for _ in range(clients)]
        for episode_id in episodes:
            store.app.handle(parse_command(_open(episode_id)))
        commands = [
            parse_command({**_visit(e, n), "recorded_by": "bench"}) for n in range(visits) for e in episodes
        ]
        began = time.perf_counter()
        for command in commands:
            store.app.handle(command)
        return len(commands) / (time.perf_counter() - began)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_figures(db: str, clients: int, visits: int, workers: int) -> dict[str, Any]:
    """Run the clients against a server on `db`; return rates and latency percentiles."""
    from domain.episode.commands import parse_command
    from projections.store.root import open_store

    episodes = [uuid.uuid4() for _ in range(clients)]
    with open_store(db) as store:
        token = store.tokens.create("bench", "service")
        for episode_id in episodes:
            store.app.handle(parse_command(_open(episode_id)))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--db", db, "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        write_headers = {**headers, "Content-Type": "application/json"}
        writes: list[float] = []
        reads: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(episode_id: uuid.UUID, phase: str) -> None:
            # The standard library's client on one kept-alive connection: the load generator shares
            # the machine's cores with the server, so it should cost as little CPU as it can.
            http = HTTPConnection("127.0.0.1", port, timeout=60)
            mine: list[float] = []
            try:
                for number in range(visits):
                    body = json.dumps(_visit(episode_id, number)).encode() if phase == "write" else None
                    began = time.perf_counter()
                    if phase == "write":
                        http.request("POST", "/commands", body=body, headers=write_headers)
                    else:
                        http.request("GET", f"/episodes/{episode_id}", headers=headers)
                    answer = http.getresponse()
                    answer.read()
                    mine.append(time.perf_counter() - began)
                    if answer.status != (201 if phase == "write" else 200):
                        failures.append(f"{phase} {answer.status}")
            finally:
                http.close()
            with lock:
                (writes if phase == "write" else reads).extend(mine)

        seconds = {}
        for phase in ("write", "read"):
            threads = [threading.Thread(target=client, args=(e, phase)) for e in episodes]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds[phase] = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = clients * visits
    return {
        "clients": clients,
        "workers": workers,
        "requests_per_phase": total,
        "failures": len(failures),
        "commands_per_second": total / seconds["write"],
        "reads_per_second": total / seconds["read"],
        "post_commands": _percentiles(writes),
        "get_episode": _percentiles(reads),
    }
