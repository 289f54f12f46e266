"""The record of an episode and its views: list, show, history, visit history, timeline, progression,
outcomes, continuity, check. Every read is logged in the store's access log (as the token's holder).

`ETag` is the episode's version; `If-None-Match` with it answers 304 without
reading the record again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from cli.service.auth import Caller, require, service_of
from cli.service.problems import COMMON, EPISODE
from domain.episode.roles import Capability
from domain.progression.dosage import DEFAULT_PLATEAU_VISITS

router = APIRouter(tags=["episodes"])
READ = require(Capability.READ)
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match names the current version"}
}


def json_response(value: Any, version: int | None = None) -> Response:
    """Return a JSON answer (dates and UUIDs as strings), with the episode version as its ETag."""
    import orjson

    body = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str)
    headers = {"ETag": f'"{version}"'} if version is not None else None
    return Response(body, media_type="application/json", headers=headers)


def verified(request: Request, *episode_ids: UUID) -> dict[UUID, int]:
    """Refuse (409) an episode whose hash chain or anchored heads fail verification, as the CLI does.

    Return each episode's verified version (0: nothing stored).
    """
    return service_of(request).store.require_intact(list(episode_ids))


def unchanged(request: Request, episode_id: UUID, if_none_match: str | None) -> tuple[int, Response | None]:
    """Return the episode's version, and a 304 when If-None-Match names it."""
    version = service_of(request).store.app.last_version(episode_id)
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_none_match.split(",")}
        if str(version) in tags or "*" in tags:
            return version, Response(status_code=304, headers={"ETag": f'"{version}"'})
    return version, None


@router.get("/episodes", responses=COMMON, summary="List episodes (filters, paging)")
def list_episodes(
    request: Request,
    status: str | None = Query(None, max_length=40, description="active, on_hold or discharged"),
    payer: str | None = Query(None, max_length=80),
    discipline: str | None = Query(None, max_length=10),
    patient_ref: str | None = Query(None, max_length=80),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    caller: Caller = Depends(READ),
) -> Response:
    """One line per episode with its open continuity gaps, in the order they were opened."""
    service = service_of(request)
    with service.store.acting(caller.actor), service.fresh() as models:
        items = models.episodes(
            status=status,
            payer=payer,
            discipline=discipline,
            patient_ref=patient_ref,
            limit=limit + 1,
            offset=offset,
        )
    more = len(items) > limit
    return json_response(
        {
            "items": items[:limit],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more else None,
        }
    )


@router.get("/episodes/{episode_id}", responses={**EPISODE, **NOT_MODIFIED}, summary="Show an episode")
def show_episode(
    request: Request,
    episode_id: UUID,
    version: int | None = Query(None, ge=1, le=10_000_000, description="The episode as of this version"),
    if_none_match: str | None = Header(None),
    caller: Caller = Depends(READ),
) -> Response:
    """The episode: plan, certifications, visits, exercises, outcomes (at a version, if given)."""
    store = service_of(request).store
    if if_none_match is not None or version is not None:  # else the episode's own version is the ETag
        current, not_modified = unchanged(request, episode_id, if_none_match if version is None else None)
        if not_modified is not None:
            return not_modified
        if version is not None and version > current:
            from domain.errors import InvalidInput

            raise InvalidInput("version", f"the episode has {current} versions")
    if version is None:
        return _current(request, episode_id, caller)
    store.app.last_version(episode_id)  # 404 before verification
    verified(request, episode_id)
    with store.acting(caller.actor):
        found = store.episode(episode_id, version=version)
    return json_response(found.as_dict(), found.version)


def _current(request: Request, episode_id: UUID, caller: Caller) -> Response:
    """The episode at the version just verified: its body built once per version in this worker."""
    from domain.errors import EpisodeNotFound

    service = service_of(request)
    current = verified(request, episode_id)[episode_id]
    if current == 0:
        raise EpisodeNotFound(episode_id)
    body = service.bodies.get(episode_id, current)
    if body is not None:
        with service.store.acting(caller.actor):
            service.store.log_read("show", episode_id)  # the row is committed before the body is sent
        return Response(body, media_type="application/json", headers={"ETag": f'"{current}"'})
    with service.store.acting(caller.actor):
        found = service.store.episode(episode_id, version=current)
    answer = json_response(found.as_dict(), found.version)
    service.bodies.put(episode_id, current, bytes(answer.body))
    return answer


@router.get("/episodes/{episode_id}/history", responses={**EPISODE, **NOT_MODIFIED}, summary="Every event")
def history(
    request: Request,
    episode_id: UUID,
    if_none_match: str | None = Header(None),
    caller: Caller = Depends(READ),
) -> Response:
    """Every event of the episode: version, type, recorded time and author, clinical date, fields."""
    store = service_of(request).store
    _, not_modified = unchanged(request, episode_id, if_none_match)
    if not_modified is not None:
        return not_modified
    verified(request, episode_id)
    with store.acting(caller.actor):
        events = store.history(episode_id)
    rows = [
        {
            "version": e.originator_version,
            "type": type(e).__name__,
            "recorded_at": e.timestamp.isoformat(),
            "recorded_by": e.recorded_by,
            "clinical_date": (d.isoformat() if (d := e.clinical_date()) else None),
            "command_id": str(e.command_id),
            "fields": e.payload(),
        }
        for e in events
    ]
    return json_response(rows, events[-1].originator_version if events else None)


@router.get(
    "/episodes/{episode_id}/visits/{date_of_service}/history",
    responses=EPISODE,
    summary="Every version of one visit",
)
def visit_history(
    request: Request,
    episode_id: UUID,
    date_of_service: date,
    caller: Caller = Depends(READ),
) -> Response:
    """Every version of the visit on a date of service: who, when, why and what changed."""
    store = service_of(request).store
    store.app.last_version(episode_id)
    verified(request, episode_id)
    with store.acting(caller.actor):
        entries = store.visit_history(episode_id, date_of_service)
    return json_response([entry.as_dict() for entry in entries])


def _view(request: Request, caller: Caller, name: str, episode_id: UUID, *args: Any) -> Response:
    service = service_of(request)
    service.store.app.last_version(episode_id)
    verified(request, episode_id)
    with service.store.acting(caller.actor), service.fresh() as models:
        answer: dict[str, Any] = getattr(models, name)(episode_id, *args)
    return json_response(answer, answer.get("version"))


@router.get("/episodes/{episode_id}/timeline", responses=EPISODE, summary="Timeline")
def timeline(request: Request, episode_id: UUID, caller: Caller = Depends(READ)) -> Response:
    """Every visit, exercise change, outcome, plan and report in clinical-date order."""
    return _view(request, caller, "timeline", episode_id)


@router.get("/episodes/{episode_id}/progression", responses=EPISODE, summary="Exercise progression")
def progression(
    request: Request,
    episode_id: UUID,
    exercise: str | None = Query(None, max_length=80),
    plateau_visits: int = Query(DEFAULT_PLATEAU_VISITS, ge=2, le=100),
    caller: Caller = Depends(READ),
) -> Response:
    """Each exercise's dosage over the visits, its changes with reasons, and its plateaus."""
    return _view(request, caller, "progression", episode_id, exercise, plateau_visits)


@router.get("/episodes/{episode_id}/outcomes", responses=EPISODE, summary="Outcome trajectories")
def outcomes(request: Request, episode_id: UUID, caller: Caller = Depends(READ)) -> Response:
    """Each outcome instrument's scores, change from baseline, and whether it reaches its MCID."""
    return _view(request, caller, "outcomes", episode_id)


@router.get("/episodes/{episode_id}/continuity", responses=EPISODE, summary="Medical-necessity continuity")
def continuity(
    request: Request,
    episode_id: UUID,
    today: date | None = Query(None, description="Read the clocks as of this date [default: today]"),
    caller: Caller = Depends(READ),
) -> Response:
    """Each visit's coverage by plan, certification, necessity and progress reports; the clocks; the gaps."""
    day = today or datetime.now(service_of(request).store.timezone).date()
    return _view(request, caller, "continuity", episode_id, day)


@router.get("/episodes/{episode_id}/check", responses=EPISODE, summary="Documentation check of one episode")
def check_episode(
    request: Request,
    episode_id: UUID,
    since: date | None = Query(None),
    caller: Caller = Depends(READ),
) -> Response:
    """The episode's findings, most severe first, each with its rule, evidence and fix."""
    service = service_of(request)
    service.store.app.last_version(episode_id)
    verified(request, episode_id)
    service.catch_up()
    with service.store.acting(caller.actor):
        answer = service.findings.episode(episode_id, since)
    return json_response(answer, answer.get("version"))


@router.get("/check", responses=COMMON, summary="Documentation check of every episode")
def check_all(
    request: Request,
    since: date | None = Query(None),
    top: int = Query(10, ge=1, le=1000),
    caller: Caller = Depends(READ),
) -> Response:
    """Findings per rule across the clinic, and the episodes most at risk."""
    service = service_of(request)
    service.store.require_intact()  # the clinic-wide gate reads every episode: every chain verifies first
    service.catch_up()
    with service.store.acting(caller.actor):
        answer = service.findings.clinic(since, top)
    return json_response(answer)
