"""Fuzzing the command door: generated JSON never causes a traceback, and a refusal changes nothing.

Valid visit documents are mutated (a value replaced by JSON of a wrong type,
control characters, offsets, huge and tiny numbers; a key given twice) and sent
through the whole path a line of `careledger import` takes, on a real SQLite
store: the door, pydantic, the episode's rules, the store. Every outcome is an
accepted command or a careledger error whose message starts with the field it
names; after a refusal the stored events and links are byte-identical.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any
from uuid import uuid4

from hypothesis import example, given
from hypothesis import strategies as st

from domain.episode.commands import parse_command
from domain.errors import CareledgerError
from projections.store.root import Store, parse_location
from tests import builders as b
from tests.conftest import FixedClock

NASTY = [
    "10:00+02:00",
    "10:00Z",
    "2026-09-10T00:00:00+14:00",
    "1788739200",
    '=HYPERLINK("http://x")',
    "+cmd|'/Ccalc'!A0",
    "@SUM(A1)",
    "-5",
    "\x1b[2J\x1b]52;c;aGk=\x07",
    "a\x00b",
    "\u202eevil",
    "line\nbreak",
    "[/]",
    "",
    " ",
]
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    | st.sampled_from(NASTY)
)
VALUES = st.recursive(
    LEAVES,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=6,
)
PATHS = [
    ("date_of_service",),
    ("provider_id",),
    ("credential",),
    ("total_treatment_minutes",),
    ("necessity",),
    ("patient_response",),
    ("recorded_by",),
    ("service_lines",),
    ("service_lines", 0, "code"),
    ("service_lines", 0, "minutes"),
    ("service_lines", 0, "start"),
    ("service_lines", 0, "end"),
    ("service_lines", 0, "assistant_minutes"),
    ("skilled_interventions",),
    ("unknown_field",),
]
FIELD_FIRST = re.compile(r"^[A-Za-z_][\w.]*: ")


def stored(path: Path) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(path) as conn:
        events = conn.execute(
            "SELECT * FROM stored_events ORDER BY originator_id, originator_version"
        ).fetchall()
        links = conn.execute("SELECT * FROM stored_events_chain ORDER BY 1, 2").fetchall()
    conn.close()
    return events, links


def test_the_door_never_raises_a_traceback_and_a_refusal_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "fuzz.db"
    clock = FixedClock()
    store = Store(parse_location(str(path)), clock=clock)
    episode_id = store.app.handle(b.open_episode(start_date="2026-09-01")).episode_id

    @given(
        path=st.sampled_from(PATHS),
        value=VALUES,
        day=st.integers(min_value=2, max_value=28),
        duplicate=st.booleans(),
    )
    # The two the attack review found: a traceback (aware vs naive times) and a duplicate key taken.
    @example(path=("service_lines", 0, "start"), value="10:00+02:00", day=3, duplicate=False)
    @example(path=("necessity",), value="Knee flexion limits stairs.", day=4, duplicate=True)
    def attempt(path: tuple[Any, ...], value: Any, day: int, duplicate: bool) -> None:
        document = b.visit(episode_id, date_of_service=f"2026-10-{day:02d}").model_dump(mode="json")
        document["command_id"] = str(uuid4())
        document["service_lines"][0].update(start="10:00", end="10:33")
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        text = json.dumps(document)
        if duplicate:  # (when provider_id still holds its value)
            text = text.replace('"provider_id": "pt-1"', '"provider_id": "pta-evil", "provider_id": "pt-1"')
        before = stored(path_db)
        try:
            store.app.handle(parse_command(text))
        except CareledgerError as error:
            assert FIELD_FIRST.match(str(error)), str(error)
            assert stored(path_db) == before
        else:
            assert text.count('"provider_id"') == 1, "a key given twice was accepted"

    path_db = path
    try:
        attempt()
    finally:
        store.close()
