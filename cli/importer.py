"""`careledger import FILE`: apply a JSON Lines file of commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer

from cli.common import DbOption, JsonOption, UserOption, emit_json, is_terminal, open_db
from cli.text import echo


def import_file(
    file: Annotated[
        str,
        typer.Argument(
            help="JSON Lines file of commands, one per line ('-' for stdin); "
            "or the word fhir, then a FHIR Bundle; or the word 835, then an X12 835 remittance."
        ),
    ],
    bundle: Annotated[
        str | None,
        typer.Argument(
            help="With fhir: a FHIR Bundle exported by careledger; with 835: an X12 835 remittance "
            "('-' for stdin).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only rejected lines.")] = False,
) -> None:
    """Import commands; bad lines are reported with their line number and skipped.

    Each line is applied atomically, in order. Re-importing a file changes nothing.
    Exit code 1 if any line was rejected. `import fhir FILE` (or a FILE that holds a
    FHIR Bundle) records the bundle's episode instead, whole or not at all (docs/fhir.md).
    `import 835 FILE` records a payer's remittance on the visits it pays; a claim or line that
    matches no visit, or two, is refused with the reason (exit 1) (docs/billing.md#835).

    Example: careledger import commands.jsonl
    """
    from cli.export import import_fhir, looks_like_fhir
    from domain.episode.importer import import_lines
    from domain.errors import InvalidInput, StoreUnavailable

    if bundle is not None and file == "835":
        from cli.remit import import_835

        import_835(bundle, db, user, as_json, quiet)
        return
    if bundle is not None:
        if file != "fhir":
            raise typer.BadParameter(f"give one FILE, fhir FILE or 835 FILE (got {file!r} and {bundle!r})")
        import_fhir(bundle, db, as_json, quiet)
        return
    if file != "-" and looks_like_fhir(Path(file)):
        import_fhir(file, db, as_json, quiet)
        return

    name = "stdin" if file == "-" else file
    try:
        stream: IO[bytes] = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
    except OSError as exc:
        raise InvalidInput(name, f"cannot read ({exc.strerror})") from exc
    counts = {"lines": 0, "applied": 0, "already_applied": 0, "rejected": 0}
    rejected: list[dict[str, object]] = []
    last_done = 0
    with stream, open_db(db, create=True) as store, _progress(stream, name) as lines:
        try:
            for outcome in import_lines(store.app, lines, default_user=user):
                counts["lines"] += 1
                last_done = outcome.line
                if outcome.error is not None:
                    counts["rejected"] += 1
                    rejected.append(outcome.as_dict())
                    echo(f"{name}: line {outcome.line}: {outcome.error}", err=True)
                elif outcome.result is not None and outcome.result.applied:
                    counts["applied"] += 1
                else:
                    counts["already_applied"] += 1
        except StoreUnavailable as error:
            raise StoreUnavailable(
                f"{error}; lines up to {last_done} were applied, re-run the import to continue"
            ) from error
    if counts["lines"] == 0:
        raise InvalidInput(name, "holds no command (an empty file is an error: nothing was imported)")
    if as_json:
        emit_json({**counts, "rejected_lines": rejected})
    elif not quiet:
        typer.echo(
            f"{name}: {counts['lines']} commands: {counts['applied']} applied, "
            f"{counts['already_applied']} already applied, {counts['rejected']} rejected"
        )
    if counts["rejected"]:
        raise typer.Exit(1)


class _progress:
    """Iterate a byte stream's lines, with a progress bar on an interactive terminal (stderr).

    The bar shows the share of the file read, the commands so far, their rate and the
    time left (from the bytes still to read).
    """

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self.stream = stream
        self.name = name
        self.bar: object | None = None

    def __enter__(self) -> Iterator[bytes]:
        size = _size(self.stream)
        if not is_terminal() or size < 1_000_000:
            return iter(self.stream)
        import time

        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        progress = Progress(
            TextColumn("importing {task.description}"),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            TextColumn("{task.fields[lines]:,} commands, {task.fields[rate]:,.0f}/s"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar = progress
        progress.start()
        task = progress.add_task(Path(self.name).name, total=size, lines=0, rate=0.0)
        started = time.monotonic()

        def lines() -> Iterator[bytes]:
            for count, raw in enumerate(self.stream, start=1):
                elapsed = time.monotonic() - started
                rate = count / elapsed if elapsed > 0 else 0.0
                progress.update(task, advance=len(raw), lines=count, rate=rate)
                yield raw

        return lines()

    def __exit__(self, *_: object) -> None:
        if self.bar is not None:
            self.bar.stop()  # type: ignore[attr-defined]


def _size(stream: IO[bytes]) -> int:
    try:
        name = getattr(stream, "name", None)  # an in-memory stdin has no name
        return Path(name).stat().st_size if isinstance(name, str) else 0
    except OSError:
        return 0
