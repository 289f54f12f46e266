"""`careledger projections ...`: where the read models stand, rebuild them, follow the log."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from cli.common import DbOption, JsonOption, emit_json, is_terminal, new_app, open_db

# Every registered projection (projections.views.registry.PROJECTIONS; a test keeps them in step),
# named here so `--help` does not import the read models.
NAMES = "timeline, progression, outcomes, continuity, summary, findings"

app = new_app(
    f"The read models ({NAMES}): their position in the event log, rebuilding them, "
    "and following the log live."
)

BAR_THRESHOLD = 2000


@contextmanager
def progress_bar(description: str, *, force: bool = False) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a progress callback drawing a bar on stderr (a terminal only), or None elsewhere."""
    if not is_terminal():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    state: dict[str, Any] = {}

    def advance(position: int, target: int) -> None:
        if "task" not in state:
            state["start"] = position
            if not force and target - position < BAR_THRESHOLD:
                state["task"] = None
                return
            bar.start()
            state["task"] = bar.add_task(description, total=target)
        if state["task"] is not None:
            bar.update(state["task"], completed=position, total=target)

    try:
        yield advance
    finally:
        if state.get("task") is not None:
            bar.stop()


@app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show each projection's position in the event log and how far behind it is.

    Example: careledger projections status
    """
    from projections.views.projector import Projector

    with open_db(db) as store:
        projector = Projector(store)
        try:
            rows = [s.as_dict() for s in projector.status()]
        finally:
            projector.close()
    if as_json:
        emit_json(rows)
        return
    from cli.render import table

    head = rows[0]["log_position"] if rows else 0
    table(
        ["projection", "version", "position", "lag"],
        [[r["name"], str(r["version"]), str(r["position"]), str(r["lag"])] for r in rows],
        title=f"event log: last notification id {head}",
    )


@app.command("rebuild")
def rebuild(
    name: Annotated[
        str | None,
        typer.Argument(help=f"One projection to rebuild: {NAMES}."),
    ] = None,
    db: DbOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes deriving the rows, each a share of the episodes (default: one per core "
            "from 20,000 events, or CARELEDGER_REBUILD_WORKERS; 1: this process only).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Drop a projection's tables (all of them by default) and rebuild them from the event log.

    Example: careledger projections rebuild findings
    """
    from projections.views.parallel import rebuild as rebuild_all
    from projections.views.projector import Projector
    from projections.views.registry import projection

    names = [projection(name).name] if name else []
    with open_db(db) as store:
        projector = Projector(store)
        try:
            started = time.perf_counter()
            with progress_bar(f"rebuilding {name or 'all projections'}", force=True) as advance:
                events = rebuild_all(projector, names, progress=advance, workers=workers)
            seconds = time.perf_counter() - started
        finally:
            projector.close()
    rate = events / seconds if seconds > 0 else 0.0
    rebuilt = names or [p.name for p in projector.projections]
    result = {
        "rebuilt": rebuilt,
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_second": round(rate),
    }
    if as_json:
        emit_json(result)
        return
    typer.echo(f"rebuilt {', '.join(rebuilt)}: {events} events in {seconds:.2f} s ({rate:,.0f} events/s)")


@app.command("run")
def run(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="Catch up to the end of the log and exit.")] = False,
    interval: Annotated[
        float,
        typer.Option(min=0.05, help="SQLite only: seconds between looks at the log (it cannot push)."),
    ] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing while following.")] = False,
) -> None:
    """Follow the event log and keep every projection up to date until interrupted (Ctrl-C).

    On PostgreSQL the log is followed live (LISTEN/NOTIFY); on SQLite it is polled.

    Example: careledger projections run --db postgresql://app@db/careledger
    """
    import threading

    from projections.views.projector import Projector
    from projections.views.runner import follow

    with open_db(db) as store:
        projector = Projector(store)
        stop = threading.Event()
        import signal

        # From the start: a SIGTERM while catching up stops once the catch-up is done, cleanly.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            with progress_bar("catching up") as advance:
                caught = projector.catch_up(progress=advance)
            if not quiet:
                typer.echo(
                    f"caught up: {caught} events applied, position {projector.log_position()}", err=True
                )
            if once:
                return
            if not quiet:
                how = "live" if store.location.kind == "postgres" else f"every {interval:g} s"
                typer.echo(f"following {store.location.display} ({how}); Ctrl-C to stop", err=True)

            def report(count: int, position: int) -> None:
                if not quiet:
                    typer.echo(f"applied {count} events, position {position}", err=True)

            if stop.is_set():
                return
            try:
                follow(projector, stop, interval=interval, on_applied=report)
            except KeyboardInterrupt:
                stop.set()
                sys.stderr.write("stopped\n")
        finally:
            projector.close()
