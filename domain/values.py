"""Value objects: small frozen pydantic models with constraints on every field.

Minutes and units are integers; scores and loads are Decimal; nothing here is a
float. Every model forbids unknown fields, so a typo in a JSON document is an
error that names the field instead of a silently dropped value.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.fields import FieldInfo


class Frozen(BaseModel):
    """Base of every value object, command and event: immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=BaseModel)


def command_digest(command: BaseModel, name: str) -> str:
    """Return a hash of a command's canonical JSON, to tell a replay from a reuse of its id.

    Fields left at their defaults are left out and keys are sorted, so the digest
    of a stored command stays the same when a later version adds an optional field.
    """
    import hashlib

    import orjson

    values = command.model_dump(mode="json", exclude_defaults=True)
    values["command"] = name
    return hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()


_PLANS: dict[type[BaseModel], tuple[tuple[str, FieldInfo | None], ...] | None] = {}


def _plan(cls: type[BaseModel]) -> tuple[tuple[str, FieldInfo | None], ...] | None:
    """Each field's name, and its default where it has one; None when a class needs pydantic's own way."""
    if cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
        return None
    fields = cls.__pydantic_fields__
    if any(f.alias is not None or f.validation_alias is not None for f in fields.values()):
        return None
    return tuple((name, None if f.is_required() else f) for name, f in fields.items())


def construct(cls: type[_M], values: dict[str, Any]) -> _M:
    """Build a model from values that are already valid, as `model_construct` does, in about half its time.

    It sets the same `__dict__` (fields in declaration order, defaults filled in,
    unknown names ignored) and fields-set; a class with aliases, a post-init hook
    or extra fields allowed goes through `model_construct` itself.
    `tests/unit/test_unvalidated_construction.py` holds the two to the same result.
    """
    if cls in _PLANS:
        plan = _PLANS[cls]
    else:
        plan = _PLANS[cls] = _plan(cls)
    if plan is None:
        return cls.model_construct(**values)
    fields: dict[str, Any] = {}
    given: set[str] = set()
    for name, default in plan:
        if name in values:
            fields[name] = values[name]
            given.add(name)
        elif default is not None:
            fields[name] = default.get_default(call_default_factory=True, validated_data=fields)
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", given)
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def masked(value: str, keep: int = 4) -> str:
    """Return an identifier with all but its last `keep` characters hidden (all of a short one)."""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


# Identifiers and texts. Patient references are opaque ids, never names.
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^\S+$")
]
PatientRef = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    ),
]
UserId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S.*$")
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


# Codes and modifiers are stripped and upper-cased ("gp " -> "GP"). pydantic-core strips, then
# matches the pattern, then upper-cases, so the pattern admits lower case; done natively
# this way it costs nothing per value, where a Python validator took a third of the time
# to load an episode's snapshot (two calls per visit).
Code = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[0-9A-Za-z]{5}$")]
Modifier = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[0-9A-Za-z]{2}$")
]
Npi = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]

# Quantities: integers for minutes and units; strict, so "33" or 33.5 is refused.
Minutes = Annotated[int, Field(strict=True, ge=0, le=1440)]
Units = Annotated[int, Field(strict=True, ge=0, le=96)]
Count = Annotated[int, Field(strict=True, ge=1, le=1000)]
Seconds = Annotated[int, Field(strict=True, ge=1, le=86_400)]
Score = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=9, decimal_places=3)]
Amount = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, max_digits=9, decimal_places=2)]

Discipline = Literal["PT", "OT", "SLP"]
TherapistCredential = Literal["PT", "PTA", "OT", "OTA", "SLP"]
CertifierCredential = Literal["MD", "DO", "NP", "PA", "CNS", "DPM"]
UnitRule = Literal["cms", "ama"]

ASSISTANTS: frozenset[str] = frozenset({"PTA", "OTA"})
CREDENTIALS_BY_DISCIPLINE: dict[str, frozenset[str]] = {
    "PT": frozenset({"PT", "PTA"}),
    "OT": frozenset({"OT", "OTA"}),
    "SLP": frozenset({"SLP"}),
}


def _icd10(value: str) -> str:
    code = value.strip().upper()
    body = code.replace(".", "")
    if not (
        3 <= len(body) <= 7
        and body[0].isalpha()
        and body[0] != "U"
        and body[1].isdigit()
        and body[2:].isalnum()
        and (("." not in code) or code.index(".") == 3)
    ):
        raise ValueError(f"'{value}' is not an ICD-10-CM code (e.g. M17.11)")
    return code if "." in code or len(body) == 3 else f"{body[:3]}.{body[3:]}"


Icd10 = Annotated[str, AfterValidator(_icd10)]


class Diagnosis(Frozen):
    """An ICD-10-CM diagnosis; the first in a list is the primary one."""

    code: Icd10
    description: Name | None = None


class Provider(Frozen):
    """A referring or certifying physician or practitioner."""

    provider_id: Identifier
    name: Name | None = None
    npi: Npi | None = None
    credential: CertifierCredential | None = None


class PayerRef(Frozen):
    """The payer of an episode and the unit rule it applies (docs/rules.md#eight-minute-rule,
    docs/rules.md#ama-midpoint-rule).
    """

    payer_id: Identifier
    name: Name | None = None
    unit_rule: UnitRule | None = None
    member_id: Identifier | None = None


GoalTerm = Literal["short", "long"]


class Goal(Frozen):
    """A measurable, functional goal of a plan of care (CMS BPM ch.15 §220.1)."""

    goal_id: Identifier
    term: GoalTerm
    text: ShortText
    measure: ShortText | None = None
    target: ShortText | None = None
    target_date: date | None = None


GoalStatus = Literal["met", "progressing", "not_progressing", "revised", "discontinued"]


class GoalAssessment(Frozen):
    """A progress report's assessment of one goal."""

    goal_id: Identifier
    status: GoalStatus
    note: Text = ""


LoadUnit = Literal["lb", "kg"]


class Dosage(Frozen):
    """How much of an exercise: whatever applies of sets, reps, load, time and position."""

    sets: Count | None = None
    reps: Count | None = None
    load: Annotated[Decimal, Field(ge=0, le=1000, allow_inf_nan=False, decimal_places=2)] | None = None
    load_unit: LoadUnit | None = None
    resistance: ShortText | None = None
    duration_seconds: Seconds | None = None
    distance_m: Annotated[int, Field(strict=True, ge=1, le=100_000)] | None = None
    position: ShortText | None = None

    def is_empty(self) -> bool:
        """Tell whether no dosage element is given at all."""
        return all(getattr(self, name) is None for name in type(self).model_fields)

    def describe(self) -> str:
        """Render the dosage the way a therapist writes it: 3x10 @ 5 lb, band: red."""
        parts: list[str] = []
        if self.sets and self.reps:
            parts.append(f"{self.sets}x{self.reps}")
        elif self.sets:
            parts.append(f"{self.sets} sets")
        elif self.reps:
            parts.append(f"{self.reps} reps")
        if self.load is not None:
            parts.append(f"@ {self.load.normalize():f} {self.load_unit or ''}".rstrip())
        if self.resistance:
            parts.append(f"resistance {self.resistance}")
        if self.duration_seconds:
            parts.append(f"{self.duration_seconds} s")
        if self.distance_m:
            parts.append(f"{self.distance_m} m")
        if self.position:
            parts.append(self.position)
        return " ".join(parts) if parts else "no dosage"


ExerciseCategory = Literal[
    "strengthening",
    "range_of_motion",
    "flexibility",
    "endurance",
    "balance",
    "proprioception",
    "neuromuscular",
    "gait",
    "functional",
    "motor_control",
    "aquatic",
]


class PerformedExercise(Frozen):
    """An exercise as done at one visit, with the dosage of that day."""

    exercise_id: Identifier | None = None
    name: ShortText
    dosage: Dosage = Dosage()
    note: Text = ""


class ServiceLine(Frozen):
    """One code on a treatment note: its minutes, who furnished them, and when.

    `assistant_minutes` are the minutes of this line furnished by a PTA/OTA
    (docs/rules.md#modifiers, CQ/CO). `units` and `modifiers` are what the clinician means to
    bill, if given; careledger computes its own and compares. `start`/`end` are
    the clock times of the block, used to prove distinct time blocks (docs/rules.md#modifiers).
    """

    code: Code
    minutes: Minutes
    assistant_minutes: Minutes = 0
    units: Units | None = None
    modifiers: tuple[Modifier, ...] = ()
    start: time | None = None
    end: time | None = None


class CommandDocument(Frozen):
    """Base of a family of commands (the episodes', the clinic's): its id, its author, its registry.

    A concrete command (one whose `command` field has a fixed name) registers itself
    in its family's `registry`, so the family's commands are listed once, by their classes.
    """

    registry: ClassVar[dict[str, Any]] = {}

    command: str
    command_id: UUID
    recorded_by: UserId

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register a concrete command in its family's registry."""
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["command"].default
        if isinstance(name, str):
            cls.registry[name] = cls

    def digest(self) -> str:
        """Return a hash of the command's canonical JSON, to tell a replay from a reuse (`command_digest`)."""
        return command_digest(self, self.command)
