"""Reading the read models: the JSON-ready answers of timeline, progression, outcomes, continuity, list.

Every answer first catches the projections up to the last event in the log at
the moment it was asked (so it includes every event recorded before the query
started), then reads the rows in one read transaction. The shapes are
documented in docs/projections.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Connection, Row, Table, select
from sqlalchemy.exc import SQLAlchemyError

from domain.clocks.periods import as_of
from domain.errors import EpisodeNotFound, StoreUnavailable, Tampered
from domain.progression.dosage import DEFAULT_PLATEAU_VISITS, Performed, plateaus
from domain.rules.catalogue import instrument_catalogue
from projections.views.projector import Progress, Projector
from projections.views.seal import check_seals, seal_breaks

if TYPE_CHECKING:
    from projections.store.root import Store

Answer = dict[str, Any]


def _plain(row: Row[Any], skip: tuple[str, ...] = ("episode_id",)) -> dict[str, Any]:
    return {k: v for k, v in row._mapping.items() if k not in skip}


def plateaus_of(points: list[dict[str, Any]], min_visits: int) -> list[dict[str, Any]]:
    """Find the plateaus of an exercise's stored points: runs of `min_visits` or more.
    (docs/rules.md#progression)

    The view stored each point's run number (it changes with the dosage or the
    prescription in force); the runs are found by the domain's own rule.
    """
    marks = [Performed(date.fromisoformat(p["date"]), p["run"], p.get("regression_reason")) for p in points]
    first_of = {p["date"]: p for p in points}
    return [
        {
            "start": run.start.isoformat(),
            "end": run.end.isoformat(),
            "visits": run.visits,
            "dosage_text": first_of[run.start.isoformat()]["dosage_text"],
            "explained_by": run.explained_by,
            "flagged": run.flagged,
        }
        for run in plateaus(marks, min_visits)
    ]


class Reader:
    """What every set of queries over the read models shares: a projector, catch-up, reading."""

    def __init__(self, store: Store, projector: Projector | None = None) -> None:
        self.store = store
        self.projector = projector or Projector(store)
        self.tables = self.projector.tables
        self.refused: list[Tampered] = []

    def close(self) -> None:
        """Release the read models' connections."""
        self.projector.close()

    def refresh(self, progress: Progress | None = None) -> int:
        """Catch the projections up to the last event in the log now; return how many were applied.

        A read-only store (a backup) is read as it is: its rows are served at the version
        their seals name.
        """
        if self.store.read_only:
            return 0
        return self.projector.catch_up(progress=progress)

    def sealed(self, conn: Connection, names: Sequence[str], episode_ids: Sequence[UUID] | None) -> None:
        """Refuse (Tampered) rows of these tables that their seals do not vouch for (None: every episode)."""
        versions = self.store.episode_versions(episode_ids)
        keys = [str(i) for i in episode_ids] if episode_ids is not None else None
        check_seals(conn, self.tables.seal, [self.tables.named(n) for n in names], keys, versions)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.projector.engine.connect().execution_options(careledger_read_only=True) as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreUnavailable(
                f"database: the read models could not be read ({getattr(exc, 'orig', None) or exc})"
            ) from exc


class ReadModels(Reader):
    """The queries over a store's read models."""

    def _rows(self, conn: Connection, table: Table, episode_id: UUID, *order: Any) -> list[Row[Any]]:
        query = select(table).where(table.c.episode_id == str(episode_id)).order_by(*order)
        return list(conn.execute(query))

    def _summary(self, conn: Connection, episode_id: UUID, *tables: Table) -> dict[str, Any]:
        """Return the episode's summary row, after checking the seals of it and the tables the query reads."""
        self.sealed(conn, [self.tables.summary.name, *(t.name for t in tables)], [episode_id])
        rows = self._rows(conn, self.tables.summary, episode_id)
        if not rows:
            raise EpisodeNotFound(episode_id)
        return _plain(rows[0], ())

    # --- answers -------------------------------------------------------------------------

    def episodes(
        self,
        *,
        status: str | None = None,
        payer: str | None = None,
        discipline: str | None = None,
        patient_ref: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Answer]:
        """Return one line per episode, in the order they were opened (those that verify; filtered and
        paged if asked)."""
        self.store.log_read("list", None)
        table = self.tables.summary
        query = select(table).order_by(table.c.opened_at, table.c.episode_id)
        for column, value in (
            ("status", status),
            ("payer", payer),
            ("discipline", discipline),
            ("patient_ref", patient_ref),
        ):
            if value is not None:
                query = query.where(table.c[column] == value)
        with self._read() as conn:
            # A listing keeps serving: an episode whose rows fail their seal is left out and named
            # in `refused` (the CLI says so on stderr); every query on it refuses.
            self.refused = seal_breaks(conn, self.tables.seal, [table], None, self.store.episode_versions())
            left_out = {str(problem.episode_id) for problem in self.refused}
            if left_out:
                query = query.where(table.c.episode_id.not_in(left_out))
            if offset:
                query = query.offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return [_plain(row, ("opened_at",)) for row in conn.execute(query)]

    def timeline(self, episode_id: UUID) -> Answer:
        """Return every fact of an episode in clinical-date order, with its recorded time."""
        self.store.log_read("timeline", episode_id)
        table = self.tables.timeline
        with self._read() as conn:
            head = self._summary(conn, episode_id, table)
            entries = [_plain(row) for row in self._rows(conn, table, episode_id, table.c.seq)]
        return {**_head(head), "entries": entries}

    def progression(
        self, episode_id: UUID, exercise: str | None = None, plateau_visits: int = DEFAULT_PLATEAU_VISITS
    ) -> Answer:
        """Return each exercise's dosage at every visit, its changes and its plateaus."""
        self.store.log_read("progression", episode_id)
        table = self.tables.exercise
        with self._read() as conn:
            head = self._summary(conn, episode_id, table)
            rows = [
                _plain(r) for r in self._rows(conn, table, episode_id, table.c.added_on, table.c.exercise_id)
            ]
        if exercise is not None:
            rows = [r for r in rows if r["exercise_id"] == exercise]
            if not rows:
                from domain.errors import InvalidInput

                raise InvalidInput("exercise", f"'{exercise}' is not an exercise of episode {episode_id}")
        for row in rows:
            row["plateaus"] = plateaus_of(row["points"], plateau_visits)
            row["plateau"] = any(p["flagged"] for p in row["plateaus"])
        return {**_head(head), "plateau_visits": plateau_visits, "exercises": rows}

    def outcomes(self, episode_id: UUID) -> Answer:
        """Return each instrument's scores, change from baseline and whether it reaches its MCID."""
        self.store.log_read("outcomes", episode_id)
        table = self.tables.outcomes
        catalogue = instrument_catalogue()
        with self._read() as conn:
            head = self._summary(conn, episode_id, table)
            rows = self._rows(conn, table, episode_id, table.c.instrument, table.c.seq)
        by_instrument: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            values = _plain(row)
            by_instrument.setdefault(values.pop("instrument"), []).append(values)
        instruments: list[Answer] = []
        for name, scores in by_instrument.items():
            info = catalogue.get(name)
            latest = scores[-1]
            instruments.append(
                {
                    "instrument": name,
                    "name": info.name if info else None,
                    "unit": info.unit if info else None,
                    "better": info.better if info else None,
                    "mcid": info.mcid if info else None,
                    "mcid_percent": info.mcid_percent if info else None,
                    "mcid_source": info.mcid_source if info else None,
                    "baseline": {"taken_on": scores[0]["taken_on"], "score": scores[0]["score"]},
                    "latest": {"taken_on": latest["taken_on"], "score": latest["score"]},
                    "change": latest["change"],
                    "improvement": latest["improvement"],
                    "percent": latest["percent"],
                    "reaches_mcid": latest["reaches_mcid"],
                    "verdict": latest["verdict"],
                    "scores": scores,
                }
            )
        return {**_head(head), "instruments": instruments}

    def continuity(self, episode_id: UUID, today: date) -> Answer:
        """Return each visit's coverage, the clocks (read against today) and the gaps."""
        self.store.log_read("continuity", episode_id)
        table = self.tables.continuity
        with self._read() as conn:
            head = self._summary(conn, episode_id, table, self.tables.continuity_clock)
            visits = [_plain(r) for r in self._rows(conn, table, episode_id, table.c.date_of_service)]
            clock = _plain(self._rows(conn, self.tables.continuity_clock, episode_id)[0])
        gaps = clock.pop("gaps")
        certifications = clock.pop("certifications")
        errors, warnings = clock.pop("errors"), clock.pop("warnings")
        medicare_rules = clock.pop("medicare_rules")
        clock.pop("status")
        reading = as_of(
            today,
            expires=clock["certified_through"],
            certification_due=clock["certification_due_by"],
            certified=bool(certifications),
            active=head["status"] != "discharged",
        )
        clock["as_of"] = {
            "today": reading.today,
            "certification_expires_in_days": reading.certification_expires_in_days,
            "certification_expired": reading.certification_expired,
            "initial_certification_overdue": reading.initial_certification_overdue,
        }
        return {
            **_head(head),
            "medicare_rules": medicare_rules,
            "clocks": clock,
            "certifications": certifications,
            "visits": visits,
            "gaps": gaps,
            "errors": errors,
            "warnings": warnings,
        }


def _head(summary: dict[str, Any]) -> Answer:
    keys = ("episode_id", "patient_ref", "discipline", "payer", "status", "version")
    return {key: summary[key] for key in keys}
