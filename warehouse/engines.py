"""What supportlake needs to know of each dlt SQL destination it runs on: one row of data each.

The generic path (:mod:`warehouse.dlt_sql`) writes every statement once, in DuckDB's SQL, and
runs it through dlt's own connection to the destination; an :class:`Engine` says how:

- ``dialect``: the sqlglot dialect the runner's statements are transpiled to, and ``models``: the
  one the models are rendered for (:mod:`transforms.dialect`, with supportlake's rewrites where it
  has them: PostgreSQL, Databricks);
- ``begin`` / ``commit`` / ``rollback``: the statements of a transaction that DDL joins (``None``:
  the engine commits each statement, DDL included — Snowflake, BigQuery, Databricks, ClickHouse),
  and ``snapshot``: the one that starts a read-only consistent snapshot for ``export-hyper``;
- ``publish``: how a build replaces its published tables (:data:`PUBLISH`);
- ``utc``: the statement that puts a session in UTC (``None``: the engine's timestamps carry no
  session zone);
- ``upsert``: whether ``insert … on conflict do nothing returning`` and ``update … returning``
  exist, which the lease's atomic take uses (:mod:`warehouse.lease`); without them the lease is
  taken by write-then-read-back;
- ``info_schema``: where ``information_schema`` lives when it is not a schema of the database
  (BigQuery: ``region-<location>``, one view over every dataset of the project in that region).

The rows are data, checked by tests (tests/unit/test_engines.py: every runner statement and every
publish step transpiles and parses in each dialect), so adding an engine is adding a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from common.errors import ConfigError


@dataclass(frozen=True)
class Step:
    """One statement of a publish: a template over ``{old}`` (the published table, qualified),
    ``{new}`` (the staged one, qualified) and ``{name}`` (the published table's bare name), written
    in ``written_in`` (DuckDB's SQL unless the statement exists only in the engine's own)."""

    template: str
    written_in: str = "duckdb"


@dataclass(frozen=True)
class Publish:
    """How a staged table (``<name>__sl_new``) replaces the published one.

    ``steps``: when the published table exists; ``first``: when it does not (the first build).
    ``whole_build``: the steps of every table run in one transaction, so readers see one build or
    the other; otherwise each table is replaced atomically on its own (readers may see tables of
    both builds for the seconds the publish takes, never a missing or half-written table)."""

    name: str
    steps: tuple[Step, ...]
    first: tuple[Step, ...]
    whole_build: bool


_RENAME = Step("alter table {new} rename to {name}")

PUBLISH: Mapping[str, Publish] = {
    p.name: p
    for p in (
        # Transactional DDL: drop and rename every table in one transaction (DuckDB, PostgreSQL,
        # Redshift, SQL Server).
        Publish("rename", (Step("drop table if exists {old}"), _RENAME), (_RENAME,), whole_build=True),
        # Snowflake: SWAP WITH exchanges the two tables in one atomic statement; the old build's
        # data, now under the staged name, is dropped.
        Publish(
            "swap",
            (Step("alter table {new} swap with {old}", written_in="snowflake"), Step("drop table {new}")),
            (_RENAME,),
            whole_build=False,
        ),
        # BigQuery, Databricks (Delta): CREATE OR REPLACE is one atomic commit of the table.
        Publish(
            "replace",
            (Step("create or replace table {old} as select * from {new}"), Step("drop table {new}")),
            (Step("create or replace table {old} as select * from {new}"), Step("drop table {new}")),
            whole_build=False,
        ),
        # ClickHouse: EXCHANGE TABLES swaps two tables atomically (Atomic database engine).
        Publish(
            "exchange",
            (Step("exchange tables {new} and {old}", written_in="clickhouse"), Step("drop table {new}")),
            (Step("rename table {new} to {old}", written_in="clickhouse"),),
            whole_build=False,
        ),
    )
}


@dataclass(frozen=True)
class Engine:
    """One dlt destination's SQL facts (see the module docstring)."""

    destination: str
    dialect: str
    models: str
    publish: str
    begin: str | None
    commit: str = "commit"
    rollback: str = "rollback"
    snapshot: str | None = None
    utc: str | None = None
    upsert: bool = False
    info_schema: str | None = None

    @property
    def transactional(self) -> bool:
        return self.begin is not None


_DUCKDB = Engine(
    "duckdb",
    "duckdb",
    "duckdb",
    "rename",
    begin="begin",
    snapshot="begin transaction",
    utc="set TimeZone = 'UTC'",
    upsert=True,
)
_TSQL = {"begin": "begin transaction", "commit": "commit transaction", "rollback": "rollback transaction"}

ENGINES: Mapping[str, Engine] = {
    e.destination: e
    for e in (
        _DUCKDB,
        replace(_DUCKDB, destination="motherduck"),
        Engine(
            "postgres",
            "postgres",
            "postgres",
            "rename",
            begin="begin",
            snapshot="begin transaction isolation level repeatable read, read only",
            utc="set time zone 'UTC'",
            upsert=True,
        ),
        Engine(
            "redshift",
            "redshift",
            "redshift",
            "rename",
            begin="begin",
            snapshot="begin transaction isolation level serializable, read only",
            utc="set timezone to 'UTC'",
        ),
        Engine("snowflake", "snowflake", "snowflake", "swap", begin=None, utc="alter session set timezone = 'UTC'"),
        Engine("bigquery", "bigquery", "bigquery", "replace", begin=None, info_schema="region"),
        Engine("databricks", "databricks", "databricks", "replace", begin=None, utc="set time zone 'UTC'"),
        Engine(
            "mssql", "tsql", "tsql", "rename", begin=_TSQL["begin"], commit=_TSQL["commit"], rollback=_TSQL["rollback"]
        ),
        Engine("clickhouse", "clickhouse", "clickhouse", "exchange", begin=None),
    )
}
"""dlt destination → its engine. Executed in tests: ``duckdb`` and ``postgres``; the others are
transpiled and parsed (tests/unit/test_engines.py), not run."""


def engine(destination: str) -> Engine:
    """The :class:`Engine` of dlt destination ``destination``, or a :class:`ConfigError` naming the
    destinations supportlake can run on."""
    try:
        return ENGINES[destination]
    except KeyError:
        raise ConfigError(
            f"dlt destination {destination!r} is not one supportlake can run its run log, lock and models on "
            f"(no SQL mapping for it); use one of {', '.join(sorted(ENGINES))}"
        ) from None
