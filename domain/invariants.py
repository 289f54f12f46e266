"""The episode's invariants as named checks; each refuses with a field and a reason.

`Episode` inherits these. They read the episode's state and raise
`InvalidInput`; they never change anything, so a refused command stores nothing.
Rule sources are cited where a check encodes one (rules.md §n).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from domain.catalogue import code_catalogue, unknown_code_message
from domain.errors import InvalidInput
from domain.ledger import audit_minutes
from domain.records import Discharge, Exercise, ExerciseChangeFields, Hold, VisitFields
from domain.values import ASSISTANTS, CREDENTIALS_BY_DISCIPLINE


class EpisodeInvariants:
    """Checks over an episode's state, shared by its commands."""

    if TYPE_CHECKING:
        start_date: date
        discipline: str
        discharge: Discharge | None
        holds: list[Hold]
        exercises: dict[str, Exercise]

    def check_not_future(self, field: str, value: date, today: date) -> None:
        """Refuse a clinical date after today."""
        if value > today:
            raise InvalidInput(field, f"{value} is in the future (today is {today})")

    def check_not_discharged(self) -> None:
        """Refuse a change of status once the episode is discharged."""
        if self.discharge is not None:
            raise InvalidInput("status", f"the episode was discharged on {self.discharge.discharge_date}")

    def check_clinical_date(self, field: str, value: date, today: date) -> None:
        """Refuse a clinical date before the start, after the discharge or in the future.

        A fact dated on or before the discharge may still be recorded after it (a
        late entry keeps both dates: the clinical one and the recorded time).
        """
        if value < self.start_date:
            raise InvalidInput(field, f"{value} is before the episode start {self.start_date}")
        self.check_not_future(field, value, today)
        if self.discharge is not None and value > self.discharge.discharge_date:
            raise InvalidInput(field, f"{value} is after the discharge on {self.discharge.discharge_date}")

    def check_not_on_hold(self, field: str, value: date) -> None:
        """Refuse a date of service inside a hold period."""
        for hold in self.holds:
            if hold.start <= value and (hold.end is None or value < hold.end):
                until = f"until {hold.end}" if hold.end else "(not resumed)"
                raise InvalidInput(field, f"{value} falls in a hold from {hold.start} {until}")

    def check_not_assistant(self, field: str, credential: str, action: str) -> None:
        """Refuse an assistant (PTA/OTA) doing what only a therapist may (rules.md §5)."""
        if credential in ASSISTANTS:
            raise InvalidInput(field, f"an assistant ({credential}) may not {action}")

    def check_credential_fits_discipline(self, field: str, credential: str) -> None:
        """Refuse a PT note on an OT episode and the like."""
        allowed = CREDENTIALS_BY_DISCIPLINE[self.discipline]
        if credential not in allowed:
            raise InvalidInput(
                field,
                f"{credential} does not fit a {self.discipline} episode ({'/'.join(sorted(allowed))})",
            )

    def check_service_lines(self, fields: VisitFields) -> None:
        """Check codes against the catalogue, and the day's minutes with the minute ledger (rules.md §4)."""
        catalogue = code_catalogue()
        for index, line in enumerate(fields.service_lines):
            info = catalogue.get(line.code)
            if info is None:
                raise InvalidInput(
                    f"service_lines.{index}.code", unknown_code_message(line.code, catalogue.codes)
                )
            if info.discipline is not None and info.discipline != self.discipline:
                raise InvalidInput(
                    f"service_lines.{index}.code",
                    f"{line.code} is a {info.discipline} code; this is a {self.discipline} episode",
                )
            if line.assistant_minutes > line.minutes:
                raise InvalidInput(
                    f"service_lines.{index}.assistant_minutes",
                    f"{line.assistant_minutes} is more than the line's {line.minutes} minutes",
                )
            if (line.start is None) != (line.end is None):
                raise InvalidInput(f"service_lines.{index}.end", "give both start and end, or neither")
            if line.start is not None and line.end is not None and line.end <= line.start:
                raise InvalidInput(f"service_lines.{index}.end", f"{line.end} is not after {line.start}")
        ledger = audit_minutes(fields.service_lines, fields.total_treatment_minutes, fields.date_of_service)
        if ledger.refusals:
            raise InvalidInput(ledger.refusals[0].field, ledger.refusals[0].problem)

    def check_exercise_active(self, field: str, exercise_id: str, on: date) -> None:
        """Refuse an exercise the episode does not have, or not in the programme on that date."""
        exercise = self.exercises.get(exercise_id)
        if exercise is None:
            raise InvalidInput(field, f"'{exercise_id}' is not an exercise of this episode")
        added = exercise.history[0].effective_date
        if on < added:
            raise InvalidInput(field, f"'{exercise_id}' was added on {added}, after {on}")
        stopped = exercise.history[-1]
        if stopped.kind == "discontinued" and on >= stopped.effective_date:
            raise InvalidInput(field, f"'{exercise_id}' was discontinued on {stopped.effective_date}")

    def check_change(self, fields: ExerciseChangeFields, today: date) -> None:
        """Refuse a progression or regression of an inactive exercise, or one that changes nothing."""
        self.check_clinical_date("effective_date", fields.effective_date, today)
        self.check_exercise_active("exercise_id", fields.exercise_id, fields.effective_date)
        current = self.exercises[fields.exercise_id]
        if not current.active:
            raise InvalidInput("exercise_id", f"'{fields.exercise_id}' is discontinued")
        last = current.history[-1].effective_date
        if fields.effective_date < last:
            raise InvalidInput(
                "effective_date", f"{fields.effective_date} is before the last change on {last}"
            )
        if (
            fields.dosage == current.dosage
            and fields.name in (None, current.name)
            and fields.equipment in (None, current.equipment)
        ):
            raise InvalidInput(
                "dosage",
                "unchanged from the current prescription; change dosage, name or equipment",
            )
