"""Opening a second active episode of one discipline for one patient on the same day is allowed, with
a warning naming the first (a double entry splits the visits, clocks and KX count)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app


def open_episode(db: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        app,
        [
            *("episode", "open", "--db", str(db), "--patient", "PT-9", "--payer", "medicare"),
            *("--diagnosis", "M54.50", "--user", "front-desk", *extra),
        ],
    )


def test_a_second_same_day_episode_of_one_discipline_is_accepted_with_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    first = open_episode(db, "--discipline", "PT", "--start", "2026-03-02")
    assert first.exit_code == 0 and first.stderr == ""
    other_day = open_episode(db, "--discipline", "PT", "--start", "2026-03-09")
    other_discipline = open_episode(db, "--discipline", "OT", "--start", "2026-03-02")
    assert other_day.stderr == "" and other_discipline.stderr == ""
    second = open_episode(db, "--discipline", "PT", "--start", "2026-03-02")
    assert second.exit_code == 0
    first_id = first.stdout.split("episode ")[1][:8]
    assert second.stderr.startswith(
        f"warning: patient PT-9 already has 1 active PT episode starting 2026-03-02 ({first_id})"
    )
