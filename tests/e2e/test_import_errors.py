"""Acceptance: broken record_visit lines are refused with one line, and nothing changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.conftest import ROOT, careledger, event_rows

EPISODE = ROOT / "docs" / "examples" / "episode.jsonl"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seed") / "seed.db"
    done = careledger("import", str(EPISODE), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def db(db_url: str, seeded: Path, tmp_path: Path) -> str:
    """The example episode in a fresh store: a copy of a seeded file on SQLite, imported on PostgreSQL."""
    if not db_url.startswith("postgresql"):
        copy = tmp_path / "store.db"
        shutil.copy(seeded, copy)
        return str(copy)
    done = careledger("import", str(EPISODE), "--db", db_url)
    assert done.returncode == 0, done.stderr
    return db_url


def valid_visit() -> dict[str, Any]:
    first = json.loads(EPISODE.read_text().splitlines()[0])
    return {
        "command": "record_visit",
        "command_id": str(uuid4()),
        "recorded_by": "tester",
        "episode_id": first["episode_id"],
        "date_of_service": "2026-09-10",
        "provider_id": "pt-rivera",
        "credential": "PT",
        "service_lines": [{"code": "97110", "minutes": 30}],
        "total_treatment_minutes": 35,
    }


def with_line(**changes: Any) -> bytes:
    document = valid_visit()
    for key, value in changes.items():
        if key == "minutes":
            document["service_lines"][0]["minutes"] = value
        elif key == "code":
            document["service_lines"][0]["code"] = value
        else:
            document[key] = value
    return json.dumps(document).encode() + b"\n"


REUSED = json.loads(EPISODE.read_text().splitlines()[5])
REUSED_CHANGED = {**REUSED, "total_treatment_minutes": REUSED["total_treatment_minutes"] + 1}

BROKEN: dict[str, tuple[bytes, str]] = {
    "negative minutes": (with_line(minutes=-5), "service_lines.0.minutes: input should be greater"),
    "non-numeric minutes": (
        with_line(minutes="thirty"),
        "service_lines.0.minutes: input should be a valid integer",
    ),
    "unknown code": (with_line(code="97999"), "service_lines.0.code: '97999' is not in the code catalogue"),
    "future date": (with_line(date_of_service="2099-01-04"), "date_of_service: 2099-01-04 is in the future"),
    "before the episode": (with_line(date_of_service="2026-07-01"), "is before the episode start"),
    "unknown episode": (with_line(episode_id=str(uuid4())), "episode_id: no episode"),
    "timed above total": (with_line(total_treatment_minutes=20), "total_treatment_minutes: 20 is less than"),
    "unknown field": (with_line(units_total=3), "units_total: unknown field"),
    "malformed JSON": (b'{"command": "record_visit", "minutes": \n', "malformed JSON"),
    "reused command_id": (json.dumps(REUSED_CHANGED).encode() + b"\n", "command_id:"),
    # The door (domain/door.py): each of these was a traceback or a silent coercion before.
    "time with an offset beside a plain one": (
        with_line(service_lines=[{"code": "97110", "minutes": 30, "start": "10:00+02:00", "end": "10:30"}]),
        "service_lines.0.start: must be a clock time",
    ),
    "unix time for a date": (with_line(date_of_service=1788739200), "date_of_service: must be a date"),
    "date-time for a date": (
        with_line(date_of_service="2026-09-10T00:00:00+14:00"),
        "date_of_service: must be a date",
    ),
    "duplicate key": (
        with_line().replace(
            b'"provider_id": "pt-rivera"', b'"provider_id": "pta-evil", "provider_id": "pt-rivera"'
        ),
        "provider_id: given twice",
    ),
    "formula in an id": (with_line(provider_id="=HYPERLINK(1)"), "provider_id: must not start with ="),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_line_is_refused_with_one_line_and_changes_nothing(db: str, case: str) -> None:
    line, expected = BROKEN[case]
    before = event_rows(db)
    done = careledger("import", "-", "--db", db, stdin=line)
    stderr = done.stderr.decode()
    assert done.returncode == 1
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("stdin: line 1: ") and expected in stderr, stderr
    assert event_rows(db) == before


@pytest.mark.parametrize("case", ["negative minutes", "unknown code", "timed above total", "unknown field"])
def test_visit_record_refuses_the_same_documents(db: str, tmp_path: Path, case: str) -> None:
    document = json.loads(BROKEN[case][0])
    file = tmp_path / "visit.json"
    file.write_text(json.dumps(document))
    before = event_rows(db)
    done = careledger("visit", "record", document["episode_id"], str(file), "--db", db)
    stderr = done.stderr.decode()
    assert done.returncode == 1 and "Traceback" not in stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert event_rows(db) == before


def test_good_lines_around_a_bad_one_are_applied(db: str) -> None:
    good_1 = with_line(date_of_service="2026-09-10")
    bad = with_line(minutes=-1)
    good_2 = with_line(date_of_service="2026-09-11")
    done = careledger("import", "-", "--db", db, "--json", stdin=good_1 + bad + good_2)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert (report["applied"], report["rejected"]) == (2, 1)
    assert report["rejected_lines"][0]["line"] == 2


def test_reimporting_a_file_is_a_no_op(db: str) -> None:
    before = event_rows(db)
    done = careledger("import", str(EPISODE), "--db", db)
    assert done.returncode == 0
    assert "0 applied, 20 already applied" in done.stdout.decode()
    assert event_rows(db) == before


def test_an_empty_import_file_is_an_error(db: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n\n")
    done = careledger("import", str(empty), "--db", db)
    assert done.returncode == 1 and "holds no command" in done.stderr.decode()
