"""Rebuilding the read models on several cores: each process derives one share of the episodes.

A rebuild reads the whole log, folds every event and derives every episode's
rows again; almost all of it is CPU in Python, one core per process. With more
than one core, `rebuild` (from `PARALLEL_MINIMUM` events, or when asked) starts
`shares` worker processes. Each opens the store itself, reads the same pages of
the log (the page boundaries are fixed by the log and the page size, so every
worker cuts the same pages), and folds and derives only the episodes whose id
modulo `shares` is its own, sending each page's rows, already converted for the
driver, to this process. This process merges the shares of a page and writes
it exactly as a single process would: one transaction that locks the tracking
rows, replaces the page's rows and seals, and moves the positions. An
episode's events all go to one worker, so its rows are those one process
derives.

A live follower (`projections run`, a query catching up) keeps working: every
page is still one transaction over the locked tracking rows. If another process
moved a position while the workers were deriving ahead, the page they derived
is no longer the next one: the workers are stopped and the rebuild goes on in
this process from the positions as they stand (`Projector.catch_up`), so no
page is applied twice or skipped.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from domain.errors import CareledgerError, InvalidInput, StoreUnavailable
from projections.views.projector import PageWork, Progress, Projector, advanced

if TYPE_CHECKING:
    from projections.store.root import Location
    from projections.views.context import ViewContext

# Below this many events a rebuild stays in one process (starting a worker costs about half a second).
PARALLEL_MINIMUM = 20_000
ENV_WORKERS = "CARELEDGER_REBUILD_WORKERS"


def configured_workers() -> int | None:
    """The worker processes CARELEDGER_REBUILD_WORKERS asks for (None when it is not set)."""
    text = os.environ.get(ENV_WORKERS, "").strip()
    if not text:
        return None
    try:
        workers = int(text)
    except ValueError:
        raise InvalidInput(ENV_WORKERS, f"'{text}' is not a whole number of processes") from None
    if workers < 1:
        raise InvalidInput(ENV_WORKERS, f"{workers} is not at least 1")
    return workers


def cores() -> int:
    """The cores this process may run on (at most 8 rebuild workers by default)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(8, available))


@dataclass(frozen=True)
class Assignment:
    """What one worker derives: its share of the episodes, between two log positions."""

    location: Location
    context: ViewContext
    names: tuple[str, ...]
    positions: dict[str, int]
    target: int
    page_size: int
    share: int
    shares: int


@dataclass(frozen=True)
class Page:
    """One worker's share of one page: how many notifications the page held, where it ends, the work."""

    count: int
    end: int
    work: PageWork


def _work(assignment: Assignment, out: BinaryIO) -> None:
    """A worker's whole life: derive its share page by page and write each page to `out` (pickled)."""
    from projections.store.root import Store
    from projections.views.registry import projection

    with Store(assignment.location, create=False) as store:
        projector = Projector(
            store,
            context=assignment.context,
            projections=[projection(name) for name in assignment.names],
            page_size=assignment.page_size,
        )
        try:
            positions = dict(assignment.positions)
            low = min(positions.values())
            gc.set_threshold(50_000, 50, 100)  # decoding makes many short-lived objects
            while low < assignment.target:
                page, end = projector.page_after(low, assignment.target)
                work = projector.derive(page, positions, (assignment.share, assignment.shares))
                pickle.dump(Page(len(page), end, work), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
                positions = advanced(positions, end)
                low = end
        finally:
            projector.close()
    pickle.dump(None, out)
    out.flush()


def main() -> None:
    """Run one worker: its assignment comes pickled on stdin, its pages go pickled to stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing printed by accident can corrupt the pages
    try:
        _work(pickle.load(sys.stdin.buffer), out)  # noqa: S301 (a pipe from the parent process only)
    except BaseException as exc:  # reported to the parent, which stops the rebuild
        failure = exc if isinstance(exc, CareledgerError) else StoreUnavailable(f"rebuild worker: {exc!r}")
        try:
            pickle.dump(failure, out)
            out.flush()
        except OSError:
            pass
        raise SystemExit(1) from None


def _start(assignment: Assignment) -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    worker = subprocess.Popen(
        [sys.executable, "-m", "projections.views.parallel"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    if worker.stdin is None:
        raise StoreUnavailable("rebuild: could not start a worker process")
    with worker.stdin:
        pickle.dump(assignment, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
    return worker


def rebuild(
    projector: Projector,
    names: Sequence[str] = (),
    progress: Progress | None = None,
    until: int | None = None,
    workers: int | None = None,
) -> int:
    """Rebuild the named projections (all when none named) with worker processes; return the events.

    `workers` processes each derive a share of the episodes while this process writes
    the pages; by default one per core (or CARELEDGER_REBUILD_WORKERS) from
    `PARALLEL_MINIMUM` events up; 1 is `Projector.rebuild`, in this process. The rows
    and seals are the same either way.
    """
    projector.reset(names)
    target = projector.log_position() if until is None else until
    shares = plan_shares(projector, workers, target)
    applied = parallel_catch_up(projector, target, shares, progress) if shares > 1 else 0
    return applied + projector.catch_up(until, progress=progress)


def parallel_catch_up(projector: Projector, target: int, shares: int, progress: Progress | None) -> int:
    """Apply the log up to `target` with `shares` worker processes deriving; return the events applied.

    Stops early (returning what it applied) when another process moved a position:
    the caller's `catch_up` then goes on from where the positions stand.
    """
    positions = projector.positions()
    names = tuple(p.name for p in projector.projections)
    workers: list[subprocess.Popen[bytes]] = []
    applied = 0
    try:
        for share in range(shares):
            workers.append(
                _start(
                    Assignment(
                        projector.location,
                        projector.context,
                        names,
                        positions,
                        target,
                        projector.page_size,
                        share,
                        shares,
                    )
                )
            )
        while True:
            pages = [_receive(worker) for worker in workers]
            if all(page is None for page in pages):
                return applied
            received = [page for page in pages if page is not None]
            if len(received) != len(pages) or len({page.end for page in received}) != 1:
                raise StoreUnavailable("rebuild: the workers read different pages of the log")
            first, *others = received
            for page in others:
                first.work.merge(page.work)
            moved_on = projector.write_page(first.work, positions, first.end)
            if moved_on is None:  # another process applied pages meanwhile: go on from where it stands
                return applied
            positions = moved_on
            applied += first.count
            if progress is not None:
                progress(first.end, target)
    finally:
        for worker in workers:
            if worker.stdout is not None:
                worker.stdout.close()
            try:
                worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _receive(worker: subprocess.Popen[bytes]) -> Page | None:
    if worker.stdout is None:
        raise StoreUnavailable("rebuild: a worker process has no output")
    try:
        message: Any = pickle.load(worker.stdout)  # noqa: S301 (a pipe from our own worker only)
    except (EOFError, pickle.UnpicklingError):
        raise StoreUnavailable("rebuild: a worker process ended before it finished its share") from None
    if isinstance(message, BaseException):
        raise message
    return message  # type: ignore[no-any-return]


def plan_shares(projector: Projector, workers: int | None, events: int) -> int:
    """How many worker processes derive a rebuild of `events` events (1: this process alone).

    Asked for (`workers`, else CARELEDGER_REBUILD_WORKERS), that many at any size; by
    default one per core from `PARALLEL_MINIMUM` events up. A projector given
    projections that are not the registered ones (a test's, say) stays in one process:
    a worker finds them by name.
    """
    from projections.views.registry import PROJECTIONS

    asked = configured_workers() if workers is None else max(1, workers)
    if any(p not in PROJECTIONS for p in projector.projections) or not projector.projections:
        return 1
    if asked is not None:
        return asked
    return cores() if events >= PARALLEL_MINIMUM else 1


if __name__ == "__main__":
    # The module's own classes, not __main__'s copies, so the parent unpickles what it knows.
    from projections.views.parallel import main as run_worker

    run_worker()
