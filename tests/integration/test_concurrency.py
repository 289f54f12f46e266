"""Many writers in real processes, on SQLite and PostgreSQL.

Several processes record visits on one episode at the same moment; several
`careledger import` processes load different episodes at once while a
`careledger projections run` process follows the log; several processes open a
fresh PostgreSQL schema together. Nothing may be lost, duplicated or half-written.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.demo import ReplayClock
from domain.episode.application import Episodes, RetryPolicy
from domain.episode.commands import parse_command
from domain.errors import CareledgerError, ConcurrencyConflict
from projections.store.root import Store, parse_location
from projections.views.projector import Projector
from tests import builders as b
from tests.processes import (
    careledger_process,
    command_ids,
    duplicated_commands,
    store_contents,
    wait_until,
    write_clinic,
)
from tests.readmodels import dump

WRITERS = 4
VISITS_EACH = 8
START = date(2026, 1, 5)
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _visit_document(episode_id: UUID, day: date, writer: int) -> dict[str, Any]:
    command = b.visit(episode_id, date_of_service=str(day), narrative=f"writer {writer}")
    return command.model_dump(mode="json")


def _record_visits(db_url: str, episode_id: str, writer: int, attempts: int, start: Any, out: Any) -> None:
    """Worker process: record this writer's visits as fast as possible once all writers are ready."""
    policy = RetryPolicy(attempts=attempts)
    with Store(parse_location(db_url), clock=lambda: datetime.now(UTC), retry=policy) as store:
        episode = UUID(episode_id)
        documents = [
            _visit_document(episode, START + timedelta(days=writer + WRITERS * n), writer)
            for n in range(VISITS_EACH)
        ]
        start.wait()
        for document in documents:
            try:
                result = store.app.handle(parse_command(document))
                out.put(("landed", document["command_id"], result.version))
            except ConcurrencyConflict as conflict:
                out.put(("conflict", document["command_id"], str(conflict)))
            except CareledgerError as error:  # reported, so the test fails at once and says why
                out.put(("error", document["command_id"], str(error)))


def _run_writers(db_url: str, episode_id: UUID, attempts: int) -> list[tuple[str, str, Any]]:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    out = context.Queue()
    workers = [
        context.Process(target=_record_visits, args=(db_url, str(episode_id), n, attempts, start, out))
        for n in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    start.set()
    results = [out.get(timeout=120) for _ in range(WRITERS * VISITS_EACH)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return results


def _open(db_url: str) -> UUID:
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        return store.app.handle(b.open_episode(start_date=str(START))).episode_id


def _serial_replay_state(db_url: str, episode_id: UUID) -> tuple[Any, Any]:
    """The stored episode, and the episode a single writer gets applying the landed commands in order."""
    with Store(parse_location(db_url)) as store:
        stored = store.app.get_episode(episode_id)
        events = store.app.history(episode_id)
    clock = ReplayClock(events[0].timestamp)
    serial = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    opened = b.open_episode(start_date=str(START))
    serial.handle(opened.model_copy(update={"episode_id": episode_id, "command_id": events[0].command_id}))
    for event in events[1:]:
        clock.now = event.timestamp
        document = {
            "command": "record_visit",
            "command_id": str(event.command_id),
            "recorded_by": event.recorded_by,
            "episode_id": str(episode_id),
            **event.payload(),
        }
        serial.handle(parse_command(document))
    return stored.state(), serial.get_episode(episode_id).state()


@pytest.mark.slow
def test_writers_in_parallel_processes_each_land_every_visit_once(db_url: str) -> None:
    episode_id = _open(db_url)
    results = _run_writers(db_url, episode_id, attempts=50)
    assert {kind for kind, _, _ in results} == {"landed"}, results
    versions = sorted(version for _, _, version in results)
    assert versions == list(range(2, 2 + WRITERS * VISITS_EACH))  # every write got its own version
    stored, serial = _serial_replay_state(db_url, episode_id)
    assert len(stored.visits) == WRITERS * VISITS_EACH
    assert stored == serial


@pytest.mark.slow
def test_a_writer_that_keeps_losing_gets_a_conflict_and_stores_nothing(db_url: str) -> None:
    # One attempt only: a collision is not retried, so some writes fail with the conflict error.
    episode_id = _open(db_url)
    results = _run_writers(db_url, episode_id, attempts=1)
    landed = {command_id for kind, command_id, _ in results if kind == "landed"}
    refused = {command_id: message for kind, command_id, message in results if kind == "conflict"}
    assert len(landed) + len(refused) == WRITERS * VISITS_EACH, results
    for message in refused.values():
        assert message == (
            f"episode_id: {episode_id} was changed by other writers during each of 1 attempts to apply "
            "this command; nothing was stored, try again"
        )
    contents = store_contents(db_url)[str(episode_id)]
    stored_ids = {command_id for _, _, command_id in contents["events"][1:]}
    assert stored_ids == landed  # the refused ones left nothing behind
    assert not duplicated_commands({"e": contents})
    stored, serial = _serial_replay_state(db_url, episode_id)
    assert stored == serial


def _hammer(db_url: str, episode_id: UUID, stop: threading.Event, written: list[int]) -> None:
    """Keep appending addenda to the episode's first visit until told to stop (another writer, busy)."""
    with Store(parse_location(db_url), clock=lambda: datetime.now(UTC)) as store:
        while not stop.is_set():
            command = parse_command(
                {
                    "command": "add_addendum",
                    "command_id": str(uuid4()),
                    "recorded_by": "hammer",
                    "episode_id": str(episode_id),
                    "date_of_service": str(START),
                    "text": "Addendum while another writer records a visit.",
                    "reason": "concurrency test",
                }
            )
            written.append(store.app.handle(command).version)


def test_the_cli_reports_a_conflict_it_could_not_resolve_in_one_line_with_exit_4(
    db_url: str, tmp_path: Path
) -> None:
    # `visit record` with CARELEDGER_WRITE_ATTEMPTS=1 while another writer changes the same episode
    # without pause: the command's one attempt collides (in practice on the first round).
    episode_id = _open(db_url)
    with Store(parse_location(db_url), clock=lambda: NOW) as store:
        store.app.handle(b.visit(episode_id, date_of_service=str(START)))
    outcomes: list[tuple[int, str, str]] = []
    stop = threading.Event()
    written: list[int] = []
    hammer = threading.Thread(target=_hammer, args=(db_url, episode_id, stop, written), daemon=True)
    hammer.start()
    try:
        for round_ in range(1, 11):
            day = START + timedelta(days=round_)
            document = {
                k: v
                for k, v in _visit_document(episode_id, day, 0).items()
                if k not in ("command", "episode_id")
            }
            path = tmp_path / f"visit-{round_}.json"
            path.write_text(json.dumps(document))
            process = careledger_process(
                "visit", "record", str(episode_id), str(path), "--db", db_url,
                env={"CARELEDGER_WRITE_ATTEMPTS": "1"},
            )  # fmt: skip
            _, err = process.communicate(timeout=120)
            outcomes.append((process.returncode, err.decode(), str(day)))
            if process.returncode == 4:
                break
    finally:
        stop.set()
        hammer.join(timeout=60)
    assert written, "the other writer wrote nothing"
    for code, err, _ in outcomes:
        assert code in (0, 4), err
        assert "Traceback" not in err
        if code == 4:
            assert err.count("\n") == 1 and err.startswith("error: episode_id: ") and "try again" in err
    assert any(code == 4 for code, _, _ in outcomes), f"no collision in {len(outcomes)} rounds"
    with Store(parse_location(db_url)) as store:
        visits = store.app.get_episode(episode_id).visits
    assert {str(d) for d in visits} == {str(START), *(day for code, _, day in outcomes if code == 0)}


@pytest.mark.slow
def test_parallel_imports_of_different_episodes_equal_one_serial_import(
    db_url: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = []
    lines: list[bytes] = []
    for n in range(3):
        path = tmp_path / f"part-{n}.jsonl"
        lines += write_clinic(path, episodes=6, seed=100 + n)
        files.append(path)
    follower = careledger_process("projections", "run", "--interval", "0.1", "--db", db_url)
    importers = [careledger_process("import", str(path), "--db", db_url, "-q") for path in files]
    for importer in importers:
        _, err = importer.communicate(timeout=300)
        assert importer.returncode == 0, err.decode()
    with Store(parse_location(db_url)) as store:
        projector = Projector(store)
        try:
            head = projector.log_position()
            assert head == len(lines)
            assert wait_until(lambda: min(s.position for s in projector.status()) == head, timeout=60)
            follower.send_signal(signal.SIGTERM)
            _, err = follower.communicate(timeout=30)
            assert follower.returncode == 0, err.decode()
            live = dump(projector)
            projector.rebuild()
            assert dump(projector) == live  # the follower missed nothing
        finally:
            projector.close()
            if follower.poll() is None:
                follower.kill()
    contents = store_contents(db_url)
    assert not duplicated_commands(contents)
    assert {c for e in contents.values() for _, _, c in e["events"]} == command_ids(lines)
    serial_db = str(tmp_path_factory.mktemp("serial") / "serial.db")
    for path in files:
        done = careledger_process("import", str(path), "--db", serial_db, "-q")
        assert done.wait(timeout=300) == 0
    assert contents == store_contents(serial_db)


@pytest.mark.postgres
def test_processes_opening_a_fresh_postgresql_schema_together_all_succeed(postgres_url: str) -> None:
    # eventsourcing's CREATE ... IF NOT EXISTS statements race ("tuple concurrently updated").
    db_url = postgres_url
    openers = [
        careledger_process("projections", "status", "--db", db_url, "--json"),
        *(careledger_process("episode", "list", "--db", db_url, "--json") for _ in range(4)),
    ]
    for opener in openers:
        _, err = opener.communicate(timeout=120)
        assert opener.returncode == 0, err.decode()


def test_a_retry_policy_waits_with_growing_jittered_delays() -> None:
    waits: list[float] = []
    policy = RetryPolicy(
        attempts=6, base_delay=0.01, max_delay=0.05, sleep=waits.append, jitter=lambda a, b: b
    )
    for attempt in range(1, 6):
        policy.wait(attempt)
    assert waits == [0.01, 0.02, 0.04, 0.05, 0.05]
    drawn: list[tuple[float, float]] = []
    RetryPolicy(sleep=lambda _: None, jitter=lambda a, b: drawn.append((a, b)) or 0.0).wait(1)
    assert drawn == [(0, 0.005)]


def test_a_bad_retry_setting_is_refused_in_one_line(tmp_path: Path) -> None:
    process = careledger_process(
        "episode", "list", "--db", str(tmp_path / "x.db"), env={"CARELEDGER_WRITE_ATTEMPTS": "0"}
    )
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.decode() == "error: CARELEDGER_WRITE_ATTEMPTS: '0' is not a whole number of at least 1\n"
