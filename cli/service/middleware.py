"""ASGI middleware: the body limit, the time limit, and one JSON log line per request.

The log names the route's template (`/episodes/{episode_id}`), never the path,
the query or the body: no patient data reaches it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM = b"application/problem+json"


class TooLarge(Exception):
    """The request body passed the limit."""


async def _send_problem(send: Send, status: int, title: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Limits:
    """Refuse bodies over `max_body` bytes (413, chunked ones too) and answer 503 after `timeout` seconds."""

    def __init__(self, app: ASGIApp, max_body: int, timeout: float, retry_after: int) -> None:
        self.app = app
        self.max_body = max_body
        self.timeout = timeout
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _send_problem(send, 413, f"Request body over {self.max_body} bytes", [])
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, limited_receive, tracking_send), self.timeout)
        except TooLarge:
            if not started:
                await _send_problem(send, 413, f"Request body over {self.max_body} bytes", [])
        except TimeoutError:
            if not started:
                retry = [(b"retry-after", str(self.retry_after).encode())]
                await _send_problem(send, 503, f"No answer within {self.timeout:g} s; try again", retry)


class JsonLog:
    """Write one JSON line per request to stderr: time, method, route template, status, duration, role."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("careledger.requests")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            state: Any = scope.get("state") or {}
            entry = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": scope["method"],
                "route": getattr(route, "path", "(no route)"),
                "status": status,
                "ms": round((time.perf_counter() - began) * 1000, 1),
                "role": state.get("role") if isinstance(state, dict) else None,
            }
            sys.stderr.write(json.dumps(entry) + "\n")
