"""Who may do what: the roles a service token carries and what each may call.

A role grants capabilities (read the record, write commands, read the bill and
claims, audit, read the access log, follow the event feed); writing is further
limited per command, so an assistant cannot write a progress report, a biller
records only what the payer paid (a remittance) and a clinician records no
remittance. docs/service.md holds the same table; a test keeps them equal.
"""

from __future__ import annotations

from enum import StrEnum

from domain.episode.commands import COMMANDS
from domain.errors import InvalidInput


class Role(StrEnum):
    """The roles a token can have."""

    THERAPIST = "therapist"
    ASSISTANT = "assistant"
    BILLER = "biller"
    AUDITOR = "auditor"
    SERVICE = "service"
    ADMIN = "admin"


class Capability(StrEnum):
    """What a route needs of its caller."""

    READ = "read"  # an episode's record and views, the episode list, checks, FHIR, the packet
    WRITE = "write"  # commands (further limited by ROLE_COMMANDS)
    BILLING = "billing"  # bills, units, the claim lines of every episode
    AUDIT = "audit"  # the record as of a time, what changed since, verify
    ACCESS_LOG = "access_log"  # who read which record
    FEED = "feed"  # the event feed of every episode


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.THERAPIST: frozenset({Capability.READ, Capability.WRITE, Capability.BILLING}),
    Role.ASSISTANT: frozenset({Capability.READ, Capability.WRITE}),
    Role.BILLER: frozenset({Capability.READ, Capability.WRITE, Capability.BILLING, Capability.FEED}),
    Role.AUDITOR: frozenset(
        {Capability.READ, Capability.BILLING, Capability.AUDIT, Capability.ACCESS_LOG, Capability.FEED}
    ),
    Role.SERVICE: frozenset({Capability.READ, Capability.WRITE, Capability.BILLING, Capability.FEED}),
    Role.ADMIN: frozenset(Capability),
}

# Commands a licensed therapist must write (an assistant may not): the plan of care, its
# certification, progress reports (docs/rules.md#progress-reports), re-evaluations and discharge.
THERAPIST_ONLY = frozenset(
    {"establish_plan", "certify_plan", "record_progress_report", "record_reevaluation", "discharge_episode"}
)

# Commands of the billing office: what a payer paid and adjusted (an X12 835, `import 835`) is
# recorded by billing (or a service, or an admin), never by a clinician, and is all a biller records.
BILLING_ONLY = frozenset({"record_remittance"})

ROLE_COMMANDS: dict[Role, frozenset[str]] = {
    Role.THERAPIST: frozenset(COMMANDS) - BILLING_ONLY,
    Role.ASSISTANT: frozenset(COMMANDS) - THERAPIST_ONLY - BILLING_ONLY,
    Role.BILLER: BILLING_ONLY,
    Role.AUDITOR: frozenset(),
    Role.SERVICE: frozenset(COMMANDS),
    Role.ADMIN: frozenset(COMMANDS),
}


def parse_role(text: str) -> Role:
    """Return the role named `text`, or refuse an unknown one."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput("role", f"'{text}' is not a role; expected one of {', '.join(Role)}") from None


def may(role: Role, capability: Capability) -> bool:
    """Tell whether a role has a capability."""
    return capability in CAPABILITIES[role]


def may_command(role: Role, command: str) -> bool:
    """Tell whether a role may send a command of this type."""
    return command in ROLE_COMMANDS[role]
