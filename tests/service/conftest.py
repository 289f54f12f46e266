"""A real careledger service per test module: `careledger serve` (uvicorn) on a free loopback port.

The store is the demo clinic, on SQLite and on PostgreSQL (a fresh schema), with
one token per role. Requests go over HTTP with httpx, as a backend would send them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from domain.demo import demo_episode_ids
from domain.episode.roles import Role
from projections.store.root import open_store
from tests.conftest import BACKENDS, fresh_store_url

ROOT = Path(__file__).resolve().parents[2]
KNEE = str(demo_episode_ids()["knee"])
SHOULDER = str(demo_episode_ids()["shoulder"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_demo(db: str) -> None:
    from cli.demo import demo

    demo(db=db, replace=False, quiet=True)


@dataclass
class Server:
    """A running service: its URL, its store, a token per role, and its process."""

    url: str
    db: str
    tokens: dict[Role, str]
    process: subprocess.Popen[bytes]
    log: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: Role | None = Role.ADMIN, token: str | None = None) -> httpx.Client:
        """Return an HTTP client sending a role's token (or a given one, or none)."""
        headers = {}
        if token is not None or role is not None:
            headers["Authorization"] = f"Bearer {token if token is not None else self.tokens[role]}"  # type: ignore[index]
        made = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self.clients.append(made)
        return made

    def stop(self) -> int:
        """Stop the server as an orchestrator would (SIGTERM) and return its exit code."""
        for made in self.clients:
            made.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(db: str, directory: Path, *options: str) -> Server:
    """Start `careledger serve` on the store and wait until it answers /healthz."""
    tokens = {}
    with open_store(db) as store:
        for role in Role:
            tokens[role] = store.tokens.create(f"{role.value}-1", role.value)
    port = free_port()
    log = directory / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--db", db, "--port", str(port), *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, db, tokens, process, log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not answer within 60 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo clinic served over HTTP for one test module, on each backend."""
    directory = tmp_path_factory.mktemp("service")
    with fresh_store_url(request.param, directory) as db:
        build_demo(db)
        running = start_server(db, directory, "--timeout", "4")
        try:
            yield running
        finally:
            running.stop()
