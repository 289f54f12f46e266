"""`careledger packet EPISODE --out DIR|FILE.html`: the payer packet of an episode, as one HTML file.

The packet answers a payer's additional-documentation request: summary, clinic and
providers, plan and certifications, every visit note with the units billed, amendments,
the hash-chain verification and charts, self-contained and made to print; no finding
and no command (those are `careledger review`'s) (docs/packet.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    AsOfOption,
    DbOption,
    EpisodeArg,
    JsonOption,
    emit_json,
    open_db,
    parse_moment,
    resolve_episode,
    write_private,
)


def packet(
    episode: EpisodeArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="A FILE.html to write, or a directory (created if missing) "
            "to write packet-EPISODE.html in (0600; never through a planted link).",
            show_default=False,
        ),
    ],
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the payer packet of an episode: one self-contained HTML file with charts, ready to print.

    Example: careledger packet 94ec --out packets/
    """
    from domain.errors import InvalidInput
    from projections.interop.packet import build_packet, packet_path

    with open_db(db) as store:
        episode_id = resolve_episode(store, episode)
        at = parse_moment("as_of", as_of, store.timezone) if as_of is not None else None
        store.log_read("packet", episode_id)
        html = build_packet(store, episode_id, at)
    if out.suffix.lower() not in (".html", ".htm") and not out.exists():
        try:
            out.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise InvalidInput("out", f"cannot create directory {out} ({exc.strerror})") from exc
    path = packet_path(out, episode_id, at)
    write_private(path, html.encode())
    if as_json:
        emit_json({"episode_id": str(episode_id), "path": str(path), "bytes": len(html.encode())})
    else:
        typer.echo(f"wrote {path} ({len(html.encode()):,} bytes)")
