"""Episodes for the documentation-check tests: a well-documented visit, varied one field at a time.

`Chart` builds an episode on the in-memory recorder (no database): a PT knee
episode on Medicare with a plan of care certified on time and three exercises in
its programme. `Chart.visit()` records a note that satisfies every documentation
element of docs/rules.md#documentation unless a test overrides a field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from domain.episode import commands as c
from domain.episode.aggregate import Episode
from domain.episode.application import Episodes
from domain.findings import CheckContext, Finding, check_episode
from tests import builders as b

START = date(2026, 9, 1)
DIAGNOSIS = {"code": "M17.11", "description": "unilateral primary osteoarthritis, right knee"}

NECESSITY = (
    "Right knee osteoarthritis (M17.11): flexion 95 degrees limits stair climbing to step-to with a rail; "
    "needs progressed quadriceps loading."
)
SLR = {
    "exercise_id": "slr",
    "name": "Straight leg raise, right hip flexion, supine",
    "dosage": {"sets": 3, "reps": 10, "load": "2", "load_unit": "lb"},
}
BRIDGE = {"exercise_id": "bridge", "name": "Bridging, bilateral, supine", "dosage": {"sets": 2, "reps": 12}}
STANCE = {
    "exercise_id": "stance",
    "name": "Single-leg stance on foam, right leg",
    "dosage": {"sets": 3, "duration_seconds": 20},
}
SKILLED = ["tactile cues for quadriceps activation during straight leg raises"]
RESPONSE = "Pain 3/10 after the session; straight leg raise without extensor lag."
ONE_ON_ONE = "Direct one-on-one throughout."
DESCRIPTION = "Patellar glides, superior and inferior, 3 x 60 s, to gain flexion."
LINES = [
    {"code": "97110", "minutes": 25},
    {"code": "97112", "minutes": 15},
    {"code": "97140", "minutes": 10},
]


def good_note(**overrides: Any) -> dict[str, Any]:
    """A note with every documentation element of docs/rules.md#documentation (each override replaces one
    field).
    """
    note: dict[str, Any] = {
        "service_lines": LINES,
        "total_treatment_minutes": 53,
        "necessity": NECESSITY,
        "exercises": [SLR, BRIDGE, STANCE],
        "skilled_interventions": SKILLED,
        "patient_response": RESPONSE,
        "narrative": f"{ONE_ON_ONE} {DESCRIPTION}",
    }
    note.update(overrides)
    return note


class Chart:
    """An episode under construction on the in-memory recorder."""

    def __init__(self, app: Episodes, *, plan: bool = True, certify: bool = True, **opened: Any) -> None:
        self.app = app
        opened.setdefault("diagnoses", [DIAGNOSIS])
        self.id: UUID = app.handle(b.open_episode(start_date=str(START), **opened)).episode_id
        if plan:
            self.app.handle(b.plan(self.id, established_on=str(START)))
        if plan and certify:
            self.certify(START + timedelta(days=2))
        for exercise_id, name, category, region, movement in (
            ("slr", SLR["name"], "strengthening", "right hip", "hip flexion"),
            ("bridge", BRIDGE["name"], "strengthening", "hips", "bridging"),
            ("stance", STANCE["name"], "balance", "right lower extremity", "single-leg balance"),
        ):
            self.do(
                c.AddExercise,
                exercise_id=exercise_id,
                name=name,
                category=category,
                body_region=region,
                movement=movement,
                effective_date=START,
            )

    def do(self, kind: type[c.Command], **fields: Any) -> Chart:
        """Record any command on the episode."""
        self.app.handle(b.command(kind, self.id, **fields))
        return self

    def certify(self, signed: date, **more: Any) -> Chart:
        """Record a certification of the plan, signed on a date."""
        more.setdefault("period_start", START)
        more.setdefault("period_end", START + timedelta(weeks=8))
        return self.do(
            c.CertifyPlan, certifier={"provider_id": "dr-1", "credential": "MD"}, signed_on=signed, **more
        )

    def visit(self, day: date | int = 1, **overrides: Any) -> Chart:
        """Record a well-documented visit (day: a date, or the number of days after the start)."""
        on = START + timedelta(days=day) if isinstance(day, int) else day
        self.app.handle(b.visit(self.id, date_of_service=str(on), **good_note(**overrides)))
        return self

    @property
    def episode(self) -> Episode:
        """The episode as it stands now."""
        return self.app.get_episode(self.id)

    def findings(self, context: CheckContext | None = None) -> tuple[Finding, ...]:
        """Run every check on the episode."""
        return check_episode(self.episode, context or CheckContext.default())

    def rules(self, context: CheckContext | None = None) -> list[str]:
        """The rule ids found, in the findings' order."""
        return [f.rule_id for f in self.findings(context)]


def rule_ids(findings: Iterable[Finding]) -> set[str]:
    """The distinct rule ids of some findings."""
    return {f.rule_id for f in findings}


def of_rule(findings: Iterable[Finding], rule_id: str) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in findings if f.rule_id == rule_id]
