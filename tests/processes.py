"""Helpers for tests that run careledger in real processes: command files, waiting, comparing stores."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.demo import synthetic_clinic
from domain.episode.application import derived_episode_id
from projections.store.root import Store, parse_location

ROOT = Path(__file__).resolve().parents[1]
# Recorded times differ between two imports of the same file; everything else must not.
TIMES = {"recorded_at", "created_on", "modified_on"}


def episode_of(command: Any) -> UUID:
    """The episode a command belongs to."""
    return getattr(command, "episode_id", None) or derived_episode_id(command.command_id)


def write_clinic(path: Path, episodes: int, seed: int) -> list[bytes]:
    """Write a synthetic clinic's commands as JSON Lines; return the lines."""
    lines = [
        r.command.model_dump_json(exclude_none=True).encode() + b"\n"
        for r in synthetic_clinic(episodes, seed=seed)
    ]
    path.write_bytes(b"".join(lines))
    return lines


def careledger_process(
    *args: str, env: dict[str, str] | None = None, pipe_stdin: bool = False
) -> subprocess.Popen[bytes]:
    """Start `careledger ARGS...` as a process (stdout and stderr piped, stdin too if asked)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        stdin=subprocess.PIPE if pipe_stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        cwd=ROOT,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, step: float = 0.02) -> bool:
    """Poll until the condition holds; return whether it did before the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def log_length(db_url: str) -> int:
    """Return the id of the last notification in a store's log (0 if there is none yet)."""
    from tests.tamper import RawStore

    raw = RawStore(db_url)
    try:
        column = "rowid" if raw.location.kind == "sqlite" else "notification_id"
        return int(raw.run(f"SELECT COALESCE(MAX({column}), 0) FROM {raw.events}")[0][0])
    except Exception:  # the tables may not exist yet
        return 0


def without_times(value: Any) -> Any:
    """Return JSON-ready values with every recorded time left out."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def store_contents(db_url: str) -> dict[str, Any]:
    """Each episode's events (version, type, command id) and state without recorded times."""
    with Store(parse_location(db_url)) as store:
        app = store.app
        out: dict[str, Any] = {}
        for episode_id in app.episode_ids():
            events = [
                (e.originator_version, type(e).__name__, str(e.command_id)) for e in app.history(episode_id)
            ]
            out[str(episode_id)] = {
                "events": events,
                "state": without_times(app.get_episode(episode_id).as_dict()),
            }
        return out


def duplicated_commands(contents: dict[str, Any]) -> list[str]:
    """Return the command ids stored more than once."""
    seen: set[str] = set()
    twice: list[str] = []
    for episode in contents.values():
        for _, _, command_id in episode["events"]:
            if command_id in seen:
                twice.append(command_id)
            seen.add(command_id)
    return twice


def command_ids(lines: Iterable[bytes]) -> set[str]:
    """Return the command ids of JSON Lines."""
    import orjson

    return {str(orjson.loads(line)["command_id"]) for line in lines}


class TcpProxy:
    """A TCP proxy in front of the database server that the test can cut, as if the server went away."""

    def __init__(self, host: str, port: int) -> None:
        import socket
        import threading

        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[Any] = []
        self.lock = threading.Lock()
        self.cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while not self.cut:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.close()

    def kill(self) -> None:
        """Close the listening socket and every connection through the proxy."""
        import socket

        self.cut = True
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                    end.close()
                except OSError:
                    pass
