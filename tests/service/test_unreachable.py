"""When the database goes away under a running service: 503 with Retry-After, no driver text, and back after.

The service reaches PostgreSQL through a TCP relay the test owns; cutting the
relay is the network failing between the two (real connections, really dropped).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from domain.episode.roles import Role
from tests.conftest import fresh_store_url
from tests.service.conftest import KNEE, build_demo, start_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Relay:
    """Forward a local port to the database, until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.cut_off = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut_off.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self.cut_off.set()
        self.listener.close()
        for conn in self.open:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


@pytest.fixture
def relayed(tmp_path: Path) -> Iterator[tuple[str, Relay]]:
    with fresh_store_url("postgres", tmp_path) as db:
        build_demo(db)
        parts = urlsplit(db)
        relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
        netloc = parts.netloc.replace(f":{parts.port or 5432}", f":{relay.port}")
        query = f"{parts.query}&connect_timeout=1"
        yield urlunsplit((parts.scheme, netloc, parts.path, query, "")), relay
        relay.cut()


def test_a_database_that_goes_away_is_503_with_retry_after_and_no_driver_text(
    relayed: tuple[str, Relay], tmp_path: Path
) -> None:
    db, relay = relayed
    server = start_server(db, tmp_path, "--timeout", "25")
    try:
        client = server.client(Role.ADMIN)
        assert client.get(f"/episodes/{KNEE}").status_code == 200
        relay.cut()
        answers = [
            client.get(f"/episodes/{KNEE}"),
            client.post("/commands", json={"command": "hold_episode"}),
        ]
        health = client.get("/healthz")
        ready = client.get("/readyz")
    finally:
        server.stop()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"].isdigit()
        assert answer.json()["detail"] == "the store cannot be reached; try again"
        assert "psycopg" not in answer.text and "127.0.0.1" not in answer.text
    assert health.status_code == 200 and ready.status_code == 503
    log = server.log.read_text()
    assert "Traceback" not in log and "couldn't get a connection" not in log and "psycopg" not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("route") == "/episodes/{episode_id}" and line["status"] == 503 for line in lines)
