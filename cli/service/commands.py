"""POST /commands and /commands/batch: every command document, one at a time or as JSON Lines.

`recorded_by` is the token's name, never the body's. A command is idempotent by
`command_id`: sending it again returns the first result with `Idempotent-Replayed:
true`; the same id with another payload is 409. `If-Match: "VERSION"` refuses the
command (412) unless the episode is still at that version.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse, Response

from cli.service.auth import Caller, require, service_of
from cli.service.problems import COMMON, _problem_doc, problem
from domain.door import load_json
from domain.episode.application import CommandResult, Episodes
from domain.episode.commands import Command, parse_command
from domain.episode.roles import Capability
from domain.errors import CareledgerError, CommandConflict, EpisodeNotFound, InvalidInput, Tampered

router = APIRouter(tags=["commands"])
WRITE = require(Capability.WRITE)
RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON,
    400: _problem_doc("The body is not JSON"),
    404: _problem_doc("No such episode"),
    409: _problem_doc("The command id was used for another command, or other writers won every retry"),
    412: _problem_doc("If-Match names another version than the episode's"),
    413: _problem_doc("Request body too large"),
}
# Where a client goes next with the episode a command touched (OpenAPI links; schemathesis follows them).
LINKS = {
    name: {"operationId": operation, "parameters": {"episode_id": "$response.body#/episode_id"}}
    for name, operation in (
        ("ShowEpisode", "show_episode_episodes__episode_id__get"),
        ("EpisodeHistory", "history_episodes__episode_id__history_get"),
        ("EpisodeTimeline", "timeline_episodes__episode_id__timeline_get"),
    )
}
COMMAND_EXAMPLE = {
    "command": "record_visit",
    "command_id": "6b0f3c4e-1d2a-4b5c-8d9e-0f1a2b3c4d5e",
    "episode_id": "94ecc961-05c8-5c2e-bcc4-24417756b239",
    "date_of_service": "2026-04-27",
    "provider_id": "pt-1",
    "credential": "PT",
    "service_lines": [{"code": "97110", "minutes": 38}],
    "total_treatment_minutes": 38,
}


def prepare(document: Any, caller: Caller) -> Command:
    """Check a document is an object the caller may send, give it the caller's name, validate it."""
    if not isinstance(document, dict):
        raise InvalidInput("", "a command must be a JSON object")
    kind = document.get("command")
    if isinstance(kind, str) and not caller.may_command(kind):
        raise PermissionError(f"the role '{caller.role}' may not send {kind}")
    given = document.get("recorded_by")
    if given is not None and given != caller.name:
        raise InvalidInput("recorded_by", f"is the token's name ({caller.name}); leave it out")
    doc = {**document, "recorded_by": caller.name}
    doc.setdefault("command_id", str(uuid4()))
    return parse_command(doc)


def first_result(app: Episodes, result: CommandResult) -> CommandResult:
    """Return the result a replayed command had the first time (its event and version)."""
    for event in app.history(result.episode_id):
        if event.command_id == result.command_id:
            return CommandResult(
                command_id=result.command_id,
                command=result.command,
                episode_id=result.episode_id,
                version=event.originator_version,
                applied=True,
                event=type(event).__name__,
            )
    return result


def _episode_of(command: Command) -> UUID | None:
    return getattr(command, "episode_id", None) if command.command != "open_episode" else None


@router.post(
    "/commands",
    status_code=201,
    responses={
        200: {"description": "A replay: the first result, with Idempotent-Replayed: true"},
        201: {"description": "Applied", "links": LINKS},
        **RESPONSES,
    },
    summary="Apply one command",
)
def post_command(
    request: Request,
    document: dict[str, Any] = Body(..., examples=[COMMAND_EXAMPLE]),
    if_match: str | None = Header(None, description='Apply only if the episode is at this version ("7")'),
    caller: Caller = Depends(WRITE),
) -> Response:
    """Apply one command document (see /schemas); `recorded_by` comes from the token."""
    service = service_of(request)
    try:
        command = prepare(document, caller)
    except PermissionError as refused:
        return problem(403, "Forbidden", str(refused))
    app = service.store.app
    episode_id = _episode_of(command)
    if episode_id is not None:  # nothing is written onto a record that fails verification
        app.last_version(episode_id)
        service.store.require_intact([episode_id])
    if if_match is not None and episode_id is not None:
        current = app.last_version(episode_id)
        if if_match.strip().strip("W/").strip('"') != str(current):
            return problem(
                412, "Precondition failed", f"the episode is at version {current}", current_version=current
            )
    try:
        result = app.handle(command)
    except CareledgerError as error:
        if error.exit_code == 4 and episode_id is not None:  # ConcurrencyConflict
            return problem(
                409,
                "Episode changed by other writers",
                str(error),
                current_version=app.last_version(episode_id),
            )
        raise
    headers = {"ETag": f'"{result.version}"'}
    if not result.applied:
        headers["Idempotent-Replayed"] = "true"
        first = first_result(app, result)
        return JSONResponse(first.as_dict(), status_code=200, headers=headers)
    return JSONResponse(result.as_dict(), status_code=201, headers=headers)


@router.post(
    "/commands/batch",
    responses=RESPONSES,
    summary="Apply a JSON Lines batch of commands",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_batch(request: Request, caller: Caller = Depends(WRITE)) -> JSONResponse:
    """Apply one command per line, in order, each atomic on its own; report every line."""
    body = await request.body()
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_batch, request, body, caller)


def _batch(request: Request, body: bytes, caller: Caller) -> JSONResponse:
    service = service_of(request)
    outcomes: list[dict[str, Any]] = []
    commands: list[tuple[int, Command]] = []
    for number, raw in enumerate(body.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            commands.append((number, prepare(load_json(raw), caller)))
        except PermissionError as refused:
            outcomes.append({"line": number, "status": 403, "error": str(refused)})
        except InvalidInput as error:
            outcomes.append(
                {
                    "line": number,
                    "status": 422,
                    "error": str(error),
                    "errors": [{"field": f, "problem": p} for f, p in error.problems],
                }
            )
    tampered: dict[UUID | None, Tampered] = {}
    for named in {e for _, command in commands if (e := _episode_of(command)) is not None}:
        try:  # nothing is written onto a record that fails verification
            service.store.require_intact([named])
        except Tampered as error:
            tampered[named] = error
    for number, command in commands:
        if (target := _episode_of(command)) in tampered:
            outcomes.append({"line": number, "status": 409, "error": str(tampered[target])})
    commands = [(n, c) for n, c in commands if _episode_of(c) not in tampered]
    results = service.store.app.handle_batch([command for _, command in commands]) if commands else []
    for (number, _), result in zip(commands, results, strict=True):
        if isinstance(result, CareledgerError):
            conflict = isinstance(result, CommandConflict) or result.exit_code == 4
            status = 404 if isinstance(result, EpisodeNotFound) else 409 if conflict else 422
            outcomes.append({"line": number, "status": status, "error": str(result)})
        else:
            outcomes.append({"line": number, "status": 201 if result.applied else 200, **result.as_dict()})
    outcomes.sort(key=lambda o: o["line"])
    applied = sum(1 for o in outcomes if o.get("applied"))
    rejected = sum(1 for o in outcomes if "error" in o)
    return JSONResponse({"applied": applied, "rejected": rejected, "lines": outcomes})


@router.post(
    "/remittances",
    responses={
        200: {"description": "The import's report: claims recorded, already recorded, and refused"},
        **RESPONSES,
        422: _problem_doc("The file is not an 835 pyx12 accepts, or it does not balance"),
    },
    summary="Import an X12 835 remittance (careledger import 835)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/edi-x12": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_remittance(request: Request, caller: Caller = Depends(WRITE)) -> Response:
    """Validate, match and record an 835; claims and lines that match no visit are reported, not stored."""
    body = await request.body()
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_remittance, request, body, caller)


def _remittance(request: Request, body: bytes, caller: Caller) -> Response:
    from projections.interop.remit import import_835

    if not caller.may_command("record_remittance"):
        return problem(403, "Forbidden", f"the role '{caller.role}' may not send record_remittance")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidInput("body", f"byte {exc.start} is not ASCII: an X12 file is plain ASCII") from None
    store = service_of(request).store
    store.require_intact()
    result = import_835(store.app, text, "body", caller.name)
    return JSONResponse(result.as_dict(), status_code=200)
