"""docs/audit.md's threat model names, line by line, the test that proves it: those tests exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def threat_model_references() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "audit.md").read_text()
    section = text[text.index("### Threat model") : text.index("## Who did what")]
    return re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", section)


def test_every_line_of_the_threat_model_names_a_test_that_exists() -> None:
    references = threat_model_references()
    assert len(references) >= 12
    for path, name in references:
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name} is named in docs/audit.md"
