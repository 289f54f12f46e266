"""The application's clinic commands and queries (docs/decisions/0010-clinic-identity.md).

The clinic's identity facts are events of the store's one `Clinic` aggregate,
stored with the episodes' events (so the hash chain covers them too) but under
their own topics: the read models and `episode_ids` read episode events only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError
from pydantic import ValidationError

from domain.clinic.aggregate import CLINIC_ID, Clinic
from domain.clinic.commands import CLINIC_COMMANDS, ClinicCommand
from domain.episode.audit import last_version_at
from domain.episode.commands import describe_validation_error
from domain.episode.state import CommandMeta
from domain.errors import CommandConflict, ConcurrencyConflict, InvalidInput, StoreUnavailable

if TYPE_CHECKING:
    from domain.episode.application import CommandResult, Episodes


def parse_clinic_command(document: dict[str, Any]) -> ClinicCommand:
    """Validate a clinic command document; a problem names the field."""
    name = document.get("command")
    cls = CLINIC_COMMANDS.get(str(name))
    if cls is None:
        raise InvalidInput(
            "command", f"{name!r} is not a clinic command; expected one of {', '.join(CLINIC_COMMANDS)}"
        )
    try:
        return cls.model_validate(document)
    except ValidationError as exc:
        raise describe_validation_error(exc) from None


def load_clinic(app: Episodes, as_of: datetime | None = None) -> Clinic | None:
    """Return the store's clinic now, or as it stood at recorded time `as_of` (None before its first fact)."""
    try:
        clinic = cast(Clinic, app.repository.get(CLINIC_ID))
    except AggregateNotFoundError:
        return None
    except PersistenceError as exc:
        raise StoreUnavailable(f"database: {exc}") from exc
    if as_of is None or clinic.modified_on <= as_of:
        return clinic
    events = cast(list[Clinic.Event], list(app.events.get(CLINIC_ID)))
    version = last_version_at(as_of, clinic.version, lambda v: events[v - 1].timestamp)
    if version == 0:
        return None
    return cast(Clinic, app.repository.get(CLINIC_ID, version=version))


def record_clinic_fact(
    app: Episodes, command: ClinicCommand, recorded_at: datetime | None = None
) -> CommandResult:
    """Apply a clinic command atomically (idempotent by command id); retry on a concurrent write."""
    from domain.episode.application import CommandResult

    digest = command.digest()
    for attempt in range(1, app.retry.attempts + 1):
        clinic = load_clinic(app)
        if clinic is not None and str(command.command_id) in clinic.commands:
            if clinic.commands[str(command.command_id)] != digest:
                raise CommandConflict(command.command_id)
            return CommandResult(command.command_id, command.command, CLINIC_ID, clinic.version, False, None)
        now = recorded_at or app.clock()
        if clinic is not None and now <= clinic.modified_on:
            now = clinic.modified_on + timedelta(microseconds=1)
        meta = CommandMeta(
            command.command_id, digest, command.recorded_by, now, now.astimezone(app.timezone).date()
        )
        if clinic is None:
            clinic = Clinic.start(meta)
        getattr(clinic, command.command)(command, meta)
        event = type(clinic.pending_events[-1]).__name__
        try:
            app.save(clinic)
        except IntegrityError:
            if attempt < app.retry.attempts:
                app.retry.wait(attempt)
            continue
        except PersistenceError as exc:
            raise StoreUnavailable(f"database: nothing was stored ({exc})") from exc
        return CommandResult(command.command_id, command.command, CLINIC_ID, clinic.version, True, event)
    raise ConcurrencyConflict(CLINIC_ID, app.retry.attempts)
