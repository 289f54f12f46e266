"""The HTTP service over a real server: who may call what, and the HTTP semantics a backend expects."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from domain.demo import demo_episode_ids
from domain.episode.roles import Role
from tests.service.conftest import KNEE, SHOULDER, Server, build_demo, start_server
from tests.tamper import RawStore

# Every route, and the capability it needs (None: any valid token).
READ, WRITE, BILLING, AUDIT, ACCESS, FEED = "read", "write", "billing", "audit", "access_log", "feed"
ROUTES: list[tuple[str, str, str | None]] = [
    ("GET", "/episodes", READ),
    ("GET", f"/episodes/{KNEE}", READ),
    ("GET", f"/episodes/{KNEE}/history", READ),
    ("GET", f"/episodes/{KNEE}/visits/2026-03-04/history", READ),
    ("GET", f"/episodes/{KNEE}/timeline", READ),
    ("GET", f"/episodes/{KNEE}/progression", READ),
    ("GET", f"/episodes/{KNEE}/outcomes", READ),
    ("GET", f"/episodes/{KNEE}/continuity", READ),
    ("GET", f"/episodes/{KNEE}/check", READ),
    ("GET", "/check", READ),
    ("GET", f"/episodes/{KNEE}/fhir", READ),
    ("GET", f"/episodes/{KNEE}/packet", READ),
    ("GET", "/units?line=97110=33", READ),
    ("GET", "/rules?on=2026-03-02", READ),
    ("GET", f"/episodes/{KNEE}/bill", BILLING),
    ("GET", "/claims", BILLING),
    ("GET", "/denials", BILLING),
    ("GET", f"/episodes/{KNEE}/audit/as-of?at=2026-04-01", AUDIT),
    ("GET", f"/episodes/{KNEE}/audit/changes?since=2026-03-29", AUDIT),
    ("GET", "/verify", AUDIT),
    ("GET", "/audit/access", ACCESS),
    ("GET", "/events?limit=1", FEED),
    ("POST", "/commands", "send record_visit"),
    ("POST", "/commands/batch", WRITE),
    ("POST", "/remittances", "send record_remittance"),
    ("GET", "/schemas", None),
    ("GET", "/schemas/record_visit", None),
]
ALLOWED = {
    Role.THERAPIST: {READ, WRITE, BILLING},
    Role.ASSISTANT: {READ, WRITE},
    Role.BILLER: {READ, WRITE, BILLING, FEED},
    Role.AUDITOR: {READ, BILLING, AUDIT, ACCESS, FEED},
    Role.SERVICE: {READ, WRITE, BILLING, FEED},
    Role.ADMIN: {READ, WRITE, BILLING, AUDIT, ACCESS, FEED},
}
# Who may send the commands the routes above send (a write limited per command): a visit is
# recorded by clinicians, a payer's remittance by billing; a service and an admin send both.
SENDERS = {
    "send record_visit": {Role.THERAPIST, Role.ASSISTANT, Role.SERVICE, Role.ADMIN},
    "send record_remittance": {Role.BILLER, Role.SERVICE, Role.ADMIN},
}
LEAKS = ("Traceback", "SELECT ", "INSERT ", "psycopg", "sqlite3", 'File "')


def visit(episode_id: str = SHOULDER, day: str = "2026-05-19", **fields: Any) -> dict[str, Any]:
    return {
        "command": "record_visit",
        "command_id": str(uuid4()),
        "episode_id": episode_id,
        "date_of_service": day,
        "provider_id": "ot-1",
        "credential": "OT",
        "service_lines": [{"code": "97110", "minutes": 38}],
        "total_treatment_minutes": 38,
        "necessity": "Shoulder flexion 90 degrees limits reaching overhead.",
        "patient_response": "Tolerated well.",
        "skilled_interventions": ["scapular cues"],
        **fields,
    }


def send(client: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    if path == "/commands/batch":
        return client.post(path, content=b"", headers={"content-type": "application/x-ndjson"})
    if path == "/remittances":
        return client.post(path, content=b"ISA", headers={"content-type": "application/edi-x12"})
    if method == "POST":
        return client.post(path, json=body if body is not None else {"command": "record_visit"})
    return client.get(path)


def test_every_route_but_health_needs_a_valid_token(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    tested = {(m, p.split("?")[0].replace(KNEE, "{episode_id}")) for m, p, _ in ROUTES}
    tested = {
        (m, p.replace("2026-03-04", "{date_of_service}").replace("record_visit", "{command}"))
        for m, p in tested
    }
    assert documented - tested == {("GET", "/healthz"), ("GET", "/readyz")}
    for token in (None, "clt_not-a-token", server.tokens[Role.ADMIN] + "x"):
        client = server.client(None, token)
        for method, path, _ in ROUTES:
            answer = send(client, method, path)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_refused_exactly_the_routes_it_may_not_call(server: Server, role: Role) -> None:
    client = server.client(role)
    for method, path, needs in ROUTES:
        answer = send(client, method, path)
        if needs is None or needs in ALLOWED[role] or role in SENDERS.get(needs, ()):
            assert answer.status_code not in (401, 403, 500), (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["status"] == 403


def test_a_biller_cannot_record_a_visit_and_an_assistant_cannot_write_a_progress_report(
    server: Server,
) -> None:
    assert server.client(Role.BILLER).post("/commands", json=visit()).status_code == 403
    report = {"command": "record_progress_report", "episode_id": SHOULDER, "command_id": str(uuid4())}
    refused = server.client(Role.ASSISTANT).post("/commands", json=report)
    assert refused.status_code == 403 and "record_progress_report" in refused.json()["detail"]
    reeval = {**report, "command": "record_reevaluation"}
    assert server.client(Role.ASSISTANT).post("/commands", json=reeval).status_code == 403
    # An assistant records visits (only the body's own problems are reported).
    assert server.client(Role.ASSISTANT).post("/commands", json=visit(day="2026-05-21")).status_code == 201


def test_recorded_by_is_the_token_s_name_never_the_body_s(server: Server) -> None:
    client = server.client(Role.THERAPIST)
    claimed = client.post("/commands", json=visit(day="2026-05-22", recorded_by="someone-else"))
    assert claimed.status_code == 422 and claimed.json()["errors"][0]["field"] == "recorded_by"
    done = client.post("/commands", json=visit(day="2026-05-22"))
    assert done.status_code == 201
    history = client.get(f"/episodes/{SHOULDER}/history").json()
    assert history[-1]["recorded_by"] == "therapist-1" and history[-1]["version"] == done.json()["version"]


def test_a_replayed_command_returns_its_first_result_and_a_reused_id_409(server: Server) -> None:
    client = server.client(Role.SERVICE)
    body = visit(day="2026-05-26")
    first = client.post("/commands", json=body)
    later = client.post("/commands", json=visit(day="2026-05-27"))
    again = client.post("/commands", json=body)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and later.json()["version"] == first.json()["version"] + 1
    other = client.post("/commands", json={**body, "total_treatment_minutes": 40})
    assert other.status_code == 409 and "command_id" in other.json()["detail"]


def test_an_invalid_command_lists_every_invalid_field_and_stores_nothing(server: Server) -> None:
    client = server.client(Role.THERAPIST)
    before = client.get(f"/episodes/{SHOULDER}").headers["etag"]
    body = visit(date_of_service="not a date", total_treatment_minutes=-5, bogus=True)
    del body["credential"]
    answer = client.post("/commands", json=body)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"date_of_service", "total_treatment_minutes", "credential", "bogus"} <= fields
    assert client.get(f"/episodes/{SHOULDER}").headers["etag"] == before
    query = client.get("/episodes?limit=0&offset=-1")
    assert query.status_code == 422 and {e["field"] for e in query.json()["errors"]} == {"limit", "offset"}


def test_an_unknown_episode_is_404_for_reads_and_commands(server: Server) -> None:
    client = server.client(Role.ADMIN)
    missing = str(uuid4())
    for path in (f"/episodes/{missing}", f"/episodes/{missing}/timeline", f"/episodes/{missing}/bill"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["title"] == "Episode not found", path
    assert client.post("/commands", json=visit(episode_id=missing)).status_code == 404


def test_etag_is_the_version_if_none_match_304_and_a_stale_if_match_412(server: Server) -> None:
    client = server.client(Role.THERAPIST)
    shown = client.get(f"/episodes/{SHOULDER}")
    etag = shown.headers["etag"]
    assert etag == f'"{shown.json()["version"]}"'
    cached = client.get(f"/episodes/{SHOULDER}", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    stale = client.post("/commands", json=visit(day="2026-05-28"), headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == shown.json()["version"]
    done = client.post("/commands", json=visit(day="2026-05-28"), headers={"If-Match": etag})
    assert done.status_code == 201 and done.headers["etag"] != etag
    assert client.get(f"/episodes/{SHOULDER}", headers={"If-None-Match": etag}).status_code == 200


def test_a_body_over_the_limit_is_413_with_or_without_a_length(server: Server) -> None:
    client = server.client(Role.ADMIN)
    big = b'{"command": "record_visit", "narrative": "' + b"x" * 1_100_000 + b'"}'
    assert (
        client.post("/commands", content=big, headers={"content-type": "application/json"}).status_code == 413
    )

    def chunks() -> Any:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    chunked = client.post(
        "/commands/batch", content=chunks(), headers={"content-type": "application/x-ndjson"}
    )
    assert chunked.status_code == 413 and chunked.headers["content-type"] == "application/problem+json"


def test_a_batch_reports_every_line_and_applies_the_valid_ones(server: Server) -> None:
    client = server.client(Role.SERVICE)
    lines = [
        json.dumps(visit(day="2026-06-01")),
        "{not json",
        json.dumps(visit(day="2026-06-02", total_treatment_minutes=-1)),
        "",
        json.dumps(visit(day="2026-06-03")),
    ]
    answer = client.post(
        "/commands/batch", content="\n".join(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert answer.status_code == 200
    report = answer.json()
    assert (report["applied"], report["rejected"]) == (2, 2)
    assert [(o["line"], o["status"]) for o in report["lines"]] == [(1, 201), (2, 422), (3, 422), (5, 201)]


def test_a_batch_line_naming_a_key_twice_is_refused_as_the_cli_import_refuses_it(server: Server) -> None:
    """JSON keeps the last of two equal keys silently; a command that says two things is refused."""
    client = server.client(Role.SERVICE)
    once = json.dumps(visit(day="2026-06-07"))
    twice = once[:-1] + ', "total_treatment_minutes": 90}'
    answer = client.post("/commands/batch", content=twice, headers={"content-type": "application/x-ndjson"})
    assert answer.status_code == 200
    (line,) = answer.json()["lines"]
    assert line["status"] == 422 and line["error"].startswith("total_treatment_minutes: given twice")
    assert line["errors"] == [{"field": "total_treatment_minutes", "problem": line["errors"][0]["problem"]}]
    assert answer.json()["applied"] == 0


def test_a_lost_race_after_every_retry_is_409_with_the_current_version(server: Server) -> None:
    # The database refuses this episode's next event as a concurrent writer's would (a key clash).
    raw = RawStore(server.db)
    key = raw.key(UUID(SHOULDER))
    if raw.location.kind == "sqlite":
        raw.run(
            f"CREATE TRIGGER clash BEFORE INSERT ON {raw.events} WHEN NEW.originator_id = '{key}' "
            "BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed'); END"
        )
    else:
        raw.run(
            "CREATE FUNCTION clash() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'duplicate key' USING ERRCODE = 'unique_violation'; END $$ LANGUAGE plpgsql"
        )
        raw.run(
            f"CREATE TRIGGER clash BEFORE INSERT ON {raw.events} FOR EACH ROW "
            f"WHEN (NEW.originator_id = '{SHOULDER}') EXECUTE FUNCTION clash()"
        )
    client = server.client(Role.THERAPIST)
    try:
        current = client.get(f"/episodes/{SHOULDER}").json()["version"]
        answer = client.post("/commands", json=visit(day="2026-06-04"))
    finally:
        raw.run("DROP TRIGGER clash" + ("" if raw.location.kind == "sqlite" else f" ON {raw.events}"))
        if raw.location.kind != "sqlite":
            raw.run("DROP FUNCTION clash()")
    assert answer.status_code == 409, answer.text
    assert answer.json()["current_version"] == current and "try again" in answer.json()["detail"]


def test_a_read_whose_access_row_cannot_be_written_is_503_and_shows_nothing(server: Server) -> None:
    from tests.e2e.test_audit_cli import allow_access_rows, refuse_access_rows

    client = server.client(Role.AUDITOR)
    assert client.get(f"/episodes/{KNEE}").status_code == 200  # its JSON is now kept by the worker
    refuse_access_rows(server.db)
    try:
        answers = [
            client.get(f"/episodes/{KNEE}"),
            client.get(f"/episodes/{KNEE}/timeline"),
            client.get(f"/episodes/{KNEE}/history"),
        ]
    finally:
        allow_access_rows(server.db)
    for answer in answers:
        assert answer.status_code == 503 and answer.headers["retry-after"].isdigit()
        assert "PT-1001" not in answer.text and not any(leak in answer.text for leak in LEAKS)


def test_reads_through_the_service_the_cli_and_python_each_leave_one_row_and_a_write_none(
    server: Server,
) -> None:
    from typer.testing import CliRunner

    from cli.main import app
    from projections.store.access import Actor
    from projections.store.root import open_store

    auditor = server.client(Role.AUDITOR)
    earlier = auditor.get("/audit/access").json()
    since = earlier[-1]["at"] if earlier else ""
    episode = str(demo_episode_ids()["ankle"])

    assert server.client(Role.THERAPIST).get(f"/episodes/{episode}").status_code == 200
    done = CliRunner().invoke(
        app, ["episode", "show", episode, "--db", server.db], env={"CARELEDGER_USER": "pt-cli"}
    )
    assert done.exit_code == 0, done.output
    with open_store(server.db) as store:
        store.actor = Actor(user="etl-job", role="local", origin="python")
        store.episode(UUID(episode))
    write = server.client(Role.THERAPIST).post(
        "/commands",
        json={
            "command": "add_addendum",
            "episode_id": episode,
            "command_id": str(uuid4()),
            "date_of_service": "2026-05-22",
            "text": "Home programme reviewed by phone.",
            "reason": "late call",
        },
    )
    assert write.status_code == 201, write.text
    rows = [r for r in auditor.get("/audit/access", params={"episode": episode}).json() if r["at"] > since]
    rows = [r for r in rows if r["episode_id"] == episode]
    assert [(r["user"], r["role"], r["origin"].split()[0]) for r in rows] == [
        ("therapist-1", "therapist", "http"),
        ("pt-cli", "local", "cli"),
        ("etl-job", "local", "python"),
    ]
    listed = CliRunner().invoke(app, ["audit", "access", episode, "--db", server.db, "--json"])
    assert [r["user"] for r in json.loads(listed.stdout)][-3:] == ["therapist-1", "pt-cli", "etl-job"]


def test_the_event_feed_pages_with_a_cursor_and_long_polls_for_new_events(server: Server) -> None:
    client = server.client(Role.SERVICE)
    first = client.get("/events", params={"after": 0, "limit": 1000}).json()
    events = first["events"]
    # the clinic's identity facts are not episode events: the feed reads past them
    assert events[0]["type"] == "Opened" and not any(e["topic"].startswith("domain.clinic.") for e in events)
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and first["next_after"] >= positions[-1]
    paged: list[int] = []
    end = 0
    while (page := client.get("/events", params={"after": end, "limit": 5}).json())["next_after"] != end:
        assert len(page["events"]) <= 5
        paged += [e["position"] for e in page["events"]]
        end = page["next_after"]
    assert paged[: len(positions)] == positions
    got: dict[str, Any] = {}

    def wait() -> None:
        began = time.monotonic()
        got["answer"] = client.get("/events", params={"after": end, "wait": 3}).json()
        got["seconds"] = time.monotonic() - began

    follower = threading.Thread(target=wait)
    follower.start()
    time.sleep(0.5)
    sent = server.client(Role.THERAPIST).post("/commands", json=visit(day="2026-06-08"))
    follower.join()
    assert sent.status_code == 201
    assert [e["type"] for e in got["answer"]["events"]] == ["VisitRecorded"]
    assert got["answer"]["next_after"] == end + 1 and got["seconds"] < 2.9


def test_a_request_past_the_time_limit_is_503_with_retry_after(server: Server) -> None:
    answer = server.client(Role.SERVICE).get("/events", params={"after": 10**9, "wait": 6})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"


def test_ready_once_caught_up_and_the_logs_name_routes_not_patients(server: Server) -> None:
    server.client(Role.ADMIN).get(f"/episodes/{KNEE}/timeline")
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert any(e.get("route") == "/episodes/{episode_id}/timeline" and e["status"] == 200 for e in lines)
    assert "Traceback" not in server.log.read_text()
    text = server.log.read_text()
    assert KNEE not in text and "PT-1001" not in text and "Shoulder flexion" not in text


def test_shutdown_lets_the_requests_in_flight_finish(tmp_path: Path) -> None:
    db = str(tmp_path / "careledger.db")
    build_demo(db)
    running = start_server(db, tmp_path)
    got: dict[str, Any] = {}
    client = running.client(Role.SERVICE)

    def wait() -> None:
        got["answer"] = client.get("/events", params={"after": 10**6, "wait": 2})

    follower = threading.Thread(target=wait)
    follower.start()
    time.sleep(0.5)
    running.process.terminate()  # SIGTERM, as an orchestrator stops a container
    follower.join()
    assert got["answer"].status_code == 200 and got["answer"].json() == {"events": [], "next_after": 10**6}
    # uvicorn re-raises the signal once it has shut down cleanly, as a process killed by it would exit.
    assert running.process.wait(timeout=30) in (0, -signal.SIGTERM)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{running.url}/healthz", timeout=1)


def test_units_answer_as_the_cli_does_and_name_every_bad_line(server: Server) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    args = ["97110=38/3", "97140=7"]
    cli = CliRunner().invoke(app, ["units", *args, "--on", "2026-03-02", "--payer", "medicare", "--json"])
    assert cli.exit_code == 0, cli.output
    client = server.client(Role.THERAPIST)
    answer = client.get("/units", params={"line": args, "on": "2026-03-02", "payer": "medicare"})
    assert answer.status_code == 200 and answer.json() == json.loads(cli.stdout)
    wrong = client.get("/units", params={"line": ["97110=-3", "97140=7", "XXXXX=8"]})
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["line.0", "line.2"]
    # Found by Schemathesis: a payer id longer than any profile's was a pydantic traceback in the library.
    long_payer = CliRunner().invoke(app, ["units", "97110=8", "--payer", "0" * 79])
    assert long_payer.exit_code == 1 and long_payer.stderr.startswith("error: payer:")
    assert client.get("/units", params={"line": "97110=8", "payer": "0" * 79}).status_code == 422
    tables = CliRunner().invoke(app, ["rules", "--on", "2026-03-02", "--json"])
    assert client.get("/rules", params={"on": "2026-03-02"}).json() == json.loads(tables.stdout)


def test_an_edit_made_after_the_worker_verified_and_showed_an_episode_is_refused(server: Server) -> None:
    # The worker remembers the head it verified and keeps the episode's JSON at that version;
    # an old visit edited afterwards (same length, so only its digest tells) is still refused.
    knee = UUID(KNEE)
    client = server.client(Role.ADMIN)
    first = client.get(f"/episodes/{knee}")
    assert first.status_code == 200 and client.get(f"/episodes/{knee}").content == first.content
    raw = RawStore(server.db)
    topic, state = raw.event(knee, 8)
    edited = state.replace(b'"minutes":23', b'"minutes":33')
    assert edited != state
    raw.set_event(knee, 8, topic, edited)
    try:
        for path in (f"/episodes/{knee}", f"/episodes/{knee}/history"):
            answer = client.get(path)
            assert answer.status_code == 409 and "version 8: changed" in answer.text, answer.text
    finally:
        raw.set_event(knee, 8, topic, state)
    assert client.get(f"/episodes/{knee}").content == first.content


def test_a_tampered_episode_is_neither_shown_nor_written_to(server: Server) -> None:
    # Runs last in this module: it leaves the back episode's stored events swapped.
    back = UUID(str(demo_episode_ids()["back"]))
    client = server.client(Role.ADMIN)
    assert client.get(f"/episodes/{back}").status_code == 200
    RawStore(server.db).swap(back, 3, 4)
    shown = client.get(f"/episodes/{back}")
    timeline = client.get(f"/episodes/{back}/timeline")
    written = client.post("/commands", json=visit(episode_id=str(back), day="2026-06-20"))
    for answer in (shown, timeline, written):
        assert answer.status_code == 409 and answer.json()["title"] == "Record fails verification", (
            answer.text
        )
        assert "PT-1002" not in answer.text
    assert client.get("/verify", params={"episode": str(back)}).json()["intact"] is False
    lines = [json.dumps(visit(episode_id=str(back), day="2026-06-21")), json.dumps(visit(day="2026-06-22"))]
    batch = client.post(
        "/commands/batch", content="\n".join(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert [(o["line"], o["status"]) for o in batch.json()["lines"]] == [(1, 409), (2, 201)]
