"""`careledger audit` and `careledger verify`: what the record said when, what changed, and what was altered.

See docs/audit.md for the two times, the amendments and the threat model of the hash chain.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import (
    TIME_HELP,
    DbOption,
    JsonOption,
    emit_json,
    open_db,
    parse_moment,
    resolve_episode,
)

if TYPE_CHECKING:
    from domain.episode.aggregate import Episode
    from domain.episode.audit import ChangeReport
    from projections.store.root import Store
    from projections.store.verify import ChainReport


def audit(
    episode: Annotated[
        str,
        typer.Argument(
            help="Episode id (a UUID, or a unique prefix of one); or `access [EPISODE]` for the access log."
        ),
    ],
    access_episode: Annotated[
        str | None, typer.Argument(help="With `access`: only reads of this episode.", show_default=False)
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help=f"Show the episode as it stood at this recorded time: {TIME_HELP}."),
    ] = None,
    changes: Annotated[
        bool,
        typer.Option(
            "--changes",
            help="List what was recorded after --since: each amendment's author, reason, before/after.",
        ),
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help=f"Start of --changes (excluded): {TIME_HELP}.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help=f"End of --changes (included; default: now): {TIME_HELP}.")
    ] = None,
    reader: Annotated[
        str | None, typer.Option("--user", help="With `access`: only reads by this user.", show_default=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an episode as it stood at a recorded time, or every change recorded after one.

    `careledger audit access [EPISODE] [--since TIME] [--user NAME]` lists who read
    which record, when, and from where (the store's access log).

    Example: careledger audit 94ec --as-of 2026-03-30
    """
    if episode == "access":
        if as_of is not None or changes or until is not None:
            raise typer.BadParameter("`audit access` takes [EPISODE] [--since TIME] [--user NAME]")
        _show_access(db, access_episode, since, reader, as_json)
        return
    if access_episode is not None or reader is not None:
        raise typer.BadParameter("a second EPISODE and --user go with `audit access`")
    if (as_of is None) == (not changes):
        raise typer.BadParameter("give --as-of TIME, or --changes --since TIME [--until TIME]")
    if as_of is not None and (since is not None or until is not None):
        raise typer.BadParameter("--since and --until go with --changes, not with --as-of")
    if changes and since is None:
        raise typer.BadParameter("--changes needs --since TIME")

    with open_db(db) as store:
        episode_id = resolve_episode(store, episode)
        if as_of is not None:
            at = parse_moment("as_of", as_of, store.timezone)
            found = store.as_of(episode_id, at)
            current = store.app.last_version(episode_id)
            _show_as_of(found, at.isoformat(), current, as_json, store.app.payer_dirs)
            return
        report = store.changes(
            episode_id,
            parse_moment("since", since or "", store.timezone),
            parse_moment("until", until, store.timezone) if until else None,
        )
    _show_changes(report, as_json, store.timezone)


def _show_access(
    db: str | None, episode: str | None, since: str | None, user: str | None, as_json: bool
) -> None:
    from domain.episode.audit import moment

    with open_db(db) as store:
        episode_id = resolve_episode(store, episode) if episode is not None else None
        start = f"{since.strip()}T00:00" if since is not None and len(since.strip()) == 10 else since
        at = moment(start, "since", store.timezone) if start is not None else None
        rows = store.access.entries(episode_id, at, user)
    if as_json:
        emit_json(rows)
        return
    from cli.render import table

    table(
        ["at (UTC)", "user", "role", "read", "episode", "from"],
        [[r["at"][:19], r["user"], r["role"], r["action"], r["episode_id"][:8], r["origin"]] for r in rows],
        title=f"{len(rows)} read{'s' if len(rows) != 1 else ''} of the record",
    )


def _show_as_of(found: Episode, at: str, current: int, as_json: bool, payer_dirs: tuple[Path, ...]) -> None:
    from cli.check import as_of_checks, print_as_of_checks

    checks = as_of_checks(found, payer_dirs)  # units, modifiers and findings as they stood (issue 6)
    if as_json:
        emit_json(
            {
                "as_of": at,
                "version": found.version,
                "current_version": current,
                "recorded_at": found.modified_on.isoformat(),
                "episode": found.as_dict(),
                "checks": checks,
            }
        )
        return
    from cli.render import episode_report, print_lines, utc

    later = current - found.version
    print_lines(
        [
            f"As of {utc(datetime.fromisoformat(at))}: version {found.version} of {current}, "
            f"last recorded {utc(found.modified_on)}"
            + (
                f" ({later} later event{'s' if later != 1 else ''} not shown)"
                if later
                else " (nothing later)"
            )
        ]
    )
    typer.echo("")
    episode_report(found)
    typer.echo("")
    print_as_of_checks(checks)


def _show_changes(report: ChangeReport, as_json: bool, zone: tzinfo) -> None:
    if as_json:
        emit_json(report.as_dict())
        return
    from cli.render import entry_changes, print_lines, table, utc

    until = utc(report.until) if report.until else "now"
    print_lines(
        [
            f"Episode {report.episode_id}: recorded after {utc(report.since)} up to {until} "
            f"(versions {report.from_version + 1}-{report.to_version})"
            if report.to_version > report.from_version
            else f"Episode {report.episode_id}: nothing recorded after {utc(report.since)} up to {until}"
        ]
    )
    table(
        ["v", "kind", "visit", "recorded (UTC)", "by", "reason", "changes (before → after)"],
        [
            [
                str(entry.version),
                entry.kind.replace("_", " "),
                entry.date_of_service.isoformat(),
                entry.recorded_at.isoformat()[:19].replace("T", " "),
                entry.recorded_by,
                entry.reason,
                entry_changes(entry, zone),
            ]
            for entry in report.amendments
        ],
        title=f"\n{len(report.amendments)} amendment{'s' if len(report.amendments) != 1 else ''}",
    )
    if report.recorded:
        table(
            ["v", "event", "clinical date", "recorded (UTC)", "by"],
            [
                [
                    str(fact.version),
                    fact.event,
                    fact.clinical_date.isoformat() if fact.clinical_date else "-",
                    fact.recorded_at.isoformat()[:19].replace("T", " "),
                    fact.recorded_by,
                ]
                for fact in report.recorded
            ],
            title=f"\n{len(report.recorded)} other event{'s' if len(report.recorded) != 1 else ''} recorded",
        )


def verify(
    episode: Annotated[
        str | None,
        typer.Argument(help="Only this episode (a UUID or a unique prefix); default: every episode."),
    ] = None,
    head: Annotated[
        bool,
        typer.Option(
            "--head",
            help="After a clean check, print each episode's head (last version and chain hash) as JSON, "
            "to keep where the store's writers cannot change it.",
        ),
    ] = False,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="Check against this anchor log or heads file (a chain rewritten or cut since) "
            "[default: the store's log under CARELEDGER_ANCHOR_DIR, when there is one].",
            dir_okay=False,
        ),
    ] = None,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Link a store written before the hash chain existed (refused when it has a chain table).",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Walk the hash chain of the stored events: report each broken link (exit 1), or that it is intact.

    Example: careledger verify --head > heads.json
    """
    from domain.errors import EpisodeNotFound, InvalidInput
    from projections.store.anchor import read_anchor
    from projections.store.verify import snapshot_checker, verify_chains

    if adopt and (episode is not None or head or anchor is not None):
        raise typer.BadParameter("--adopt links the whole store; give it alone")
    anchors = read_anchor(anchor) if anchor is not None else None
    with open_db(db) as store:
        recorder: Any = store.app.recorder
        if not hasattr(recorder, "read_chains"):
            raise InvalidInput("db", "this store was opened without its hash chain")
        if adopt:
            _adopt(store, as_json)
            return
        if anchors is None:
            anchors = store.anchors() or None
        ids = [resolve_episode(store, episode, verified=False)] if episode is not None else None
        store.log_read("verify", ids[0] if ids else None)
        if ids is not None and anchors is not None:
            anchors = {k: v for k, v in anchors.items() if k == ids[0]}
        report = verify_chains(recorder, ids, anchors, snapshot_checker(store.app))
        if ids is None:  # the read models too: each episode's rows against their seals
            from dataclasses import replace

            from projections.views.seal import read_model_breaks

            broken = {b.episode_id for b in report.breaks}
            extra = [b for b in read_model_breaks(store) if b.episode_id not in broken]
            report = replace(report, breaks=report.breaks + tuple(extra))
        display = store.location.display
        chain_table = recorder.chain_table_present()
    if ids is not None and report.events == 0 and not report.breaks:
        raise EpisodeNotFound(ids[0])
    anchored = anchors is not None
    if not report.intact:
        if as_json:
            emit_json({**report.as_dict(), "chain_table": chain_table})
        else:
            if not chain_table:
                typer.echo(f"the store has no hash-chain table: {_NO_CHAIN_HELP}")
            for problem in report.breaks:
                where = f"episode {problem.episode_id} version {problem.version}"
                typer.echo(f"{where}: {problem.kind}: {problem.detail}")
            typer.echo(_summary(report, anchored))
        raise typer.Exit(1)
    if head:
        from projections.store.anchor import head_document

        emit_json(head_document(display, report.heads))
        typer.echo(_summary(report, anchored), err=True)
    elif as_json:
        emit_json(report.as_dict())
    else:
        typer.echo(_summary(report, anchored))


_NO_CHAIN_HELP = (
    "it was removed (treat the store as tampered with and restore a backup), or the store was written "
    "by a careledger from before the chain (then, and only then, `careledger verify --adopt` links it)"
)


def _adopt(store: Store, as_json: bool) -> None:
    from domain.errors import InvalidInput
    from projections.store.chain import AdoptRefused

    try:
        linked = store.app.recorder.adopt_unchained()  # type: ignore[attr-defined]
    except AdoptRefused as exc:
        raise InvalidInput("adopt", str(exc)) from None
    if as_json:
        emit_json({"adopted": True, "events": linked})
    else:
        typer.echo(
            f"linked {linked:,} events of a store written before the hash chain; the chain proves "
            "nothing changed from now on, and nothing about before"
        )


def _summary(report: ChainReport, anchored: bool) -> str:
    from domain.clinic.aggregate import CLINIC_ID

    # The clinic's identity facts have a chain of their own (decision 0010); it is not an episode.
    clinic = any(head.episode_id == CLINIC_ID for head in report.heads)
    count = report.episodes - int(clinic)
    episodes = f"{count} episode{'s' if count != 1 else ''}{' and the clinic' if clinic else ''}"
    snapshots = f"{report.snapshots} snapshot{'s' if report.snapshots != 1 else ''}"
    what = (
        f"{episodes}, {report.events:,} events, {snapshots} checked in {report.seconds:.3f} s "
        f"({report.events_per_second:,.0f} events/s)"
    )
    if report.intact:
        return f"hash chain intact{' and matching the anchored heads' if anchored else ''}: {what}"
    return f"hash chain BROKEN in {len(report.breaks)} of {episodes}: {what}"
