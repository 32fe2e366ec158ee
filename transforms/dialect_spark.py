"""Spark SQL for the models: sqlglot's Spark dialect plus the DuckDB idioms it gets wrong (the same
rewrites serve Databricks, whose SQL is Spark's).

Each rewrite gives on Spark the rows the model gives on DuckDB (proven by
``tests/transforms/test_spark_build.py``, which builds every model on both and compares the marts):

- a set-returning ``generate_series(a, b, step) as g(d)`` / ``range(a, b) as r(i)`` in ``FROM`` →
  ``LATERAL (SELECT EXPLODE(SEQUENCE(a, b, step)) AS d) AS g`` (sqlglot would write an invalid call);
- ``ts at time zone 'UTC'`` (an instant → its UTC wall-clock time) → ``CAST(ts AS TIMESTAMP_NTZ)``,
  and ``(local at time zone tz) at time zone 'UTC'`` (a wall-clock time in ``tz`` → UTC wall
  clock) → ``CAST(TO_UTC_TIMESTAMP(local, tz) AS TIMESTAMP_NTZ)``; both need the session in UTC,
  which :mod:`warehouse.spark` sets. Any other ``at time zone`` raises: DuckDB's meaning depends on
  the operand's type, which sqlglot does not know;
- ``extract(dow from d)`` (DuckDB: Sunday 0 … Saturday 6; Spark's ``DOW`` counts from 1) →
  ``(EXTRACT(DAYOFWEEK FROM d) - 1)``, ``extract(isodow from d)`` → ``EXTRACT(DAYOFWEEK_ISO FROM d)``;
- ``epoch(ts)`` (seconds with their fraction, a DOUBLE; sqlglot writes ``UNIX_TIMESTAMP``, which
  drops the fraction) → ``CAST(UNIX_MICROS(CAST(ts AS TIMESTAMP)) AS DOUBLE) / 1000000``;
- ``quantile_cont(x, q)`` → ``PERCENTILE(x, q)`` (exact, interpolated) and ``quantile_disc(x, q)``
  → ``PERCENTILE_DISC(q) WITHIN GROUP (ORDER BY x)`` (sqlglot writes a two-argument
  ``PERCENTILE_CONT`` that Spark refuses); the standard ``percentile_cont(q) within group (order
  by x)`` stays exact (sqlglot would write the approximate ``PERCENTILE_APPROX``);
- ``date_diff(unit, a, b)`` counts the unit's boundaries crossed (DuckDB) where Spark's
  ``DATEDIFF(unit, a, b)`` counts whole units: → ``TIMESTAMPDIFF(unit, DATE_TRUNC(unit, a),
  DATE_TRUNC(unit, b))`` for second, minute, hour, day, month, quarter and year (week raises:
  DuckDB and PostgreSQL disagree on it already, see ``transforms/models/README.md``);
- ``concat(a, '-', b)`` (NULL reads as empty, numbers as text) → ``CONCAT_WS('', CAST(a AS
  STRING), …)`` (sqlglot's ``COALESCE(b, '')`` fails on a number in ANSI mode);
- a decimal literal in a division (``minutes / 60.0``) is a DOUBLE: DuckDB divides decimals as
  doubles, Spark in DECIMAL arithmetic rounded to 6 places, which a sum of many quotients shows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.dialects.databricks import Databricks
from sqlglot.dialects.spark import Spark
from sqlglot.errors import UnsupportedError
from sqlglot.generators.databricks import DatabricksGenerator
from sqlglot.generators.spark import SparkGenerator

_Sql = Callable[..., str]


def _is_utc(zone: exp.Expr | None) -> bool:
    return isinstance(zone, exp.Literal) and zone.is_string and zone.name.upper() in ("UTC", "ETC/UTC", "Z")


def _at_time_zone_sql(self: SparkGenerator, e: exp.AtTimeZone) -> str:
    inner = e.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if not _is_utc(e.args.get("zone")):
        raise UnsupportedError(
            "at time zone: Spark takes only `ts at time zone 'UTC'` or `(local at time zone tz) at time zone 'UTC'`"
        )
    if isinstance(inner, exp.AtTimeZone):
        local = self.func("TO_UTC_TIMESTAMP", inner.this, inner.args.get("zone"))
        return f"CAST({local} AS TIMESTAMP_NTZ)"
    return f"CAST({self.sql(e, 'this')} AS TIMESTAMP_NTZ)"


def _extract_sql(base: _Sql) -> _Sql:
    def sql(self: SparkGenerator, e: exp.Extract) -> str:
        unit = e.this.name.upper() if isinstance(e.this, exp.Var | exp.Identifier) else ""
        if unit == "DOW":
            return f"(EXTRACT(DAYOFWEEK FROM {self.sql(e, 'expression')}) - 1)"
        if unit == "ISODOW":
            return f"EXTRACT(DAYOFWEEK_ISO FROM {self.sql(e, 'expression')})"
        return str(base(self, e))

    return sql


def _epoch_sql(self: SparkGenerator, e: exp.TimeToUnix) -> str:
    return f"CAST(UNIX_MICROS(CAST({self.sql(e, 'this')} AS TIMESTAMP)) AS DOUBLE) / 1000000"


def _quantile_sql(base: _Sql, spark_name: str) -> _Sql:
    def sql(self: SparkGenerator, e: exp.PercentileCont | exp.PercentileDisc) -> str:
        q = e.args.get("expression")
        if q is None:  # the standard form, inside WITHIN GROUP
            return str(base(self, e))
        if spark_name == "PERCENTILE":
            return str(self.func("PERCENTILE", e.this, q))
        return f"PERCENTILE_DISC({self.sql(q)}) WITHIN GROUP (ORDER BY {self.sql(e, 'this')})"

    return sql


def _as_double(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.name:
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    return node


def _div_sql(base: _Sql) -> _Sql:
    def sql(self: SparkGenerator, e: exp.Div) -> str:
        this, other = _as_double(e.this), _as_double(e.expression)
        if this is not e.this or other is not e.expression:
            e = e.copy()
            e.set("this", this)
            e.set("expression", other)
        return str(base(self, e))

    return sql


def _within_group_sql(base: _Sql) -> _Sql:
    def sql(self: SparkGenerator, e: exp.WithinGroup) -> str:
        inner = e.this
        if isinstance(inner, exp.PercentileCont | exp.PercentileDisc) and inner.args.get("expression") is None:
            name = "PERCENTILE_CONT" if isinstance(inner, exp.PercentileCont) else "PERCENTILE_DISC"
            return f"{name}({self.sql(inner, 'this')}) WITHIN GROUP ({self.sql(e, 'expression').strip()})"
        return str(base(self, e))

    return sql


_BOUNDARY_UNITS = ("SECOND", "MINUTE", "HOUR", "DAY", "MONTH", "QUARTER", "YEAR")


def _date_diff_sql(base: _Sql) -> _Sql:
    def sql(self: SparkGenerator, e: exp.DateDiff) -> str:
        unit = e.args.get("unit")
        name = unit.name.upper() if unit is not None else "DAY"
        if name == "WEEK" or (e.args.get("date_part_boundary") and name not in _BOUNDARY_UNITS):
            raise UnsupportedError(
                f"date_diff({name.lower()!r}, …): no Spark equivalent counts its boundaries as DuckDB does"
                + (" (weeks: write date_diff('day', a, b) // 7)" if name == "WEEK" else "")
            )
        if not e.args.get("date_part_boundary"):
            return str(base(self, e))
        start, end = self.sql(e, "expression"), self.sql(e, "this")
        return f"TIMESTAMPDIFF({name}, DATE_TRUNC('{name}', {start}), DATE_TRUNC('{name}', {end}))"

    return sql


def _concat_sql(base: _Sql) -> _Sql:
    def sql(self: SparkGenerator, e: exp.Concat) -> str:
        if not e.args.get("coalesce"):
            return str(base(self, e))
        parts = ", ".join(f"CAST({self.sql(x)} AS STRING)" for x in e.expressions)
        return f"CONCAT_WS('', {parts})"

    return sql


def _table_sql(base: _Sql) -> _Sql:
    """``generate_series``/``range`` as a table → a lateral subquery exploding a ``SEQUENCE``."""

    def sql(self: SparkGenerator, e: exp.Table) -> str:
        series = e.this
        if not isinstance(series, exp.GenerateSeries):
            return str(base(self, e))
        alias = e.args.get("alias")
        columns = alias.columns if alias is not None else []
        if alias is None or len(columns) != 1:
            raise UnsupportedError("generate_series/range in FROM needs an alias with one column: as g(d)")
        sequence = self.sql(series)  # SEQUENCE(a, b[, step]) (range's exclusive end already applied)
        column = self.sql(columns[0])
        name = self.sql(alias, "this")
        lateral = "LATERAL " if isinstance(e.parent, exp.Join) else ""
        return f"{lateral}(SELECT EXPLODE({sequence}) AS {column}) AS {name}"

    return sql


def _default(self: SparkGenerator, e: exp.Expr) -> str:
    """What the generator writes for ``e`` without a TRANSFORMS entry: its ``<key>_sql`` method."""
    handler = getattr(self, f"{e.key}_sql", None)
    if handler is not None:
        return str(handler(e))
    assert isinstance(e, exp.Func), e.key
    return str(self.function_fallback_sql(e))


def rewrites(base: dict[type[exp.Expr], _Sql]) -> dict[type[exp.Expr], _Sql]:
    """The generator TRANSFORMS of the rewrites, over a Spark-family generator's own ``base``."""

    def of(key: type[exp.Expr]) -> _Sql:
        return base.get(key, _default)

    return {
        **base,
        exp.AtTimeZone: _at_time_zone_sql,
        exp.Extract: _extract_sql(of(exp.Extract)),
        exp.TimeToUnix: _epoch_sql,
        exp.Div: _div_sql(of(exp.Div)),
        exp.PercentileCont: _quantile_sql(of(exp.PercentileCont), "PERCENTILE"),
        exp.PercentileDisc: _quantile_sql(of(exp.PercentileDisc), "PERCENTILE_DISC"),
        exp.WithinGroup: _within_group_sql(of(exp.WithinGroup)),
        exp.DateDiff: _date_diff_sql(of(exp.DateDiff)),
        exp.Concat: _concat_sql(of(exp.Concat)),
        exp.Table: _table_sql(of(exp.Table)),
    }


class SupportlakeSpark(Spark):
    """sqlglot's Spark, plus the rewrites listed in the module docstring."""

    class Generator(SparkGenerator):
        TRANSFORMS = rewrites(SparkGenerator.TRANSFORMS)


class SupportlakeDatabricks(Databricks):
    """sqlglot's Databricks (Spark SQL underneath) with the same rewrites; transpiled and parsed
    back in the tests, never executed."""

    class Generator(DatabricksGenerator):
        TRANSFORMS = rewrites(DatabricksGenerator.TRANSFORMS)
