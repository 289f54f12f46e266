"""The roles: what each may call, held equal to the table in docs/service.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.episode.commands import COMMANDS
from domain.episode.roles import CAPABILITIES, ROLE_COMMANDS, Capability, Role, may, may_command, parse_role
from domain.errors import InvalidInput

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def documented_table() -> dict[str, list[str]]:
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| role | read |"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def code_table() -> dict[str, list[str]]:
    rows = {}
    for role in Role:
        cells = ["yes" if may(role, capability) else "no" for capability in Capability]
        refused = sorted(set(COMMANDS) - ROLE_COMMANDS[role])
        allowed = sorted(ROLE_COMMANDS[role])
        if not allowed:
            cells.append("every command")
        elif len(allowed) < len(refused):
            cells.append(f"every command but {', '.join(allowed)}")
        else:
            cells.append(", ".join(refused))
        rows[role.value] = cells
    return rows


def test_the_roles_table_in_the_docs_is_the_code_s() -> None:
    header = next(line for line in DOC.read_text().splitlines() if line.startswith("| role | read |"))
    assert [c.strip() for c in header.strip("|").split("|")][1:-1] == [c.value for c in Capability]
    assert documented_table() == code_table()


def test_an_auditor_reads_and_never_writes_a_biller_records_no_visit() -> None:
    assert may(Role.AUDITOR, Capability.READ) and not may(Role.AUDITOR, Capability.WRITE)
    assert ROLE_COMMANDS[Role.AUDITOR] == frozenset()
    assert not may_command(Role.BILLER, "record_visit")


def test_a_remittance_is_recorded_by_billing_never_by_a_clinician() -> None:
    assert ROLE_COMMANDS[Role.BILLER] == {"record_remittance"}
    assert may_command(Role.SERVICE, "record_remittance") and may_command(Role.ADMIN, "record_remittance")
    assert not may_command(Role.THERAPIST, "record_remittance")
    assert not may_command(Role.ASSISTANT, "record_remittance")
    assert CAPABILITIES[Role.ADMIN] == frozenset(Capability)


def test_an_assistant_writes_visits_but_no_progress_report_or_reevaluation() -> None:
    assert may_command(Role.ASSISTANT, "record_visit")
    assert not may_command(Role.ASSISTANT, "record_progress_report")
    assert not may_command(Role.ASSISTANT, "record_reevaluation")


def test_an_unknown_role_is_refused_naming_the_field() -> None:
    assert parse_role(" Biller ") is Role.BILLER
    with pytest.raises(InvalidInput) as refused:
        parse_role("superuser")
    assert refused.value.field == "role" and "therapist" in refused.value.problem
