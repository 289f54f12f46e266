"""Reference data shipped as TOML: the code catalogue, instruments and payer profiles.

Each file carries a version and an effective date so that a result can say which
table it came from. Loading is lazy and cached: nothing is read until asked for.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from domain.errors import InvalidInput
from domain.values import Discipline, UnitRule

CodeKind = Literal["timed", "evaluation", "reevaluation", "supervised", "group", "untimed"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeInfo(_Data):
    """One CPT/HCPCS code: whether it is timed, and what kind of service it is."""

    code: str
    kind: CodeKind
    description: str
    discipline: Discipline | None = None
    medicare_bundled: bool = False
    medicare_alternative: str | None = None

    @property
    def timed(self) -> bool:
        """Tell whether the code is billed in 15-minute units (rules.md §1)."""
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


class PayerProfile(_Data):
    """What a payer requires: which unit rule it applies (rules.md §2-§3)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    payer_id: str
    name: str
    version: str
    effective: date
    unit_rule: UnitRule


def _read_toml(name: str) -> dict[str, Any]:
    text = resources.files("domain").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _keyed(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: {key: k, **v} for k, v in table.items()}


@lru_cache(maxsize=1)
def code_catalogue() -> CodeCatalogue:
    """Load the shipped code catalogue (rules.md §1)."""
    raw = _read_toml("codes.toml")
    raw["codes"] = _keyed(raw["codes"], "code")
    return CodeCatalogue.model_validate(raw)


@lru_cache(maxsize=1)
def instrument_catalogue() -> InstrumentCatalogue:
    """Load the shipped outcome instrument catalogue (rules.md §8)."""
    raw = _read_toml("instruments.toml")
    raw["instruments"] = _keyed(raw["instruments"], "instrument_id")
    return InstrumentCatalogue.model_validate(raw)


def load_payer_profile(path: Path) -> PayerProfile:
    """Read one payer profile file; a bad file is an error naming the file and field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return PayerProfile.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(str(path), f"not valid TOML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{path.name}: {loc}", first["msg"]) from exc


@lru_cache(maxsize=8)
def payer_profiles(extra_dirs: tuple[Path, ...] = ()) -> dict[str, PayerProfile]:
    """Load the shipped payer profiles and any clinic files (`*.toml`) in `extra_dirs`."""
    profiles: dict[str, PayerProfile] = {}
    shipped = resources.files("domain").joinpath("data", "payers")
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = PayerProfile.model_validate(tomllib.loads(entry.read_text(encoding="utf-8")))
            profiles[profile.payer_id] = profile
    for directory in extra_dirs:
        for path in sorted(directory.glob("*.toml")):
            profile = load_payer_profile(path)
            profiles[profile.payer_id] = profile
    return profiles


def unknown_code_message(code: str, known: Iterable[str]) -> str:
    """Explain that a code is not in the catalogue, suggesting near matches."""
    near = [k for k in known if k[:3] == code[:3]][:5]
    hint = f" (known codes starting {code[:3]}: {', '.join(near)})" if near else ""
    return f"'{code}' is not in the code catalogue{hint}"
