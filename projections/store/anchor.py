"""Anchoring the chain: each committed write appends its episodes' heads to a log outside the store.

With `CARELEDGER_ANCHOR_DIR` set, a store appends one JSON line to
`DIR/heads-<store>.jsonl` after every committed write (a command, an import
batch, a FHIR import, a Python caller's `handle`): the new head (version and
chain hash) of each episode it wrote. The log is opened append-only, created
0600, never through a symlink (O_NOFOLLOW). `verify` reads it by default;
`verify --anchor FILE` takes such a log or a heads file printed by
`verify --head`. Keep the directory where the store's writers cannot rewrite
it (another account, `chattr +a`, a log shipper): see docs/audit.md.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from domain.errors import InvalidInput, StoreUnavailable
from projections.store.chain import Heads
from projections.store.verify import Head

HEADS_FORMAT = "careledger-heads/1"
ENV_ANCHOR_DIR = "CARELEDGER_ANCHOR_DIR"

Anchors = dict[UUID, list[Head]]


def log_name(display: str, path: Path | None) -> str:
    """Return the anchor log's file name for a store: its name and a digest of where it is."""
    where = str(path.resolve()) if path is not None else display
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", path.name if path is not None else display.rsplit("/", 1)[-1])
    return f"heads-{stem[:60]}-{hashlib.sha256(where.encode()).hexdigest()[:12]}.jsonl"


def anchor_dir() -> Path | None:
    """Return the directory named by CARELEDGER_ANCHOR_DIR, if set."""
    text = os.environ.get(ENV_ANCHOR_DIR, "").strip()
    return Path(text).expanduser() if text else None


def head_document(display: str, heads: Sequence[Head]) -> dict[str, Any]:
    """Return the JSON document of some heads (a line of the log, or a `verify --head` file)."""
    return {
        "format": HEADS_FORMAT,
        "store": display,
        "taken_at": datetime.now(UTC).isoformat(),
        "heads": [h.as_dict() for h in heads],
    }


class AnchorLog:
    """An open anchor log: one JSON line of heads appended per committed write."""

    def __init__(self, directory: Path, display: str, path: Path | None) -> None:
        self.display = display
        self.directory = directory
        self.path = directory / log_name(display, path)
        self._fd: int | None = None  # opened at the first write, so a reader never needs the directory

    def append(self, heads: Heads) -> None:
        """Append the heads of one committed write (one write call, so processes can share the log)."""
        document = head_document(self.display, [Head(e, v, h) for e, v, h in heads])
        try:
            if self._fd is None:
                self.directory.mkdir(mode=0o700, parents=False, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                self._fd = os.open(self.path, flags, 0o600)
            os.write(self._fd, orjson.dumps(document) + b"\n")
        except OSError as exc:
            raise StoreUnavailable(
                f"{ENV_ANCHOR_DIR}: the write was stored but its heads could not be appended to "
                f"{self.path} ({exc.strerror}); run `careledger verify --head` and keep its output"
            ) from exc

    def close(self) -> None:
        """Close the log."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_anchor(path: Path) -> Anchors:
    """Read the heads of an anchor log (JSON lines) or of a heads file printed by `verify --head`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("anchor", f"cannot read {path} ({exc.strerror})") from exc
    try:
        documents = [orjson.loads(data)]
    except orjson.JSONDecodeError:
        documents = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                documents.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise InvalidInput(f"anchor line {number}", f"{path} is not JSON there") from None
    anchors: Anchors = {}
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict) or document.get("format") != HEADS_FORMAT:
            raise InvalidInput(
                "anchor",
                f"{path} is not a heads file printed by `careledger verify --head` nor an anchor log",
            )
        for index, item in enumerate(document.get("heads") or []):
            try:
                episode_id = UUID(item["episode_id"])
                head = Head(episode_id, int(item["version"]), bytes.fromhex(item["chain_hash"]))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput(f"anchor.{number}.heads.{index}", "not a head") from None
            anchors.setdefault(episode_id, []).append(head)
    return anchors


def default_anchor(display: str, path: Path | None) -> Path | None:
    """Return the store's anchor log under CARELEDGER_ANCHOR_DIR, when there is one."""
    directory = anchor_dir()
    if directory is None:
        return None
    log = directory / log_name(display, path)
    return log if log.exists() else None
