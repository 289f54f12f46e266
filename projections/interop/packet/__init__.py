"""The payer packet: one self-contained HTML file answering an additional-documentation request.

`build_packet(store, episode_id, as_of=None)` returns the HTML a clinic sends a
payer: the episode summary, the clinic and providers, the plan of care and the
certifications (who signed, when), each visit note with its claim lines and the
units billed (the note's own units beside them where they differ), the amendments
with author and reason, the hash-chain verification, and charts drawn as inline SVG
(outcome scores against the clinically important change, exercise dosage over visits, the certification and
progress-report clocks). No script, no network: inline CSS and SVG, print CSS.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from domain.errors import InvalidInput
from projections.interop.packet import render, sections
from projections.interop.packet.gather import gather

if TYPE_CHECKING:
    from projections.store.root import Store


def build_packet(
    store: Store, episode_id: UUID, as_of: datetime | None = None, now: datetime | None = None
) -> str:
    """Return the packet of an episode (as it stands, or as it stood at recorded time `as_of`) as HTML."""
    data = gather(store, episode_id, as_of, now, findings=False)
    parts = [
        render.summary(data),
        render.identity(data),
        render.plan(data),
        sections.clocks(data),
        sections.outcomes(data),
        sections.exercises(data),
        render.visits(data),
        sections.amendments(data),
        sections.remittances(data),
        sections.integrity(data),
    ]
    return render.document(data, parts)


def packet_path(out: Path, episode_id: UUID, as_of: datetime | None) -> Path:
    """Return where to write: `out` when it names an .html file, else a file named for the episode in it.

    The name never holds the patient reference (it is an identifier, and file
    names end up in listings, backups and mail).
    """
    if out.suffix.lower() in (".html", ".htm"):
        if not out.parent.exists():
            raise InvalidInput("out", f"directory {out.parent} does not exist")
        return out
    if out.exists() and not out.is_dir():
        raise InvalidInput("out", f"{out} is a file but not .html; give a directory or a FILE.html")
    suffix = f"-as-of-{as_of.strftime('%Y%m%dT%H%M')}" if as_of is not None else ""
    return out / f"packet-{episode_id}{suffix}.html"


__all__ = ["build_packet", "packet_path"]
