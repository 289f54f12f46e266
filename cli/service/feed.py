"""GET /events: the notification log in order, with a cursor, for downstream consumers.

A consumer keeps the `position` of the last event it has processed (in its own
store, in the transaction that processes the event) and asks for `after` that
position; after a crash it resumes from what it kept, so each event is processed
once. `wait` holds the request open (long-poll) until an event arrives or the
seconds pass.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cli.service.auth import Caller, require, service_of
from cli.service.problems import COMMON
from cli.service.reads import json_response
from domain.clinic.aggregate import CLINIC_TOPICS
from domain.episode.roles import Capability
from domain.errors import StoreUnavailable

router = APIRouter(tags=["events"])
FEED = require(Capability.FEED)
POLL = 0.2


def _page(request: Request, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Return the episode events of one page and the position of the last notification read (the
    clinic's identity facts are not episode events: they are read past, and the cursor moves on)."""
    from eventsourcing.persistence import PersistenceError

    app = service_of(request).store.app
    try:
        notifications = app.recorder.select_notifications(after + 1, limit)
    except PersistenceError as exc:
        raise StoreUnavailable(f"database: {exc}") from exc
    items = []
    for notification in notifications:
        if notification.topic.startswith(CLINIC_TOPICS):
            continue
        event: Any = app.mapper.to_domain_event(notification)
        items.append(
            {
                "position": notification.id,
                "episode_id": str(notification.originator_id),
                "version": notification.originator_version,
                "type": type(event).__name__,
                "topic": notification.topic,
                "recorded_at": event.timestamp.isoformat(),
                "recorded_by": getattr(event, "recorded_by", None),
                "fields": event.payload() if hasattr(event, "payload") else {},
            }
        )
    return items, (notifications[-1].id if notifications else after)


@router.get("/events", responses=COMMON, summary="The event feed")
async def events(
    request: Request,
    after: int = Query(0, ge=0, le=2**62, description="The position of the last event you processed"),
    limit: int = Query(100, ge=1, le=1000),
    wait: float = Query(0, ge=0, le=25, description="Seconds to wait for an event when there is none"),
    caller: Caller = Depends(FEED),
) -> Response:
    """Events after a position, oldest first, and the cursor to ask for next."""
    store = service_of(request).store

    def log() -> None:
        with store.acting(caller.actor):
            store.log_read("events", None)

    await run_in_threadpool(log)
    deadline = time.monotonic() + wait
    items, cursor = await run_in_threadpool(_page, request, after, limit)
    while not items and time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(POLL)
        items, cursor = await run_in_threadpool(_page, request, cursor, limit)
    return json_response({"events": items, "next_after": cursor})
