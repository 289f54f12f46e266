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


def event_rows(db: Path) -> list[tuple[Any, ...]]:
    """Every stored event row of a SQLite store, bytes included."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT rowid, * FROM stored_events ORDER BY rowid").fetchall()
