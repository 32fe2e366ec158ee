"""Apache Spark as the engine of the transforms: a DB-API-like connection over a SparkSession.

``--warehouse spark:local[4]`` (or ``spark://host:7077``, ``spark:yarn``, or plain ``spark``: the
session already active in the process, else ``local[*]``) runs ``supportlake build`` with Spark SQL
against the tables of the session's catalog — whatever ``spark-defaults.conf`` configures (a Hive
metastore, Unity Catalog, ...). dlt has no Spark destination: ``supportlake sync`` loads a local
DuckDB landing file and publishes the raw tables from it into that catalog
(:mod:`warehouse.spark_landing`); ``kpis`` and ``export-hyper`` read through this connection.

:class:`SparkConnection` speaks the runner's :class:`warehouse.sql.Connection` protocol:

- ``execute`` and ``query`` take the runner's own statements, written in DuckDB's SQL with ``%s``
  parameters: sqlglot transpiles them to Spark SQL, and the parameters are written into the text
  as SQL literals by sqlglot (``NULL``, numbers, quoted and escaped strings, timestamps) — Spark's
  ``spark.sql`` has no bound parameters that take every Python value;
- ``execute_verbatim`` runs SQL already written for Spark (a model rendered by
  :mod:`transforms.dialect`), exactly as given; the session runs with ANSI mode and
  ``spark.sql.ansi.doubleQuotedIdentifiers``, so the runner's ``"schema"."table"`` names work;
- ``information_schema.tables`` (``table_schema``, ``table_name``, ``table_type``: ``BASE TABLE``
  or ``VIEW``), ``information_schema.columns`` (also ``column_name``, ``data_type`` in Spark's
  names, ``ordinal_position``, ``is_nullable``) and ``information_schema.schemata``
  (``schema_name``), which Spark's session catalog does not have, are answered from the catalog
  through temporary views, so the runner's, the settings' and the readers' look-ups work as
  written;
- ``read_arrow`` runs a query (DuckDB's SQL, transpiled) and returns its rows as a
  ``pyarrow.Table`` (``DataFrame.toArrow``), the way ``export-hyper`` reads a table;
- there are no transactions (:attr:`SparkConnection.transactional` is False): ``begin``,
  ``commit`` and ``rollback`` are refused, and :func:`warehouse.sql.transaction` runs its block
  statement by statement. How a build publishes its tables on Spark is in :mod:`transforms.runner`.

The session runs in UTC (``spark.sql.session.timeZone``), like the runner's DuckDB and PostgreSQL
sessions; timestamps read back by :meth:`SparkConnection.query` are UTC wall-clock times without a
zone, whatever the Python process's own time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from common.errors import ConfigError
from warehouse.sqltext import bind
from warehouse.target import Target

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    # CREATE TABLE without USING makes a data source table (Spark 4's default), not a Hive one.
    "spark.sql.legacy.createHiveTableByDefault": "false",
}
"""Session settings every supportlake connection sets (runtime SQL settings; the session's other
settings are left as the user configured them)."""

_INFO_VIEWS = {
    "tables": "sl_information_schema_tables",
    "columns": "sl_information_schema_columns",
    "schemata": "sl_information_schema_schemata",
}
_NO_TRANSACTIONS = ("begin", "commit", "rollback", "start transaction")


def session(master: str | None) -> Any:
    """The active SparkSession of this process, else a new one on ``master`` (``local[*]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "--warehouse spark: pyspark is not installed: pip install 'supportlake[spark]' (and a Java 17+ runtime)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master or "local[*]").appName("supportlake")
    spark = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's own WARN lines would bury the build's summary
    return spark


class SparkConnection:
    """The runner's connection protocol over ``spark.sql`` (see the module docstring)."""

    kind = "spark"
    transactional = False

    def __init__(self, target: Target | None = None, *, spark: Any = None) -> None:
        self._spark = spark if spark is not None else session(target.master if target else None)
        for key, value in SESSION_CONF.items():
            self._spark.conf.set(key, value)

    @property
    def spark(self) -> Any:
        return self._spark

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(self._spark_sql(sql, params))

    def execute_verbatim(self, sql: str) -> None:
        """Run ``sql`` exactly as written: Spark SQL (a rendered model), no parameters."""
        self._run(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.query_verbatim(self._spark_sql(sql, params))

    def query_verbatim(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of ``sql``, Spark SQL run exactly as written; timestamps as UTC wall clock."""
        frame = self._spark.sql(sql)
        zoned = [i for i, f in enumerate(frame.schema.fields) if f.dataType.typeName() == "timestamp"]
        rows = [tuple(r) for r in frame.collect()]
        if not zoned:
            return rows
        return [tuple(_utc(v) if i in zoned else v for i, v in enumerate(row)) for row in rows]

    def read_arrow(self, sql: str) -> Any:
        """The rows of ``sql`` (DuckDB's SQL, transpiled; no parameters) as a ``pyarrow.Table``:
        ``TIMESTAMP`` columns come as UTC instants, ``TIMESTAMP_NTZ`` as wall-clock times."""
        return self._spark.sql(self._spark_sql(sql, ())).toArrow()

    def close(self) -> None:
        """The session stays: it belongs to the process (other connections, the caller's own)."""
        for view in _INFO_VIEWS.values():
            self._spark.catalog.dropTempView(view)

    def _run(self, sql: str) -> None:
        if sql.strip().rstrip(";").strip().lower() in _NO_TRANSACTIONS:
            raise ConfigError(f"Spark has no transactions: {sql.strip()!r} cannot run (see warehouse/spark.py)")
        self._spark.sql(sql)

    def _spark_sql(self, sql: str, params: Sequence[Any]) -> str:
        """DuckDB SQL with ``%s`` parameters → Spark SQL with the values written in as literals."""
        if sql.strip().rstrip(";").strip().lower() in _NO_TRANSACTIONS:
            return sql
        statement = bind(sql, params)
        self._information_schema(statement)
        return statement.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)

    def _information_schema(self, statement: exp.Expr) -> None:
        """Point ``information_schema.tables|columns`` at temporary views of the catalog, listing
        only the schemas the statement names in ``table_schema = …`` / ``in (…)`` when it does."""
        wanted: dict[str, exp.Table] = {}
        for table in statement.find_all(exp.Table):
            if table.db.lower() == "information_schema" and table.name.lower() in _INFO_VIEWS:
                wanted.setdefault(table.name.lower(), table)
        if not wanted:
            return
        if "schemata" in wanted:
            names = [(str(r[0]),) for r in self._spark.sql("show schemas").collect()]
            self._temp_view("schemata", ["schema_name"], names)
        schemas = _filter(statement, "table_schema")
        tables: list[tuple[str, str, str, list[tuple[Any, ...]]]] = []
        if "tables" in wanted or "columns" in wanted:
            tables = self._catalog_tables(schemas, _filter(statement, "table_name"), "columns" in wanted)
        if "tables" in wanted:
            self._temp_view(
                "tables", ["table_schema", "table_name", "table_type"], [(s, t, k) for s, t, k, _ in tables]
            )
        if "columns" in wanted:
            columns = ["table_schema", "table_name", "column_name", "data_type", "ordinal_position", "is_nullable"]
            self._temp_view("columns", columns, [row for *_, cols in tables for row in cols])
        for name, table in wanted.items():
            for node in list(statement.find_all(exp.Table)):
                if node.db.lower() == "information_schema" and node.name.lower() == name:
                    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
                    node.replace(exp.Table(this=exp.to_identifier(_INFO_VIEWS[name]), alias=alias))

    def _catalog_tables(
        self, schemas: set[str] | None, tables: set[str] | None, with_columns: bool
    ) -> list[tuple[str, str, str, list[tuple[Any, ...]]]]:
        """(schema, table, ``BASE TABLE`` or ``VIEW``, columns) of the catalog's tables; columns
        only when asked (each table's schema is read: the slow part on a large catalog)."""
        names = [r[0] for r in self._spark.sql("show schemas").collect()]
        out: list[tuple[str, str, str, list[tuple[Any, ...]]]] = []
        for schema in sorted(n for n in names if schemas is None or n.lower() in schemas):
            views = {r["viewName"] for r in self._spark.sql(f"show views in `{schema}`").collect()}
            for row in self._spark.sql(f"show tables in `{schema}`").collect():
                table, temporary = row["tableName"], row["isTemporary"]
                if temporary or (tables is not None and table.lower() not in tables):
                    continue
                cols: list[tuple[Any, ...]] = []
                if with_columns:
                    fields = self._spark.table(f"`{schema}`.`{table}`").schema.fields
                    cols = [
                        (schema, table, f.name, _type_name(f.dataType.simpleString()), i, "YES" if f.nullable else "NO")
                        for i, f in enumerate(fields, start=1)
                    ]
                out.append((schema, table, "VIEW" if table in views else "BASE TABLE", cols))
        return out

    def _temp_view(self, name: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        from pyspark.sql.types import IntegerType, StringType, StructField, StructType

        schema = StructType(
            [StructField(c, IntegerType() if c == "ordinal_position" else StringType()) for c in columns]
        )
        self._spark.createDataFrame(rows, schema).createOrReplaceTempView(_INFO_VIEWS[name])


def _filter(statement: exp.Expr, name: str) -> set[str] | None:
    """Values named by ``<name> = 'x'`` or ``<name> in ('x', …)`` (``table_schema``, ``table_name``);
    None: any."""
    found: set[str] = set()
    for node in statement.find_all(exp.EQ, exp.In):
        column = node.this
        if not (isinstance(column, exp.Column) and column.name.lower() == name):
            continue
        values = node.expressions if isinstance(node, exp.In) else [node.expression]
        if not values or not all(isinstance(v, exp.Literal) and v.is_string for v in values):
            return None
        found.update(v.name.lower() for v in values)
    return found or None


def _type_name(data_type: str) -> str:
    """Spark's type name as ``information_schema.columns.data_type`` would say it, lower case."""
    return str(data_type).lower()


def _utc(value: Any) -> Any:
    """pyspark returns TIMESTAMP values as naive times of the Python process's zone: UTC wall clock."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
