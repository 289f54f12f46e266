"""The episode's invariants as named checks; each refuses with a field and a reason.

`Episode` inherits these. They read the episode's state and raise
`InvalidInput`; they never change anything, so a refused command stores nothing.
Rule sources are cited where a check encodes one (docs/rules.md#time-integrity, for instance).
"""

from __future__ import annotations

from datetime import date

from domain.billing.ledger import audit_minutes
from domain.episode.state import EpisodeAttributes
from domain.errors import InvalidInput
from domain.records import Exercise, ExerciseChangeFields, Visit, VisitFields
from domain.rules.catalogue import code_catalogue, unknown_code_message
from domain.values import ASSISTANTS, CREDENTIALS_BY_DISCIPLINE


class EpisodeInvariants(EpisodeAttributes):
    """Checks over an episode's state, shared by its commands."""

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
        """Refuse an assistant (PTA/OTA) doing what only a therapist may (docs/rules.md#modifiers)."""
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
        """Check codes against the catalogue, and the day's minutes with the minute ledger
        (docs/rules.md#time-integrity).
        """
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
            if not info.in_force(fields.date_of_service):
                raise InvalidInput(
                    f"service_lines.{index}.code",
                    f"{line.code} is not a valid code on {fields.date_of_service} (valid {info.validity()})",
                )
            if info.is_evaluation and fields.credential in ASSISTANTS:
                raise InvalidInput(
                    f"service_lines.{index}.code",
                    f"an assistant ({fields.credential}) may not furnish an evaluation or re-evaluation "
                    f"({line.code})",
                )
            if info.is_evaluation and line.assistant_minutes:
                raise InvalidInput(
                    f"service_lines.{index}.assistant_minutes",
                    f"an assistant may not furnish an evaluation or re-evaluation ({line.code}): give 0",
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

    def check_changeable(self, exercise_id: str, effective_date: date, today: date) -> Exercise:
        """Return the exercise a change names: in the programme then, and not before its last change."""
        self.check_clinical_date("effective_date", effective_date, today)
        self.check_exercise_active("exercise_id", exercise_id, effective_date)
        current = self.exercises[exercise_id]
        if not current.active:
            raise InvalidInput("exercise_id", f"'{exercise_id}' is already discontinued")
        last = current.history[-1].effective_date
        if effective_date < last:
            raise InvalidInput("effective_date", f"{effective_date} is before the last change on {last}")
        return current

    def check_change(self, fields: ExerciseChangeFields, today: date) -> None:
        """Refuse a progression or regression of an inactive exercise, or one that changes nothing."""
        current = self.check_changeable(fields.exercise_id, fields.effective_date, today)
        if (
            fields.dosage == current.dosage
            and fields.name in (None, current.name)
            and fields.equipment in (None, current.equipment)
        ):
            raise InvalidInput(
                "dosage",
                "unchanged from the current prescription; change dosage, name or equipment",
            )

    def check_new_visit(self, fields: VisitFields, today: date) -> None:
        """Check a new note: its date (inside the episode, not on hold, not taken) and its content."""
        dos = fields.date_of_service
        self.check_clinical_date("date_of_service", dos, today)
        self.check_not_on_hold("date_of_service", dos)
        if dos in self.visits:
            raise InvalidInput("date_of_service", f"a visit on {dos} is already recorded for this episode")
        self.check_visit_content(fields)

    def check_visit_content(self, fields: VisitFields, prefix: str = "") -> None:
        """Check a note's credential, codes, minutes and exercises as for a new visit
        (docs/rules.md#time-integrity).

        `prefix` is put before the field in the error, so a correction names
        `changes.service_lines.0.code` where a new visit names `service_lines.0.code`.
        """
        try:
            self.check_credential_fits_discipline("credential", fields.credential)
            self.check_service_lines(fields)
            for index, performed in enumerate(fields.exercises):
                if performed.exercise_id is not None:
                    self.check_exercise_active(
                        f"exercises.{index}.exercise_id", performed.exercise_id, fields.date_of_service
                    )
        except InvalidInput as error:
            if not prefix:
                raise
            raise InvalidInput(f"{prefix}{error.field}", error.problem) from None

    def find_amended_visit(self, date_of_service: date | None, amends_version: int | None) -> Visit:
        """Return the current visit an amendment names, by date of service or entry version
        (docs/rules.md#amendments).
        """
        if date_of_service is None and amends_version is None:
            raise InvalidInput(
                "date_of_service", "missing; name the visit by date_of_service or amends_version"
            )
        if date_of_service is None:
            for visit in self.visits.values():
                if visit.event_version == amends_version:
                    return visit
            raise InvalidInput(
                "amends_version",
                f"version {amends_version} is not the entry of a current visit of this episode",
            )
        current = self.visits.get(date_of_service)
        if current is None:
            voided = [v for v in self.voided_visits if v.date_of_service == date_of_service]
            if voided:
                void = voided[-1].amendments[-1]
                raise InvalidInput(
                    "date_of_service",
                    f"the visit on {date_of_service} was voided (version {void.event_version}); "
                    "record it again instead of amending it",
                )
            raise InvalidInput(
                "date_of_service", f"no visit on {date_of_service} is recorded for this episode"
            )
        if amends_version is not None and amends_version != current.event_version:
            raise InvalidInput(
                "amends_version",
                f"the visit on {date_of_service} was recorded at version {current.event_version}, "
                f"not {amends_version}",
            )
        return current
