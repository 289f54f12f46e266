"""Helpers to run the real `careledger` command in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def careledger(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Any:
    """Run `careledger ARGS...` as a process; return the completed process (text output)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        input=stdin,
        capture_output=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def demo_store(tmp_path_factory: Any, name: str) -> Path:
    """Build the demo clinic with the real command in a fresh directory; return its store."""
    db = Path(tmp_path_factory.mktemp(name)) / "demo.db"
    done = careledger("demo", "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    return db


def event_rows(db: Path | str) -> list[tuple[Any, ...]]:
    """Every stored event row of a store (SQLite file or PostgreSQL schema), bytes included."""
    from tests.tamper import RawStore

    raw = RawStore(str(db))
    if raw.location.kind == "sqlite":
        with sqlite3.connect(str(db)) as conn:
            return conn.execute("SELECT rowid, * FROM stored_events ORDER BY rowid").fetchall()
    rows = raw.run(f"SELECT * FROM {raw.events} ORDER BY notification_id")
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]
