"""Billing, audit and exports over HTTP: bill, units, claims, audit as-of and changes, verify, the access
log, FHIR, the packet, and the command JSON Schemas. Each read of a record is logged in the store."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cli.service.auth import Caller, authenticate, require, service_of
from cli.service.problems import COMMON, EPISODE
from cli.service.reads import json_response, verified
from domain.episode.roles import Capability
from domain.errors import InvalidInput

router = APIRouter()
READ = require(Capability.READ)
BILLING = require(Capability.BILLING)
AUDIT = require(Capability.AUDIT)
ACCESS_LOG = require(Capability.ACCESS_LOG)


def _moment(text: str, field: str, request: Request) -> datetime:
    from domain.episode.audit import moment

    return moment(text, field, service_of(request).store.timezone)


@router.get("/episodes/{episode_id}/bill", responses=EPISODE, tags=["billing"], summary="Claim lines")
def bill(
    request: Request,
    episode_id: UUID,
    visit: date | None = Query(None, description="Only the visit on this date of service"),
    caller: Caller = Depends(BILLING),
) -> Response:
    """The claim lines of the episode's visits: units, modifiers, reasons and the KX threshold."""
    from domain.billing.bill import bill_with_others, billing_rules
    from projections.interop.fhir.export import others_of

    store = service_of(request).store
    store.app.last_version(episode_id)
    verified(request, episode_id)
    with store.acting(caller.actor):
        found = store.episode(episode_id, action="bill")
    others = others_of(store.app, found)  # the beneficiary's other episodes count toward KX: verified too
    verified(request, *(other.id for other in others))
    result = bill_with_others(found, others, billing_rules(found.payer, store.app.payer_dirs))
    if visit is not None:
        chosen = tuple(v for v in result.visits if v.date_of_service == visit)
        if not chosen:
            raise InvalidInput("visit", f"no visit on {visit} in this episode")
        result = result.model_copy(update={"visits": chosen})
    return json_response({**result.model_dump(mode="json"), "ready": result.ready}, found.version)


@router.get("/units", responses=COMMON, tags=["billing"], summary="Units of one date's service lines")
def units(
    request: Request,
    line: list[str] = Query(
        ...,
        min_length=1,
        max_length=50,
        description="CODE=MINUTES or CODE=MINUTES/ASSISTANT, e.g. 97110=38/3",
    ),
    rule: Literal["cms", "ama"] | None = Query(None, description="Default: the payer's rule"),
    payer: str = Query("medicare", max_length=64, description="The payer profile whose modifier rules apply"),
    on: date | None = Query(
        None, description="The date of service: the rules in force that day [default: today]"
    ),
    discipline: Literal["PT", "OT", "SLP"] = Query("PT"),
    _: Caller = Depends(READ),
) -> Response:
    """One date's service lines priced under a payer's rules: units (CMS or AMA), CQ / CO unit by unit."""
    from domain.billing.bill import calculate

    store = service_of(request).store
    day = on or datetime.now(store.timezone).date()
    try:
        result = calculate(line, day, payer, discipline, rule, store.app.payer_dirs)
    except InvalidInput as error:
        problems = []
        for number, text in enumerate(line):  # name every line that is wrong, not only the first
            try:
                calculate([text], day, payer, discipline, rule, store.app.payer_dirs)
            except InvalidInput as wrong:
                problems.append((f"line.{number}", str(wrong)))
        if len(problems) < 2:
            raise
        raise InvalidInput(problems[0][0], problems[0][1], tuple(problems)) from error
    return json_response(result.as_json())


@router.get("/rules", responses=COMMON, tags=["billing"], summary="Rule tables in force on a date")
def rules(
    request: Request,
    on: date | None = Query(None, description="The date of service [default: today]"),
    payer: list[str] | None = Query(None, max_length=20, description="Only these payers' profiles and fees"),
    _: Caller = Depends(READ),
) -> Response:
    """The rule tables in force on a date: codes, NCCI pairs, MUE, thresholds, payer profiles and fees."""
    from domain.billing.rules import tables_in_force

    store = service_of(request).store
    day = on or datetime.now(store.timezone).date()
    found = tables_in_force(day, payer or (), store.app.payer_dirs)
    return json_response({"on": day.isoformat(), "tables": [t.model_dump(mode="json") for t in found]})


@router.get(
    "/claims",
    responses={
        **COMMON,
        200: {
            "description": "One row per claim line",
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
        },
    },
    tags=["billing"],
    summary="Claim lines of every episode",
)
def claims(
    request: Request,
    since: date | None = Query(None),
    format: Literal["csv", "json"] = Query("csv"),
    caller: Caller = Depends(BILLING),
) -> Response:
    """One row per claim line of every episode (CSV with a header row, or JSON)."""
    from projections.interop.claims import as_csv, store_claim_rows

    store = service_of(request).store
    store.require_intact()  # no claim line from a record that fails verification
    with store.acting(caller.actor):
        store.log_read("export claims", None)
    rows = store_claim_rows(store.app, since)
    if format == "json":
        return json_response(rows)
    return Response(as_csv(rows), media_type="text/csv")


@router.get("/episodes/{episode_id}/audit/as-of", responses=EPISODE, tags=["audit"], summary="Record as of")
def audit_as_of(
    request: Request,
    episode_id: UUID,
    at: str = Query(..., max_length=40, description="YYYY-MM-DD (end of day) or an ISO date-time"),
    caller: Caller = Depends(AUDIT),
) -> Response:
    """The episode as it stood at a recorded time, with its units, modifiers and findings then."""
    from cli.check import as_of_checks

    store = service_of(request).store
    moment = _moment(at, "at", request)
    store.app.last_version(episode_id)
    verified(request, episode_id)
    with store.acting(caller.actor):
        found = store.as_of(episode_id, moment)
    answer = {
        "as_of": moment.isoformat(),
        "version": found.version,
        "current_version": store.app.last_version(episode_id),
        "recorded_at": found.modified_on.isoformat(),
        "episode": found.as_dict(),
        "checks": as_of_checks(found, store.app.payer_dirs),
    }
    return json_response(answer)


@router.get(
    "/episodes/{episode_id}/audit/changes", responses=EPISODE, tags=["audit"], summary="Changes since"
)
def audit_changes(
    request: Request,
    episode_id: UUID,
    since: str = Query(..., max_length=40, description="Start (excluded): a date or ISO date-time"),
    until: str | None = Query(None, max_length=40, description="End (included) [default: now]"),
    caller: Caller = Depends(AUDIT),
) -> Response:
    """Each amendment (author, reason, before and after) and other event recorded after `since`."""
    store = service_of(request).store
    start = _moment(since, "since", request)
    end = _moment(until, "until", request) if until is not None else None
    store.app.last_version(episode_id)
    verified(request, episode_id)
    with store.acting(caller.actor):
        report = store.changes(episode_id, start, end)
    return json_response(report.as_dict())


@router.get("/verify", responses=EPISODE, tags=["audit"], summary="Verify the hash chain")
def verify(
    request: Request,
    episode: UUID | None = Query(None, description="Only this episode"),
    caller: Caller = Depends(AUDIT),
) -> Response:
    """Walk the hash chain of the stored events and report each broken link (or that it is intact)."""
    from domain.errors import EpisodeNotFound
    from projections.store.verify import snapshot_checker, verify_chains

    store = service_of(request).store
    with store.acting(caller.actor):
        store.log_read("verify", episode)
    recorder: Any = store.app.recorder
    report = verify_chains(recorder, [episode] if episode else None, None, snapshot_checker(store.app))
    if episode is not None and report.events == 0 and not report.breaks:
        raise EpisodeNotFound(episode)
    return json_response(report.as_dict())


@router.get("/audit/access", responses=COMMON, tags=["audit"], summary="The access log")
def access_log(
    request: Request,
    episode: UUID | None = Query(None),
    since: datetime | None = Query(None, description="An ISO date-time with its offset"),
    user: str | None = Query(None, max_length=64),
    limit: int = Query(1000, ge=1, le=10_000),
    _: Caller = Depends(ACCESS_LOG),
) -> Response:
    """Who read which record, when, in which role and from where (oldest first)."""
    if since is not None and since.tzinfo is None:
        raise InvalidInput("since", "give a time with its offset (e.g. 2026-03-02T17:30:00Z)")
    entries = service_of(request).store.access.entries(episode, since, user, limit)
    return json_response(entries)


@router.get(
    "/episodes/{episode_id}/fhir",
    responses={**EPISODE, 200: {"content": {"application/fhir+json": {}}, "description": "A FHIR R4 Bundle"}},
    tags=["exports"],
    summary="FHIR R4 Bundle",
)
def export_fhir(
    request: Request,
    episode_id: UUID,
    as_of: str | None = Query(None, max_length=40),
    caller: Caller = Depends(READ),
) -> Response:
    """The episode as a validated FHIR R4 Bundle (EpisodeOfCare, Encounter, Procedure, Observation, ...)."""
    from projections.interop.fhir.export import export_episode

    store = service_of(request).store
    at = _moment(as_of, "as_of", request) if as_of is not None else None
    store.app.last_version(episode_id)  # 404 before anything is logged or built
    verified(request, episode_id)
    with store.acting(caller.actor):
        store.log_read("export fhir", episode_id)
    return Response(export_episode(store.app, episode_id, at), media_type="application/fhir+json")


@router.get(
    "/episodes/{episode_id}/packet",
    responses={**EPISODE, 200: {"content": {"text/html": {}}, "description": "The audit packet"}},
    tags=["exports"],
    summary="Audit packet (HTML)",
)
def packet(
    request: Request,
    episode_id: UUID,
    as_of: str | None = Query(None, max_length=40),
    caller: Caller = Depends(READ),
) -> Response:
    """The payer's audit packet of the episode: one self-contained HTML page with charts."""
    from projections.interop.packet import build_packet

    service = service_of(request)
    at = _moment(as_of, "as_of", request) if as_of is not None else None
    service.store.app.last_version(episode_id)
    service.catch_up()
    with service.store.acting(caller.actor):
        service.store.log_read("packet", episode_id)
        html = build_packet(service.store, episode_id, at)
    return Response(html, media_type="text/html")


@router.get("/schemas", responses=COMMON, tags=["commands"], summary="The command types")
def schemas(_: Caller = Depends(authenticate)) -> Response:
    """Every command type with its one-line description."""
    from domain.episode.commands import COMMANDS

    return json_response(
        [
            {"command": n, "description": (c.__doc__ or "").strip().splitlines()[0]}
            for n, c in COMMANDS.items()
        ]
    )


@router.get(
    "/schemas/{command}", responses={**COMMON, 404: EPISODE[404]}, tags=["commands"], summary="Schema"
)
def command_schema(command: str, _: Caller = Depends(authenticate)) -> Response:
    """The JSON Schema of one command document."""
    from domain.episode.commands import COMMANDS

    if command not in COMMANDS:
        from cli.service.problems import problem

        return problem(404, "No such command", f"expected one of {', '.join(COMMANDS)}")
    return json_response(COMMANDS[command].model_json_schema())


@router.get(
    "/denials", responses=COMMON, tags=["billing"], summary="Denied lines and check's precision/recall"
)
def denials(
    request: Request,
    since: date | None = Query(None),
    payer: str | None = Query(None, max_length=64),
    caller: Caller = Depends(BILLING),
) -> Response:
    """What `careledger denials --json` prints: denied lines, totals by reason and by check rule."""
    from projections.interop.denials import denial_report

    store = service_of(request).store
    with store.acting(caller.actor):
        store.log_read("denials", None)
    return json_response(denial_report(store.app, since, payer))
