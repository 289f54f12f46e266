"""The benchmark workload: the demo generator's synthetic clinic as a JSON Lines command file.

`command_file(events)` writes (once, then reuses) a file of about `events`
commands drawn from `domain.demo.synthetic_clinic`, whole episodes only, each
episode's commands in order. Every command becomes one event when imported.
Files and stores live under the work directory (default /tmp/careledger-bench),
never in the repository.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.demo import synthetic_clinic
from domain.episode.application import derived_episode_id

WORK_DIR = Path(os.environ.get("CARELEDGER_BENCH_DIR", "/tmp/careledger-bench"))
SEED = 7


@dataclass(frozen=True)
class Workload:
    """A command file and what it holds."""

    path: Path
    commands: int
    episodes: int


def _episode_of(command: Any) -> uuid.UUID:
    return getattr(command, "episode_id", None) or derived_episode_id(command.command_id)


def generator_fingerprint() -> str:
    """Return a short hash of the demo generator's source, so a changed template makes a new workload."""
    import hashlib

    import domain.demo

    digest = hashlib.sha256()
    for source in sorted(Path(domain.demo.__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:10]


def command_file(events: int, seed: int = SEED, work_dir: Path = WORK_DIR) -> Workload:
    """Return a JSON Lines file of about `events` synthetic commands (whole episodes), writing it once.

    The file name carries the generator's fingerprint: a file written by an older
    version of the demo templates is never reused.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"clinic-{events}-{seed}-{generator_fingerprint()}.jsonl"
    meta = path.with_suffix(".count")
    if path.exists() and meta.exists():
        commands, episodes = (int(x) for x in meta.read_text().split())
        return Workload(path, commands, episodes)
    partial = path.with_suffix(".partial")
    commands = episodes = 0
    current: uuid.UUID | None = None
    with partial.open("wb") as out:
        for recorded in synthetic_clinic(10**9, seed=seed):
            episode = _episode_of(recorded.command)
            if episode != current:
                if commands >= events:
                    break
                current, episodes = episode, episodes + 1
            out.write(recorded.command.model_dump_json(exclude_none=True).encode() + b"\n")
            commands += 1
    partial.rename(path)
    meta.write_text(f"{commands} {episodes}")
    return Workload(path, commands, episodes)


def read_stream(path: Path, limit: int | None = None) -> Iterator[bytes]:
    """Yield the lines of a command file (the first `limit` only, if given)."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines):
            if limit is not None and number >= limit:
                return
            yield line


@contextmanager
def scratch_sqlite(prefix: str = "store") -> Iterator[str]:
    """Yield a fresh SQLite path in a temporary directory under the work dir; remove it afterwards."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    directory = tempfile.mkdtemp(prefix=f"{prefix}-", dir=WORK_DIR)
    try:
        yield str(Path(directory) / "careledger.db")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def scratch_postgres(base: str) -> Iterator[str]:
    """Yield a URL of a fresh PostgreSQL schema created for the run; drop that schema afterwards."""
    from projections.store.root import connect_postgres, parse_location

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}schema={schema}"
    finally:
        with connect_postgres(parse_location(base)) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def open_command(episode_id: uuid.UUID, patient_ref: str, start_date: str) -> dict[str, Any]:
    """An open_episode command document: a PT knee episode, Medicare (recorded by "bench")."""
    return {
        "command": "open_episode",
        "command_id": str(uuid.uuid4()),
        "recorded_by": "bench",
        "episode_id": str(episode_id),
        "patient_ref": patient_ref,
        "discipline": "PT",
        "payer": {"payer_id": "medicare"},
        "diagnoses": [{"code": "M17.11"}],
        "start_date": start_date,
    }


def visit_command(episode_id: uuid.UUID, date_of_service: str, **fields: Any) -> dict[str, Any]:
    """A record_visit command document without its author (the service takes it from the token)."""
    return {
        "command": "record_visit",
        "command_id": str(uuid.uuid4()),
        "episode_id": str(episode_id),
        "date_of_service": date_of_service,
        "provider_id": "pt-1",
        "credential": "PT",
        "service_lines": [{"code": "97110", "minutes": 38}],
        "total_treatment_minutes": 38,
        "necessity": "Knee flexion 95 degrees limits stairs after TKA.",
        "patient_response": "Tolerated well.",
        "skilled_interventions": ["cues for VMO activation"],
        **fields,
    }
