"""Faults: an import killed with SIGKILL, a projection process killed, the database going away.

Each runs the real `careledger` command in a process of its own. What must hold
after the fault: nothing half-written (every stored event is a whole command,
with its chain link), running the same thing again finishes the job, and the
result equals what an uninterrupted run gives.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from projections.store.root import Store, parse_location
from projections.store.verify import verify_chains
from projections.views.projector import Projector
from tests.conftest import new_pg_schema_url, require_postgres
from tests.processes import (
    TcpProxy,
    careledger_process,
    command_ids,
    duplicated_commands,
    log_length,
    store_contents,
    wait_until,
    write_clinic,
)
from tests.readmodels import dump

EPISODES = 150  # about 4,000 commands: several import batches and projection pages


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    path = tmp_path_factory.mktemp("clinic") / "clinic.jsonl"
    return path, write_clinic(path, EPISODES, seed=31)


@pytest.fixture(scope="module")
def uninterrupted(
    clinic: tuple[Path, list[bytes]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """The store an import that nobody interrupted leaves (SQLite; compared without recorded times)."""
    db = str(tmp_path_factory.mktemp("reference") / "reference.db")
    done = careledger_process("import", str(clinic[0]), "--db", db, "-q")
    assert done.wait(timeout=300) == 0
    return store_contents(db)


def intact(db_url: str) -> bool:
    with Store(parse_location(db_url)) as store:
        return verify_chains(store.app.recorder, None, None, None).intact  # type: ignore[arg-type]


@pytest.mark.slow
def test_an_import_killed_midway_and_run_again_equals_an_uninterrupted_import(
    db_url: str, clinic: tuple[Path, list[bytes]], uninterrupted: dict[str, object]
) -> None:
    path, lines = clinic
    importer = careledger_process("import", "-", "--db", db_url, "-q", pipe_stdin=True)
    assert importer.stdin is not None
    importer.stdin.write(b"".join(lines[:1200]))  # two whole batches of 500 and part of a third
    importer.stdin.flush()
    assert wait_until(lambda: log_length(db_url) >= 1000, timeout=120)
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)
    stored = log_length(db_url)
    assert 1000 <= stored < len(lines)  # killed midway
    assert intact(db_url)  # what is stored is whole, chain links included
    again = careledger_process("import", str(path), "--db", db_url, "--json")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    assert b'"already_applied": %d' % stored in out
    contents = store_contents(db_url)
    assert not duplicated_commands(contents)
    assert contents == uninterrupted
    assert intact(db_url)


@pytest.mark.slow
def test_a_projection_process_killed_midway_resumes_from_its_tracked_position(
    db_url: str, clinic: tuple[Path, list[bytes]]
) -> None:
    path, lines = clinic
    assert careledger_process("import", str(path), "--db", db_url, "-q").wait(timeout=300) == 0
    with Store(parse_location(db_url)) as store:
        projector = Projector(store)
        try:
            projector.ensure_tables()

            def position() -> int:
                return min(s.position for s in projector.status())

            follower = careledger_process("projections", "run", "--db", db_url, "--quiet")
            assert wait_until(lambda: position() > 0, timeout=120, step=0.005)
            follower.send_signal(signal.SIGKILL)
            follower.wait(timeout=30)
            tracked = position()
            assert 0 < tracked < len(lines), tracked  # killed midway through the log
            assert {s.position for s in projector.status()} == {tracked}  # every projection at one page end
            resumed = careledger_process("projections", "run", "--once", "--db", db_url)
            _, err = resumed.communicate(timeout=300)
            assert resumed.returncode == 0, err.decode()
            # It starts where the killed process stopped: nothing applied twice, nothing skipped.
            assert f"caught up: {len(lines) - tracked} events applied".encode() in err
            resumed_rows = dump(projector)
            projector.rebuild()
            assert dump(projector) == resumed_rows
        finally:
            projector.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_the_database_going_away_mid_import_is_one_line_exit_3_and_leaves_whole_batches(
    clinic: tuple[Path, list[bytes]], uninterrupted: dict[str, object]
) -> None:
    from tests.conftest import drop_pg_schema

    base = require_postgres()
    direct, schema = new_pg_schema_url(base)
    location = parse_location(direct)
    proxy = TcpProxy(location.es_env["POSTGRES_HOST"], int(location.es_env["POSTGRES_PORT"]))
    via_proxy = direct.replace(f":{location.es_env['POSTGRES_PORT']}/", f":{proxy.port}/", 1)
    assert via_proxy != direct, "CARELEDGER_TEST_POSTGRES must name its port"
    via_proxy += "&connect_timeout=1"  # eventsourcing tries 10 times before giving up
    path, lines = clinic
    try:
        importer = careledger_process("import", "-", "--db", via_proxy, "-q", pipe_stdin=True)
        assert importer.stdin is not None
        importer.stdin.write(b"".join(lines[:1200]))
        importer.stdin.flush()
        assert wait_until(lambda: log_length(direct) >= 1000, timeout=120)
        proxy.kill()  # the server is gone for this process
        try:
            importer.stdin.write(b"".join(lines[1200:]))
            importer.stdin.close()
        except BrokenPipeError:
            pass
        importer.wait(timeout=120)
        assert importer.stderr is not None
        err = importer.stderr.read().decode()
        assert importer.returncode == 3, err
        assert err.count("\n") == 1 and err.startswith("error: database: ") and "Traceback" not in err
        assert "lines up to 1000 were applied, re-run the import to continue" in err
        stored = log_length(direct)
        assert stored == 1000  # the batch in flight was rolled back whole
        assert command_ids(lines[:1000]) == {
            c for e in store_contents(direct).values() for _, _, c in e["events"]
        }
        assert intact(direct)
        again = careledger_process("import", str(path), "--db", direct, "-q")
        assert again.wait(timeout=300) == 0
        assert store_contents(direct) == uninterrupted
    finally:
        proxy.kill()
        drop_pg_schema(base, schema)


def test_a_command_against_a_database_that_is_not_there_is_one_line_exit_3(tmp_path: Path) -> None:
    proxy = TcpProxy("127.0.0.1", 9)
    proxy.kill()  # nothing listens on its port any more
    document = tmp_path / "visit.json"
    document.write_text("{}")
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/careledger?connect_timeout=1"
    for args in (
        ("visit", "record", "0f4e33c2-9a7d-4d7e-9a52-0c5d8f1f0a11", str(document), "--user", "x"),
        ("episode", "list"),
        ("import", str(document)),
    ):
        done = careledger_process(*args, "--db", url)
        _, err = done.communicate(timeout=60)
        assert done.returncode == 3, err
        assert err.decode().count("\n") == 1 and err.startswith(b"error: database: cannot reach"), err
