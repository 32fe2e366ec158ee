"""SQL dialects: models are written once in DuckDB's dialect and transpiled with sqlglot.

``transpile(sql, "postgres")`` reads DuckDB SQL and writes it for the destination. For PostgreSQL
it uses :class:`SupportlakePostgres`, sqlglot's own Postgres dialect with a few DuckDB idioms that
sqlglot leaves untranslated rewritten into equivalent PostgreSQL (each one is proven to give the
same result on both engines in ``tests/transforms/test_constructs.py``):

- ``regexp_extract(s, pattern[, group])`` → ``regexp_match`` (``''`` when nothing matches, as in
  DuckDB);
- ``regexp_extract_all(s, pattern[, group])`` → an array of ``regexp_matches(..., 'g')``, so
  ``unnest(regexp_extract_all(...))`` gives one row per match on both engines;
- ``string_split(s, sep)`` → ``string_to_array(s, sep)``;
- ``make_date(y, m, d)`` → ``make_date(y, m, d)`` (sqlglot would write ``date_from_parts``);
- JSON extraction (``->``, ``->>``, ``json_extract_string``) on a text column casts it to
  ``JSON`` first: raw JSON columns are text in every warehouse (``connectors/arrow.py``).

Anything sqlglot cannot express for the destination raises instead of producing SQL that
silently means something else (``unsupported_level=RAISE``).
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.generators.postgres import PostgresGenerator

from common.errors import ConfigError

READ = "duckdb"
"""The dialect every model is written in."""

DIALECTS = ("duckdb", "postgres", "spark", "snowflake", "bigquery", "databricks", "redshift", "tsql", "clickhouse")
"""Destinations models are transpiled for: run on the first three (Spark: the rewrites of
:mod:`transforms.dialect_spark`, which Databricks gets too), transpiled and parsed for the rest
(the dlt destinations of :mod:`warehouse.engines`; ``tsql``: SQL Server)."""

_ALIASES = {"postgresql": "postgres", "motherduck": "duckdb"}


def _regexp_group(e: exp.Expr) -> tuple[exp.Expr, int]:
    """The pattern and the 1-based group to read from ``regexp_match``: group 0 (the whole match)
    becomes group 1 of the pattern wrapped in parentheses."""
    pattern = e.expression
    group = e.args.get("group")
    n = int(group.name) if isinstance(group, exp.Literal) and group.is_int else 0
    if group is not None and not (isinstance(group, exp.Literal) and group.is_int):
        raise sqlglot.errors.UnsupportedError("regexp_extract: the group must be an integer literal")
    if n == 0:
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            pattern = exp.Literal.string(f"({pattern.name})")
        else:
            pattern = exp.DPipe(
                this=exp.DPipe(this=exp.Literal.string("("), expression=pattern), expression=exp.Literal.string(")")
            )
        n = 1
    return pattern, n


def _regexp_extract_sql(self: PostgresGenerator, e: exp.RegexpExtract) -> str:
    this = self.sql(e, "this")
    pattern, n = _regexp_group(e)
    match = f"(REGEXP_MATCH({this}, {self.sql(pattern)}))[{n}]"
    return f"CASE WHEN {this} IS NULL THEN NULL ELSE COALESCE({match}, '') END"


def _regexp_extract_all_sql(self: PostgresGenerator, e: exp.RegexpExtractAll) -> str:
    this = self.sql(e, "this")
    pattern, n = _regexp_group(e)
    each = f"REGEXP_MATCHES({this}, {self.sql(pattern)}, 'g') AS _r(_m)"
    # SQL generated from a parsed query, not from values:
    matches = f"ARRAY(SELECT COALESCE(_m[{n}], '') FROM {each})"
    return f"CASE WHEN {this} IS NULL THEN NULL ELSE {matches} END"


def _split_sql(self: PostgresGenerator, e: exp.Split) -> str:
    return str(self.func("STRING_TO_ARRAY", e.this, e.expression))


def _make_date_sql(self: PostgresGenerator, e: exp.DateFromParts) -> str:
    return str(self.func("MAKE_DATE", e.args.get("year"), e.args.get("month"), e.args.get("day")))


def _as_json(node: exp.Expr) -> exp.Expr:
    """``node`` cast to JSON unless it already is JSON (a cast or another extraction)."""
    if isinstance(node, exp.Cast) and node.to.this in (exp.DataType.Type.JSON, exp.DataType.Type.JSONB):
        return node
    if isinstance(node, exp.JSONExtract | exp.JSONExtractScalar | exp.ParseJSON):
        return node
    return exp.cast(node, exp.DataType.build("JSON"))


def _json_on_text(base: Any) -> Any:
    """Wrap sqlglot's generator of a JSON extraction so its operand is cast to JSON first."""

    def sql(self: PostgresGenerator, e: exp.Expr) -> str:
        e = e.copy()
        e.set("this", _as_json(e.this))
        return str(base(self, e))

    return sql


class SupportlakePostgres(Postgres):
    """sqlglot's Postgres, plus the rewrites listed in the module docstring."""

    class Generator(PostgresGenerator):
        TRANSFORMS = {
            **PostgresGenerator.TRANSFORMS,
            exp.RegexpExtract: _regexp_extract_sql,
            exp.RegexpExtractAll: _regexp_extract_all_sql,
            exp.Split: _split_sql,
            exp.DateFromParts: _make_date_sql,
            exp.JSONExtract: _json_on_text(PostgresGenerator.TRANSFORMS[exp.JSONExtract]),
            exp.JSONExtractScalar: _json_on_text(PostgresGenerator.TRANSFORMS[exp.JSONExtractScalar]),
        }


def dialect(name: str) -> Dialect:
    """The sqlglot dialect that writes SQL for destination ``name`` (see :data:`DIALECTS`)."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DIALECTS:
        raise ConfigError(f"unknown SQL dialect {name!r}: use one of {', '.join(DIALECTS)}")
    if key == "postgres":
        return SupportlakePostgres()
    if key in ("spark", "databricks"):
        from transforms.dialect_spark import SupportlakeDatabricks, SupportlakeSpark

        return SupportlakeSpark() if key == "spark" else SupportlakeDatabricks()
    return Dialect.get_or_raise(key)


def parse(sql: str) -> exp.Query:
    """Parse one DuckDB query (a ``SELECT``, CTEs and set operations allowed).

    Raises :class:`sqlglot.errors.ParseError` for anything else, with the reason.
    """
    statements = [s for s in sqlglot.parse(sql, read=READ) if s is not None]
    if len(statements) != 1:
        raise ParseError(f"expected exactly one SELECT statement, found {len(statements)} statements")
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise ParseError(f"expected a SELECT statement, found {query.key.upper()}")
    return query


def generate(query: exp.Expr, name: str, *, pretty: bool = False) -> str:
    """SQL text of a parsed query for destination ``name``; raises when sqlglot cannot express it."""
    return query.sql(dialect=dialect(name), pretty=pretty, unsupported_level=ErrorLevel.RAISE)


def transpile(sql: str, name: str, *, pretty: bool = False) -> str:
    """One DuckDB query → the same query for destination ``name``."""
    return generate(parse(sql), name, pretty=pretty)
