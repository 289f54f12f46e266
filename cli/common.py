"""What every command shares: options, error handling, reading documents, output.

Commands only parse, call the library once and render. Library errors become a
one-line message on stderr and exit code 1 (3 when the database is unavailable);
usage errors exit 2, as typer does. Heavy imports (pydantic models, the event
store, SQLAlchemy, rich tables) happen inside the functions that need them, so
`careledger --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID, uuid4

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click.core import Context

    from domain.episode.application import CommandResult
    from domain.episode.commands import Command
    from projections.store.root import Store

ENV_USER = "CARELEDGER_USER"

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="CARELEDGER_DB",
        help="Store: a SQLite file path or a postgresql:// URL [default: ./careledger.db].",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        envvar=ENV_USER,
        help="Who is recording (stored as recorded_by).",
        show_default=False,
    ),
]
FileOption = Annotated[
    str | None,
    typer.Option("--file", help="Take the whole command from a JSON document instead ('-' for stdin)."),
]
TIME_HELP = (
    "YYYY-MM-DD (the end of that day) or an ISO date-time such as 2026-03-30T17:30 "
    "(in the clinic's time zone, `careledger settings timezone`, unless it has an offset such as Z or +02:00)"
)
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help=f"The record as it stood at this recorded time: {TIME_HELP}."),
]
EpisodeArg = Annotated[
    str,
    typer.Argument(
        metavar="EPISODE", help="Episode id (a UUID, or a unique prefix of one).", show_default=False
    ),
]


# The root's commands in the groups its help lists them under (a command in none is listed last).
COMMAND_GROUPS = (
    ("Record", ("episode", "plan", "visit", "exercise", "outcome", "report", "import")),
    ("Query", ("timeline", "progression", "outcomes", "continuity")),
    ("Billing", ("units", "bill", "rules", "check", "review", "denials")),
    ("Audit", ("audit", "verify", "packet")),
    ("Interop", ("export", "schema")),
    ("Admin", ("projections", "settings", "clinic", "token", "serve", "demo")),
)


class PlainArgument(TyperArgument):
    """An argument shown as its name alone: `EPISODE` in the usage line and the help, no type."""

    def _name(self) -> str:
        return self.metavar if self.metavar is not None else str(self.name).upper()

    def _rich_display_name(self) -> str:
        return f"{self._name()}..." if self.metavar is None and self.nargs != 1 else self._name()

    def _usage_display_name(self) -> str:
        name = self._rich_display_name()
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Context) -> str | None:
        return None


class PlainOption(TyperOption):
    """An option shown with its metavar or the kind of value it takes (`--db TEXT`), as click does."""

    def display_type_rich(self, ctx: Context) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        label = self.display_type(ctx).strip("<>").removesuffix(" range")
        many = label.startswith("list[")
        if many:
            label = label[len("list[") : -1]
        if "|" in label:
            label = f"[{label}]"
        else:
            label = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER"}.get(label, label.upper())
        return f"{label}..." if many else label


def plain_help(command: Any) -> Any:
    """Show `command`'s arguments and options without typer's `{NAME}` and `<str>` decorations."""
    for param in getattr(command, "params", ()):
        if type(param) is TyperArgument:
            param.__class__ = PlainArgument
        elif type(param) is TyperOption:
            param.__class__ = PlainOption
    return command


class CareledgerGroup(TyperGroup):
    """A command group that turns careledger errors into one line on stderr, its commands grouped."""

    def format_commands(self, ctx: Context, formatter: Any) -> None:
        """List the commands under their group (record, query, billing, audit, interop, admin)."""
        names = [n for n in self.list_commands(ctx) if (c := self.get_command(ctx, n)) and not c.hidden]
        grouped = {n for _, members in COMMAND_GROUPS for n in members}
        if not grouped & set(names):
            super().format_commands(ctx, formatter)
            return
        sections = [(title, [n for n in members if n in names]) for title, members in COMMAND_GROUPS]
        sections.append(("Other", [n for n in names if n not in grouped]))
        limit = formatter.width - 6 - max(len(n) for n in names)
        for title, members in sections:
            rows = []
            for name in members:
                command = self.get_command(ctx, name)
                if command is not None:
                    rows.append((name, command.get_short_help_str(limit)))
            if rows:
                with formatter.section(f"{title} commands"):
                    formatter.write_dl(rows)

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        """The command, its help and usage lines without typer's type decorations."""
        return plain_help(super().get_command(ctx, cmd_name))

    def invoke(self, ctx: Context) -> Any:
        from domain.errors import CareledgerError, EpisodeNotFound

        try:
            return super().invoke(ctx)
        except CareledgerError as error:
            from cli.text import echo

            echo(f"error: {error}", err=True)
            # an episode that is not in the store is a usage error in every command (EXIT_CODES)
            raise typer.Exit(USAGE if isinstance(error, EpisodeNotFound) else error.exit_code) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None


def new_app(help_text: str, *, completion: bool = False) -> typer.Typer:
    """Create a command group with careledger's conventions (`completion`: the root's shell completion)."""
    return typer.Typer(
        cls=CareledgerGroup,
        help=help_text,
        no_args_is_help=True,
        add_completion=completion,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


@contextmanager
def open_db(db: str | None, *, create: bool = False) -> Iterator[Store]:
    """Open the store for one command and close it afterwards.

    Reads of the record are logged in the store's access log (projections/store/access.py)
    as the user given with --user or CARELEDGER_USER, else the operating-system login.
    """
    from projections.store.access import local_actor
    from projections.store.root import open_store

    store = open_store(db, create=create)
    user, command = _actor_of_command()
    store.actor = local_actor(user, command)
    try:
        yield store
    finally:
        if store.unlogged_reads:
            typer.echo(
                f"warning: {store.location.display} is read-only: {store.unlogged_reads} read(s) "
                "of the record could not be recorded in its access log",
                err=True,
            )
        store.close()


def require_user(user: str | None) -> str:
    """Return the acting user, or refuse a write that names nobody."""
    if user is None or not user.strip():
        from domain.errors import InvalidInput

        raise InvalidInput(
            "recorded_by", f"missing; pass --user NAME or set {ENV_USER} to say who is recording"
        )
    return user.strip()


def resolve_episode(store: Store, text: str, *, verified: bool = True) -> UUID:
    """Accept a full episode id or a unique prefix of one; refuse an episode that fails verification.

    Every command that shows or changes an episode comes through here, so none
    answers from (or writes onto) a record whose hash chain or anchored heads do
    not verify (exit 3). `verify` itself passes `verified=False`: it reports.
    """
    episode_id = _resolve(store, text)
    if verified:
        store.require_intact([episode_id])
    return episode_id


def _resolve(store: Store, text: str) -> UUID:
    from domain.errors import EpisodeNotFound, InvalidInput

    cleaned = text.strip().lower()
    try:
        episode_id = UUID(cleaned)
    except ValueError:
        pass
    else:
        return episode_id
    if len(cleaned) < 4 or any(ch not in "0123456789abcdef-" for ch in cleaned):
        error = InvalidInput(
            "episode", f"'{text}' is not an episode id (a UUID or a prefix of 4+ hex digits)"
        )
        error.exit_code = USAGE
        raise error
    hex_prefix = cleaned.replace("-", "")
    # An index range scan (not a scan of the log), then the dashed form must match too.
    matches = [i for i in store.episode_ids_with_prefix(hex_prefix) if str(i).startswith(cleaned)]
    if not matches:
        raise EpisodeNotFound(text)
    if len(matches) > 1:
        ambiguous = InvalidInput(
            "episode", f"prefix '{text}' matches {len(matches)} episodes; give more digits"
        )
        ambiguous.exit_code = USAGE
        raise ambiguous
    return matches[0]


def _actor_of_command() -> tuple[str | None, str]:
    """Return the --user given to the running command (else CARELEDGER_USER) and its command path."""
    try:
        from typer._click.globals import get_current_context

        ctx = get_current_context(silent=True)
    except ImportError:  # pragma: no cover - a typer without its bundled click
        ctx = None
    given = ctx.params.get("user") if ctx is not None else None
    path = ctx.command_path.split()[1:] if ctx is not None else []
    return given or os.environ.get(ENV_USER) or None, " ".join(["cli", *path])


def read_document(path: str) -> dict[str, Any]:
    """Read one JSON object from a file, or from stdin when the path is '-'."""
    from domain.door import load_json
    from domain.errors import InvalidInput

    name = "stdin" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(name, f"cannot read ({exc.strerror})") from exc
    try:
        document = load_json(data)  # the door: a key given twice is refused
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc.field}" if exc.field else name, exc.problem) from None
    if not isinstance(document, dict):
        raise InvalidInput(name, "must hold one JSON object")
    return document


def build_command(
    kind: str,
    document: dict[str, Any],
    *,
    user: str | None,
    episode_id: UUID | None = None,
) -> Command:
    """Complete a JSON document with what the CLI knows, then validate it as a command."""
    from domain.episode.commands import parse_command
    from domain.errors import InvalidInput

    doc = dict(document)
    given = doc.setdefault("command", kind)
    if given != kind:
        raise InvalidInput("command", f"this document is a '{given}', expected '{kind}'")
    if episode_id is not None:
        named = doc.setdefault("episode_id", str(episode_id))
        if str(named).lower() != str(episode_id):
            raise InvalidInput("episode_id", f"the document names {named}, the command line {episode_id}")
    doc.setdefault("command_id", str(uuid4()))
    if "recorded_by" not in doc:
        doc["recorded_by"] = require_user(user)
    return parse_command(doc)


USAGE = 2  # the exit code of a command line that cannot be used: see EXIT_CODES


EXIT_CODES = {
    0: "done (check: no finding is an error)",
    1: "refused: a value or a rule was broken, nothing was stored (check: at least one error; "
    "verify: the chain is broken; import: a line was rejected)",
    2: "usage: an unknown option or command, a missing argument, an option value that does not "
    "parse (a date, a time), an episode that is not in the store",
    3: "the database could not be opened or reached, or a stored event was altered",
    4: "other writers kept changing the episode during every try; nothing was stored",
}


def option_name(field: str) -> str:
    """Name a command-line option as the user typed it: `as_of` -> `--as-of`."""
    return field if field.startswith("-") else "--" + field.replace("_", "-")


def usage_error(field: str, problem: str) -> Exception:
    """Return the error of an option value that does not parse: exit 2, naming the option."""
    from domain.errors import InvalidInput

    error = InvalidInput(option_name(field), problem)
    error.exit_code = USAGE
    return error


def parse_date(field: str, text: str) -> date:
    """Read a date option given as YYYY-MM-DD; anything else is a usage error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise usage_error(field, f"'{text}' is not a date (YYYY-MM-DD)") from None


def parse_moment(field: str, text: str, zone: tzinfo) -> datetime:
    """Read a recorded-time option (a date or a date-time); anything else is a usage error naming it."""
    from domain.episode.audit import moment
    from domain.errors import InvalidInput

    try:
        return moment(text, field, zone)
    except InvalidInput as error:
        raise usage_error(field, error.problem) from None


def emit_json(value: Any) -> None:
    """Print a value as indented JSON on stdout (member ids masked to their last 4 characters)."""
    import orjson

    sys.stdout.buffer.write(
        orjson.dumps(mask_members(value), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)
    )
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def mask_members(value: Any) -> Any:
    """Return JSON-ready values with every `member_id` masked: output that does not need the whole id."""
    from domain.values import masked

    if isinstance(value, dict):
        return {
            k: masked(v) if k == "member_id" and isinstance(v, str) else mask_members(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_members(item) for item in value]
    return value


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically, never through a planted link.

    The bytes go to a new temporary file beside it (O_CREAT|O_EXCL|O_NOFOLLOW, 0600),
    which is then renamed over `path`: a symbolic link at `path` is replaced, not followed.
    """
    import secrets

    from domain.errors import InvalidInput

    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(temporary, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InvalidInput("out", f"cannot write {path} ({exc.strerror})") from exc


def report_result(result: CommandResult, as_json: bool) -> None:
    """Print what a write command did."""
    if as_json:
        emit_json(result.as_dict())
        return
    if result.applied:
        typer.echo(f"{result.event} on episode {result.episode_id} (version {result.version})")
    else:
        typer.echo(
            f"already applied: command {result.command_id} on episode {result.episode_id} "
            f"(version {result.version}); nothing changed"
        )


def refresh_read_models(store: Store) -> None:
    """Catch the read models up after a write on SQLite (on PostgreSQL, `projections run` does).

    The write has already succeeded: a failure here is a warning, and the next
    query catches up anyway.
    """
    if store.location.kind != "sqlite":
        return
    from domain.errors import CareledgerError
    from projections.views.projector import Projector

    projector = Projector(store)
    try:
        projector.catch_up()
    except CareledgerError as error:
        typer.echo(f"warning: the read models were not updated ({error}); the next query will", err=True)
    finally:
        projector.close()


def execute(db: str | None, command: Command, as_json: bool) -> CommandResult:
    """Open the store (creating it if needed), apply one command, report it and return the result."""
    with open_db(db, create=True) as store:
        result = store.app.handle(command)
        if result.applied:
            refresh_read_models(store)
    report_result(result, as_json)
    return result


def apply_to_episode(
    db: str | None,
    episode: str,
    kind: str,
    document: dict[str, Any],
    user: str | None,
    as_json: bool,
) -> None:
    """Complete a document as a command on an existing episode, apply it and report it."""
    with open_db(db) as store:
        episode_id = resolve_episode(store, episode)
        command = build_command(kind, document, user=user, episode_id=episode_id)
        result = store.app.handle(command)
        if result.applied:
            refresh_read_models(store)
    report_result(result, as_json)


def is_terminal() -> bool:
    """Tell whether stderr is an interactive terminal (for progress bars)."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
