"""The ASGI application: routes, error handling, limits, logs, and the store opened for each worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from cli.service import commands, feed, reads, records
from cli.service.config import ServiceConfig
from cli.service.middleware import JsonLog, Limits
from cli.service.problems import install, problem
from cli.service.state import Service

DESCRIPTION = (
    "careledger over HTTP: send commands as JSON, read episodes, their views, checks, bills and audit "
    "reconstructions, and follow the event feed. Every route but /healthz, /readyz and /openapi.json needs "
    "a bearer token (`careledger token create --name NAME --role ROLE`); what each role may call is in "
    "docs/service.md. Errors are RFC 9457 problem documents."
)


def create_app(config: ServiceConfig) -> FastAPI:
    """Return the service for one worker (the store is opened when the worker starts)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = await run_in_threadpool(Service, config)
        try:
            yield
        finally:
            await run_in_threadpool(app.state.service.close)

    app = FastAPI(
        title="careledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install(app, config.retry_after)
    for module in (commands, reads, records, feed):
        app.include_router(module.router)

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    def healthz() -> dict[str, str]:
        """Answer while the process runs (no store access)."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The store answers and the read models are caught up",
        responses={503: {"description": "Not ready"}},
    )
    def readyz(request: Request) -> Response:
        """Ready when the store answers and the read models are within `ready_lag` events of the log."""
        service: Service = request.app.state.service
        try:
            service.store.settings.read()  # one query, not retried: fails fast when the store is gone
            lag = service.lag()
        except Exception:  # any failure to read the store means not ready
            return problem(
                503, "Store unavailable", "the store cannot be reached", retry_after=config.retry_after
            )
        body: dict[str, Any] = {"status": "ok" if lag <= config.ready_lag else "behind", "lag": lag}
        return JSONResponse(body, status_code=200 if lag <= config.ready_lag else 503)

    app.add_middleware(
        Limits, max_body=config.max_body, timeout=config.timeout, retry_after=config.retry_after
    )
    app.add_middleware(JsonLog)
    logging.getLogger("careledger.service").setLevel(logging.INFO)
    return app


def app_from_env() -> FastAPI:
    """Return the service configured by `careledger serve` (uvicorn's factory in each worker)."""
    return create_app(ServiceConfig.from_env())
