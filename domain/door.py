"""The door: every incoming command document is checked here before pydantic sees it.

pydantic's lax mode coerces what a person never meant: a unix time for a date, a
date-time for a date (its offset dropped), a time with an offset that later
meets one without (a TypeError deep in a rule). JSON objects that name a key
twice silently keep the last value. And text reaches terminals, HTML and
spreadsheets: control characters, bidi overrides and formula prefixes in
identifiers are refused at the door too. Each refusal names the field (its path
in the document) and the rule, and never echoes the rejected value.

Only incoming documents go through the door: stored events are never held to it
(they were accepted by the rules of their day and must always load).
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel

from domain.errors import InvalidInput

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\t\n\r\u0085\u2028\u2029]")
# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Fields that hold one line of text (besides identifiers): names, codes, credentials, authors.
_ONE_LINE = {
    "command",
    "recorded_by",
    "name",
    "payer_name",
    "credential",
    "code",
    "discipline",
    "instrument",
    "category",
    "body_region",
    "unit_rule",
    "status",
    "side",
    "position",
}


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Duplicate(key)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(data: bytes | str) -> Any:
    """Parse one JSON document, refusing a key given twice in one object, NaN and Infinity."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Duplicate as exc:
        raise InvalidInput(exc.key, "given twice in one JSON object (which one was meant?)") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "", f"malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput("", "malformed JSON (not UTF-8)") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("", f"malformed JSON ({exc})") from None


def _kinds_of(annotation: Any, seen: set[type]) -> Iterator[tuple[str, str]]:
    """Yield (field name, 'date' | 'time' | 'datetime') for the fields under a type, recursively."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _kinds_of(typing.get_args(annotation)[0], seen)
        return
    if origin in (typing.Union, types.UnionType, list, tuple, dict, set, frozenset):
        for arg in typing.get_args(annotation):
            yield from _kinds_of(arg, seen)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
        seen.add(annotation)
        for name, info in annotation.model_fields.items():
            kind = _kind(info.annotation)
            if kind is not None:
                yield name, kind
            yield from _kinds_of(info.annotation, seen)


def _kind(annotation: Any) -> str | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation is datetime:
        return "datetime"
    if annotation is date:
        return "date"
    if annotation is time:
        return "time"
    return None


def field_kinds(models: Iterable[type[BaseModel]]) -> dict[str, str]:
    """Return the date, time and date-time fields of some models (recursively), by field name."""
    found: dict[str, str] = {}
    seen: set[type] = set()
    for model in models:
        for name, kind in _kinds_of(model, seen):
            found.setdefault(name, kind)
    return found


def _is_identifier(key: str) -> bool:
    return key.endswith(("_id", "_ref")) or key in ("npi", "modifiers")


# What the door asks of a text under each field name: (one line only, no formula start), worked
# out once per name.
_TEXT_RULES: dict[str, tuple[bool, bool]] = {}


def _text_rules(key: str) -> tuple[bool, bool]:
    found = _TEXT_RULES.get(key)
    if found is None:
        identifier = _is_identifier(key)
        found = (identifier or key in _ONE_LINE, identifier)
        if len(_TEXT_RULES) < 4096:  # field names are few; a document's odd keys are refused anyway
            _TEXT_RULES[key] = found
    return found


def check_document(document: Any, kinds: Mapping[str, str], path: str = "") -> None:
    """Refuse what pydantic would coerce or let through in a document; name the field.

    `kinds` maps field names to 'date', 'time' or 'datetime' (see `field_kinds`).
    """
    _check(document, (path,) if path else None, None, kinds)


# A field's path, spelled out only when something is refused: (parent's path, name) or None.
_Path = tuple[Any, ...] | None


def _spelled(path: _Path) -> str:
    parts: list[str] = []
    while path is not None:
        if len(path) == 1:
            parts.append(str(path[0]))
            break
        path, name = path
        parts.append(str(name))
    return ".".join(reversed(parts))


def _check(value: Any, path: _Path, key: str | None, kinds: Mapping[str, str]) -> None:
    if key is not None and value is not None:
        kind = kinds.get(key)
        if kind is not None:
            _check_moment(value, _spelled(path), kind)
    cls = value.__class__
    if cls is str:
        _check_text(value, path, key or "")
    elif cls is dict:
        for name, item in value.items():
            if not _KEY.fullmatch(name):
                # Never echo the key: it is text from outside, maybe with control characters.
                raise InvalidInput(
                    _spelled(path) or "document",
                    "has a key that is not a field name (letters, digits, _ only)",
                )
            _check(item, (path, name) if path is not None else (name,), name, kinds)
    elif cls is list:
        for index, item in enumerate(value):
            _check(item, (path, index), key, kinds)
    elif isinstance(value, dict):  # subclasses (a Python caller's mapping): the same rules
        _check(dict(value), path, key, kinds)
    elif isinstance(value, list):
        _check(list(value), path, key, kinds)
    elif isinstance(value, str):
        _check_text(value, path, key or "")


def _check_moment(value: Any, path: str, kind: str) -> None:
    if kind == "date" and not (isinstance(value, str) and _DATE.fullmatch(value)):
        raise InvalidInput(path, "must be a date written YYYY-MM-DD (no time, no number)")
    if kind == "time" and not (isinstance(value, str) and _TIME.fullmatch(value)):
        raise InvalidInput(path, "must be a clock time written HH:MM or HH:MM:SS (no offset, no number)")
    if kind == "datetime" and not (
        isinstance(value, str) and (value[-6:-5] in ("+", "-") or value[-1:] == "Z")
    ):
        raise InvalidInput(path, "must be an ISO 8601 date-time with its offset (e.g. 2026-03-02T17:30:00Z)")


def _check_text(value: str, path: _Path, key: str) -> None:
    if _CONTROL.search(value):
        raise InvalidInput(
            _spelled(path), "contains a control character (NUL, escape, bidi override...); not accepted"
        )
    one_line, identifier = _text_rules(key)
    if one_line and _LINE_BREAK.search(value):
        raise InvalidInput(_spelled(path), "must be one line (no line break or tab)")
    if identifier and value.strip().startswith(FORMULA_START):
        raise InvalidInput(
            _spelled(path), "must not start with =, +, -, @ (a spreadsheet would run it as a formula)"
        )


_DATE_LIKE = re.compile(
    r"(19|20)\d{2}[-./](0[1-9]|1[0-2])[-./](0[1-9]|[12]\d|3[01])|\d{1,2}[-./]\d{1,2}[-./](19|20)\d{2}"
)
_NAME_LIKE = re.compile(r"[A-Z][a-z]+[ .,_-]+[A-Z][a-z]+")


def identifying_hint(patient_ref: str) -> str | None:
    """Say why a patient reference looks like it identifies the patient (a date, a name), if it does.

    A reference is opaque by rule: careledger never needs the patient's name or
    date of birth, and the reference travels into exports and logs.
    """
    if _DATE_LIKE.search(patient_ref):
        return "it looks like it holds a date (of birth?)"
    if _NAME_LIKE.search(patient_ref):
        return "it looks like it holds a name"
    return None
