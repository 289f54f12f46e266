"""Each read model is a pure function of an episode: built here on the in-memory recorder, no database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.episode import commands as c
from domain.episode.aggregate import Episode
from domain.episode.application import Episodes
from projections.views.context import ViewContext
from projections.views.continuity import evaluate
from projections.views.outcomes import outcome_rows
from projections.views.progression import progression_rows
from projections.views.registry import PROJECTIONS, Derived
from projections.views.timeline import timeline_rows
from tests import builders as b
from tests.conftest import FixedClock

START = date(2026, 9, 1)


@pytest.fixture
def app(clock: FixedClock) -> Iterator[Episodes]:
    application = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield application
    application.close()


class Chart:
    """An episode under construction, with short helpers for the facts the views read."""

    def __init__(self, app: Episodes, **opened: Any) -> None:
        self.app = app
        self.id: UUID = app.handle(b.open_episode(**opened)).episode_id

    def do(self, kind: type[c.Command], **fields: Any) -> Chart:
        self.app.handle(b.command(kind, self.id, **fields))
        return self

    def plan(self, **fields: Any) -> Chart:
        self.app.handle(b.plan(self.id, **fields))
        return self

    def certify(
        self, signed: date | None, start: date = START, end: date | None = None, **more: Any
    ) -> Chart:
        return self.do(
            c.CertifyPlan,
            certifier={"provider_id": "dr-1", "credential": "MD"},
            signed_on=signed,
            period_start=start,
            period_end=end or start + timedelta(weeks=12),
            **more,
        )

    def visits(self, *days: date, **fields: Any) -> Chart:
        for day in days:
            self.app.handle(b.visit(self.id, date_of_service=str(day), **fields))
        return self

    def report(self, on: date) -> Chart:
        return self.do(
            c.RecordProgressReport,
            report_date=on,
            period_start=START,
            period_end=on,
            author_id="pt-1",
            credential="PT",
        )

    @property
    def episode(self) -> Episode:
        return self.app.get_episode(self.id)


def every_other_day(n: int, start: date = START) -> list[date]:
    return [start + timedelta(days=2 * i) for i in range(n)]


def codes(gaps: list[Any]) -> list[str]:
    return [g.code if hasattr(g, "code") else g["code"] for g in gaps]


# --- timeline ------------------------------------------------------------------------------


def test_the_timeline_orders_facts_by_clinical_date_and_shows_late_entries(
    app: Episodes, clock: FixedClock
) -> None:
    chart = Chart(app).plan().certify(START + timedelta(days=3))
    chart.do(
        c.AddExercise,
        exercise_id="slr",
        name="Straight leg raise",
        category="strengthening",
        effective_date=START,
    )
    chart.visits(START + timedelta(days=5))
    chart.visits(START + timedelta(days=1))  # recorded after the later visit
    chart.do(c.RecordOutcome, instrument="LEFS", score="30", taken_on=START)
    chart.do(c.HoldEpisode, start_date=START + timedelta(days=10), reason="surgery")
    chart.do(c.ResumeEpisode, resume_date=START + timedelta(days=20))
    chart.do(c.DischargeEpisode, discharge_date=START + timedelta(days=30), reason="goals met")
    rows = timeline_rows(chart.episode)["pv_timeline"]
    assert [r["seq"] for r in rows] == list(range(len(rows)))
    assert [r["clinical_date"] for r in rows] == sorted(r["clinical_date"] for r in rows)
    assert [r["kind"] for r in rows] == [
        "opened",
        "plan",
        "exercise_added",
        "outcome",
        "visit",
        "certification",
        "visit",
        "hold",
        "resumed",
        "discharge",
    ]
    # the opening row names its author (the Opened event's recorded_by), as history does
    assert rows[0]["event_version"] == 1 and rows[0]["recorded_by"] == "tester"
    visit = rows[4]
    assert visit["event_version"] == 6 and visit["recorded_by"] == "tester"
    assert visit["lag_days"] == (clock.now.date() - visit["clinical_date"]).days
    assert "97110×33" in visit["summary"]


# --- progression ---------------------------------------------------------------------------


def performed(
    dosage: dict[str, Any], exercise_id: str | None = "slr", name: str = "SLR"
) -> list[dict[str, Any]]:
    return [{"exercise_id": exercise_id, "name": name, "dosage": dosage}]


def test_progression_lists_the_dosage_at_each_visit_and_flags_a_plateau(app: Episodes) -> None:
    chart = Chart(app).plan()
    chart.do(c.AddExercise, exercise_id="slr", name="SLR", category="strengthening", effective_date=START)
    days = every_other_day(9)
    chart.visits(*days[:2], exercises=performed({"sets": 3, "reps": 10}))
    chart.do(
        c.ProgressExercise,
        exercise_id="slr",
        dosage={"sets": 3, "reps": 10, "load": "2", "load_unit": "lb"},
        effective_date=days[2],
        reason="pain-free",
    )
    chart.visits(*days[2:], exercises=performed({"sets": 3, "reps": 10, "load": "2", "load_unit": "lb"}))
    [row] = progression_rows(chart.episode)["pv_exercise"]
    assert (row["visits"], row["changes"], row["longest_run"], row["plateau"]) == (9, 1, 7, True)
    assert [p["run"] for p in row["points"]] == [1, 1] + [2] * 7
    assert [p["changed"] for p in row["points"]][:3] == [False, False, True]
    assert row["points"][2]["dosage_text"] == "3x10 @ 2 lb" and row["points"][2]["workload"] == "60"
    assert [h["kind"] for h in row["history"]] == ["added", "progressed"]
    assert row["history"][1]["reason"] == "pain-free"


def test_a_change_of_prescription_breaks_a_run_even_at_the_same_performed_dosage(app: Episodes) -> None:
    chart = Chart(app).plan()
    chart.do(c.AddExercise, exercise_id="slr", name="SLR", category="strengthening", effective_date=START)
    days = every_other_day(10)
    chart.visits(*days[:5], exercises=performed({"sets": 3, "reps": 10}))
    chart.do(
        c.ProgressExercise,
        exercise_id="slr",
        dosage={"sets": 3, "reps": 10},
        name="SLR with 5 s hold at top",
        effective_date=days[5],
        reason="complexity: hold added",
    )
    chart.visits(*days[5:], exercises=performed({"sets": 3, "reps": 10}))
    [row] = progression_rows(chart.episode)["pv_exercise"]
    assert row["longest_run"] == 5 and not row["plateau"]


def test_an_exercise_performed_without_an_id_is_listed_as_unlinked(app: Episodes) -> None:
    chart = Chart(app).plan()
    chart.visits(*every_other_day(2), exercises=performed({}, exercise_id=None, name="LE strengthening"))
    [row] = progression_rows(chart.episode)["pv_exercise"]
    assert row["exercise_id"] == "~LE strengthening" and row["status"] == "unlinked"
    assert row["points"][0]["dosage_text"] == "no dosage" and row["points"][0]["workload"] is None


# --- outcomes ------------------------------------------------------------------------------


def test_outcome_rows_compare_each_score_with_the_first_one(app: Episodes) -> None:
    chart = Chart(app)
    chart.do(c.RecordOutcome, instrument="LEFS", score="40", taken_on=START + timedelta(days=20))
    chart.do(
        c.RecordOutcome, instrument="LEFS", score="24", taken_on=START
    )  # entered late: still the baseline
    chart.do(c.RecordOutcome, instrument="ODI", score="42", taken_on=START)
    rows = outcome_rows(chart.episode)["pv_outcomes"]
    lefs = [r for r in rows if r["instrument"] == "LEFS"]
    assert [(r["seq"], str(r["score"]), r["verdict"]) for r in lefs] == [
        (0, "24", "baseline"),
        (1, "40", "improved_past_mcid"),
    ]
    assert lefs[1]["change"] == 16 and lefs[1]["reaches_mcid"] is True
    assert [r["verdict"] for r in rows if r["instrument"] == "ODI"] == ["baseline"]


# --- continuity ----------------------------------------------------------------------------


def test_a_visit_one_day_past_the_certified_period_is_a_gap(app: Episodes) -> None:
    chart = Chart(app).plan(duration_weeks=4).certify(START + timedelta(days=2))
    last_day = START + timedelta(days=27)
    chart.visits(START, last_day, last_day + timedelta(days=1))
    result = evaluate(chart.episode, medicare_rules=True)
    by_day = {row["date_of_service"]: row for row in result.visits}
    assert by_day[last_day]["certified"] and codes(by_day[last_day]["gaps"]) == []
    expired = by_day[last_day + timedelta(days=1)]
    assert not expired["certified"]
    assert codes(expired["gaps"]) == ["past_plan_duration", "outside_certified_period"]
    assert result.clock["certified_through"] == last_day
    assert result.clock["recertification_needed"]
    assert "runs past the certified period" in result.clock["recertification_reasons"][0]


def test_a_recertification_covers_the_visits_after_the_first_period(app: Episodes, clock: FixedClock) -> None:
    clock.now += timedelta(days=60)
    chart = Chart(app).plan(duration_weeks=26).certify(START, end=START + timedelta(days=89))
    later = START + timedelta(days=95)
    # signed on the last day of the period it renews: timely (CMS BPM ch.15 §220.1.3)
    chart.certify(
        START + timedelta(days=89), start=START + timedelta(days=90), end=START + timedelta(days=179)
    )
    chart.visits(START, later)
    result = evaluate(chart.episode, medicare_rules=True)
    assert [row["certification"] for row in result.visits] == [1, 2]
    assert result.gaps == [] and not result.clock["recertification_needed"]
    assert [cert["kind"] for cert in result.clock["certifications"]] == ["initial", "recertification"]


def test_a_recertification_signed_after_the_period_it_renews_leaves_the_days_between_uncertified(
    app: Episodes, clock: FixedClock
) -> None:
    # CMS BPM ch.15 §220.1.3: the recertification is due by the renewed period's last day (START+89);
    # signed 16 days later with no reason, it certifies from its signature on.
    clock.now += timedelta(days=60)
    chart = Chart(app).plan(duration_weeks=26).certify(START, end=START + timedelta(days=89))
    signed = START + timedelta(days=105)
    chart.certify(signed, start=START + timedelta(days=90), end=START + timedelta(days=179))
    chart.visits(START, START + timedelta(days=95), signed)
    result = evaluate(chart.episode, medicare_rules=True)
    assert [row["certification"] for row in result.visits] == [1, None, 2]
    assert codes(result.visits[1]["gaps"]) == ["not_validly_certified"]
    assert "recertification #2, signed late" in result.visits[1]["gaps"][0]["message"]
    assert "certification_late" in codes(result.gaps)
    with_reason = Chart(app).plan(duration_weeks=26).certify(START, end=START + timedelta(days=89))
    with_reason.certify(
        signed, start=START + timedelta(days=90), end=START + timedelta(days=179), delay_reason="MD away"
    )
    with_reason.visits(START, START + timedelta(days=95), signed)
    assert evaluate(with_reason.episode, medicare_rules=True).gaps == []


def test_a_revised_plan_that_is_not_recertified_is_a_warning(app: Episodes) -> None:
    chart = Chart(app).plan().certify(START + timedelta(days=1))
    chart.plan(established_on=str(START + timedelta(days=10)))
    chart.visits(START, START + timedelta(days=12))
    result = evaluate(chart.episode, medicare_rules=True)
    assert codes(result.visits[1]["gaps"]) == ["plan_not_recertified"]
    assert result.warnings == 1 and result.errors == 0
    assert result.clock["recertification_needed"]


def test_a_certification_signed_on_day_31_leaves_every_visit_uncertified(app: Episodes) -> None:
    chart = Chart(app).plan().visits(START, START + timedelta(days=2))
    chart.certify(START + timedelta(days=31))
    result = evaluate(chart.episode, medicare_rules=True)
    assert codes(result.gaps) == ["not_validly_certified", "certification_late"]
    assert result.gaps[0].dates == (START, START + timedelta(days=2))
    assert not any(row["certified"] for row in result.visits)


def test_visits_without_a_certification_are_pending_for_30_days_then_a_gap(app: Episodes) -> None:
    chart = Chart(app).plan().visits(START, START + timedelta(days=30))
    assert codes(evaluate(chart.episode, medicare_rules=True).gaps) == ["certification_pending"]
    chart.visits(START + timedelta(days=31))
    assert codes(evaluate(chart.episode, medicare_rules=True).gaps) == ["no_certification"]


def test_the_10th_treatment_day_without_a_progress_report_is_a_gap(app: Episodes) -> None:
    days = every_other_day(12)
    chart = Chart(app).plan().certify(START).visits(*days)
    result = evaluate(chart.episode, medicare_rules=True)
    assert codes(result.gaps) == ["progress_report_late"]
    assert [row["report_due"] for row in result.visits] == [False] * 9 + [True] * 3
    # overdue from the 11th treatment day (CMS BPM ch.15 §220.3 D), never the 10th
    assert codes(result.visits[9]["gaps"]) == []
    assert codes(result.visits[10]["gaps"]) == ["progress_report_overdue"]
    assert result.clock["report_due_in"] == -2
    chart.report(days[11])
    again = evaluate(chart.episode, medicare_rules=True)
    assert "treatment day 12 of the period" in again.gaps[0].message
    assert again.clock["report_due_in"] == 10 and again.visits[11]["report_present"]


def test_a_payer_off_the_medicare_rules_gets_only_plan_and_necessity_checks(app: Episodes) -> None:
    chart = Chart(app, payer={"payer_id": "commercial-ama"}).visits(*every_other_day(12), necessity="")
    chart.plan(established_on=str(START + timedelta(days=4)))
    result = evaluate(chart.episode, medicare_rules=False)
    assert set(codes(result.gaps)) == {"no_plan", "necessity_missing"}
    assert result.clock["report_due_in"] is None and result.clock["certification_due_by"] is None
    assert not result.visits[0]["plan_covered"] and result.visits[3]["plan_covered"]


def test_a_plan_in_visits_covers_that_many_visits(app: Episodes) -> None:
    chart = Chart(app).plan(duration_weeks=None, duration_visits=2).certify(START).visits(*every_other_day(3))
    result = evaluate(chart.episode, medicare_rules=True)
    assert codes(result.visits[2]["gaps"]) == ["past_plan_duration"]


def test_the_summary_counts_the_continuity_gaps(app: Episodes) -> None:
    chart = Chart(app).plan().visits(*every_other_day(20))
    derived = Derived(chart.episode, ViewContext())
    [summary] = next(p for p in PROJECTIONS if p.name == "summary").rows(derived)["pv_episode_summary"]
    assert summary["visits"] == 20 and summary["last_visit"] == every_other_day(20)[-1]
    assert summary["open_gaps"] == derived.continuity.errors == 2  # no certification; report late
    assert summary["version"] == chart.episode.version


def test_payer_profiles_can_opt_into_the_medicare_clocks(tmp_path: Any) -> None:
    (tmp_path / "mac.toml").write_text(
        'payer_id = "medicare-advantage"\nname = "MA plan"\nversion = "1"\neffective = "2026-01-01"\n'
        'unit_rule = "cms"\nmedicare_therapy_rules = true\n'
    )
    (tmp_path / "medicare.toml").write_text(
        'payer_id = "medicare"\nname = "Medicare opted out"\nversion = "1"\neffective = "2026-01-01"\n'
        'unit_rule = "cms"\nmedicare_therapy_rules = false\n'
    )
    context = ViewContext.from_payer_profiles([tmp_path])
    assert context.medicare_clocks("medicare-advantage")
    assert not context.medicare_clocks("medicare")  # a clinic's profile overrides the shipped one
    assert ViewContext().medicare_clocks("medicare")
    assert not ViewContext().medicare_clocks("commercial-ama")
    assert not ViewContext().medicare_clocks("no-such-payer")
    from domain.findings import CheckContext
    from domain.values import PayerRef

    checks = CheckContext.default(payer_dirs=(tmp_path,))
    assert checks.medicare_clocks(PayerRef(payer_id="medicare-advantage"))
    assert not checks.medicare_clocks(PayerRef(payer_id="medicare"))
