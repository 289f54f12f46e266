"""The rules ship with the product: every citation resolves to docs/rules.md or a primary source."""

from __future__ import annotations

import re
from pathlib import Path

from domain.rules.checks import RULES

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>')
CITED = re.compile(r"rules\.md#([a-z0-9-]+)")
PRIMARY = re.compile(r"CMS (BPM|CPM|PIM)|SSA §|NCCI|AMA CPT|CFR|APTA|PFS")


def anchors() -> set[str]:
    return set(ANCHOR.findall((ROOT / "docs" / "rules.md").read_text(encoding="utf-8")))


def sources() -> list[Path]:
    files = [p for d in ("cli", "domain", "projections") for p in (ROOT / d).rglob("*") if p.is_file()]
    return [p for p in files if p.suffix in {".py", ".toml", ".html", ".css"}]


# A section sign with a one-digit section (`§6`, `§7.1`) is a section of the research notes;
# the primary sources' sections are longer (`CMS CPM ch.5 §20.2`, `CMS PIM §3.3.2.5`, `SSA §1833(g)`).
NOTES_SECTION = re.compile(r"rules\.md §|§\d(\.\d+)?(?![\d.])")


def test_no_file_of_the_product_cites_the_research_notes() -> None:
    documents = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    stale = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in [*sources(), *documents]
        for m in NOTES_SECTION.finditer(p.read_text(encoding="utf-8"))
    ]
    assert stale == []
    assert NOTES_SECTION.search("the clocks (§6)") and NOTES_SECTION.search("§7.1 necessity")
    assert not NOTES_SECTION.search("CMS CPM ch.5 §20.2; CMS PIM §3.3.2.5; SSA §1833(g)")


def test_every_anchor_the_code_and_docs_cite_exists_in_docs_rules_md() -> None:
    known = anchors()
    texts = [p.read_text(encoding="utf-8") for p in sources()]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")]
    texts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    cited = {anchor for text in texts for anchor in CITED.findall(text)}
    assert cited, "nothing cites docs/rules.md"
    assert cited - known == set()


def test_every_finding_rule_cites_docs_rules_md_and_a_primary_source() -> None:
    known = anchors()
    for rule_id, rule in RULES.items():
        assert rule.anchor in known, rule_id
        assert f"docs/rules.md#{rule.anchor}" in rule.source or "docs/rules.md#" in rule.source, rule_id
        assert PRIMARY.search(rule.source), (rule_id, rule.source)
