"""`careledger export fhir|claims` and the FHIR half of `careledger import`.

`export fhir EPISODE` writes the episode as a FHIR R4 Bundle (validated with
fhir.resources' R4B models and careledger's own invariants); `export claims`
writes every claim line of the store as CSV or JSON; `import fhir FILE` (or
`import FILE` on a file holding a FHIR Bundle) records a careledger bundle's
episode in the store. Mapping and columns: docs/fhir.md.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import (
    TIME_HELP,
    DbOption,
    EpisodeArg,
    emit_json,
    new_app,
    open_db,
    parse_date,
    parse_moment,
    resolve_episode,
    write_private,
)

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode

app = new_app("Export an episode as a FHIR R4 Bundle, or the store's claim lines for a billing system.")

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Write to this file instead of stdout.", dir_okay=False, show_default=False
    ),
]


class Format(StrEnum):
    """The formats of `export claims`."""

    csv = "csv"
    json = "json"


def _write(data: bytes, out: Path | None) -> None:

    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_private(out, data)  # 0600, atomically, never through a planted link
    typer.echo(f"wrote {out} ({len(data):,} bytes)", err=True)


@app.command("fhir")
def export_fhir(
    episode: EpisodeArg,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help=f"The episode as it stood at this recorded time: {TIME_HELP}."),
    ] = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Write an episode as a FHIR R4 Bundle (type collection), validated before it is written.

    Example: careledger export fhir 94ec --out knee.json
    """
    from projections.interop.fhir.export import export_episode

    with open_db(db) as store:
        episode_id = resolve_episode(store, episode)
        at = parse_moment("as_of", as_of, store.timezone) if as_of is not None else None
        store.log_read("export fhir", episode_id)
        text = export_episode(store.app, episode_id, at)
    _write(text, out)


@app.command("claims")
def export_claims(
    since: Annotated[
        str | None, typer.Option("--since", help="Only visits on or after this date of service (YYYY-MM-DD).")
    ] = None,
    output: Annotated[
        Format, typer.Option("--format", help="csv (one header row) or json (a list).")
    ] = Format.csv,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Write one row per claim line of every episode: the shape a billing system imports.

    Example: careledger export claims --since 2026-04-01 > claims.csv
    """

    import orjson

    from projections.interop.claims import as_csv, store_claim_rows

    day = parse_date("since", since) if since is not None else None
    with open_db(db) as store:
        store.log_read("export claims", None)
        store.require_intact()  # no claim line from a record that fails verification (exit 3)
        rows = store_claim_rows(store.app, day)
    if output is Format.json:
        _write(orjson.dumps(rows, option=orjson.OPT_INDENT_2) + b"\n", out)
    else:
        _write(as_csv(rows).encode(), out)


def looks_like_fhir(path: Path) -> bool:
    """Tell whether a file holds one JSON object with a resourceType (a FHIR resource), not JSON Lines."""
    import orjson

    try:
        with path.open("rb") as stream:
            first = stream.readline(1_000_000).strip()
    except OSError:
        return False
    if not first.startswith(b"{"):
        return False
    try:
        document = orjson.loads(first)
    except orjson.JSONDecodeError:
        return first == b"{"  # an indented JSON document: never a line of commands
    return isinstance(document, dict) and "resourceType" in document


def import_fhir(file: str, db: str | None, as_json: bool, quiet: bool) -> None:
    """Record the episode of a careledger FHIR Bundle in the store (nothing if the bundle is invalid)."""
    from domain.errors import InvalidInput
    from projections.interop.fhir.importer import import_bundle

    name = "stdin" if file == "-" else file
    try:
        text = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise InvalidInput(name, f"cannot read ({exc.strerror})") from exc
    with open_db(db, create=True) as store:
        result = import_bundle(store.app, text, name)
    if as_json:
        emit_json(result.as_dict())
    elif not quiet:
        typer.echo(
            f"{name}: FHIR Bundle of episode {result.episode_id}: {result.commands} commands: "
            f"{result.applied} applied, {result.already_applied} already applied (version {result.version})"
        )
        if result.unread:
            typer.echo(f"{name}: not read (careledger does not record them): {', '.join(result.unread)}")


@app.command("837p")
def export_837p(
    episode: Annotated[
        str | None, typer.Argument(help="Episode id (or a unique prefix); or --all.", show_default=False)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every episode in the store.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only visits on or after this date of service (YYYY-MM-DD).")
    ] = None,
    out: OutOption = None,
    control_number: Annotated[
        int, typer.Option("--control-number", help="Interchange control number (ISA13, GS06).")
    ] = 1,
    receiver_id: Annotated[
        str, typer.Option("--receiver-id", help="Receiver (clearinghouse or payer) id: ISA08, 1000B.")
    ] = "CLEARINGHOUSE",
    receiver_name: Annotated[
        str, typer.Option("--receiver-name", help="Receiver's name (1000B).")
    ] = "CLEARINGHOUSE",
    test: Annotated[
        bool, typer.Option("--test", help="Mark the interchange as test data (ISA15 T).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Write ASC X12 837P (005010X222A1) claims, one per date of service; visits not ready are listed.

    A visit with an error finding (careledger check), an undetermined KX, or a missing charge,
    member id or NPI is left out, and said so on stderr; the file holds every other visit.

    Example: careledger export 837p --all --since 2026-04-01 --out claims.837
    """
    from domain.episode.clinic_service import load_clinic
    from domain.errors import InvalidInput
    from projections.interop.x12 import sort_out, write_837p

    if (episode is None) == (not every):
        raise InvalidInput("episode", "give one EPISODE or --all")
    day = parse_date("since", since) if since is not None else None
    with open_db(db) as store:
        store.require_intact()  # no claim from a record that fails verification (exit 3)
        chosen = [resolve_episode(store, episode)] if episode is not None else list(store.app.episode_ids())
        store.log_read("export 837p", chosen[0] if len(chosen) == 1 else None)
        everyone = [store.app.get_episode(i) for i in store.app.episode_ids()]
        episodes = [e for e in everyone if e.id in set(chosen)]
        by_patient: dict[str, list[Episode]] = {}
        for other in everyone:
            by_patient.setdefault(other.patient_ref, []).append(other)
        clinic = load_clinic(store.app)
        if clinic is None:
            raise InvalidInput(
                "billing_provider", "no clinic identity recorded (careledger clinic billing-provider)"
            )
        ready, left = sort_out(episodes, by_patient, clinic, store.app.payer_dirs, day)
        if not ready:
            for item in left:
                typer.echo(
                    f"left out: {item.episode_id[:8]} {item.date_of_service}: {'; '.join(item.reasons)}",
                    err=True,
                )
            raise InvalidInput("episode", "no visit is ready to bill; nothing was written")
        created = max(e.modified_on for e in episodes)
        claims = write_837p(
            ready,
            left,
            clinic,
            created=created,
            control_number=control_number,
            receiver=(receiver_id, receiver_name),
            usage="T" if test else "P",
        )
    _write(claims.text.encode(), out)
    typer.echo(
        f"837P: {len(claims.claims)} claims, {claims.lines} service lines; {len(left)} visits left out",
        err=True,
    )
    for item in left:
        typer.echo(
            f"  left out: {item.episode_id[:8]} {item.date_of_service}: {'; '.join(item.reasons)}", err=True
        )
