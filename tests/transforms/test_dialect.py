"""Transpiling: every fixture model for every destination, parsed back by that destination."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.errors import ParseError, UnsupportedError

from common.errors import ConfigError
from transforms.dialect import DIALECTS, transpile
from transforms.graph import Model, discover

from .conftest import FIXTURES

FIXTURE_MODELS = [m for folder in ("project", "failing", "missing_column") for m in discover(FIXTURES / folder)]


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize("model", FIXTURE_MODELS, ids=lambda m: m.key)
def test_every_fixture_model_transpiles_and_parses(model: Model, name: str) -> None:
    sql = transpile(model.sql, name)
    parsed = sqlglot.parse_one(sql, read=name)
    assert parsed is not None
    # What each model reads survives the trip.
    read_back = {f"{t.db}.{t.name}".lower() for t in parsed.find_all(sqlglot.exp.Table) if t.db}
    assert set(model.reads) <= read_back


def test_postgres_rewrites() -> None:
    sql = transpile(
        "select regexp_extract(s, 'a(b)', 1) as g, regexp_extract(s, 'ab') as w, "
        "unnest(regexp_extract_all(s, '[0-9]+')) as n, string_split(s, ',') as parts, "
        "j ->> 'k' as k from t",
        "postgres",
    )
    assert "REGEXP_MATCH(s, 'a(b)'))[1]" in sql
    assert "REGEXP_MATCH(s, '(ab)'))[1]" in sql
    assert "REGEXP_MATCHES(s, '([0-9]+)', 'g')" in sql
    assert "STRING_TO_ARRAY(s, ',')" in sql
    assert "CAST(j AS JSON)" in sql
    assert transpile("select 1 as a", "postgresql") == "SELECT 1 AS a"


def test_unknown_dialect_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown SQL dialect 'oracle'"):
        transpile("select 1 as a", "oracle")


def test_what_cannot_be_written_raises_instead_of_guessing() -> None:
    with pytest.raises(UnsupportedError):
        transpile("select any_value(a) as a from t", "postgres")


def test_only_one_select_is_accepted() -> None:
    with pytest.raises(ParseError, match="exactly one"):
        transpile("select 1 as a; select 2 as b", "postgres")
    with pytest.raises(ParseError, match="expected a SELECT"):
        transpile("delete from t", "postgres")


@pytest.mark.parametrize("name", ["spark", "databricks"])
def test_spark_rewrites(name: str) -> None:
    """What sqlglot's Spark dialect gets wrong for DuckDB SQL (``transforms/dialect_spark.py``);
    the rows are proven on a real Spark by ``test_spark_build.py``."""
    sql = transpile(
        "select g.d, extract(dow from g.d) as dow, extract(isodow from g.d) as iso, epoch(ts) as e, "
        "ts at time zone 'UTC' as utc, ((l at time zone tz) at time zone 'UTC') as local_to_utc, "
        "date_diff('minute', a, b) as mi, concat(x, '-', n) as c, n / 60.0 as h "
        "from t, generate_series(t.a, t.b, INTERVAL 1 DAY) as g(d)",
        name,
    )
    assert "LATERAL (SELECT EXPLODE(SEQUENCE(t.a, t.b, INTERVAL '1' DAY)) AS d) AS g" in sql
    assert "(EXTRACT(DAYOFWEEK FROM g.d) - 1) AS dow" in sql
    assert "EXTRACT(DAYOFWEEK_ISO FROM g.d) AS iso" in sql
    assert "CAST(UNIX_MICROS(CAST(ts AS TIMESTAMP)) AS DOUBLE) / 1000000 AS e" in sql
    assert "CAST(ts AS TIMESTAMP_NTZ) AS utc" in sql
    assert "CAST(TO_UTC_TIMESTAMP(l, tz) AS TIMESTAMP_NTZ)" in sql
    assert "TIMESTAMPDIFF(MINUTE, DATE_TRUNC('MINUTE', a), DATE_TRUNC('MINUTE', b)) AS mi" in sql
    assert "CONCAT_WS('', CAST(x AS STRING), CAST('-' AS STRING), CAST(n AS STRING)) AS c" in sql
    assert "n / CAST(60.0 AS DOUBLE) AS h" in sql
    quantiles = transpile(
        "select quantile_cont(v, 0.9) as p, percentile_cont(0.5) within group (order by v) as m from t", name
    )
    assert "PERCENTILE(v, 0.9) AS p" in quantiles
    assert "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v" in quantiles


def test_spark_refuses_what_it_cannot_tell_apart() -> None:
    with pytest.raises(UnsupportedError, match="at time zone"):
        transpile("select ts at time zone 'Europe/Paris' as t from x", "spark")
    with pytest.raises(UnsupportedError, match="week"):
        transpile("select date_diff('week', a, b) as w from x", "spark")
