"""The payer packet and the review report on a real store: every section and chart is there, text
from the record is escaped, nothing is fetched from elsewhere, it says whether the hash chain is
intact, and the findings are the review's alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest

from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
from domain.errors import Tampered
from projections.interop.packet import build_packet, packet_path
from projections.interop.packet.render import SECTIONS
from projections.interop.review import review, review_html
from projections.store.root import Store, parse_location
from tests.fhir_scenario import episode_id as scenario_id
from tests.fhir_scenario import load, scenario
from tests.tamper import RawStore


class Outline(HTMLParser):
    """Collects the packet's sections, charts, tags and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.charts: list[str] = []
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.visits = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(values.get("id") or "")
        if tag == "svg" and values.get("data-chart"):
            self.charts.append(values["data-chart"] or "")
        if tag == "div" and (values.get("class") or "").split()[:1] == ["visit"]:
            self.visits += 1
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(values[name] or "")


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    path = tmp_path_factory.mktemp("packet") / "careledger.db"
    opened = Store(parse_location(str(path)), clock=clock)
    for item in recorded:
        clock.now = item.at
        opened.app.handle(item.command)
    load(opened, scenario())
    yield opened
    opened.close()


def test_the_knee_packet_has_every_section_in_order_and_every_chart(store: Store) -> None:
    knee = demo_episode_ids()["knee"]
    html = build_packet(store, knee)
    found = outline(html)
    assert found.sections == [key for key, _ in SECTIONS]
    episode = store.app.get_episode(knee)
    expected = {"clocks", "outcome-LEFS"} | {f"dosage-{x}" for x in episode.exercises}
    assert expected <= set(found.charts)
    assert found.visits == len(episode.visits)
    assert "Hash chain" in html and "intact" in html
    assert "late entry" in html and "97110 was entered as 31 minutes" in html  # the amendments, with reasons


def test_the_packet_is_self_contained_and_prints_with_a_page_per_section(store: Store) -> None:
    found = outline(build_packet(store, demo_episode_ids()["back"]))
    assert "script" not in found.tags and "link" not in found.tags and "img" not in found.tags
    assert all(url.startswith("#") for url in found.urls)
    html = build_packet(store, demo_episode_ids()["back"])
    assert "@media print" in html and "break-before: page" in html


def test_text_from_the_record_is_escaped_so_a_note_cannot_inject_markup(store: Store) -> None:
    html = build_packet(store, scenario_id())
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "script" not in outline(html).tags


def test_voided_notes_holds_and_every_kind_of_amendment_appear(store: Store) -> None:
    html = build_packet(store, scenario_id())
    assert "voided: entered in error" in html and "hospital stay" in html
    for kind in ("late entry", "correction", "addendum", "void"):
        assert f"<td>{kind}</td>" in html
    assert "dictation lost, rewritten from the treatment log" in html


CLI_COMMAND = re.compile(
    r"careledger (plan|visit|exercise|report|units|verify|check|bill|audit|episode|review)\b"
)


def test_the_payer_packet_shows_no_finding_no_command_and_no_internal_document(store: Store) -> None:
    for name in ("back", "knee"):
        html = build_packet(store, demo_episode_ids()[name])
        assert "docs/" not in html and ".md#" not in html, name
        assert not CLI_COMMAND.search(html), CLI_COMMAND.search(html)
        for internal in ("findings", "would be denied", "note.cloned", "certification_late", "at risk"):
            assert internal not in html, (name, internal)
        assert "CMS CPM ch.5 §20.2" in html  # the primary sources stay


def test_the_payer_packet_shows_the_claim_units_and_the_notes_own_where_they_differ(store: Store) -> None:
    html = build_packet(store, demo_episode_ids()["back"])
    assert ">units billed</th>" in html and ">note&#x27;s units</th>" in html
    # 97140 with 8 minutes: the note billed 1 unit, the claim bills none; the packet says so
    assert "<td>97140</td><td class=num>8</td><td class=num>-</td><td class=num>0</td>" in html
    assert "Where the note and the claim differ: 97140: the note bills 1 unit; its minutes support 0" in html
    assert "Recorded 2026-03-05 17:30 UTC by pt-brooks@demo-clinic" in html  # who recorded, when
    assert "+00:00" not in html  # human times, not ISO stamps


def test_the_review_groups_the_findings_by_rule_with_the_visits_and_money_at_risk(store: Store) -> None:
    back = demo_episode_ids()["back"]
    report = review(store, back)
    ids = [row.rule_id for row in report.rows]
    assert len(ids) == len(set(ids))  # one row per rule
    outside = next(r for r in report.rows if r.rule_id == "clock.visit_outside_certification")
    episode = store.app.get_episode(back)
    assert outside.count == len(episode.visits) and outside.visits == tuple(sorted(episode.visits))
    assert outside.at_risk == sum((v.allowed_amount for v in report.data.bill.visits), Decimal("0"))
    assert report.denied == outside.at_risk and report.denied_visits == len(episode.visits)
    assert [r.severity for r in report.rows] == sorted(
        (r.severity for r in report.rows), key=["error", "warning", "info"].index
    )
    html = review_html(report)
    assert html.count("clock.visit_outside_certification") == 1
    assert "careledger plan certify" in html and "not for the payer" in html


def test_a_packet_as_of_a_past_time_shows_the_record_as_it_stood(store: Store) -> None:
    knee = demo_episode_ids()["knee"]
    correction = next(e for e in store.app.history(knee) if type(e).__name__ == "VisitCorrected")
    html = build_packet(store, knee, correction.timestamp - timedelta(seconds=1))
    assert f"version {correction.originator_version - 1} of {store.app.last_version(knee)}" in html
    assert "97110 was entered as 31 minutes" not in html
    assert "as it stood" in html


def test_a_changed_event_makes_the_packet_refuse_the_episode(tmp_path: Path) -> None:
    recorded = [r for r in demo_clinic() if r.command.command != "noop"]
    clock = ReplayClock(recorded[0].at)
    path = tmp_path / "tampered.db"
    with Store(parse_location(str(path)), clock=clock) as opened:
        for item in recorded:
            clock.now = item.at
            opened.app.handle(item.command)
    knee = demo_episode_ids()["knee"]
    RawStore(str(path)).run(
        "UPDATE stored_events SET state = replace(state, '\"minutes\":23', '\"minutes\":33') "
        "WHERE originator_id = ? AND originator_version = 8",
        knee.hex,
    )
    with Store(parse_location(str(path))) as opened, pytest.raises(Tampered, match="version 8: changed"):
        build_packet(opened, knee)


def test_the_packet_file_is_named_for_the_episode_in_a_directory(tmp_path: Path) -> None:
    knee = demo_episode_ids()["knee"]
    assert packet_path(tmp_path, knee, None) == tmp_path / f"packet-{knee}.html"
    assert packet_path(tmp_path / "x.html", knee, None) == tmp_path / "x.html"


def test_a_progression_starts_a_new_workload_line_so_a_harder_variant_is_not_a_decline() -> None:
    from datetime import date
    from decimal import Decimal

    from projections.interop.packet.charts import dosage_chart

    points = [
        (date(2026, 3, 2), Decimal(90), "3 sets 30 s"),
        (date(2026, 3, 4), Decimal(90), "3 sets 30 s"),
        (date(2026, 3, 9), Decimal(60), "on foam: 3 sets 20 s"),
        (date(2026, 3, 11), Decimal(60), "on foam: 3 sets 20 s"),
    ]
    changes = [(date(2026, 3, 2), "added"), (date(2026, 3, 9), "progressed")]
    chart = dosage_chart("sls", "Single-leg stance", points, changes)
    lines = re.findall(r'<polyline class="series" points="([^"]*)"', chart)
    assert len(lines) == 2 and all(len(line.split()) == 2 for line in lines)  # 90 -> 60 is not drawn
    assert 'class="change progressed"' in chart


def test_a_long_exercise_name_is_set_on_two_lines_not_cut() -> None:
    from datetime import date
    from decimal import Decimal

    from projections.interop.packet.charts import dosage_chart

    name = "Terminal knee extension, right knee, standing with resistance band looped behind the knee"
    chart = dosage_chart(
        "tke", name, [(date(2026, 3, 2), Decimal(30), "3x10")], [(date(2026, 3, 2), "added")]
    )
    heading = re.findall(r'<text x="\d+" y="\d+" fill="#1f2933" font-weight="bold">([^<]*)</text>', chart)
    assert len(heading) == 2 and " ".join(heading) == name and "…" not in chart


def test_date_labels_on_a_chart_axis_never_overlap() -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from projections.interop.packet.charts import LABEL_WIDTH, dosage_chart

    for days in range(2, 60):
        first = date(2026, 3, 2)
        points = [(first, Decimal(30), "3x10"), (first + timedelta(days=days), Decimal(30), "3x10")]
        chart = dosage_chart("x", "Quad sets", points, [(first, "added")])
        xs = [
            float(x)
            for x in re.findall(r'<text x="([\d.]+)" y="\d+" text-anchor="middle" fill="#1f2933">', chart)
        ]
        assert xs and all(b - a >= LABEL_WIDTH for a, b in pairwise(xs)), days
