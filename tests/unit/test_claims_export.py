"""The claim-line export: one row per billed line, from the billing engine, in CSV or JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import pytest

from domain.billing.bill import bill_with_others, billing_rules
from domain.demo import ReplayClock, demo_clinic
from domain.episode.application import Episodes
from projections.interop.claims import COLUMNS, as_csv, claim_rows, store_claim_rows


@pytest.fixture(scope="module")
def app() -> Iterator[Episodes]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    episodes = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    for item in recorded:
        clock.now = item.at
        episodes.handle(item.command)
    yield episodes
    episodes.close()


def test_every_line_that_bills_a_unit_is_one_row_with_the_engines_units_and_modifiers(app: Episodes) -> None:
    rows = store_claim_rows(app)
    episodes = [app.get_episode(i) for i in app.episode_ids()]
    expected = []
    for episode in episodes:
        bill = bill_with_others(
            episode, [o for o in episodes if o.id != episode.id], billing_rules(episode.payer)
        )
        for visit in bill.visits:
            expected += [
                (
                    str(episode.id),
                    line.date_of_service.isoformat(),
                    line.code,
                    line.units,
                    list(line.modifiers),
                )
                for line in visit.lines
                if line.units > 0
            ]
    got = [(r["episode_id"], r["date_of_service"], r["code"], r["units"], r["modifiers"]) for r in rows]
    assert sorted(got) == sorted(expected)
    assert [r["date_of_service"] for r in rows] == sorted(r["date_of_service"] for r in rows)


def test_a_row_names_the_patient_the_diagnoses_behind_its_pointers_and_why(app: Episodes) -> None:
    rows = store_claim_rows(app)
    knee = [r for r in rows if r["patient_ref"] == "PT-1001"]
    first = knee[0]
    assert first["diagnosis_pointers"] == [1, 2] and first["diagnosis_codes"] == ["Z96.651", "M17.11"]
    assert first["rule"] == "cms" and first["explanation"]
    assert any("KX" in r["modifiers"] for r in knee)
    ankle = [r for r in rows if r["patient_ref"] == "PT-1003"]
    assert {r["rule"] for r in ankle} == {"ama"}


def test_since_keeps_visits_on_or_after_the_date(app: Episodes) -> None:
    rows = store_claim_rows(app, date(2026, 4, 20))
    assert rows and all(r["date_of_service"] >= "2026-04-20" for r in rows)
    assert len(rows) < len(store_claim_rows(app))


def test_csv_has_the_documented_columns_and_survives_commas_and_quotes(app: Episodes) -> None:
    rows = store_claim_rows(app)
    text = as_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert tuple(parsed[0]) == COLUMNS
    assert len(parsed) == len(rows)
    assert parsed[0]["explanation"] == " ".join(rows[0]["explanation"])
    assert parsed[0]["billable"] in ("true", "false")


def test_no_episodes_give_only_the_header() -> None:
    assert as_csv(claim_rows([])) == ",".join(COLUMNS) + "\n"


def test_cells_a_spreadsheet_would_run_are_neutralised_with_a_quote() -> None:
    row = dict.fromkeys(COLUMNS)
    row.update(
        provider_id='=HYPERLINK("http://x")',
        payer_id="-2+3",
        credential="@SUM(A1)",
        patient_ref="+cmd|'/Ccalc'!A0",
        code="\t97110",
        units=2,
        explanation=["under the 8-minute rule"],
    )
    (header, cells) = list(csv.reader(io.StringIO(as_csv([row]))))
    values = dict(zip(header, cells, strict=True))
    assert values["provider_id"] == '\'=HYPERLINK("http://x")'
    assert values["payer_id"] == "'-2+3"
    assert values["credential"] == "'@SUM(A1)"
    assert values["patient_ref"] == "'+cmd|'/Ccalc'!A0"
    assert values["code"] == "'\t97110"
    assert values["units"] == "2" and values["explanation"] == "under the 8-minute rule"
