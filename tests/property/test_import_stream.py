"""Bad input at scale: a generated stream of good, malformed and out-of-range lines fed to `import`.

Every good line is applied, every bad line is rejected with its line number and
a reason that names the problem, and nothing ever prints a traceback.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from projections.store.root import Store, parse_location
from tests import builders as b
from tests.e2e.conftest import careledger

START = date(2026, 3, 2)
EPISODE = "6f1c1d0e-2b7a-4c43-9d55-3b0f1a2c9e10"

# Each bad kind: how to spoil a good visit line, and what its rejection must say.
BAD: dict[str, tuple[Any, str]] = {
    "not json": (lambda d: b'{"command": "record_visit", ' + json.dumps(d).encode()[:20], "malformed JSON"),
    "not an object": (lambda d: b"[1, 2, 3]", "a command must be a JSON object"),
    "binary": (lambda d: b"\xff\xfe\x00garbage", "malformed JSON"),
    "unknown command": (lambda d: _dump({**d, "command": "bill_everything"}), "command:"),
    "no command_id": (lambda d: _dump({k: v for k, v in d.items() if k != "command_id"}), "command_id:"),
    "negative minutes": (lambda d: _dump(_line(d, minutes=-5)), "service_lines.0.minutes:"),
    "minutes as text": (lambda d: _dump(_line(d, minutes="thirty")), "service_lines.0.minutes:"),
    "huge minutes": (lambda d: _dump(_line(d, minutes=10**9)), "service_lines.0.minutes:"),
    "unknown code": (lambda d: _dump(_line(d, code="99999")), "service_lines.0.code:"),
    "future date": (lambda d: _dump({**d, "date_of_service": "2099-01-04"}), "date_of_service:"),
    "before the episode": (lambda d: _dump({**d, "date_of_service": "2026-01-02"}), "date_of_service:"),
    "not a date": (lambda d: _dump({**d, "date_of_service": "yesterday"}), "date_of_service:"),
    "unknown episode": (lambda d: _dump({**d, "episode_id": str(uuid4())}), "episode_id: no episode"),
    "bad uuid": (lambda d: _dump({**d, "episode_id": "not-a-uuid"}), "episode_id:"),
    "timed above total": (lambda d: _dump({**d, "total_treatment_minutes": 1}), "total_treatment_minutes:"),
    "unknown field": (lambda d: _dump({**d, "units_total": 3}), "units_total: unknown field"),
    "no service lines": (lambda d: _dump({**d, "service_lines": []}), "service_lines:"),
    "null everywhere": (lambda d: _dump(dict.fromkeys(d)), ":"),
    "bad credential": (lambda d: _dump({**d, "credential": "WIZARD"}), "credential:"),
}


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def _line(document: dict[str, Any], **change: Any) -> dict[str, Any]:
    first = {**document["service_lines"][0], **change}
    return {**document, "service_lines": [first, *document["service_lines"][1:]]}


def _visit(day: date) -> dict[str, Any]:
    command = b.visit(EPISODE, date_of_service=str(day))  # type: ignore[arg-type]
    return dict(command.model_dump(mode="json", exclude_none=True))


# A stream item: ("good", day offset) or (bad kind, day offset). A good line on a day already
# taken by an earlier good line is rejected too ("already recorded").
items = st.lists(
    st.tuples(st.sampled_from(["good", "good", "good", *BAD]), st.integers(0, 120)), min_size=1, max_size=60
)


def _stream(drawn: list[tuple[str, int]]) -> tuple[bytes, dict[int, str], set[str]]:
    """Return the bytes, the expected reason of each bad line, and the command ids that must apply."""
    lines: list[bytes] = []
    bad: dict[int, str] = {}
    good: set[str] = set()
    taken: set[int] = set()
    for number, (kind, offset) in enumerate(drawn, start=1):
        document = _visit(START + timedelta(days=offset))
        if kind == "good":
            lines.append(_dump(document))
            if offset in taken:
                bad[number] = "is already recorded"
            else:
                taken.add(offset)
                good.add(document["command_id"])
            continue
        spoil, reason = BAD[kind]
        # Bad lines use days no good line uses, so each is rejected for its own fault only.
        document["date_of_service"] = str(START + timedelta(days=121 + offset % 140))
        lines.append(spoil(document))
        bad[number] = reason
    return b"\n".join(lines) + b"\n", bad, good


def _seeded(db: str) -> str:
    with Store(parse_location(db)) as store:
        store.app.handle(b.open_episode(episode_id=EPISODE, start_date=str(START)))
    return db


def _check(report: dict[str, Any], stderr: str, bad: dict[int, str], good: set[str], db: str) -> None:
    assert "Traceback" not in stderr
    rejected = {entry["line"]: entry["error"] for entry in report["rejected_lines"]}
    assert set(rejected) == set(bad), (rejected, bad)
    for number, reason in bad.items():
        assert reason in rejected[number], (number, rejected[number], reason)
        assert "\n" not in rejected[number]
        assert f"stdin: line {number}: " in stderr
    assert report["applied"] == len(good)
    with Store(parse_location(db)) as store:
        stored = {str(e.command_id) for e in store.app.history(store.episode_ids_with_prefix("6f1c1d0e")[0])}
    assert good <= stored and len(stored) == len(good) + 1  # the opening command, and every good line


@settings(max_examples=40, deadline=None)
@given(drawn=items)
def test_a_generated_stream_applies_every_good_line_and_rejects_every_bad_one_with_its_reason(
    tmp_path_factory: Any, drawn: list[tuple[str, int]]
) -> None:
    data, bad, good = _stream(drawn)
    db = _seeded(str(tmp_path_factory.mktemp("stream") / "stream.db"))
    done = CliRunner().invoke(app, ["import", "-", "--db", db, "--json"], input=data)
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert done.exit_code == (1 if bad else 0)
    _check(json.loads(done.stdout), done.stderr, bad, good, db)


def test_a_long_generated_stream_through_the_real_command_prints_no_traceback(db_url: str) -> None:
    rng = random.Random(2026)
    kinds = ["good"] * 3 + list(BAD)
    stream = [(rng.choice(kinds), rng.randint(0, 120)) for _ in range(3000)]
    data, bad, good = _stream(stream)
    db = _seeded(db_url)
    done = careledger("import", "-", "--db", db, "--json", stdin=data)
    _check(json.loads(done.stdout), done.stderr.decode(), bad, good, db)
    assert done.returncode == 1 and done.stderr.decode().count("\n") == len(bad)
