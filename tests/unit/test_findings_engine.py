"""The checks as a whole (docs/rules.md#plan-of-care, docs/rules.md#documentation): the demo, the order of
findings, the rules and their docs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.episode.aggregate import Episode
from domain.episode.application import Episodes
from domain.findings import RULES, SEVERITIES, CheckContext, Finding, check_episode, with_other_episodes
from domain.findings.model import SEVERITY_RANK

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, Episode]]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    for item in recorded:
        clock.now = item.at
        app.handle(item.command)
    yield {name: app.get_episode(episode_id) for name, episode_id in demo_episode_ids().items()}
    app.close()


def checked(demo: dict[str, Episode], name: str) -> tuple[Finding, ...]:
    episode = demo[name]
    return check_episode(episode, with_other_episodes(episode, demo.values(), CheckContext.default()))


def test_the_knee_is_documented_the_way_a_reviewer_expects(demo: dict[str, Episode]) -> None:
    """docs/rules.md#documentation (issue 5): the demo knee is clean: nothing to deny, downcode or recoup."""
    assert checked(demo, "knee") == ()


def test_the_low_back_shows_the_reviewers_reasons_with_evidence_and_fixes(demo: dict[str, Episode]) -> None:
    """docs/rules.md#exercises, docs/rules.md#one-on-one, docs/rules.md#response, docs/rules.md#progression,
    docs/rules.md#cloned-notes, docs/rules.md#plan-of-care (issue 5): what the low-back notes would be
    denied for.
    """
    findings = checked(demo, "back")
    rules = Counter(f.rule_id for f in findings)
    expected = {
        "note.cloned",
        "progression.plateau",
        "progression.outcome_flat",
        "response.missing",
        "exercise.generic",
        "one_on_one.not_shown",
        "time.units_exceed_minutes",
        "clock.certification_late",
        "clock.progress_report_overdue",
        "necessity.vague",
        "skilled.vague",
        "skilled.missing",
        "narrative.absent",
    }
    assert expected <= set(rules)
    assert rules["response.missing"] == 4 and rules["one_on_one.not_shown"] == 2
    versions = {e.version for f in findings for e in f.evidence}
    assert versions and max(versions) <= demo["back"].version
    assert all(f.fix and f.message and "docs/rules.md#" in f.source for f in findings)
    overdue = [f.date_of_service for f in findings if f.rule_id == "clock.progress_report_overdue"]
    assert len(overdue) == 3  # treatment days 10-12; the report came on day 13


def test_the_other_demo_episodes_show_their_templated_notes(demo: dict[str, Episode]) -> None:
    """docs/rules.md#cloned-notes, docs/rules.md#progression: the shoulder and ankle notes change only a visit
    number between visits.
    """
    for name in ("shoulder", "ankle"):
        rules = {f.rule_id for f in checked(demo, name)}
        assert "note.cloned" in rules and not any(r.startswith("time.") for r in rules)
    # the shoulder's recertification came back signed late with no reason (CMS BPM ch.15 §220.1.3)
    clocks = {(f.rule_id, f.on) for f in checked(demo, "shoulder") if f.rule_id.startswith("clock.")}
    assert {rule_id for rule_id, _ in clocks} == {
        "clock.certification_late",
        "clock.visit_outside_certification",
    }
    assert not any(r.startswith("clock.") for r in {f.rule_id for f in checked(demo, "ankle")})


def test_findings_come_most_severe_first_then_by_date_and_rule(demo: dict[str, Episode]) -> None:
    """The order of findings: severity, then date, then rule id."""
    findings = checked(demo, "back")
    keys = [(SEVERITY_RANK[f.severity], f.on, f.rule_id) for f in findings]
    assert keys == sorted(keys) and findings[0].severity == "error" and findings[-1].severity == "info"


def test_checking_twice_gives_the_same_findings(demo: dict[str, Episode]) -> None:
    """Determinism: the checks are a pure function of the episode and the context."""
    assert checked(demo, "back") == checked(demo, "back")


def test_every_finding_names_a_rule_of_the_table_with_its_severity(demo: dict[str, Episode]) -> None:
    """The rule table is the contract: ids, severities, sources."""
    for name in demo:
        for finding in checked(demo, name):
            rule = RULES[finding.rule_id]
            assert finding.source == rule.source
            assert finding.severity == rule.severity or finding.rule_id == "clock.verbal_order_unsigned"


def test_every_reason_of_rules_md_7_and_the_clocks_have_a_rule() -> None:
    """docs/rules.md#documentation and #certification: at least one rule per denial reason."""
    anchors = {rule.anchor for rule in RULES.values()}
    denial_reasons = {
        "necessity",
        "exercises",
        "time",
        "one-on-one",
        "skilled",
        "response",
        "progression",
        "coding",
        "double-counting",
        "modifier-use",
        "cloned-notes",
        "narrative",
    }
    assert denial_reasons | {"plan-of-care"} <= anchors
    assert all(rule.severity in SEVERITIES for rule in RULES.values())
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", rule_id) for rule_id in RULES)


def test_docs_list_every_rule_with_its_severity() -> None:
    """docs/checks.md documents each rule id, severity and source."""
    text = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    for rule_id, rule in RULES.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{rule_id}` ")), None)
        assert row is not None, rule_id
        assert f"| {rule.severity}" in row and f"rules.md#{rule.anchor}" in row, rule_id


def test_a_finding_has_the_documented_json_shape(demo: dict[str, Episode]) -> None:
    """docs/checks.md: the JSON of a finding."""
    finding = next(f for f in checked(demo, "back") if f.rule_id == "note.cloned").as_dict()
    assert list(finding) == [
        "rule_id",
        "severity",
        "date_of_service",
        "date",
        "subject",
        "message",
        "quote",
        "fix",
        "source",
        "evidence",
    ]
    assert {e["what"] for e in finding["evidence"]} == {"visit", "earlier note"}


def test_a_voided_visit_is_not_checked(demo: dict[str, Episode]) -> None:
    """docs/rules.md#amendments: a voided visit leaves the current record, and its findings with it."""
    from domain.episode import commands as c
    from tests import builders as b

    episode = demo["back"]
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    app = Episodes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    try:
        for item in recorded:
            clock.now = item.at
            app.handle(item.command)
        day = sorted(episode.visits)[5]
        app.handle(
            b.command(c.VoidVisit, UUID(str(episode.id)), date_of_service=str(day), reason="wrong chart")
        )
        after = check_episode(app.get_episode(episode.id), CheckContext.default())
        assert not any(f.date_of_service == day for f in after)
        assert any(f.date_of_service == day for f in check_episode(episode, CheckContext.default()))
    finally:
        app.close()
