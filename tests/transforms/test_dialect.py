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
