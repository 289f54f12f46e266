"""Verifying the hash chain: find the first broken link of each episode, check anchors and snapshots.

`check_episode` diagnoses one episode from its stored events and links (see
projections/chain.py for how they are made); `verify_chains` walks every
episode (or some) through a chained recorder, compares the chains with heads
anchored earlier, and has each intact episode's snapshots compared with a replay
of its events. The threat model is in docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from projections.store.chain import GENESIS, EventRow, Link, chain_link, event_digest

if TYPE_CHECKING:
    from domain.episode.application import Episodes

CHUNK = 100


@dataclass(frozen=True)
class Break:
    """The first broken link of an episode: where, what kind, and what it means."""

    episode_id: UUID
    version: int
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """Return the break as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "version": self.version,
            "kind": self.kind,
            "detail": self.detail,
        }


def check_episode(
    episode_id: UUID,
    events: Sequence[EventRow],
    links: Sequence[Link],
    *,
    start: int = 1,
    previous: bytes = GENESIS,
) -> Break | None:
    """Return the first broken link of one episode's chain, or None when it is intact.

    Each stored link is checked against the stored link before it, and each
    event's bytes against the digest its link recorded, so the report names the
    version that was changed, deleted, inserted or moved. `start` and `previous`
    continue a chain already verified up to version `start - 1`, whose link is
    `previous` (projections/store/verified.py); `events` and `links` are then
    those from `start` on.
    """
    by_version = {e.version: e for e in events}
    chained = {link.version: link for link in links}
    digests = {link.event_digest: link.version for link in links}
    last = max([*by_version, *chained], default=0)
    for version in range(start, last + 1):
        event, link = by_version.get(version), chained.get(version)
        if event is None and link is None:
            return Break(episode_id, version, "missing", "neither the event nor its link is stored (deleted)")
        if link is None:
            return Break(
                episode_id,
                version,
                "unchained",
                "the stored event has no link: it was written outside careledger, or its link was deleted",
            )
        if event is None:
            return Break(
                episode_id, version, "missing_event", "the chain has a link but the event was deleted"
            )
        digest = event_digest(event.topic, event.state)
        if digest != link.event_digest:
            moved = digests.get(digest)
            if moved is not None:
                return Break(
                    episode_id,
                    version,
                    "reordered",
                    f"the event stored as version {version} was recorded as version {moved}",
                )
            return Break(
                episode_id,
                version,
                "changed",
                f"the stored bytes of {event.topic.rsplit('.', 1)[-1]} differ from what was recorded",
            )
        if chain_link(previous, episode_id, version, link.event_digest) != link.chain_hash:
            return Break(
                episode_id,
                version,
                "link",
                "the link does not follow from the one before (the chain was edited)",
            )
        previous = link.chain_hash
    return None


def chunks(items: Sequence[UUID], size: int = CHUNK) -> Iterable[Sequence[UUID]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ChainReader(Protocol):
    """What `verify` needs from a chained recorder (SQLite or PostgreSQL)."""

    def chained_episode_ids(self) -> list[UUID]: ...

    def read_chains(self, episode_ids: Sequence[UUID]) -> dict[UUID, tuple[list[EventRow], list[Link]]]: ...


@dataclass(frozen=True)
class Head:
    """The last link of an episode's chain: what to store elsewhere to anchor it."""

    episode_id: UUID
    version: int
    chain_hash: bytes

    def as_dict(self) -> dict[str, Any]:
        """Return the head as JSON-ready values."""
        return {
            "episode_id": str(self.episode_id),
            "version": self.version,
            "chain_hash": self.chain_hash.hex(),
        }


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chains: counts, speed, heads and the first break of each episode."""

    episodes: int
    events: int
    snapshots: int
    seconds: float
    breaks: tuple[Break, ...]
    heads: tuple[Head, ...]

    @property
    def intact(self) -> bool:
        """Tell whether no break was found."""
        return not self.breaks

    @property
    def events_per_second(self) -> float:
        """Return how many events were verified per second."""
        return self.events / self.seconds if self.seconds > 0 else float(self.events)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "intact": self.intact,
            "episodes": self.episodes,
            "events": self.events,
            "snapshots": self.snapshots,
            "seconds": round(self.seconds, 6),
            "events_per_second": round(self.events_per_second),
            "breaks": [b.as_dict() for b in self.breaks],
        }


def check_anchor(
    episode_id: UUID, links: Sequence[Link], anchored: Head | Sequence[Head] | None
) -> Break | None:
    """Compare an episode's chain with the heads stored elsewhere earlier (see docs/audit.md)."""
    if anchored is None:
        return None
    heads = [anchored] if isinstance(anchored, Head) else sorted(anchored, key=lambda h: h.version)
    by_version = {item.version: item for item in links}
    last = max(by_version, default=0)
    for head in heads:
        link = by_version.get(head.version)
        if link is None:
            return Break(
                episode_id,
                head.version,
                "truncated",
                f"the anchored head is version {head.version} but the chain ends at version {last}",
            )
        if link.chain_hash != head.chain_hash:
            return Break(
                episode_id,
                head.version,
                "rewritten",
                "the link differs from the anchored head: the chain was rewritten since it was anchored",
            )
    return None


def episode_break(
    episode_id: UUID,
    stored: Sequence[EventRow],
    links: Sequence[Link],
    anchored: Head | Sequence[Head] | None,
) -> Break | None:
    """Return the first break of one episode's whole chain, compared with its anchored heads."""
    problem = check_episode(episode_id, stored, links)
    if problem is None and not links and anchored:
        problem = Break(episode_id, 1, "missing", "the episode was anchored but nothing of it is stored")
    return problem or check_anchor(episode_id, links, anchored)


def verify_chains(
    reader: ChainReader,
    episode_ids: Sequence[UUID] | None = None,
    anchors: Mapping[UUID, Head | Sequence[Head]] | None = None,
    snapshot_check: Callable[[UUID], tuple[int, Break | None]] | None = None,
) -> ChainReport:
    """Walk the chain of every episode (or of some), check anchors and snapshots; report the breaks.

    `snapshot_check(episode_id)` returns how many snapshots it compared with a
    replay of the events and the first that differs; it runs only on episodes
    whose chain is intact.
    """
    from time import perf_counter

    started = perf_counter()
    anchors = anchors or {}
    ids = list(episode_ids) if episode_ids is not None else reader.chained_episode_ids()
    ids += sorted(i for i in anchors if i not in set(ids))
    breaks: list[Break] = []
    heads: list[Head] = []
    events = snapshots = 0
    for chunk in chunks(ids):
        found = reader.read_chains(chunk)
        for episode_id in chunk:
            stored, links = found[episode_id]
            events += len(stored)
            problem = episode_break(episode_id, stored, links, anchors.get(episode_id))
            if problem is None and snapshot_check is not None and links:
                checked, problem = snapshot_check(episode_id)
                snapshots += checked
            if problem is not None:
                breaks.append(problem)
            elif links:
                last = max(links, key=lambda item: item.version)
                heads.append(Head(episode_id, last.version, last.chain_hash))
    return ChainReport(
        episodes=len(ids),
        events=events,
        snapshots=snapshots,
        seconds=perf_counter() - started,
        breaks=tuple(breaks),
        heads=tuple(heads),
    )


def _replayed(episode: Any, snapshot: Any) -> Any:
    """The state a snapshot taken of the replayed `episode` holds, in the stored snapshot's fields.

    A snapshot written before the episode kept who opened it has no `opened_by`; it is
    compared without it (it loads with None there, and the timeline shows no author).
    """
    state = type(episode).Snapshot.take(episode).state
    if "opened_by" not in snapshot.state.model_fields_set:
        state = state.model_copy(update={"opened_by": None})
    return state


def snapshot_checker(app: Episodes) -> Callable[[UUID], tuple[int, Break | None]]:
    """Return a check that compares an episode's snapshots with a replay of its events.

    Snapshots are a cache the "as of" queries read from, kept outside the chain;
    a snapshot that differs from the replay of the chained events was edited.
    """
    from domain.episode.aggregate import Episode

    def check(episode_id: UUID) -> tuple[int, Break | None]:
        if app.snapshots is None:
            return 0, None
        try:
            snapshots = {s.originator_version: s for s in app.snapshots.get(episode_id)}
        except Exception as exc:  # a hand-edited row may not even decode
            return 1, Break(episode_id, 0, "snapshot", f"a snapshot cannot be read ({exc})")
        if not snapshots:
            return 0, None
        episode: Episode | None = None
        for event in cast(list[Episode.Event], list(app.events.get(episode_id, lte=max(snapshots)))):
            episode = cast(Episode, event.mutate(episode))
            snapshot = cast(Episode.Snapshot | None, snapshots.get(event.originator_version))
            if snapshot is not None and _replayed(episode, snapshot) != snapshot.state:
                return len(snapshots), Break(
                    episode_id,
                    event.originator_version,
                    "snapshot",
                    f"the snapshot at version {event.originator_version} differs from the replay of the "
                    "chained events (it was edited; delete it and the episode loads from its events)",
                )
        return len(snapshots), None

    return check
