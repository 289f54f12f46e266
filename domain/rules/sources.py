"""The primary sources careledger's rules come from, and how a message cites them.

Every rule is explained in careledger's own words in docs/rules.md, under an anchor;
a finding, a bill note or a packet line cites the primary source (the CMS manual
section, the statute, the CPT or NCCI rule) and that anchor: `cite("cq-co",
SSA_ASSISTANT)` gives "SSA §1834(v); docs/rules.md#cq-co".
"""

from __future__ import annotations

RULES_DOC = "docs/rules.md"

# Medicare Claims Processing Manual (Pub. 100-04) chapter 5, Part B outpatient rehabilitation
CPM5_TIMED = "CMS CPM ch.5 §20.2"
CPM5_MODIFIERS = "CMS CPM ch.5 §20.1"
CPM5_THRESHOLD = "CMS CPM ch.5 §10.3"
CPM5_BUNDLED = "CMS PFS status indicator B; CMS CPM ch.5 §20"
# Medicare Benefit Policy Manual (Pub. 100-02) chapter 15, outpatient therapy
BPM15_PLAN = "CMS BPM ch.15 §220.1.2"
BPM15_CERTIFICATION = "CMS BPM ch.15 §220.1.3"
BPM15_NECESSITY = "CMS BPM ch.15 §220.2"
BPM15_DOCUMENTATION = "CMS BPM ch.15 §220.3"
BPM15_PROGRESS = "CMS BPM ch.15 §220.3 D"
BPM15_NOTE = "CMS BPM ch.15 §220.3 E"
BPM15_ASSISTANT = "CMS BPM ch.15 §230.1, §220.3"
# statute and rule making
SSA_ASSISTANT = "SSA §1834(v); CY 2022 PFS final rule (CQ/CO per unit)"
SSA_THRESHOLD = "SSA §1833(g)"
# CPT, NCCI
AMA_TIME = "AMA CPT time rule (a unit is attained when the midpoint is passed)"
NCCI_PTP = "NCCI Policy Manual ch. XI"
NCCI_MUE = "CMS NCCI medically unlikely edits"
NCCI_ADD_ON = "CMS NCCI add-on code edits"
# records
HIPAA_AMENDMENT = "45 CFR 164.526; CMS PIM ch.3 §3.3.2.5"


def cite(anchor: str, *primary: str) -> str:
    """Cite a rule: its primary sources, then careledger's explanation in docs/rules.md."""
    return "; ".join((*primary, f"{RULES_DOC}#{anchor}"))


__all__ = [name for name in dir() if name.isupper()] + ["cite"]
