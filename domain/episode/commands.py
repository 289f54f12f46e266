"""Typed commands: the JSON documents the CLI, batch files and backend services send.

Each command is a frozen pydantic model with unknown fields forbidden. The field
`command` names its type (`record_visit`), `command_id` makes it idempotent, and
`recorded_by` names the person or service that acts. The rest of its fields are
the fields of the event it becomes (see `domain.records`).

Defining a command class registers it (`COMMANDS`, in the order they are defined
here); its name is also the name of the `Episode` method that decides it
(`record_visit` -> `Episode.record_visit`), except `open_episode`, which creates
the episode (`Episode.open`). Nothing else lists the commands.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union
from uuid import UUID

from pydantic import Field, TypeAdapter, ValidationError

from domain import door
from domain.errors import InvalidInput
from domain.records import (
    AddendumFields,
    CertificationFields,
    CorrectionFields,
    DischargeFields,
    EpisodeFields,
    ExerciseAddFields,
    ExerciseChangeFields,
    ExerciseStopFields,
    HoldFields,
    LateEntryFields,
    OutcomeFields,
    PlanFields,
    ProgressReportFields,
    ReEvaluationFields,
    RemittanceFields,
    ResumeFields,
    VisitFields,
    VoidFields,
)
from domain.values import CommandDocument

COMMANDS: dict[str, type[Command]] = {}


class Command(CommandDocument):
    """Base of every episode command: its id (for idempotency) and its author."""

    registry: ClassVar[dict[str, Any]] = COMMANDS


class EpisodeCommand(Command):
    """A command on an existing episode."""

    episode_id: UUID


class OpenEpisode(EpisodeFields, Command):
    """Open an episode of care. Without `episode_id`, the id is derived from `command_id`."""

    command: Literal["open_episode"] = "open_episode"
    episode_id: UUID | None = None


class EstablishPlan(PlanFields, EpisodeCommand):
    """Establish or revise the plan of care."""

    command: Literal["establish_plan"] = "establish_plan"


class CertifyPlan(CertificationFields, EpisodeCommand):
    """Record a certification or recertification of the plan of care."""

    command: Literal["certify_plan"] = "certify_plan"


class RecordVisit(VisitFields, EpisodeCommand):
    """Record the treatment note of one date of service."""

    command: Literal["record_visit"] = "record_visit"


class AddExercise(ExerciseAddFields, EpisodeCommand):
    """Add an exercise to the programme."""

    command: Literal["add_exercise"] = "add_exercise"


class ProgressExercise(ExerciseChangeFields, EpisodeCommand):
    """Progress an exercise."""

    command: Literal["progress_exercise"] = "progress_exercise"


class RegressExercise(ExerciseChangeFields, EpisodeCommand):
    """Regress an exercise."""

    command: Literal["regress_exercise"] = "regress_exercise"


class DiscontinueExercise(ExerciseStopFields, EpisodeCommand):
    """Discontinue an exercise."""

    command: Literal["discontinue_exercise"] = "discontinue_exercise"


class RecordOutcome(OutcomeFields, EpisodeCommand):
    """Record an outcome measure."""

    command: Literal["record_outcome"] = "record_outcome"


class RecordProgressReport(ProgressReportFields, EpisodeCommand):
    """Record a progress report."""

    command: Literal["record_progress_report"] = "record_progress_report"


class RecordReEvaluation(ReEvaluationFields, EpisodeCommand):
    """Record a re-evaluation."""

    command: Literal["record_reevaluation"] = "record_reevaluation"


class HoldEpisode(HoldFields, EpisodeCommand):
    """Put the episode on hold."""

    command: Literal["hold_episode"] = "hold_episode"


class ResumeEpisode(ResumeFields, EpisodeCommand):
    """Resume the episode after a hold."""

    command: Literal["resume_episode"] = "resume_episode"


class DischargeEpisode(DischargeFields, EpisodeCommand):
    """Discharge the episode."""

    command: Literal["discharge_episode"] = "discharge_episode"


class RecordLateEntry(LateEntryFields, EpisodeCommand):
    """Record a visit's note written after its date of service, with why it is late
    (docs/rules.md#amendments).
    """

    command: Literal["record_late_entry"] = "record_late_entry"


class CorrectVisit(CorrectionFields, EpisodeCommand):
    """Correct fields of a recorded visit, with why; the original entry is kept (docs/rules.md#amendments)."""

    command: Literal["correct_visit"] = "correct_visit"


class AddAddendum(AddendumFields, EpisodeCommand):
    """Append information to a recorded visit, with why (docs/rules.md#amendments)."""

    command: Literal["add_addendum"] = "add_addendum"


class VoidVisit(VoidFields, EpisodeCommand):
    """Void a visit entered in error, with why; its history is kept (docs/rules.md#amendments)."""

    command: Literal["void_visit"] = "void_visit"


class RecordRemittance(RemittanceFields, EpisodeCommand):
    """Record what a payer paid and adjusted on a claim careledger sent (`careledger import 835`)."""

    command: Literal["record_remittance"] = "record_remittance"


# Every command, told apart by its `command` field (built from the registry above).
_ANY_COMMAND: Any = Annotated[Union[tuple(COMMANDS.values())], Field(discriminator="command")]  # noqa: UP007
_ADAPTER: TypeAdapter[Any] = TypeAdapter(_ANY_COMMAND)


@cache
def _moment_fields() -> dict[str, str]:
    from domain.records import VisitFields

    # VisitFields: what a correction's `changes` hold.
    return door.field_kinds([*COMMANDS.values(), VisitFields])


def check_at_door(document: Any) -> None:
    """Refuse what pydantic would coerce in an incoming command document (domain.door); name the field."""
    if not isinstance(document, dict):
        raise InvalidInput("", "a command must be a JSON object")
    door.check_document(document, _moment_fields())


def parse_command(document: bytes | str | dict[str, Any]) -> Command:
    """Check an incoming JSON document (text or decoded) at the door, then validate it as a command.

    Text is parsed by the door (a key given twice is refused); either way the
    document is checked before pydantic sees it. Stored events never come here.
    """
    decoded = document if isinstance(document, dict) else door.load_json(document)
    try:
        check_at_door(decoded)
    except InvalidInput as refused:
        raise _with_other_problems(refused, decoded) from None
    try:
        command: Command = _ADAPTER.validate_python(decoded)
    except ValidationError as exc:
        raise describe_validation_error(exc) from None
    except TypeError as exc:  # a rule comparing values pydantic let through; never a traceback
        raise InvalidInput("", f"the document could not be checked ({exc})") from None
    return command


def _with_other_problems(refused: InvalidInput, document: Any) -> InvalidInput:
    """Return the door's refusal listing, besides its own, every problem pydantic finds in other fields."""
    if not isinstance(document, dict):
        return refused
    try:
        _ADAPTER.validate_python(document)
    except ValidationError as exc:
        named = {field for field, _ in refused.problems}
        others = [p for p in (_describe(e) for e in exc.errors(include_url=False)) if p[0] not in named]
        return InvalidInput(refused.field, refused.problem, (*refused.problems, *others))
    except (TypeError, ValueError):
        pass
    return refused


def describe_validation_error(exc: ValidationError) -> InvalidInput:
    """Turn pydantic's report into one line that names every field and its problem."""
    described = [_describe(error) for error in exc.errors(include_url=False)]
    field, problem = described[0]
    others = [f"{f}: {p}" if f else p for f, p in dict.fromkeys(described[1:]) if (f, p) != (field, problem)]
    if others:
        problem = "; ".join([problem, *others])
    return InvalidInput(field, problem, tuple(described))


def _describe(error: Any) -> tuple[str, str]:
    """Name one of pydantic's errors: the field (dotted) and the problem in careledger's words."""
    loc = [str(part) for part in error["loc"]]
    if loc and loc[0] in COMMANDS:
        loc = loc[1:]
    kind = error["type"]
    field = ".".join(loc)
    if kind == "json_invalid":
        problem = f"malformed JSON ({error['msg'].removeprefix('Invalid JSON: ')})"
        field = ""
    elif kind == "union_tag_not_found":
        field, problem = "command", f"missing; expected one of {', '.join(COMMANDS)}"
    elif kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "?")
        field, problem = (
            "command",
            f"'{tag}' is not a command; expected one of {', '.join(COMMANDS)}",
        )
    elif kind == "extra_forbidden":
        problem = "unknown field"
    elif kind == "missing":
        problem = "missing"
    elif kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
        field, problem = "", "a command must be a JSON object"
    else:
        message = error["msg"]
        problem = message[0].lower() + message[1:]
        problem = problem.removeprefix("value error, ")
    return field, problem
