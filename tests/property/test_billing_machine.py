"""A state machine records random visits through the application (SQLite file) beside a plain model.

One beneficiary has four episodes: PT, SLP and OT on Medicare, and PT on the
commercial AMA payer. After every step the billed claim lines of every episode,
read back from the store, must equal what the rules text gives for the stored
minutes: units per code (docs/rules.md#eight-minute-rule, docs/rules.md#ama-midpoint-rule), GP/GO/GN, CQ/CO
unit by unit (docs/rules.md#cq-co, modelled here in plain counting, apart from the library), and KX from
the beneficiary's year-to-date amounts per group (PT+SLP, OT) against thresholds
lowered for the test so that KX comes and goes within a few visits.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.billing.bill import BillingRules, bill_with_others, billing_rules
from domain.episode.commands import parse_command
from domain.errors import CareledgerError
from domain.rules.catalogue import code_catalogue
from domain.values import PayerRef
from projections.store.root import Store, parse_location

START = date(2025, 6, 2)
TODAY = date(2026, 12, 31)
THRESHOLDS = {2025: Decimal("300.00"), 2026: Decimal("500.00")}
CODES = {
    "PT": (("97110", "97112", "97116", "97140", "97530"), ("97161", "97164", "97150", "97010", "G0283")),
    "OT": (("97530", "97535", "97110", "97112"), ("97165", "97168", "97150")),
    "SLP": ((), ("92507", "92526", "92521")),
}
EPISODES = {
    "pt": ("PT", "medicare"),
    "slp": ("SLP", "medicare"),
    "ot": ("OT", "medicare"),
    "ama": ("PT", "commercial-ama"),
}
SUPERVISED = {"97010", "G0283"}


def chart(minutes: int) -> int:
    """CMS CPM ch.5 §20.2 chart: 1 unit from 8 minutes, one more every 15."""
    return 0 if minutes < 8 else (minutes + 7) // 15


def cms_units(minutes: dict[str, int]) -> dict[str, int]:
    """docs/rules.md#eight-minute-rule in plain steps: whole units, then one leftover at a time to the largest
    remainder.
    """
    got = {code: m // 15 for code, m in minutes.items()}
    left = chart(sum(minutes.values())) - sum(got.values())
    candidates = sorted(
        minutes, key=lambda c: (minutes[c] % 15, minutes[c], [-ord(ch) for ch in c]), reverse=True
    )
    for code in candidates[:left]:
        got[code] += 1
    return got


def cq_units(units: int, minutes: int, helper: int, per_unit: bool) -> int:
    """How many of a code's units carry CQ / CO, counted plainly from CMS's method (docs/rules.md#cq-co)."""
    if not per_unit:
        return units if helper * 10 > minutes else 0
    therapist = minutes - helper
    marked = helper // 15
    left = units - therapist // 15 - marked
    rest_t, rest_a = therapist % 15, helper % 15
    if left == 1 and rest_t < 8 and rest_a * 10 > rest_t + rest_a:
        marked += 1
    if left == 2 and rest_a * 10 > rest_t + rest_a:
        marked += 1
    return marked


@dataclass
class ModelVisit:
    lines: list[tuple[str, int, int]]  # code, minutes, assistant minutes (effective)


@dataclass
class ModelEpisode:
    key: str
    discipline: str
    payer: str
    episode_id: UUID
    visits: dict[date, ModelVisit] = field(default_factory=dict)

    def units(self, day: date) -> dict[str, int]:
        catalogue = code_catalogue()
        minutes: dict[str, int] = {}
        for code, m, _ in self.visits[day].lines:
            minutes[code] = minutes.get(code, 0) + m
        timed = {c: m for c, m in minutes.items() if catalogue.codes[c].timed}
        units = cms_units(timed) if self.payer == "medicare" else {c: chart(m) for c, m in timed.items()}
        units.update({c: 1 for c in minutes if c not in timed})
        return units

    def assistant_share(self, day: date, code: str) -> tuple[int, int]:
        pairs = [(m, a) for c, m, a in self.visits[day].lines if c == code]
        return sum(m for m, _ in pairs), sum(a for _, a in pairs)


class BillingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="careledger-billing-"))
        self.store = Store(
            parse_location(str(self.directory / "b.db")), clock=lambda: datetime(2026, 12, 31, 12, tzinfo=UTC)
        )
        self.episodes: dict[str, ModelEpisode] = {}
        for key, (discipline, payer) in EPISODES.items():
            episode_id = uuid4()
            self.send(
                {
                    "command": "open_episode",
                    "episode_id": str(episode_id),
                    "patient_ref": "MRN-77",
                    "discipline": discipline,
                    "payer": {"payer_id": payer},
                    "diagnoses": [{"code": "M17.11"}, {"code": "R26.89"}],
                    "start_date": str(START),
                }
            )
            self.episodes[key] = ModelEpisode(key, discipline, payer, episode_id)
        medicare = billing_rules(PayerRef(payer_id="medicare"))
        lowered = medicare.thresholds.model_copy(update={"years": THRESHOLDS})
        self.rules: dict[str, BillingRules] = {
            "medicare": medicare.model_copy(update={"thresholds": lowered}),
            "commercial-ama": billing_rules(PayerRef(payer_id="commercial-ama")),
        }

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def send(self, document: dict[str, Any]) -> bool:
        document = {"command_id": str(uuid4()), "recorded_by": "machine", **document}
        before = self.store.app.recorder.max_notification_id()
        try:
            self.store.app.handle(parse_command(document))
        except CareledgerError:
            assert self.store.app.recorder.max_notification_id() == before
            return False
        return True

    @rule(
        key=st.sampled_from(sorted(EPISODES)),
        offset=st.integers(0, (TODAY - START).days + 3),
        data=st.data(),
        assistant=st.booleans(),
        times=st.sampled_from(["none", "apart", "overlap"]),
        extra=st.integers(-5, 20),
    )
    def record_visit(self, key: str, offset: int, data: Any, assistant: bool, times: str, extra: int) -> None:
        episode = self.episodes[key]
        timed_codes, untimed_codes = CODES[episode.discipline]
        day = START + timedelta(days=offset)
        codes = st.sampled_from(timed_codes + untimed_codes)
        drawn = data.draw(
            st.lists(st.tuples(codes, st.integers(1, 45), st.integers(0, 45)), min_size=1, max_size=4)
        )
        assistant = assistant and episode.discipline != "SLP"
        credential = {"PT": "PTA", "OT": "OTA"}[episode.discipline] if assistant else episode.discipline
        lines: list[dict[str, Any]] = []
        model_lines: list[tuple[str, int, int]] = []
        blocks: list[tuple[str, int, int]] = []
        clock = 8 * 60
        for code, minutes, helper in drawn:
            line: dict[str, Any] = {"code": code, "minutes": minutes}
            if 0 < helper <= minutes and helper % 3 == 0:
                line["assistant_minutes"] = helper
            if times != "none":
                start = clock - (minutes // 2 if times == "overlap" and lines else 0)
                line["start"] = f"{start // 60:02d}:{start % 60:02d}"
                line["end"] = f"{(start + minutes) // 60:02d}:{(start + minutes) % 60:02d}"
                blocks.append((code, start, start + minutes))
                clock = start + minutes
            lines.append(line)
            model_lines.append((code, minutes, line.get("assistant_minutes", minutes if assistant else 0)))
        catalogue = code_catalogue()
        timed = sum(m for c, m, _ in model_lines if catalogue.codes[c].timed)
        total = max(0, timed + extra)
        evaluations = {c for c, _, _ in model_lines if catalogue.codes[c].is_evaluation}
        exclusive = [(s, e) for c, s, e in blocks if c not in SUPERVISED]
        overlapping = any(
            s1 < e2 and s2 < e1 for i, (s1, e1) in enumerate(exclusive) for s2, e2 in exclusive[:i]
        )
        # an assistant never furnishes an evaluation (CMS BPM ch.15 §230.1)
        assisted_evaluation = any(
            catalogue.codes[c].is_evaluation and (assistant or "assistant_minutes" in line)
            for (c, _, _), line in zip(model_lines, lines, strict=True)
        )
        expected = (
            day not in episode.visits
            and day <= TODAY
            and timed <= total
            and len(evaluations) <= 1
            and not overlapping
            and not assisted_evaluation
        )
        accepted = self.send(
            {
                "command": "record_visit",
                "episode_id": str(episode.episode_id),
                "date_of_service": str(day),
                "provider_id": "therapist-1",
                "credential": credential,
                "service_lines": lines,
                "total_treatment_minutes": total,
            }
        )
        assert accepted == expected, (
            f"the store {'accepted' if accepted else 'refused'}: {lines}, total {total}"
        )
        event("visit accepted" if accepted else "visit refused")
        if accepted:
            episode.visits[day] = ModelVisit(model_lines)

    @invariant()
    def billed_lines_equal_what_the_rules_give_for_the_stored_minutes(self) -> None:
        stored = {key: self.store.app.get_episode(m.episode_id) for key, m in self.episodes.items()}
        allowed: dict[str, dict[date, Decimal]] = {}
        bills = {}
        for key, model in self.episodes.items():
            bill = bill_with_others(
                stored[key], [e for k, e in stored.items() if k != key], self.rules[model.payer]
            )
            bills[key] = bill
            assert [v.date_of_service for v in bill.visits] == sorted(model.visits)
            allowed[key] = {}
            catalogue = code_catalogue()
            for visit in bill.visits:
                expected_units = model.units(visit.date_of_service)
                billed: dict[str, int] = {}
                for line in visit.lines:
                    billed[line.code] = billed.get(line.code, 0) + line.units
                assert billed == expected_units
                amount = Decimal("0.00")
                therapy = {"PT": "GP", "OT": "GO", "SLP": "GN"}[model.discipline]
                for code, units in expected_units.items():
                    minutes, helper = model.assistant_share(visit.date_of_service, code)
                    lines = [line for line in visit.lines if line.code == code]
                    marked = 0
                    if model.discipline != "SLP" and model.payer == "medicare" and helper:
                        marked = cq_units(units, minutes, helper, catalogue.codes[code].pooled)
                    with_cq = [x for x in lines if {"CQ", "CO"} & set(x.modifiers)]
                    assert sum(x.units for x in with_cq) == marked, (code, units, minutes, helper)
                    # a code whose units are split by CQ is two lines: one with, one without
                    assert len(lines) == (2 if 0 < marked < units else 1)
                    for line in lines:
                        if line.units:
                            assert therapy in line.modifiers
                        amount += self.model_allowed(
                            model, code, line.units, line in with_cq, visit.date_of_service
                        )
                allowed[key][visit.date_of_service] = amount
                assert visit.allowed_amount == amount
        self.check_kx(bills, allowed)

    def model_allowed(self, model: ModelEpisode, code: str, units: int, cq: bool, day: date) -> Decimal:
        if units == 0 or (model.payer == "medicare" and code == "97010"):
            return Decimal("0.00")
        fees = self.rules[model.payer].fees
        assert fees is not None
        fee = fees.fee(code, day.year)
        assert fee is not None
        amount = fee * units * (Decimal("0.85") if cq else 1)
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def check_kx(self, bills: dict[str, Any], allowed: dict[str, dict[date, Decimal]]) -> None:
        """docs/rules.md#modifiers: KX from the visit whose amount takes the group's year to date above the
        threshold.
        """
        groups = {"pt": ("pt", "slp"), "slp": ("pt", "slp"), "ot": ("ot",)}
        for key, members in groups.items():
            for visit in bills[key].visits:
                day = visit.date_of_service
                before = sum(
                    (
                        a
                        for k in members
                        if k != key
                        for d, a in allowed[k].items()
                        if d.year == day.year and d <= day
                    ),
                    Decimal("0.00"),
                ) + sum(
                    (a for d, a in allowed[key].items() if d.year == day.year and d < day), Decimal("0.00")
                )
                kx = before + allowed[key][day] > THRESHOLDS[day.year]
                event("a visit with KX" if kx else "a visit without KX")
                assert visit.kx == kx, (key, day, before, allowed[key][day])
                assert all(
                    ("KX" in line.modifiers) == (kx and line.billable and line.units > 0)
                    for line in visit.lines
                )
        assert not any(v.kx for v in bills["ama"].visits)


BillingMachine.TestCase.settings = settings(BillingMachine.TestCase.settings, stateful_step_count=12)
TestBillingMachine = BillingMachine.TestCase
