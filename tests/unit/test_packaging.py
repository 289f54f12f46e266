"""The generic package names (domain, projections, cli) must be ours, not another install's."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["domain", "projections", "cli"])
def test_each_package_lies_inside_the_project(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT), module.__file__


def test_the_wheel_lists_exactly_the_three_packages() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "domain",
        "projections",
        "cli",
    ]
    assert config["project"]["scripts"]["careledger"] == "cli.main:run"
