"""The DuckDB ↔ PostgreSQL guide of ``transforms/models/README.md``, proven.

Each recommended construct is written in DuckDB's dialect, run on DuckDB as the runner runs it
(parsed and written back by sqlglot) and on PostgreSQL transpiled, and must give the expected
rows on both. The seed table ``guide.t`` has the column types a sync loads (timestamps with time
zone, JSON as text).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from transforms.dialect import transpile

SEED = [
    """create table guide.t (
        id bigint, a text, b bigint, x text, ts timestamp with time zone, email text, flag boolean, body text
    )""",
    """insert into guide.t values
    (1, 'alpha', 3, '{"a": "1", "n": {"b": 2}, "tags": ["vip", "eu"]}', '2024-03-05 10:20:30+00',
     ' Ann@Example.COM ', true,
     'see https://acme.atlassian.net/wiki/spaces/KB/pages/98765/Reset and https://acme.zendesk.com/hc/en-us/articles/360001-Reset'),
    (2, 'beta', 7, '{"a": "x"}', '2024-03-31 23:59:59+00', 'bob@foo.org', false, 'no links'),
    (3, null, null, null, null, null, null, null)""",
]

D = dt.date
T = dt.datetime

# (name, DuckDB SQL, expected rows). Every query orders its rows.
CASES: list[tuple[str, str, list[tuple[Any, ...]]]] = [
    # --- casts and time zones
    ("cast text to timestamp", "select '2024-03-05 10:20:30'::TIMESTAMP as t", [(T(2024, 3, 5, 10, 20, 30),)]),
    ("utc wall clock", "select id, ts at time zone 'UTC' as t from guide.t order by id",
     [(1, T(2024, 3, 5, 10, 20, 30)), (2, T(2024, 3, 31, 23, 59, 59)), (3, None)]),
    ("cast timestamptz to timestamp", "select id, ts::TIMESTAMP as t from guide.t order by id",
     [(1, T(2024, 3, 5, 10, 20, 30)), (2, T(2024, 3, 31, 23, 59, 59)), (3, None)]),
    ("cast to date", "select id, ts::DATE as d from guide.t order by id",
     [(1, D(2024, 3, 5)), (2, D(2024, 3, 31)), (3, None)]),
    ("casts",
     "select id, b::DOUBLE as f, b::VARCHAR as s, flag::INTEGER as i, '42'::BIGINT as n from guide.t order by id",
     [(1, 3.0, "3", 1, 42), (2, 7.0, "7", 0, 42), (3, None, None, None, 42)]),
    # --- dates and durations
    ("date_trunc month", "select id, date_trunc('month', ts)::DATE as m from guide.t order by id",
     [(1, D(2024, 3, 1)), (2, D(2024, 3, 1)), (3, None)]),
    ("date_trunc week (ISO, Monday)", "select id, date_trunc('week', ts)::DATE as w from guide.t order by id",
     [(1, D(2024, 3, 4)), (2, D(2024, 3, 25)), (3, None)]),
    ("epoch", "select id, epoch(ts) as e from guide.t order by id",
     [(1, 1709634030.0), (2, 1711929599.0), (3, None)]),
    ("elapsed minutes",
     "select id, (epoch(TIMESTAMP '2024-03-05 12:00:00') - epoch(ts::TIMESTAMP)) / 60.0 as m "
     "from guide.t order by id",
     [(1, 99.5), (2, -38159.983333), (3, None)]),
    ("date_diff minute/hour/day/month (boundaries crossed)",
     "select id, date_diff('minute', ts, TIMESTAMP '2024-03-05 12:00:00') as mi, "
     "date_diff('hour', ts, TIMESTAMP '2024-03-05 12:00:00') as h, "
     "date_diff('day', ts, TIMESTAMP '2024-04-01 00:00:00') as d, "
     "date_diff('month', ts, TIMESTAMP '2024-06-01 00:00:00') as mo from guide.t order by id",
     [(1, 100, 2, 27, 3), (2, -38159, -635, 1, 3), (3, None, None, None, None)]),
    ("interval arithmetic",
     "select id, ts::TIMESTAMP + INTERVAL 1 DAY as d, ts::TIMESTAMP + INTERVAL '90 minutes' as m, "
     "ts::TIMESTAMP - INTERVAL 1 MONTH as p from guide.t order by id",
     [(1, T(2024, 3, 6, 10, 20, 30), T(2024, 3, 5, 11, 50, 30), T(2024, 2, 5, 10, 20, 30)),
      (2, T(2024, 4, 1, 23, 59, 59), T(2024, 4, 1, 1, 29, 59), T(2024, 2, 29, 23, 59, 59)),
      (3, None, None, None)]),
    ("extract",
     "select id, extract(year from ts) as y, extract(month from ts) as m, extract(dow from ts) as dow, "
     "extract(isodow from ts) as isodow, extract(hour from ts) as h, year(ts) as y2 from guide.t order by id",
     [(1, 2024, 3, 2, 2, 10, 2024), (2, 2024, 3, 0, 7, 23, 2024), (3, None, None, None, None, None, None)]),
    ("strftime",
     "select id, strftime(ts, '%Y-%m') as ym, strftime(ts::DATE, '%Y-%m-%d') as ymd from guide.t order by id",
     [(1, "2024-03", "2024-03-05"), (2, "2024-03", "2024-03-31"), (3, None, None)]),
    ("last_day and make_date",
     "select id, last_day(ts::DATE) as l, make_date(2024, 2, 29) as m from guide.t order by id",
     [(1, D(2024, 3, 31), D(2024, 2, 29)), (2, D(2024, 3, 31), D(2024, 2, 29)), (3, None, D(2024, 2, 29))]),
    ("date spine",
     "select d::DATE as day "
     "from generate_series(DATE '2024-02-28', DATE '2024-03-01', INTERVAL 1 DAY) as g(d) order by day",
     [(D(2024, 2, 28),), (D(2024, 2, 29),), (D(2024, 3, 1),)]),
    ("range of integers", "select i from range(1, 4) as r(i) order by i", [(1,), (2,), (3,)]),
    # --- JSON kept as text by the loader
    ("json ->> on text",
     "select id, x ->> 'a' as a, x ->> '$.a' as a2, x -> 'n' ->> 'b' as b, x ->> '$.n.b' as b2 "
     "from guide.t order by id",
     [(1, "1", "1", "2", "2"), (2, "x", "x", None, None), (3, None, None, None, None)]),
    ("json_extract_string", "select id, json_extract_string(x, '$.n.b') as b from guide.t order by id",
     [(1, "2"), (2, None), (3, None)]),
    ("json array element and length",
     "select id, x -> 'tags' ->> 0 as first_tag, json_array_length((x -> 'tags')) as n from guide.t order by id",
     [(1, "vip", 2), (2, None, None), (3, None, None)]),
    ("json value cast", "select id, (x ->> '$.n.b')::BIGINT as b from guide.t order by id",
     [(1, 2), (2, None), (3, None)]),
    # --- text and regular expressions
    ("text functions",
     "select id, lower(trim(email)) as e, split_part(lower(trim(email)), '@', 2) as domain, "
     "starts_with(a, 'al') as s, strpos(a, 'ph') as p, left(a, 2) as l, right(a, 2) as r, "
     "replace(a, 'a', 'o') as rep, length(a) as n, a || '-' || b as cat, concat(a, '-', b) as cat2, "
     "upper(a) as u, substring(a, 2, 3) as sub from guide.t order by id",
     [(1, "ann@example.com", "example.com", True, 3, "al", "ha", "olpho", 5, "alpha-3", "alpha-3", "ALPHA", "lph"),
      (2, "bob@foo.org", "foo.org", False, 0, "be", "ta", "beto", 4, "beta-7", "beta-7", "BETA", "eta"),
      (3, None, None, None, None, None, None, None, None, None, "-", None, None)]),
    ("ilike and regexp_matches",
     "select id, a ilike 'AL%' as i, regexp_matches(email, 'fo+') as r from guide.t order by id",
     [(1, True, False), (2, False, True), (3, None, None)]),
    ("regexp_replace",
     "select id, regexp_replace(email, '^.*@', '') as first, regexp_replace(a, 'a', 'A', 'g') as every "
     "from guide.t order by id",
     [(1, "Example.COM ", "AlphA"), (2, "foo.org", "betA"), (3, None, None)]),
    ("regexp_extract",
     "select id, regexp_extract(body, 'pages/([0-9]+)', 1) as page, "
     "regexp_extract(body, 'articles/[0-9]+') as art from guide.t order by id",
     [(1, "98765", "articles/360001"), (2, "", ""), (3, None, None)]),
    ("unnest regexp_extract_all",
     "select id, unnest(regexp_extract_all(body, '(pages|articles)/([0-9]+)', 2)) as ref "
     "from guide.t order by id, ref",
     [(1, "360001"), (1, "98765")]),
    ("unnest string_split", "select id, unnest(string_split(a, 'l')) as part from guide.t where id = 1 order by part",
     [(1, "a"), (1, "pha")]),
    ("unnest list literal", "select id, unnest([10, 20]) as v from guide.t where id < 3 order by id, v",
     [(1, 10), (1, 20), (2, 10), (2, 20)]),
    ("md5", "select id, md5(a) as h from guide.t order by id",
     [(1, "2c1743a391305fbf367df8e4f069f9f9"), (2, "987bcab01b929eb2c07877b224215c92"), (3, None)]),
    # --- aggregates
    ("filtered counts",
     "select count(*) filter (where b > 3) as f, count_if(b > 3) as c, count(distinct flag) as d, "
     "count(b) as n from guide.t",
     [(1, 1, 2, 2)]),
    ("sum and avg with final casts",
     "select sum(b)::BIGINT as s, avg(b)::DOUBLE as a, min(a) as lo, max(ts)::TIMESTAMP as hi from guide.t",
     [(10, 5.0, "alpha", T(2024, 3, 31, 23, 59, 59))]),
    ("median and quantiles",
     "select median(b) as m, quantile_cont(b, 0.9) as q, quantile_disc(b, 0.5) as d from guide.t",
     [(5.0, 6.6, 3)]),
    ("bool aggregates", "select bool_or(flag) as any_, bool_and(flag) as all_ from guide.t", [(True, False)]),
    ("string_agg", "select string_agg(a, ',' order by a) as s from guide.t", [("alpha,beta",)]),
    ("group by ordinals", "select flag, count(*) as n from guide.t group by 1 order by 1 nulls last",
     [(False, 1), (True, 1), (None, 1)]),
    # --- arithmetic and conditionals
    ("true division and integer division",
     "select 7 / 2 as d, 7 // 2 as i, b / 2 as h, b % 2 as r from guide.t where id = 2",
     [(3.5, 3, 3.5, 1)]),
    ("rounding",
     "select id, round(b / 3.0, 2) as r, ceil(b / 2.0) as c, floor(b / 2.0) as f from guide.t order by id",
     [(1, 1.0, 2, 1), (2, 2.33, 4, 3), (3, None, None, None)]),
    ("conditionals",
     "select id, coalesce(b, 0) as c, ifnull(a, '-') as i, nullif(b, 3) as n, greatest(1, b, 5) as g, "
     "least(4, b) as l, case when flag then 'y' when not flag then 'n' else '?' end as k from guide.t order by id",
     [(1, 3, "alpha", None, 5, 3, "y"), (2, 7, "beta", 7, 7, 4, "n"), (3, 0, "-", None, 5, 4, "?")]),
    # --- windows and de-duplication
    ("latest row per key (row_number in a CTE)",
     "with ranked as (select id, flag, row_number() over (partition by flag order by id desc) as rn from guide.t) "
     "select id from ranked where rn = 1 order by id",
     [(1,), (2,), (3,)]),
    ("distinct on", "select distinct on (flag) flag, id from guide.t order by flag, id desc",
     [(False, 2), (True, 1), (None, 3)]),
    ("lag and running sum",
     "select id, lag(b) over (order by id) as prev, "
     "sum(b) over (order by id rows between unbounded preceding and current row)::BIGINT as run "
     "from guide.t order by id",
     [(1, None, 3), (2, 3, 10), (3, 7, 10)]),
    ("exists and in",
     "select id, exists (select 1 from guide.t as u where u.b > t.b) as e, b in (3, 4) as i "
     "from guide.t as t order by id",
     [(1, True, True), (2, False, False), (3, False, None)]),
]  # fmt: skip

NAMES = [c[0] for c in CASES]


def _norm(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float):
        return round(value, 6)
    return value


class Engine:
    """A raw DB-API connection: the SQL runs as written (``%`` is no parameter marker)."""

    def __init__(self, kind: str, con: Any) -> None:
        self.kind = kind
        self.con = con

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        cur = self.con.cursor()
        try:
            cur.execute(sql)
            return [tuple(_norm(v) for v in row) for row in cur.fetchall()]
        finally:
            cur.close()

    def execute(self, sql: str) -> None:
        cur = self.con.cursor()
        try:
            cur.execute(sql)
        finally:
            cur.close()

    def seed(self) -> Engine:
        self.execute("set time zone 'UTC'" if self.kind == "postgres" else "set TimeZone = 'UTC'")
        self.execute("create schema guide")
        for statement in SEED:
            self.execute(statement)
        return self


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    con = duckdb.connect(str(tmp_path_factory.mktemp("guide") / "constructs.duckdb"))
    yield Engine("duckdb", con).seed()
    con.close()


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    import psycopg2

    con = psycopg2.connect(pg_url)
    con.autocommit = True
    yield Engine("postgres", con).seed()
    con.close()


@pytest.mark.parametrize(("name", "sql", "expected"), CASES, ids=NAMES)
def test_construct_on_duckdb(duck: Engine, name: str, sql: str, expected: list[tuple[Any, ...]]) -> None:
    assert duck.rows(transpile(sql, "duckdb")) == [tuple(_norm(v) for v in row) for row in expected]


@pytest.mark.postgres
def test_constructs_on_postgres_equal_duckdb(duck: Engine, pg: Engine) -> None:
    """One database for all cases (a fresh database per case would be slow)."""
    failures = []
    for name, sql, _ in CASES:
        want = duck.rows(transpile(sql, "duckdb"))
        try:
            got = pg.rows(transpile(sql, "postgres"))
        except Exception as exc:
            got = [("error", str(exc).strip())]
        if got != want:
            failures.append(f"{name}: duckdb {want} != postgres {got}")
    assert not failures, "\n".join(failures)


TYPES_SQL = (
    "select count(*) as n, sum(b)::BIGINT as s, avg(b)::DOUBLE as a, median(b)::DOUBLE as m, "
    "max(extract(year from ts))::BIGINT as y, max(epoch(ts))::DOUBLE as e, "
    "max(date_diff('day', ts, TIMESTAMP '2024-04-01 00:00:00'))::BIGINT as dd, "
    "max(ts at time zone 'UTC') as t, max(ts::DATE) as d, bool_or(flag) as f, max(a)::VARCHAR as v from guide.t"
)
SAME_TYPE = {"varchar": "text", "double": "double precision", "timestamp": "timestamp without time zone"}


@pytest.mark.postgres
def test_final_casts_give_the_same_column_types(duck: Engine, pg: Engine) -> None:
    """Aggregates differ in type (DuckDB's sum is HUGEINT, PostgreSQL's NUMERIC): the final casts
    of the guide make the built tables identical, as Tableau and the contract tests expect."""
    types = {}
    for con in (duck, pg):
        con.execute(f"create table guide.types as {transpile(TYPES_SQL, con.kind)}")
        rows = con.rows(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'guide' and table_name = 'types' order by ordinal_position"
        )
        types[con.kind] = [(c, SAME_TYPE.get(str(t).lower(), str(t).lower())) for c, t in rows]
        con.execute("drop table guide.types")
    assert types["duckdb"] == types["postgres"]
    assert dict(types["duckdb"]) == {
        "n": "bigint", "s": "bigint", "a": "double precision", "m": "double precision", "y": "bigint",
        "e": "double precision", "dd": "bigint", "t": "timestamp without time zone", "d": "date", "f": "boolean",
        "v": "text",
    }  # fmt: skip
