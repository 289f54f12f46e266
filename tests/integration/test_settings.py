"""The clinic's time zone is a setting of the store: every process decides "today" the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.errors import InvalidInput
from projections.store.root import Store, parse_location
from projections.store.settings import TIMEZONE, parse_timezone
from tests import builders as b
from tests.e2e.conftest import careledger

# 2026-11-20 15:00 UTC is already 2026-11-21 in Kiritimati (UTC+14).
LATE_AFTERNOON_UTC = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _store(url: str) -> Store:
    return Store(parse_location(url), clock=lambda: LATE_AFTERNOON_UTC)


def test_an_unset_time_zone_is_utc_and_a_set_one_is_read_by_every_later_opener(db_url: str) -> None:
    with _store(db_url) as store:
        assert store.timezone.key == "UTC"
        assert store.settings.read() == {}
        store.settings.write(TIMEZONE, "Pacific/Kiritimati")
    with _store(db_url) as again:
        assert again.timezone.key == "Pacific/Kiritimati"
        assert again.app.timezone.key == "Pacific/Kiritimati"


def test_today_is_the_clinic_date_so_the_same_command_is_decided_alike_anywhere(db_url: str) -> None:
    with _store(db_url) as store:
        episode_id = store.app.handle(b.open_episode(start_date="2026-11-01")).episode_id
        tomorrow_in_utc = b.visit(episode_id, date_of_service="2026-11-21")
        with pytest.raises(InvalidInput, match=r"date_of_service: 2026-11-21 is in the future"):
            store.app.handle(tomorrow_in_utc)
        store.settings.write(TIMEZONE, "Pacific/Kiritimati")
    with _store(db_url) as clinic:
        result = clinic.app.handle(tomorrow_in_utc)
        assert result.applied and result.version == 2


def test_an_unknown_time_zone_is_refused_naming_the_setting() -> None:
    with pytest.raises(InvalidInput, match=r"^timezone: not an IANA time zone name"):
        parse_timezone("Mars/Olympus_Mons")
    with pytest.raises(InvalidInput, match=r"^timezone: "):
        parse_timezone("../../etc/passwd")
    assert parse_timezone(" America/Chicago ").key == "America/Chicago"


def test_the_settings_commands_show_and_set_the_time_zone(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    shown = careledger("settings", "show", "--db", db)
    assert shown.returncode != 0 and b"no careledger store" in shown.stderr
    chicago = b"timezone: America/Chicago\n"
    assert careledger("settings", "timezone", "America/Chicago", "--db", db).stdout == chicago
    assert careledger("settings", "show", "--db", db).stdout == b"timezone: America/Chicago\n"
    refused = careledger("settings", "timezone", "Nowhere/Land", "--db", db)
    assert refused.returncode == 1 and refused.stderr.startswith(b"error: timezone: not an IANA")
    assert careledger("settings", "show", "--db", db).stdout == b"timezone: America/Chicago\n"
