"""The runner's statements for engines without bound parameters of every type (Spark, dlt's
``sql_client``): DuckDB SQL with ``%s`` markers parsed by sqlglot, each value written in as an SQL
literal, ready to be written in the engine's dialect.

One place for this so that every such engine writes a value the same way: timestamps as UTC
wall-clock ``TIMESTAMP``, dates as ``DATE``, infinities and NaN as a cast of their name (no
literal spells them), the rest as sqlglot writes them (``NULL``, numbers, booleans, escaped
strings). A ``%`` that is not a marker (``like 'a%'``) stays what it is.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp


def bind(sql: str, params: Sequence[Any] = (), *, read: str = "duckdb") -> exp.Expr:
    """``sql`` parsed (``read``: its dialect) with its ``%s`` markers (DuckDB SQL) or ``?``
    markers replaced, in the order written, by ``params`` as literals."""
    statement = sqlglot.parse_one(sql.replace("%s", "?") if read == "duckdb" else sql, read=read)
    placeholders = list(statement.find_all(exp.Placeholder, bfs=False))  # in the order written
    if len(placeholders) != len(params):
        raise ValueError(f"{len(placeholders)} parameter markers in the statement, {len(params)} values given")
    for node, value in zip(placeholders, params, strict=True):
        node.replace(literal(value))
    return statement


def literal(value: Any) -> exp.Expr:
    """A Python value as an SQL literal (see the module's text)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, float) and not math.isfinite(value):
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("DOUBLE"))
    return exp.convert(value)
