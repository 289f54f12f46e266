"""Errors as RFC 9457 problem documents (`application/problem+json`), never a traceback or SQL.

Each careledger error maps to one status: a rule broken 422 (with every field
that broke one), no episode 404, a reused command id or a lost race 409, a store
that cannot be reached 503 with Retry-After. Anything else is a 500 whose body
says only that; the log has the exception's type, not its message.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from domain.errors import (
    CareledgerError,
    CommandConflict,
    ConcurrencyConflict,
    EpisodeNotFound,
    InvalidInput,
    StoreUnavailable,
    Tampered,
)

PROBLEM = "application/problem+json"
log = logging.getLogger("careledger.service")


class FieldProblem(BaseModel):
    """One invalid field and what is wrong with it."""

    field: str
    problem: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None
    current_version: int | None = None


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    """Return a problem response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Retry-After": str(extra.pop("retry_after", 5))} if status == 503 else None
    body.pop("retry_after", None)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _problem_doc(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM: {}}}


# The error responses every route can give, for the OpenAPI document.
COMMON: dict[int | str, dict[str, Any]] = {
    401: _problem_doc("No valid bearer token"),
    403: _problem_doc("The token's role may not call this"),
    422: _problem_doc("Invalid input: every invalid field is listed"),
    503: _problem_doc("The store is unavailable or the request took too long; see Retry-After"),
}
EPISODE = {
    **COMMON,
    404: _problem_doc("No such episode"),
    409: _problem_doc("The episode's stored record fails verification (GET /verify): nothing is shown"),
}


def from_error(error: CareledgerError, retry_after: int) -> JSONResponse:
    """Map a careledger error to its problem response."""
    if isinstance(error, EpisodeNotFound):
        return problem(404, "Episode not found", str(error))
    if isinstance(error, Tampered):
        return problem(409, "Record fails verification", str(error))
    if isinstance(error, CommandConflict):
        return problem(409, "Command id already used for another command", str(error))
    if isinstance(error, ConcurrencyConflict):
        return problem(409, "Episode changed by other writers", str(error))
    if isinstance(error, StoreUnavailable):
        log.warning("store unavailable", extra={"error": type(error).__name__})
        return problem(
            503, "Store unavailable", "the store cannot be reached; try again", retry_after=retry_after
        )
    if isinstance(error, InvalidInput):
        errors = [{"field": f, "problem": p} for f, p in error.problems]
        return problem(422, "Invalid input", str(error), errors=errors)
    return problem(422, "Refused", str(error))


def install(app: FastAPI, retry_after: int) -> None:
    """Register the handlers that turn every error into a problem document."""

    async def careledger_error(_: Request, exc: Exception) -> Response:
        if not isinstance(exc, CareledgerError):  # registered for this type only
            raise exc
        return from_error(exc, retry_after)

    async def validation_error(_: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):  # registered for this type only
            raise exc
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path", "header")),
                "problem": str(e["msg"]),
            }
            for e in exc.errors()
        ]
        return problem(422, "Invalid input", f"{len(errors)} invalid field(s)", errors=errors)

    async def http_error(_: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):  # registered for this type only
            raise exc
        response = problem(exc.status_code, str(exc.detail) if exc.detail else "Error")
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def unexpected(_: Request, exc: Exception) -> Response:
        from eventsourcing.persistence import PersistenceError
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, PersistenceError | DBAPIError):  # a store error the library did not word
            return from_error(StoreUnavailable(type(exc).__name__), retry_after)
        log.error("unexpected error", extra={"error": type(exc).__name__})
        return problem(500, "Internal error", "the server could not answer; nothing about it is shown here")

    app.add_exception_handler(CareledgerError, careledger_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
