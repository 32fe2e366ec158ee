"""The one way the runner's parameters become SQL literals on Spark and dlt's destinations
(warehouse/sqltext.py): each value written in, then the statement written in each dialect and
parsed back."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest
import sqlglot

from warehouse.sqltext import bind, literal


def _value(expr_sql: str) -> object:
    return duckdb.connect().execute(f"select {expr_sql}").fetchall()[0][0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (42, 42),
        (1.5, 1.5),
        (True, True),
        ("it's 100%", "it's 100%"),
        (dt.date(2026, 12, 6), dt.date(2026, 12, 6)),
        (dt.datetime(2026, 12, 6, 7, 30), dt.datetime(2026, 12, 6, 7, 30)),
        # an aware time is written as its UTC wall-clock time
        (dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), dt.datetime(2026, 12, 6, 7, 30)),
        (math.inf, math.inf),
        (-math.inf, -math.inf),
    ],
)
def test_literal_reads_back_as_the_value(value: object, expected: object) -> None:
    assert _value(literal(value).sql(dialect="duckdb")) == expected


def test_nan_is_a_cast_not_a_bare_word() -> None:
    text = literal(math.nan).sql(dialect="duckdb")
    assert "CAST" in text.upper()
    assert math.isnan(_value(text))  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["spark", "snowflake", "bigquery", "redshift", "tsql", "postgres"])
def test_bound_statement_is_written_and_parsed_back_in_each_dialect(dialect: str) -> None:
    statement = bind(
        "update supportlake.sync_runs set status = %s, finished_at = %s, rows = %s"
        " where run_id = %s and note like 'a%'",
        ["failed", dt.datetime(2026, 12, 6, 7, 30, tzinfo=dt.UTC), math.inf, "r1"],
    )
    text = statement.sql(dialect=dialect)
    for value in ("'failed'", "'r1'", "'a%'"):
        assert value in text
    for marker in ("?", "%s"):
        assert marker not in text
    sqlglot.parse_one(text, read=dialect)


def test_marker_and_value_counts_must_agree() -> None:
    with pytest.raises(ValueError, match="2 parameter markers in the statement, 1 values given"):
        bind("select %s, %s", [1])


def test_question_mark_markers_when_the_statement_is_in_another_dialect() -> None:
    text = bind("select ? as a", [7], read="spark").sql(dialect="spark")
    assert text == "SELECT 7 AS a"
