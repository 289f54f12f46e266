"""`careledger demo`: build the demo clinic in a fresh store and report on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            help="Where to build the demo store (a new SQLite file or an empty PostgreSQL database).",
        ),
    ] = "demo.db",
    replace: Annotated[bool, typer.Option("--replace", help="Delete an existing demo file first.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Build only; print no report.")] = False,
) -> None:
    """Build a realistic demo clinic (four episodes, fixed seed) and print the knee episode."""
    from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
    from domain.errors import InvalidInput
    from projections.store.root import Store, parse_location

    location = parse_location(db)
    if location.kind == "sqlite" and location.path is not None and location.path.exists():
        if not replace:
            raise InvalidInput(
                "db", f"{location.display} already exists; pass --replace or choose another path"
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{location.path}{suffix}").unlink(missing_ok=True)
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    with Store(location, create=True, clock=clock) as store:
        if (store.app.recorder.max_notification_id() or 0) > 0:
            raise InvalidInput("db", f"{location.display} is not empty; the demo needs a fresh store")
        for item in recorded:
            clock.now = item.at
            store.app.handle(item.command)
        ids = demo_episode_ids()
        typer.echo(f"demo clinic built in {location.display}: {len(recorded)} commands, {len(ids)} episodes")
        for name, episode_id in ids.items():
            typer.echo(f"  {name:9} {episode_id}")
        if not quiet:
            from cli.render import episode_report

            typer.echo("")
            episode_report(store.app.get_episode(ids["knee"]))
