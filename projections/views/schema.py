"""The read-model tables (SQLAlchemy Core), in the same database and schema as the events.

Every table is prefixed `pv_` and keyed by episode first, so the rows of one
episode can be replaced in one statement. `projection_tracking` holds, for each
projection, the notification id of the last event it has applied, the version
of its view code and a fingerprint of the rule tables it read (`inputs`); a
different version or fingerprint rebuilds it. Dates are SQL dates;
recorded times are `timestamptz` on PostgreSQL and ISO 8601 text on SQLite;
scores and workloads are `numeric` on PostgreSQL and exact decimal text on
SQLite; JSON is `jsonb` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from projections.store.root import Location

if TYPE_CHECKING:
    import psycopg

TRACKING = "projection_tracking"
FINDINGS = "pv_findings"
CHECK_VISITS = "pv_check_visits"
SEAL = "pv_seal"


class Moment(TypeDecorator[datetime]):
    """A timezone-aware datetime: timestamptz on PostgreSQL, ISO 8601 text elsewhere."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return value.astimezone(UTC).isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal kept exact: numeric on PostgreSQL, decimal text elsewhere."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value)


def _json() -> TypeEngine[Any]:
    return JSON().with_variant(JSONB(), "postgresql")


def _episode() -> Column[str]:
    return Column("episode_id", String(36), primary_key=True)


@dataclass(frozen=True)
class Tables:
    """The read-model tables of one database schema."""

    metadata: MetaData
    tracking: Table
    timeline: Table
    exercise: Table
    outcomes: Table
    continuity: Table
    continuity_clock: Table
    summary: Table
    seal: Table

    def named(self, name: str) -> Table:
        """Return a table by its SQL name (without schema)."""
        for table in self.metadata.tables.values():
            if table.name == name:
                return table
        raise KeyError(name)


def build_tables(schema: str | None) -> Tables:
    """Declare the tables in a schema (None: the database's default)."""
    md = MetaData(schema=schema)
    tracking = Table(
        TRACKING,
        md,
        Column("name", String(64), primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("version", Integer, nullable=False),
        Column("inputs", String(64)),
    )

    def provenance() -> tuple[Column[Any], ...]:
        return (
            Column("event_version", Integer),
            Column("recorded_at", Moment()),
            Column("recorded_by", String(100)),
        )

    timeline = Table(
        "pv_timeline",
        md,
        _episode(),
        Column("seq", Integer, primary_key=True),
        Column("clinical_date", Date, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("ref", String(64)),
        Column("summary", Text, nullable=False),
        *provenance(),
        Column("lag_days", Integer),
    )
    exercise = Table(
        "pv_exercise",
        md,
        _episode(),
        Column("exercise_id", String(64), primary_key=True),
        Column("name", Text, nullable=False),
        Column("category", String(32)),
        Column("body_region", Text),
        Column("status", String(16), nullable=False),
        Column("added_on", Date),
        Column("changes", Integer, nullable=False),
        Column("visits", Integer, nullable=False),
        Column("first_dosage", Text),
        Column("current_dosage", Text),
        Column("longest_run", Integer, nullable=False),
        Column("plateau", Boolean, nullable=False),
        Column("history", _json(), nullable=False),
        Column("points", _json(), nullable=False),
    )
    outcomes = Table(
        "pv_outcomes",
        md,
        _episode(),
        Column("instrument", String(64), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("taken_on", Date, nullable=False),
        Column("score", ExactDecimal(), nullable=False),
        Column("change", ExactDecimal()),
        Column("improvement", ExactDecimal()),
        Column("percent", ExactDecimal()),
        Column("reaches_mcid", Boolean),
        Column("verdict", String(32), nullable=False),
        Column("at_risk", Boolean),
        Column("note", Text),
        *provenance(),
    )
    continuity = Table(
        "pv_continuity",
        md,
        _episode(),
        Column("date_of_service", Date, primary_key=True),
        Column("treatment_day", Integer, nullable=False),
        Column("period_day", Integer, nullable=False),
        Column("plan_version", Integer),
        Column("plan_covered", Boolean, nullable=False),
        Column("certification", Integer),
        Column("certified", Boolean, nullable=False),
        Column("necessity", Boolean, nullable=False),
        Column("report_due", Boolean, nullable=False),
        Column("report_present", Boolean, nullable=False),
        Column("gaps", _json(), nullable=False),
        Column("event_version", Integer),
    )
    continuity_clock = Table(
        "pv_continuity_clock",
        md,
        _episode(),
        Column("medicare_rules", Boolean, nullable=False),
        Column("status", String(16), nullable=False),
        Column("first_treatment_day", Date),
        Column("last_treatment_day", Date),
        Column("treatment_days", Integer, nullable=False),
        Column("report_due_in", Integer),
        Column("last_report", Date),
        Column("certification_due_by", Date),
        Column("certified_through", Date),
        Column("recertification_needed", Boolean, nullable=False),
        Column("recertification_reasons", _json(), nullable=False),
        Column("certifications", _json(), nullable=False),
        Column("gaps", _json(), nullable=False),
        Column("errors", Integer, nullable=False),
        Column("warnings", Integer, nullable=False),
    )
    summary = Table(
        "pv_episode_summary",
        md,
        _episode(),
        Column("patient_ref", String(64), nullable=False),
        Column("discipline", String(8), nullable=False),
        Column("payer", String(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("start_date", Date, nullable=False),
        Column("visits", Integer, nullable=False),
        Column("last_visit", Date),
        Column("version", Integer, nullable=False),
        Column("opened_at", Moment(), nullable=False),
        Column("open_gaps", Integer, nullable=False),
        Column("gap_warnings", Integer, nullable=False),
    )
    define_findings_tables(md)  # pv_findings, pv_check_visits (the findings read model)
    seal = define_seal_table(md)  # pv_seal: what vouches for each episode's rows (projections/views/seal.py)
    return Tables(md, tracking, timeline, exercise, outcomes, continuity, continuity_clock, summary, seal)


def define_findings_tables(md: MetaData) -> None:
    """Declare the findings tables in the read models' metadata."""
    Table(
        FINDINGS,
        md,
        Column("episode_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("rule_id", String(64), nullable=False),
        Column("severity", String(8), nullable=False),
        Column("date_of_service", Date),
        Column("clinical_date", Date, nullable=False),
        Column("subject", Text),
        Column("message", Text, nullable=False),
        Column("quote", Text),
        Column("fix", Text, nullable=False),
        Column("source", String(200), nullable=False),
        Column("evidence", _json(), nullable=False),
        Index("ix_pv_findings_rule", "rule_id"),
    )
    Table(
        CHECK_VISITS,
        md,
        Column("episode_id", String(36), primary_key=True),
        Column("date_of_service", Date, primary_key=True),
        Column("event_version", Integer, nullable=False),
        Column("recorded_at", Moment(), nullable=False),
        Column("provider_id", String(64), nullable=False),
        Column("patient_ref", String(64), nullable=False),
        Column("payer_id", String(64), nullable=False),
        Column("discipline", String(8), nullable=False),
        Column("allowed_amount", ExactDecimal(), nullable=False),
        Column("amounts_complete", Boolean, nullable=False),
        Column("necessity", String(16), nullable=False),
        Column("kx", _json(), nullable=False),
        Column("note", _json(), nullable=False),
        Index("ix_pv_check_visits_provider", "provider_id"),
        Index("ix_pv_check_visits_patient", "patient_ref"),
    )


def define_seal_table(md: MetaData) -> Table:
    """Declare the seal table: per episode and read-model table, the version and digest of its rows."""
    return Table(
        SEAL,
        md,
        Column("episode_id", String(36), primary_key=True),
        Column("table_name", String(64), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("digest", String(64), nullable=False),
    )


def _json_serializer(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _sqlite_value(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How the column's SQLAlchemy type stores a value (not None) on SQLite; None: as it is."""
    kind = column.type
    if isinstance(kind, Moment):
        return lambda v: v.astimezone(UTC).isoformat()
    if isinstance(kind, ExactDecimal):
        return str
    if isinstance(kind, JSON):
        return _json_serializer
    if isinstance(kind, Date):
        return lambda v: v.isoformat()
    if isinstance(kind, Boolean):
        return int
    return None


@dataclass(frozen=True)
class SqliteInsert:
    """A prepared INSERT of a table's rows on SQLite: the statement and how to turn a row into values.

    It gives the driver the values SQLAlchemy's types would (ISO dates and times, decimal
    text, JSON text, 0/1), without building a parameter dictionary per row; the rows are
    read back through the same SQLAlchemy types.
    """

    statement: str
    names: tuple[str, ...]
    # the positions of the columns whose values are converted (the others go to the driver as they are)
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]

    @classmethod
    def of(cls, table: Table, dialect: Dialect) -> SqliteInsert:
        """Prepare the insert of a table (SQLAlchemy compiles the statement, with positional markers)."""
        compiled = table.insert().compile(dialect=dialect, column_keys=[c.name for c in table.columns])
        order = tuple(compiled.positiontup or [])
        converters = [(index, _sqlite_value(table.c[name])) for index, name in enumerate(order)]
        return cls(str(compiled), order, tuple((i, c) for i, c in converters if c is not None))

    def values(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Return each row's values in column order (the driver takes tuples)."""
        names, converted = self.names, self.converted
        out = []
        for row in rows:
            values = list(map(row.get, names))
            for index, convert in converted:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            out.append(tuple(values))
        return out


@dataclass(frozen=True)
class PostgresCopy:
    """A table's rows written on PostgreSQL with one COPY instead of one INSERT per row.

    Each value goes through the column type's own bind processor (JSON through the
    engine's serializer, as an INSERT would send it), so the stored rows, and so their
    seals, are those an INSERT stores.
    """

    statement: str
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    @classmethod
    def of(cls, table: Table, dialect: Dialect) -> PostgresCopy:
        """Prepare the COPY of a table's columns."""
        preparer = dialect.identifier_preparer
        names = [column.name for column in table.columns]
        target = preparer.format_table(table)
        quoted = ", ".join(preparer.quote(name) for name in names)
        processors = tuple((name, table.c[name].type._cached_bind_processor(dialect)) for name in names)
        return cls(f"COPY {target} ({quoted}) FROM STDIN", processors)

    def values(self, rows: list[dict[str, Any]]) -> list[list[Any]]:
        """Return each row's values in column order, as COPY takes them."""
        columns = self.columns
        return [
            [
                value if value is None or convert is None else convert(value)
                for name, convert in columns
                for value in (row.get(name),)
            ]
            for row in rows
        ]

    def write(self, conn: Connection, values: list[list[Any]]) -> None:
        """Write rows (as `values` returns them) in the connection's transaction."""
        raw = conn.connection.dbapi_connection
        if raw is None:
            raise RuntimeError("the read models' connection is closed")
        cursor = cast("psycopg.Cursor[Any]", raw.cursor())
        try:
            with cursor.copy(self.statement) as copy:
                for row in values:
                    copy.write_row(row)
        finally:
            cursor.close()


def make_engine(location: Location) -> Engine:
    """Create the engine of a store's read models.

    On SQLite a write transaction starts with BEGIN IMMEDIATE (it takes the
    database's write lock at once, so two catch-ups never interleave) unless the
    connection is marked read-only; the driver's own transaction handling is
    switched off so SQLAlchemy's BEGIN is the one that counts.
    """
    if location.kind == "sqlite":
        engine = create_engine(
            location.sqlalchemy_url,
            connect_args={"timeout": 30},
            json_serializer=_json_serializer,
            json_deserializer=orjson.loads,
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")
            # The store is in WAL mode; NORMAL skips the fsync on each commit. A page lost to a
            # power cut is rolled back whole (rows and position together) and simply applied again.
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            read_only = connection.get_execution_options().get("careledger_read_only", False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        location.sqlalchemy_url,
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=True,
        json_serializer=_json_serializer,
        json_deserializer=orjson.loads,
    )
