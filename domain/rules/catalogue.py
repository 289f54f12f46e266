"""Reference data shipped as TOML: the code catalogue, instruments, payer profiles and the other tables.

Each file carries a version and an effective date so that a result can say which
table it came from. Loading is lazy and cached: nothing is read until asked for.

A clinic overrides any table with a file of the same name in its rules folder,
named by the environment variable CARELEDGER_RULES_DIR (`codes.toml`,
`lexicon.toml`, `instruments.toml`, `ncci_pairs.toml`, `thresholds.toml`, payer
profiles in `payers/`, and the fee schedules the profiles name); payer profiles
and fee schedules are also read from the folders given as `extra_dirs`
(CARELEDGER_PAYERS_DIR). Every process reading the same folder decides with the
same tables; `rules_fingerprint` names what a result was computed from, so a read
model built from other tables is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import InvalidInput
from domain.values import Amount, Code, Discipline, UnitRule

CodeKind = Literal["timed", "evaluation", "reevaluation", "supervised", "group", "untimed"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=_Data)


class CodeInfo(_Data):
    """One CPT/HCPCS code: whether it is timed, and what kind of service it is."""

    code: str
    kind: CodeKind
    description: str
    discipline: Discipline | None = None
    medicare_bundled: bool = False
    medicare_alternative: str | None = None
    # the dates the code is valid on (CPT adds and deletes codes each January)
    effective_from: date | None = None
    effective_to: date | None = None
    # an add-on code is billed only with one of these primary codes on the same date
    add_on_to: tuple[Code, ...] = ()
    # the length of one unit of a timed code: 15 minutes, or the code's own (97545: 2 hours)
    unit_minutes: int = Field(default=15, ge=1, le=480)

    def in_force(self, day: date) -> bool:
        """Tell whether the code is valid on a date of service."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to

    def validity(self) -> str:
        """Say the dates the code is valid on, for an error message."""
        start = f"from {self.effective_from}" if self.effective_from else ""
        end = f"until {self.effective_to}" if self.effective_to else ""
        return " ".join(x for x in (start, end) if x) or "always"

    @property
    def pooled(self) -> bool:
        """Tell whether the code's minutes join the day's 15-minute pool (the 8-minute rule)."""
        return self.kind == "timed" and self.unit_minutes == 15

    @property
    def timed(self) -> bool:
        """Tell whether the code is billed in 15-minute units (docs/rules.md#timed-codes)."""
        return self.kind == "timed"

    @property
    def may_overlap(self) -> bool:
        """Tell whether the code's minutes may overlap other services (supervised)."""
        return self.kind == "supervised"

    @property
    def is_evaluation(self) -> bool:
        """Tell whether the code is an evaluation or re-evaluation."""
        return self.kind in ("evaluation", "reevaluation")


class CodeCatalogue(_Data):
    """The versioned set of codes careledger knows."""

    version: str
    effective: date
    source: str
    codes: dict[str, CodeInfo]

    def get(self, code: str) -> CodeInfo | None:
        """Return the code's entry, or None if the catalogue does not have it."""
        return self.codes.get(code)

    def of_kind(self, kind: CodeKind) -> tuple[str, ...]:
        """Return the codes of one kind (e.g. `group`), sorted."""
        return tuple(sorted(code for code, info in self.codes.items() if info.kind == kind))


class Instrument(_Data):
    """A standard outcome instrument: its range, direction and clinically important change."""

    instrument_id: str
    name: str
    min: Decimal
    max: Decimal
    unit: str
    better: Literal["higher", "lower"]
    mcid: Decimal | None = None
    mcid_upper: Decimal | None = None
    mcid_percent: Decimal | None = None
    mcid_source: str | None = None
    risk_threshold: Decimal | None = None
    risk_source: str | None = None
    loinc: str | None = None
    loinc_verified: bool = True

    def contains(self, score: Decimal) -> bool:
        """Tell whether a score lies inside the instrument's range."""
        return self.min <= score <= self.max


class InstrumentCatalogue(_Data):
    """The versioned set of instruments."""

    version: str
    effective: date
    source: str
    instruments: dict[str, Instrument]

    def get(self, instrument_id: str) -> Instrument | None:
        """Find an instrument by id, ignoring case."""
        found = self.instruments.get(instrument_id)
        if found is not None:
            return found
        lowered = instrument_id.lower()
        for key, value in self.instruments.items():
            if key.lower() == lowered:
                return value
        return None


DistinctModifier = Literal["59", "XE", "XS", "XP", "XU"]
# a file name, optionally in one subdirectory; no component may start with a dot
_FEE_FILE = r"^([A-Za-z0-9_-][A-Za-z0-9._-]*/)?[A-Za-z0-9_-][A-Za-z0-9._-]*\.toml$"


AssistantTest = Literal["service", "unit"]


class ProfilePeriod(_Data):
    """A dated part of a payer profile: the rules and amounts in force between two dates.

    Every field but the dates is optional; a period says only what changes. The
    profile on a date of service is its undated fields with every period in force
    that day laid over them, in file order.
    """

    effective_from: date
    effective_to: date | None = None
    note: str = ""
    discipline_modifiers: bool | None = None
    assistant_modifiers: bool | None = None
    assistant_test: AssistantTest | None = None
    assistant_allowed_percent: int | None = Field(default=None, ge=1, le=100)
    kx_threshold: bool | None = None
    ncci_edits: bool | None = None
    distinct_modifier: DistinctModifier | None = None
    medicare_code_policy: bool | None = None
    fee_schedule: str | None = Field(default=None, pattern=_FEE_FILE)

    def in_force(self, day: date) -> bool:
        """Tell whether the period covers a date of service."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class PayerProfile(_Data):
    """What a payer requires: its unit rule (docs/rules.md#eight-minute-rule, docs/rules.md#ama-midpoint-rule)
    and its modifiers (docs/rules.md#modifiers).

    Every billing switch defaults to off, so a clinic's minimal profile (id, name,
    version, effective date, unit rule) computes units only. An unknown field is
    an error that names it: a typo must not silently switch a rule off.
    """

    payer_id: str
    name: str
    version: str
    effective: date
    unit_rule: UnitRule
    source: str | None = None
    discipline_modifiers: bool = False
    assistant_modifiers: bool = False
    # how the 10% de minimis test is applied: to the whole service (2020-2021) or,
    # for timed codes, to each 15-minute unit (from 2022)
    assistant_test: AssistantTest = "unit"
    assistant_allowed_percent: int = Field(default=100, ge=1, le=100)
    kx_threshold: bool = False
    ncci_edits: bool = False
    distinct_modifier: DistinctModifier = "59"
    medicare_code_policy: bool = False
    fee_schedule: str | None = Field(default=None, pattern=_FEE_FILE)
    # Whether the payer follows Medicare's plan, certification and progress-report
    # clocks (docs/rules.md#plan-of-care); None means only the payer `medicare` does.
    medicare_therapy_rules: bool | None = None
    # the dated parts: what changes on which dates (e.g. CQ/CO from 2020, 85% from 2022)
    periods: tuple[ProfilePeriod, ...] = ()

    def on(self, day: date) -> PayerProfile:
        """Return the profile as it stands on a date of service (its periods in force laid over it)."""
        update: dict[str, Any] = {}
        for period in self.periods:
            if period.in_force(day):
                fields = period.model_dump(exclude={"effective_from", "effective_to", "note"})
                update.update({k: v for k, v in fields.items() if v is not None})
        return self.model_copy(update=update) if update else self

    @property
    def follows_medicare_clocks(self) -> bool:
        """Tell whether the payer follows Medicare's certification and progress-report clocks.

        (docs/rules.md#certification)
        """
        if self.medicare_therapy_rules is not None:
            return self.medicare_therapy_rules
        return self.payer_id == "medicare"


class NcciEdit(_Data):
    """NCCI procedure-to-procedure edits: each column-1 code with each column-2 code
    (docs/rules.md#modifiers).

    `modifier_indicator` 1 lets a distinct-service modifier (59/X) bypass the edit
    when the record shows distinct services; 0 never. `min_block_minutes` asks each
    code's own time blocks to add up to at least that much (97140 with 97530:
    separate 15-minute blocks). `verified` is false until checked against the
    current PTP file.
    """

    column1: tuple[Code, ...] = Field(min_length=1)
    column2: tuple[Code, ...] = Field(min_length=1)
    modifier_indicator: Literal[0, 1] = 1
    min_block_minutes: int = Field(default=0, ge=0, le=120)
    verified: bool = False
    note: str = ""


class NcciPair(NamedTuple):
    """One expanded pair of an edit: the bundling code, the bundled code, and the edit."""

    column1: str
    column2: str
    edit: NcciEdit


class NcciTable(_Data):
    """The versioned NCCI pair table (docs/rules.md#modifiers)."""

    version: str
    effective: date
    source: str
    edits: tuple[NcciEdit, ...]

    def pairs(self) -> list[NcciPair]:
        """Expand every edit into its (column 1, column 2) pairs, in file order."""
        return [NcciPair(a, b, e) for e in self.edits for a in e.column1 for b in e.column2 if a != b]


class MueTable(_Data):
    """Medically unlikely edits: the most units of a code one provider bills one patient on one date.

    `verified` is false until the values are checked against the CMS MUE file of
    the quarter.
    """

    version: str
    effective: date
    source: str
    verified: bool = False
    limits: dict[Code, int]

    def limit(self, code: str) -> int | None:
        """Return the day's unit limit of a code, if the table has one."""
        return self.limits.get(code)


class TherapyThresholds(_Data):
    """The annual therapy (KX) thresholds per discipline group (docs/rules.md#modifiers)."""

    version: str
    effective: date
    source: str
    # a file that only adds a year may leave these out: the earlier files' stand
    groups: dict[Discipline, str] = Field(default_factory=dict)
    years: dict[int, Amount]
    unsure_years: tuple[int, ...] = ()
    review_threshold: Amount = Decimal("3000.00")

    def group_of(self, discipline: str) -> str:
        """Return the threshold group of a discipline (PT and SLP together, OT apart)."""
        return next((group for key, group in self.groups.items() if key == discipline), discipline)


class FeeSchedule(_Data):
    """Allowed amounts per code per calendar year; the shipped file holds example values."""

    version: str
    effective: date
    source: str
    example: bool = False
    label: str = ""
    currency: Literal["USD"] = "USD"
    # a file that adds years to another schedule names it here (a clinic's 2027 fees)
    extends: str | None = Field(default=None, pattern=_FEE_FILE)
    years: dict[int, dict[Code, Amount]]

    def fee(self, code: str, year: int) -> Decimal | None:
        """Return the allowed amount of one unit of `code` in `year`, if the schedule has it."""
        return self.years.get(year, {}).get(code)


RULES_DIR_ENV = "CARELEDGER_RULES_DIR"


def rules_dir() -> Path | None:
    """Return the clinic's rules folder (CARELEDGER_RULES_DIR), if one is set; it must exist."""
    text = os.environ.get(RULES_DIR_ENV, "").strip()
    if not text:
        return None
    folder = Path(text)
    if not folder.is_dir():
        raise InvalidInput(RULES_DIR_ENV, f"{folder} is not a directory")
    return folder


def _folder_state() -> tuple[Path | None, tuple[object, ...]]:
    """Return the rules folder and a signature of its files (names, sizes, times), so that a table
    cached in a long-running process is read again once a clinic adds or edits a file."""
    folder = rules_dir()
    if folder is None:
        return None, ()
    files = sorted(folder.rglob("*.toml"))
    return folder, tuple((str(f), *_stat(f)) for f in files)


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


def _source(name: str, folder: Path | None) -> tuple[str, str]:
    """Return a table's text and where it came from: the clinic's rules folder first, else shipped."""
    if folder is not None and (folder / name).is_file():
        path = folder / name
        try:
            return str(path), path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(str(path), f"cannot read ({exc.strerror})") from exc
    return name, resources.files("domain").joinpath("data", name).read_text(encoding="utf-8")


def _keyed(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: {key: k, **v} for k, v in table.items()}


def _table(model: type[_M], name: str, folder: Path | None, keyed: tuple[str, str] | None = None) -> _M:
    """Read, parse and validate one table (from the clinic's folder or shipped)."""
    label, text = _source(name, folder)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(label, f"not valid TOML: {exc}") from exc
    if keyed is not None and isinstance(raw.get(keyed[0]), dict):
        raw[keyed[0]] = _keyed(raw[keyed[0]], keyed[1])
    return _validated_raw(model, label, raw)


@lru_cache(maxsize=4)
def _code_catalogue(folder: Path | None, _state: tuple[object, ...] = ()) -> CodeCatalogue:
    return _table(CodeCatalogue, "codes.toml", folder, ("codes", "code"))


def code_catalogue() -> CodeCatalogue:
    """Load the code catalogue (docs/rules.md#timed-codes): the clinic's, if its rules folder has one, else
    shipped.
    """
    return _code_catalogue(*_folder_state())


@lru_cache(maxsize=4)
def _instrument_catalogue(folder: Path | None, _state: tuple[object, ...] = ()) -> InstrumentCatalogue:
    return _table(InstrumentCatalogue, "instruments.toml", folder, ("instruments", "instrument_id"))


def instrument_catalogue() -> InstrumentCatalogue:
    """Load the outcome instrument catalogue (docs/rules.md#outcome-instruments): the clinic's, else
    shipped."""
    return _instrument_catalogue(*_folder_state())


def _validated(model: type[_M], name: str, text: str) -> _M:
    """Parse and validate a TOML document; any problem names the file and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(name, f"not valid TOML: {exc}") from exc
    return _validated_raw(model, name, raw)


def _validated_raw(model: type[_M], name: str, raw: dict[str, Any]) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{name}: {loc}" if loc else name, first["msg"]) from exc


def load_payer_profile(path: Path) -> PayerProfile:
    """Read one payer profile file; a bad file is an error naming the file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(str(path), f"cannot read ({exc.strerror})") from exc
    return _validated(PayerProfile, str(path), text)


def payer_profiles(extra_dirs: tuple[Path, ...] = ()) -> dict[str, PayerProfile]:
    """Load the shipped payer profiles, the rules folder's (`payers/*.toml`), then those in `extra_dirs`."""
    return {payer_id: profile for payer_id, (_, profile) in payer_profile_files(extra_dirs).items()}


def payer_profile_files(extra_dirs: tuple[Path, ...] = ()) -> dict[str, tuple[str, PayerProfile]]:
    """Load every payer profile with the file it came from (a clinic's file replaces a shipped one)."""
    folder, state = _folder_state()
    return _payer_profiles((*((folder / "payers",) if folder else ()), *extra_dirs), folder, state)


@lru_cache(maxsize=8)
def _payer_profiles(
    extra_dirs: tuple[Path, ...], _folder: Path | None, _state: tuple[object, ...] = ()
) -> dict[str, tuple[str, PayerProfile]]:
    profiles: dict[str, tuple[str, PayerProfile]] = {}
    shipped = resources.files("domain").joinpath("data", "payers")
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            label = f"payers/{entry.name}"
            profile = _validated(PayerProfile, label, entry.read_text(encoding="utf-8"))
            profiles[profile.payer_id] = (f"shipped {label}", profile)
    for directory in extra_dirs:
        if not directory.is_dir():
            if _folder is not None and directory == _folder / "payers":
                continue  # a rules folder need not override any payer
            raise InvalidInput(str(directory), "payer profile directory does not exist")
        for path in sorted(directory.glob("*.toml")):
            profile = load_payer_profile(path)
            profiles[profile.payer_id] = (str(path), profile)
    return profiles


def table_origin(name: str) -> str:
    """Say where a single-file table comes from: the clinic's rules folder, or shipped."""
    folder = rules_dir()
    if folder is not None and (folder / name).is_file():
        return str(folder / name)
    return f"shipped {name}"


def follows_medicare_clocks(payer_id: str, extra_dirs: tuple[Path, ...] = ()) -> bool:
    """Tell whether a payer follows Medicare's clocks: its profile says so; without one, it does not.

    (docs/rules.md#certification)
    """
    profile = payer_profiles(extra_dirs).get(payer_id)
    return profile is not None and profile.follows_medicare_clocks


def _check_codes(name: str, field: str, codes: Iterable[str]) -> None:
    known = code_catalogue().codes
    for code in codes:
        if code not in known:
            raise InvalidInput(f"{name}: {field}", unknown_code_message(code, known))


_V = TypeVar("_V", NcciTable, MueTable, TherapyThresholds)


def _versions(model: type[_V], name: str, folder: Path | None, sub: str) -> tuple[tuple[str, _V], ...]:
    """Read every version of a dated table: the shipped file (or the rules folder's file of that
    name, which replaces it) and each file in the rules folder's subfolder of the table's name
    (`ncci/2027q1.toml`), oldest first; each is (where it came from, the table)."""
    found: list[tuple[str, _V]] = []
    label, text = _source(name, folder)
    found.append((label if label != name else f"shipped {name}", _validated(model, label, text)))
    subfolder = folder / sub if folder is not None else None
    if subfolder is not None and subfolder.is_dir():
        for path in sorted(subfolder.glob("*.toml")):
            try:
                body = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(str(path), f"cannot read ({exc.strerror})") from exc
            found.append((str(path), _validated(model, str(path), body)))
    return tuple(sorted(found, key=lambda item: item[1].effective))


def version_on(versions: tuple[tuple[str, _V], ...], day: date) -> tuple[str, _V]:
    """Pick the version in force on a date: the latest effective on or before it (else the earliest)."""
    chosen = versions[0]
    for item in versions:
        if item[1].effective <= day:
            chosen = item
    return chosen


@lru_cache(maxsize=4)
def _ncci_versions(folder: Path | None, _state: tuple[object, ...] = ()) -> tuple[tuple[str, NcciTable], ...]:
    versions = _versions(NcciTable, "ncci_pairs.toml", folder, "ncci")
    for label, table in versions:
        for index, edit in enumerate(table.edits):
            _check_codes(label, f"edits.{index}", (*edit.column1, *edit.column2))
    return versions


def ncci_versions() -> tuple[tuple[str, NcciTable], ...]:
    """Load every quarter of the NCCI pair table (shipped, and the rules folder's `ncci/`), oldest first."""
    return _ncci_versions(*_folder_state())


def ncci_table(day: date | None = None) -> NcciTable:
    """Return the NCCI pair table in force on a date (the newest without one)."""
    versions = ncci_versions()
    return (version_on(versions, day) if day else versions[-1])[1]


@lru_cache(maxsize=4)
def _mue_versions(folder: Path | None, _state: tuple[object, ...] = ()) -> tuple[tuple[str, MueTable], ...]:
    versions = _versions(MueTable, "mue.toml", folder, "mue")
    for label, table in versions:
        _check_codes(label, "limits", table.limits)
    return versions


def mue_versions() -> tuple[tuple[str, MueTable], ...]:
    """Load every version of the MUE table (shipped, and the rules folder's `mue/`), oldest first."""
    return _mue_versions(*_folder_state())


def mue_table(day: date | None = None) -> MueTable:
    """Return the MUE table in force on a date (the newest without one)."""
    versions = mue_versions()
    return (version_on(versions, day) if day else versions[-1])[1]


@lru_cache(maxsize=4)
def _threshold_versions(
    folder: Path | None, _state: tuple[object, ...] = ()
) -> tuple[tuple[str, TherapyThresholds], ...]:
    return _versions(TherapyThresholds, "thresholds.toml", folder, "thresholds")


def threshold_versions() -> tuple[tuple[str, TherapyThresholds], ...]:
    """Load every thresholds file (shipped, and the rules folder's `thresholds/`), oldest first."""
    return _threshold_versions(*_folder_state())


def therapy_thresholds() -> TherapyThresholds:
    """Return the annual therapy thresholds (KX): every file's years together, a later file's
    amount for a year replacing an earlier one's (a clinic adds 2027 with one small file)."""
    versions = threshold_versions()
    years: dict[int, Decimal] = {}
    unsure: set[int] = set()
    for _, table in versions:
        for year, amount in table.years.items():
            years[year] = amount
            unsure.discard(year)
        unsure.update(y for y in table.unsure_years if y in table.years)
    newest = versions[-1][1]
    return newest.model_copy(
        update={"years": dict(sorted(years.items())), "unsure_years": tuple(sorted(unsure))}
    )


CHARGE_MASTER = "charge_master.toml"
CHARGE_MASTER_EXAMPLE = "charge_master_example.toml"


def load_charge_master(search_dirs: tuple[Path, ...] = ()) -> FeeSchedule:
    """Load the clinic's charge master (billed charge per code and year): `charge_master.toml` from the
    first clinic directory or the rules folder that has one, else the shipped example.
    """
    folder, _state = _folder_state()
    dirs = (*search_dirs, *((folder,) if folder else ()))
    if any((directory / CHARGE_MASTER).is_file() for directory in dirs):
        return load_fee_schedule(CHARGE_MASTER, search_dirs)
    return load_fee_schedule(CHARGE_MASTER_EXAMPLE)


def load_fee_schedule(name: str, search_dirs: tuple[Path, ...] = ()) -> FeeSchedule:
    """Load the fee schedule `name`: from the first clinic directory that has it (the rules folder last)."""
    folder, state = _folder_state()
    return _load_fee_schedule(name, (*search_dirs, *((folder,) if folder else ())), state)


@lru_cache(maxsize=16)
def _load_fee_schedule(
    name: str, search_dirs: tuple[Path, ...], _state: tuple[object, ...] = ()
) -> FeeSchedule:
    if ".." in name.split("/"):
        raise InvalidInput("fee_schedule", f"'{name}' must stay inside the payer profile directory")
    for directory in search_dirs:
        path = directory / name
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(str(path), f"cannot read ({exc.strerror})") from exc
            label = str(path)
            break
    else:
        shipped = resources.files("domain").joinpath("data", *name.split("/"))
        if not shipped.is_file():
            where = ", ".join(str(d) for d in search_dirs) or "the shipped data"
            raise InvalidInput("fee_schedule", f"no fee schedule '{name}' in {where}")
        text, label = shipped.read_text(encoding="utf-8"), name
    schedule = _validated(FeeSchedule, label, text)
    years = {year: dict(fees) for year, fees in schedule.years.items()}
    for extra in _fee_extensions(name, search_dirs):
        for year, fees in extra.years.items():
            years.setdefault(year, {}).update(fees)
    schedule = schedule.model_copy(update={"years": years})
    for year, fees in schedule.years.items():
        _check_codes(label, f"years.{year}", fees)
    return schedule


def _fee_extensions(name: str, search_dirs: tuple[Path, ...]) -> list[FeeSchedule]:
    """Find the files that add years to schedule `name` (`extends = name`) in the folders' `fees/`."""
    found: list[FeeSchedule] = []
    for directory in search_dirs:
        folder = directory / "fees"
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            if directory / name == path:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(str(path), f"cannot read ({exc.strerror})") from exc
            extra = _validated(FeeSchedule, str(path), text)
            if extra.extends == name:
                found.append(extra)
    return sorted(found, key=lambda f: f.effective)


class CodeWords(_Data):
    """How one code's service reads in a note (docs/rules.md#coding, docs/rules.md#narrative): categories,
    words, signals.
    """

    name: str
    categories: tuple[str, ...] = ()
    describes: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()


class Lexicon(_Data):
    """The versioned word lists the documentation checks read a note with (docs/rules.md#documentation)."""

    version: str
    effective: date
    source: str
    generic_exercise: tuple[str, ...]
    exercise_filler: tuple[str, ...]
    body_regions: tuple[str, ...]
    movements: tuple[str, ...]
    functional_limitations: tuple[str, ...]
    conditions: tuple[str, ...]
    diagnosis_stopwords: tuple[str, ...]
    supervision_only: tuple[str, ...]
    one_on_one: tuple[str, ...]
    skilled: tuple[str, ...]
    response_details: tuple[str, ...]
    similarity_stopwords: tuple[str, ...]
    codes: dict[str, CodeWords]


def lexicon() -> Lexicon:
    """Load the documentation lexicon (lexicon.toml, docs/rules.md#documentation): the clinic's, else
    shipped."""
    return _lexicon(*_folder_state())


@lru_cache(maxsize=4)
def _lexicon(folder: Path | None, _state: tuple[object, ...] = ()) -> Lexicon:
    name = "lexicon.toml"
    raw = _table(_LexiconFile, name, folder)
    _check_codes(name, "codes", raw.codes)
    return Lexicon(
        version=raw.version,
        effective=raw.effective,
        source=raw.source,
        generic_exercise=raw.exercise.generic,
        exercise_filler=raw.exercise.filler,
        body_regions=raw.exercise.body_regions,
        movements=raw.exercise.movements,
        functional_limitations=raw.necessity.functional_limitations,
        conditions=raw.necessity.conditions,
        diagnosis_stopwords=raw.necessity.diagnosis_stopwords,
        supervision_only=raw.contact.supervision_only,
        one_on_one=raw.contact.one_on_one,
        skilled=raw.skilled.phrases,
        response_details=raw.response.details,
        similarity_stopwords=raw.similarity.stopwords,
        codes=raw.codes,
    )


class _ExerciseWords(_Data):
    generic: tuple[str, ...]
    filler: tuple[str, ...]
    body_regions: tuple[str, ...]
    movements: tuple[str, ...]


class _NecessityWords(_Data):
    functional_limitations: tuple[str, ...]
    conditions: tuple[str, ...]
    diagnosis_stopwords: tuple[str, ...]


class _ContactWords(_Data):
    supervision_only: tuple[str, ...]
    one_on_one: tuple[str, ...]


class _Phrases(_Data):
    phrases: tuple[str, ...]


class _Details(_Data):
    details: tuple[str, ...]


class _Stopwords(_Data):
    stopwords: tuple[str, ...]


class _LexiconFile(_Data):
    """lexicon.toml as written: one table per family of checks."""

    version: str
    effective: date
    source: str
    exercise: _ExerciseWords
    necessity: _NecessityWords
    contact: _ContactWords
    skilled: _Phrases
    response: _Details
    similarity: _Stopwords
    codes: dict[str, CodeWords]


def unknown_code_message(code: str, known: Iterable[str]) -> str:
    """Explain that a code is not in the catalogue, suggesting near matches."""
    near = [k for k in known if k[:3] == code[:3]][:5]
    hint = f" (known codes starting {code[:3]}: {', '.join(near)})" if near else ""
    return f"'{code}' is not in the code catalogue{hint}"


RuleTable = Literal["codes", "lexicon", "instruments", "ncci", "mue", "thresholds", "payers"]
RULE_TABLES: tuple[RuleTable, ...] = (
    "codes",
    "lexicon",
    "instruments",
    "ncci",
    "mue",
    "thresholds",
    "payers",
)


class _Versions(_Data):
    tables: tuple[NcciTable | MueTable, ...]


def rules_fingerprint(tables: Iterable[RuleTable], extra_dirs: tuple[Path, ...] = ()) -> str:
    """Return a digest of the named tables as they would be read now (clinic overrides included).

    `payers` covers every payer profile and the fee schedules they name. Two
    processes with the same tables get the same digest; change a word of the
    lexicon or a threshold, and the digest of what reads it changes.
    """
    loaders: dict[str, Any] = {
        "codes": code_catalogue,
        "lexicon": lexicon,
        "instruments": instrument_catalogue,
        "ncci": lambda: _Versions(tables=tuple(t for _, t in ncci_versions())),
        "mue": lambda: _Versions(tables=tuple(t for _, t in mue_versions())),
        "thresholds": therapy_thresholds,
    }
    digest = hashlib.sha256()
    for name in sorted(set(tables)):
        digest.update(name.encode() + b"\x00")
        if name == "payers":
            profiles = payer_profiles(extra_dirs)
            for payer_id in sorted(profiles):
                profile = profiles[payer_id]
                digest.update(profile.model_dump_json().encode())
                names = {profile.fee_schedule, *(p.fee_schedule for p in profile.periods)}
                for fee_name in sorted(n for n in names if n):
                    fees = load_fee_schedule(fee_name, extra_dirs)
                    digest.update(fees.model_dump_json().encode())
        else:
            digest.update(loaders[name]().model_dump_json().encode())
    return digest.hexdigest()[:32]
