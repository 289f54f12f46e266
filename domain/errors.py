"""The errors careledger raises for things a user can fix.

Every error carries a one-line message that names the field and the problem, so
the CLI can print it as it is and a backend service can show it to a person.
"""

from __future__ import annotations


class CareledgerError(Exception):
    """Base of every error a user can act on; the CLI prints it without a traceback."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(CareledgerError):
    """A command or value breaks a rule; nothing was stored."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class EpisodeNotFound(CareledgerError):
    """No episode has the given id."""

    def __init__(self, episode_id: object) -> None:
        super().__init__(f"episode_id: no episode {episode_id} in this store")
        self.episode_id = episode_id


class CommandConflict(CareledgerError):
    """A command_id was already used for a different command."""

    def __init__(self, command_id: object) -> None:
        super().__init__(
            f"command_id: {command_id} was already applied with a different payload; "
            "give a new command_id for a new command"
        )
        self.command_id = command_id


class ConcurrencyConflict(CareledgerError):
    """Other writers kept changing the episode while this command was retried (exit 4: safe to retry)."""

    exit_code = 4

    def __init__(self, episode_id: object, attempts: int) -> None:
        super().__init__(
            f"episode_id: {episode_id} was changed by other writers during each of {attempts} "
            "attempts to apply this command; nothing was stored, try again"
        )
        self.episode_id = episode_id
        self.attempts = attempts


class StoreUnavailable(CareledgerError):
    """The database could not be opened, reached or written."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        # Driver messages can span lines ("connection failed: ...\n Is the server running?").
        super().__init__(" ".join(message.split()))


class Tampered(CareledgerError):
    """The stored record of an episode fails its hash chain, anchor or read-model seal: it is not shown."""

    exit_code = 3

    def __init__(self, episode_id: object, version: int, kind: str, detail: str) -> None:
        super().__init__(
            f"episode {episode_id} version {version}: {kind}: {detail}; "
            "refusing to answer from a record that fails verification (run `careledger verify`)"
        )
        self.episode_id = episode_id
        self.version = version
        self.kind = kind
        self.detail = detail


class DamagedEvent(Tampered):
    """A stored event that cannot be read back (edited or damaged bytes): named, never a traceback."""

    def __init__(self, episode_id: object, version: int, cause: Exception) -> None:
        super().__init__(
            episode_id,
            version,
            "undecodable",
            f"the stored event cannot be read ({type(cause).__name__})",
        )
