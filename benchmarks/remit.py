"""The 835 case: import a remittance of 10,000 service lines into a store of synthetic episodes.

Builds the store from the demo generator (`synthetic_clinic`), writes an 835 that pays the first
`lines` billable claim lines of its visits (projections.interop.remit.write_835, the writer the
demo uses), then times `import_835` on it: pyx12's validation of the whole file, reading,
matching every claim and line to its visit, and recording the events. Then once more: the
re-import, which must change nothing.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from domain.billing.bill import bill_with_others, billing_rules
from domain.demo import ReplayClock, synthetic_clinic
from domain.rules.catalogue import payer_profiles
from projections.interop.remit import ClaimToRemit, LineDecision, claim_to_remit, import_835, write_835
from projections.store.root import Store, parse_location


def build(db: str, episodes: int) -> None:
    """Record `episodes` synthetic episodes in a new store."""
    recorded = list(synthetic_clinic(episodes))
    clock = ReplayClock(recorded[0].at)
    with Store(parse_location(db), create=True, clock=clock) as store:
        handle = store.app.importer()
        batch: list[Any] = []
        for item in recorded:
            clock.now = item.at
            batch.append(item.command)
            if len(batch) == 500:
                handle(batch)
                batch = []
        if batch:
            handle(batch)


def remittance(db: str, lines: int) -> tuple[str, int]:
    """Return an 835 paying the first `lines` billable lines of the store (and how many it holds)."""
    claims: list[ClaimToRemit] = []
    count = 0
    with Store(parse_location(db)) as store:
        app = store.app
        for episode_id in app.episode_ids():
            episode = app.get_episode(episode_id)
            if episode.payer.payer_id != "medicare" or count >= lines:
                continue
            bill = bill_with_others(episode, [episode], billing_rules(episode.payer, app.payer_dirs))
            for visit in bill.visits:
                billed = [x for x in visit.lines if x.billable and x.units > 0 and x.charge is not None]
                billed = billed[: lines - count]
                if not billed:
                    continue
                count += len(billed)
                claims.append(claim_to_remit(episode, visit, [(x, LineDecision()) for x in billed]))
    profile = payer_profiles().get("medicare")
    text = write_835(
        claims,
        payer=(profile.name if profile else "Medicare", "MEDICARE"),
        payee=("Bench Clinic", "1999000015"),
        paid_on=date(2026, 7, 1),
        trace_number="BENCH1",
    )
    return text, count


def import_figures(db: str, lines: int = 10_000, episodes: int = 1_200) -> dict[str, Any]:
    """Build the store, write the 835 and time its import and its re-import."""
    started = time.perf_counter()
    build(db, episodes)
    text, count = remittance(db, lines)
    setup = time.perf_counter() - started
    with Store(parse_location(db)) as store:
        started, cpu = time.perf_counter(), time.process_time()
        first = import_835(store.app, text, "bench.835", "bench")
        first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        again = import_835(store.app, text, "bench.835", "bench")
        again_s = time.perf_counter() - started
    if first.refused or first.lines_recorded != count or again.applied:
        raise SystemExit(f"835: {len(first.refused)} refused, {first.lines_recorded} of {count} recorded")
    return {
        "lines": count,
        "claims": first.claims,
        "bytes": len(text),
        "setup_s": setup,
        "import_s": first_s,
        # this process's CPU seconds (pyx12 runs in a second process for a file this large): with
        # import_s, how much of the wall time the machine's other load took
        "import_cpu_s": first_cpu,
        "lines_per_second": count / first_s,
        "reimport_s": again_s,
        "reimport_applied": again.applied,
    }
