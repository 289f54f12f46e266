"""`careledger serve`: the HTTP service (docs/service.md), on uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cli.common import DbOption


def _holds_demo(location: str) -> bool:
    """Tell whether a store exists and holds the demo clinic (then --demo serves it as it is)."""
    from domain.demo import demo_episode_ids
    from domain.errors import EpisodeNotFound, StoreUnavailable
    from projections.store.root import open_store

    try:
        with open_store(location, create=False) as store:
            store.app.last_version(demo_episode_ids()["knee"])
    except (EpisodeNotFound, StoreUnavailable):
        return False
    return True


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    follow: Annotated[
        bool,
        typer.Option(help="Keep the read models current in the background (reads catch up anyway)."),
    ] = False,
    max_body: Annotated[
        int, typer.Option(min=1024, help="Largest request body, in bytes (413 past it).")
    ] = 1_000_000,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds a request may take (503 past it).")] = 30.0,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Build the demo clinic in a new --db (or serve it there); print an admin token."
        ),
    ] = False,
) -> None:
    """Serve the HTTP API: commands, reads, checks, bills, audit, exports and the event feed.

    Example: careledger serve --db demo.db --port 8080
    """
    import uvicorn

    from cli.service.config import ServiceConfig
    from cli.service.logs import LOG_CONFIG
    from projections.store.root import parse_location, resolve_db

    location = resolve_db(db)
    if demo:
        from cli.demo import demo as build_demo
        from projections.store.root import open_store

        if not _holds_demo(location):
            build_demo(db=location, replace=False, quiet=True)
        with open_store(location) as store:
            name = "demo-admin"
            known = {t.name for t in store.tokens.list() if t.revoked_at is None}
            if name in known:
                store.tokens.revoke(name)
            token = store.tokens.create(f"{name}-{os.getpid()}" if name in known else name, "admin")
        base = f"http://{host}:{port}"
        typer.echo(f"admin token (shown once): {token}")
        typer.echo(f'  curl -H "Authorization: Bearer {token}" {base}/episodes')
    config = ServiceConfig(db=location, follow=follow, max_body=max_body, timeout=timeout)
    os.environ.update(config.to_env())
    shown = parse_location(location).display  # no password
    plural = "s" if workers != 1 else ""
    typer.echo(
        f"careledger serving {shown} on http://{host}:{port} ({workers} worker{plural}); "
        "OpenAPI at /openapi.json; one JSON line per request on stderr",
        err=True,
    )
    uvicorn.run(
        "cli.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=LOG_CONFIG,
        timeout_graceful_shutdown=30,
        server_header=False,
    )
