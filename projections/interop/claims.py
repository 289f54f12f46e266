"""Claim lines across the store, one row per line, in the shape a billing system imports.

Each episode is billed by the billing engine exactly as `careledger bill` does
(`domain.billing.bill.bill_with_others`: the beneficiary's other episodes count
toward KX), and each line that bills at least one unit becomes a row. Columns:
docs/fhir.md#claim-lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.billing.bill import bill_with_others, billing_rules
from domain.door import FORMULA_START

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode
    from domain.episode.application import Episodes

COLUMNS = (
    "patient_ref",
    "episode_id",
    "payer_id",
    "date_of_service",
    "code",
    "modifiers",
    "units",
    "diagnosis_pointers",
    "diagnosis_codes",
    "rule",
    "minutes",
    "assistant_minutes",
    "billable",
    "charge",
    "allowed_amount",
    "provider_id",
    "credential",
    "explanation",
)

Row = dict[str, Any]


def claim_rows(episodes: Iterable[Episode], since: date | None = None, payer_dirs: Any = ()) -> list[Row]:
    """Return one row per claim line of every visit on or after `since`, sorted by date and patient."""
    every = list(episodes)
    by_patient: dict[str, list[Episode]] = {}
    for episode in every:
        by_patient.setdefault(episode.patient_ref, []).append(episode)
    rows: list[Row] = []
    for episode in every:
        others = [o for o in by_patient[episode.patient_ref] if o.id != episode.id]
        bill = bill_with_others(episode, others, billing_rules(episode.payer, payer_dirs))
        for visit in bill.visits:
            if since is not None and visit.date_of_service < since:
                continue
            for line in visit.lines:
                if line.units < 1:
                    continue
                rows.append(
                    {
                        "patient_ref": bill.patient_ref,
                        "episode_id": bill.episode_id,
                        "payer_id": bill.payer_id,
                        "date_of_service": line.date_of_service.isoformat(),
                        "code": line.code,
                        "modifiers": list(line.modifiers),
                        "units": line.units,
                        "diagnosis_pointers": list(line.diagnosis_pointers),
                        "diagnosis_codes": [bill.diagnoses[p - 1] for p in line.diagnosis_pointers],
                        "rule": line.rule,
                        "minutes": line.minutes,
                        "assistant_minutes": line.assistant_minutes,
                        "billable": line.billable,
                        "charge": None if line.charge is None else str(line.charge),
                        "allowed_amount": None if line.allowed_amount is None else str(line.allowed_amount),
                        "provider_id": visit.provider_id,
                        "credential": visit.credential,
                        "explanation": list(line.explanation),
                    }
                )
    rows.sort(key=lambda r: (r["date_of_service"], r["patient_ref"], r["episode_id"], r["code"]))
    return rows


def store_claim_rows(app: Episodes, since: date | None = None) -> list[Row]:
    """Return the claim rows of every episode in the store."""
    return claim_rows((app.get_episode(i) for i in app.episode_ids()), since, app.payer_dirs)


def as_csv(rows: Iterable[Row]) -> str:
    """Render rows as CSV: lists joined by spaces, booleans as true/false, an empty cell for unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row[column]
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            cells.append("" if value is None else neutralise(value))
        writer.writerow(cells)
    return out.getvalue()


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote (OWASP CSV injection).

    Cells starting with = + - @ tab or CR get a leading `'`; numbers stay numbers.
    The door refuses such identifiers already; this covers what was stored before.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
