"""Write the StructureDefinitions of careledger's FHIR extensions (docs/fhir/), derived from bundles.

`python -m tests.fhirdefs` exports every demo episode and the every-fact scenario,
collects each careledger extension they use (where it sits, its value type or
its sub-extensions) and writes one StructureDefinition per extension, so an
outside validator can check careledger's bundles against them. A test holds the
published files to what the bundles use.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from projections.interop.fhir.codes import BASE

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "fhir"
PREFIX = f"{BASE}/StructureDefinition/"
PRIMITIVES = {"String", "Integer", "Decimal", "Code", "Date", "DateTime", "Time", "Instant", "Boolean", "Uri"}

Shape = dict[str, Any]  # {"types": set[str], "parts": {name: Shape}}


def _type_of(extension: dict[str, Any]) -> str | None:
    key = next((k for k in extension if k.startswith("value")), None)
    if key is None:
        return None
    name = key.removeprefix("value")
    return name[0].lower() + name[1:] if name in PRIMITIVES else name


def _merge(shape: Shape, extension: dict[str, Any]) -> None:
    kind = _type_of(extension)
    if kind is not None:
        shape.setdefault("types", set()).add(kind)
    for part in extension.get("extension", []):
        name = part["url"]
        _merge(shape.setdefault("parts", {}).setdefault(name, {}), part)


def _walk(value: Any, path: str, found: dict[str, dict[str, Any]]) -> None:
    if isinstance(value, dict):
        for extension in value.get("extension", []) if isinstance(value.get("extension"), list) else []:
            url = extension.get("url", "")
            if url.startswith(PREFIX):
                entry = found.setdefault(url.removeprefix(PREFIX), {"contexts": set(), "shape": {}})
                entry["contexts"].add(path)
                _merge(entry["shape"], extension)
                for part in extension.get("extension", []):
                    _walk_nested(part, "Extension", found)
        for key, item in value.items():
            if key != "extension":
                _walk(item, f"{path}.{key}", found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, path, found)


def _walk_nested(extension: dict[str, Any], path: str, found: dict[str, dict[str, Any]]) -> None:
    """A sub-extension named by a full careledger URL (`recorded` inside `hold`) is that extension."""
    url = extension.get("url", "")
    if url.startswith(PREFIX):
        entry = found.setdefault(url.removeprefix(PREFIX), {"contexts": set(), "shape": {}})
        entry["contexts"].add(path)
        _merge(entry["shape"], extension)
    for part in extension.get("extension", []):
        _walk_nested(part, path, found)


def extensions_used(bundles: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return each careledger extension the bundles use: the elements it sits on and its shape."""
    found: dict[str, dict[str, Any]] = {}
    for bundle in bundles:
        for entry in bundle.get("entry", []):
            resource = entry["resource"]
            _walk(resource, resource["resourceType"], found)
    return found


def _elements(shape: Shape, prefix: str, path: str) -> list[dict[str, Any]]:
    """Return the slices of a complex extension's sub-extensions (recursively)."""
    out: list[dict[str, Any]] = []
    for name, part in sorted(shape.get("parts", {}).items()):
        slice_id, slice_path = f"{prefix}.extension:{name.removeprefix(PREFIX)}", f"{path}.extension"
        out.append({"id": slice_id, "path": slice_path, "sliceName": name.removeprefix(PREFIX)})
        out.append({"id": f"{slice_id}.url", "path": f"{slice_path}.url", "fixedUri": name})
        out.extend(_value(part, slice_id, slice_path))
        out.extend(_elements(part, slice_id, slice_path))
    return out


def _value(shape: Shape, prefix: str, path: str) -> list[dict[str, Any]]:
    types = sorted(shape.get("types", set()))
    if not types:
        return [{"id": f"{prefix}.value[x]", "path": f"{path}.value[x]", "max": "0"}]
    return [{"id": f"{prefix}.value[x]", "path": f"{path}.value[x]", "type": [{"code": t} for t in types]}]


def structure_definition(name: str, use: dict[str, Any]) -> dict[str, Any]:
    """Return the StructureDefinition of one careledger extension."""
    url = PREFIX + name
    shape = use["shape"]
    elements: list[dict[str, Any]] = [
        {"id": "Extension", "path": "Extension", "short": f"careledger {name} (docs/fhir.md)"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
        *_value(shape, "Extension", "Extension"),
        *_elements(shape, "Extension", "Extension"),
    ]
    return {
        "resourceType": "StructureDefinition",
        "id": f"careledger-{name}",
        "url": url,
        "name": "".join(part.capitalize() for part in name.replace("-", " ").split()),
        "status": "active",
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": c} for c in sorted(use["contexts"])],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def render(bundles: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Return the published files (name -> JSON text) for the extensions the bundles use."""
    used = extensions_used(bundles)
    return {
        f"StructureDefinition-careledger-{name}.json": json.dumps(
            structure_definition(name, use), indent=2, sort_keys=False
        )
        + "\n"
        for name, use in sorted(used.items())
    }


def demo_bundles() -> list[dict[str, Any]]:
    """Export every demo episode and the every-fact scenario (with the demo clinic's identity)."""
    from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
    from domain.demo.identity import demo_identity
    from domain.episode.clinic_service import record_clinic_fact
    from projections.interop.fhir.export import export_episode
    from projections.store.root import Store, parse_location
    from tests.fhir_scenario import episode_id as scenario_id
    from tests.fhir_scenario import load, scenario

    with tempfile.TemporaryDirectory() as folder:
        recorded = demo_clinic()
        clock = ReplayClock(recorded[0].at)
        with Store(parse_location(str(Path(folder) / "defs.db")), create=True, clock=clock) as store:
            for command in demo_identity():
                record_clinic_fact(store.app, command)
            for item in recorded:
                clock.now = item.at
                store.app.handle(item.command)
            load(store, scenario())
            ids = [*demo_episode_ids().values(), scenario_id()]
            return [json.loads(export_episode(store.app, i)) for i in ids]


if __name__ == "__main__":
    TARGET.mkdir(parents=True, exist_ok=True)
    files = render(demo_bundles())
    for old in TARGET.glob("StructureDefinition-careledger-*.json"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (TARGET / name).write_text(text)
    sys.stdout.write(f"wrote {len(files)} StructureDefinitions to {TARGET}\n")
