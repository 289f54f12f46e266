"""`careledger demo`: build the demo clinic in a fresh store and report on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def demo(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            help="Where to build the demo store (a new SQLite file or an empty PostgreSQL database).",
        ),
    ] = "demo.db",
    replace: Annotated[bool, typer.Option("--replace", help="Delete an existing demo file first.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Build only; print no report.")] = False,
    remittance: Annotated[
        Path | None,
        typer.Option(
            "--remittance",
            help="Also write Medicare's X12 835 remittance of the demo's claims to this file "
            "(import it with careledger import 835 FILE).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a realistic demo clinic (four episodes, fixed seed) and print the knee episode.

    With --remittance FILE, also writes the payer's 835 for the demo's claims: some lines denied
    for reasons check predicted, some for reasons it cannot see (docs/billing.md#835).

    Example: careledger demo --db demo.db --remittance demo.835
    """
    from domain.demo import ReplayClock, demo_clinic, demo_episode_ids
    from domain.demo.identity import demo_identity
    from domain.episode.clinic_service import record_clinic_fact
    from domain.errors import InvalidInput
    from projections.store.root import Store, parse_location

    location = parse_location(db)
    if location.kind == "sqlite" and location.path is not None and location.path.exists():
        if not replace:
            raise InvalidInput(
                "db", f"{location.display} already exists; pass --replace or choose another path"
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{location.path}{suffix}").unlink(missing_ok=True)
    recorded = demo_clinic()
    clock = ReplayClock(recorded[0].at)
    with Store(location, create=True, clock=clock) as store:
        if (store.app.recorder.max_notification_id() or 0) > 0:
            raise InvalidInput("db", f"{location.display} is not empty; the demo needs a fresh store")
        for command in demo_identity():
            record_clinic_fact(store.app, command)
        for item in recorded:
            clock.now = item.at
            store.app.handle(item.command)
        ids = demo_episode_ids()
        if remittance is not None:
            from cli.common import write_private
            from projections.interop.denials import demo_remittance

            write_private(remittance, demo_remittance(store.app).encode())
        typer.echo(f"demo clinic built in {location.display}: {len(recorded)} commands, {len(ids)} episodes")
        for name, episode_id in ids.items():
            typer.echo(f"  {name:9} {episode_id}")
        if not quiet:
            from cli.render import episode_report

            typer.echo("")
            episode_report(store.app.get_episode(ids["knee"]))
            _highlights(store, ids["shoulder"])


def _highlights(store: Any, episode_id: Any) -> None:
    """Point at what the other episodes show: a code split by CQ/CO, a recertification signed late."""
    from domain.billing.bill import bill_with_others, billing_rules
    from domain.clocks.coverage import judge
    from domain.clocks.periods import MEDICARE

    episode = store.app.get_episode(episode_id)
    short = str(episode_id)[:4]
    bill = bill_with_others(episode, [], billing_rules(episode.payer, store.app.payer_dirs))
    typer.echo("")
    typer.echo(f"Also in the demo, the shoulder ({episode.patient_ref}):")
    for visit in bill.visits:
        split = [line for line in visit.lines if line.split]
        if split:
            parts = ", ".join(f"{x.units} × {' '.join(x.modifiers)}" for x in split)
            typer.echo(
                f"  {visit.date_of_service}: {split[0].code} is two claim lines ({parts}): the OT and "
                f"the OTA each furnished part of it (careledger bill {short} --visit {visit.date_of_service})"
            )
    for gap in judge(episode, True, MEDICARE).episode_gaps:
        if gap.rule_id == "clock.certification_late" and gap.message.startswith("recertification"):
            typer.echo(f"  {gap.message} (careledger continuity {short})")
