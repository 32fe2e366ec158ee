"""Apache Spark (local mode) as the engine of the whole model graph.

The three simulators are synced into DuckDB (as ``supportlake demo`` does) and built there; the raw
tables go to Spark as Parquet files, registered as tables of the same names; the same runner builds
every model with Spark SQL (``--warehouse spark``), and every model table equals the DuckDB build,
row by row (floats within 1e-9 relative). Run by ``nox -s spark`` (which ``nox -s tests`` starts).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from common.errors import ConfigError
from transforms.runner import TransformError, build, default_models
from warehouse.demo import run_demo
from warehouse.spark import SparkConnection
from warehouse.target import parse_target

from .conftest import write_models

pytestmark = pytest.mark.spark

RAW_SCHEMAS = ("zendesk", "salesforce", "confluence", "inputs")


@pytest.fixture(scope="module")
def duck_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sync of the three simulators into DuckDB, built there; the DuckDB file."""
    path = tmp_path_factory.mktemp("spark_e2e") / "wh.duckdb"
    url = f"duckdb:///{path}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUPPORTLAKE_HOME", str(tmp_path_factory.mktemp("home")))
        mp.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        assert run_demo(url, tickets=300, seed=11) == 0
        build(parse_target(url))
    return path


def _hand_raw_tables_to_spark(spark: Any, duck: Path, folder: Path) -> list[str]:
    """Every raw table (not dlt's own) as Parquet, registered in Spark under the same name."""
    con = duckdb.connect(str(duck), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            f"and table_schema in ({', '.join(repr(s) for s in RAW_SCHEMAS)}) and table_name not like '\\_dlt%' "
            "escape '\\' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            target = folder / schema / table
            target.mkdir(parents=True)
            parquet = target / "part.parquet"
            con.execute(f'copy (select * from "{schema}"."{table}") to \'{parquet}\' (format parquet)')
    finally:
        con.close()
    for schema in sorted({s for s, _ in tables}):
        spark.sql(f"create schema if not exists `{schema}`")
    for schema, table in tables:
        spark.sql(f"create table `{schema}`.`{table}` using parquet location '{folder / schema / table}'")
    return [f"{s}.{t}" for s, t in tables]


def _norm(value: Any) -> Any:
    return float(value) if isinstance(value, decimal.Decimal) else value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, type(v).__name__, v if v is not None else 0) for v in row)


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _differences(name: str, columns: list[str], left: list[tuple[Any, ...]], right: list[tuple[Any, ...]]) -> list[str]:
    left = sorted((tuple(_norm(v) for v in r) for r in left), key=_sort_key)
    right = sorted((tuple(_norm(v) for v in r) for r in right), key=_sort_key)
    out = [f"{name}: {len(left)} rows on DuckDB, {len(right)} on Spark"] if len(left) != len(right) else []
    for a, b in zip(left, right, strict=False):
        diffs = [(c, x, y) for c, x, y in zip(columns, a, b, strict=True) if not _same(x, y)]
        if diffs:
            out.append(f"{name}: {diffs[:3]}")
            break
    return out


def test_every_model_on_spark_equals_the_duckdb_build(spark_session: Any, duck_build: Path, tmp_path: Path) -> None:
    raw = _hand_raw_tables_to_spark(spark_session, duck_build, tmp_path / "raw")
    assert {"zendesk.tickets", "salesforce.case", "confluence.pages"} <= set(raw)

    results = build(parse_target("spark"))

    models = default_models()
    assert [r.model for r in results] == [m.key for m in models]
    spark = SparkConnection(spark=spark_session)
    duck = duckdb.connect(str(duck_build), read_only=True)
    problems: list[str] = []
    try:
        for model in models:
            table = f'"{model.schema}"."{model.name}"'
            columns = [
                str(r[0])
                for r in duck.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [model.schema, model.name],
                ).fetchall()
            ]
            spark_columns = [f.name for f in spark_session.table(f"`{model.schema}`.`{model.name}`").schema.fields]
            if spark_columns != columns:
                problems.append(f"{model.key}: columns {columns} on DuckDB, {spark_columns} on Spark")
                continue
            problems += _differences(model.key, columns, duck.execute(f"select * from {table}").fetchall(),
                                     spark.query(f"select * from {table}"))  # fmt: skip
    finally:
        duck.close()
    assert not problems, "\n".join(problems)
    marts = {r.model: r.rows for r in results if r.model.startswith("marts.")}
    assert marts["marts.fct_tickets"] > 0
    assert marts["marts.agg_kpi_monthly"] > 0


def test_a_failing_model_keeps_its_previous_table_on_spark(spark_session: Any, tmp_path: Path) -> None:
    target = parse_target("spark")
    models = write_models(tmp_path / "ok", {"marts/sl_spark_probe.sql": "select 1 as a, 'x' as b"})
    assert [r.rows for r in build(target, models)] == [1]
    failing = write_models(tmp_path / "bad", {"marts/sl_spark_probe.sql": "select 1 / 0 as a, 'y' as b"})
    with pytest.raises(TransformError, match=r"model marts\.sl_spark_probe .* failed on spark: .*DIVIDE_BY_ZERO"):
        build(target, failing)
    con = SparkConnection(spark=spark_session)
    assert con.query("select a, b from marts.sl_spark_probe") == [(1, "x")]
    assert con.query("select table_name from information_schema.tables where table_schema = %s", ["marts"]).count(
        ("sl_spark_probe__sl_new",)
    ) in (0, 1)  # the half-built table may stay; the next build drops it first


def test_a_build_that_lost_its_lock_publishes_nothing_on_spark(spark_session: Any, tmp_path: Path) -> None:
    """Spark has no transaction to roll back: the lock is verified before the first table is
    swapped, so a build that lost it leaves every table the previous build's."""
    from warehouse.lock import LockLost
    from warehouse.target import home

    target = parse_target("spark")
    files = {"marts/sl_lost_a.sql": "select 1 as a", "marts/sl_lost_b.sql": "select a from marts.sl_lost_a"}
    build(target, write_models(tmp_path / "one", files))
    files = {"marts/sl_lost_a.sql": "select 2 as a", "marts/sl_lost_b.sql": "select a from marts.sl_lost_a"}

    def lose_the_lock(_: Any) -> None:
        for lock_file in (home() / "locks").glob("spark-*.lock"):
            lock_file.unlink()

    with pytest.raises(LockLost):
        build(target, write_models(tmp_path / "two", files), on_result=lose_the_lock)
    con = SparkConnection(spark=spark_session)
    assert con.query("select a from marts.sl_lost_a") == [(1,)]
    assert con.query("select a from marts.sl_lost_b") == [(1,)]


def test_spark_connection_speaks_the_runners_sql(spark_session: Any) -> None:
    con = SparkConnection(spark=spark_session)
    con.execute('create schema if not exists "sl_conn"')
    con.execute('drop table if exists "sl_conn"."t"')
    con.execute('create table "sl_conn"."t" (name VARCHAR, n BIGINT, at TIMESTAMP, d DATE, x DOUBLE PRECISION)')
    when = dt.datetime(2024, 3, 5, 10, 20, 30)
    con.execute(
        "insert into sl_conn.t values (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
        ["it's 50%", 1, when, dt.date(2024, 3, 5), 0.5, None, None, None, None, None],
    )
    assert con.query("select name, n, at, d, x from sl_conn.t where n = %s", [1]) == [
        ("it's 50%", 1, when, dt.date(2024, 3, 5), 0.5)
    ]
    assert con.query("select count(*) from sl_conn.t where name is null") == [(2 - 1,)]
    # parameters bind in the order written, whatever the nesting
    assert con.query("select %s as a, x from (select %s as x) as s where x <> %s", ["one", "two", "three"]) == [
        ("one", "two")
    ]
    assert con.query(
        "select column_name, data_type, ordinal_position from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        ["sl_conn", "t"],
    ) == [("name", "string", 1), ("n", "bigint", 2), ("at", "timestamp_ntz", 3), ("d", "date", 4), ("x", "double", 5)]
    assert ("sl_conn", "t") in con.query(
        "select table_schema, table_name from information_schema.tables where table_schema in (%s)", ["sl_conn"]
    )
    with pytest.raises(ConfigError, match="Spark has no transactions"):
        con.execute("begin")
    con.execute('drop schema "sl_conn" cascade')


def test_the_construct_guide_gives_the_same_rows_on_spark(spark_session: Any) -> None:
    """Every construct of ``transforms/models/README.md``'s guide (``test_constructs.CASES``) on
    Spark, transpiled as the runner does, gives the rows DuckDB and PostgreSQL give. ``distinct on``
    is compared without its row order: sqlglot rewrites it into a subquery that drops the final
    ``ORDER BY`` (a model's table has no order anyway)."""
    from transforms.dialect import transpile

    from .test_constructs import CASES, SEED
    from .test_constructs import _norm as norm

    con = SparkConnection(spark=spark_session)
    con.execute("drop schema if exists guide cascade")
    con.execute("create schema guide")
    # The seed writes timestamps as text, which DuckDB and PostgreSQL cast on insert; Spark's ANSI
    # store assignment refuses that, its legacy one casts.
    spark_session.conf.set("spark.sql.storeAssignmentPolicy", "LEGACY")
    try:
        for statement in SEED:
            con.execute(statement)
    finally:
        spark_session.conf.set("spark.sql.storeAssignmentPolicy", "ANSI")
    failures = []
    for name, sql, expected in CASES:
        want = [tuple(norm(v) for v in row) for row in expected]
        try:
            got = [tuple(norm(v) for v in row) for row in con.query_verbatim(transpile(sql, "spark"))]
        except Exception as exc:
            got = [("error", str(exc).splitlines()[0])]
        if name == "distinct on":
            want, got = sorted(want, key=_sort_key), sorted(got, key=_sort_key)
        if got != want:
            failures.append(f"{name}: expected {want}, Spark gave {got}")
    con.execute("drop schema guide cascade")
    assert not failures, "\n".join(failures)


def test_the_cli_builds_on_spark(spark_session: Any, tmp_path: Path) -> None:
    """``supportlake build --warehouse spark:local[1]`` in its own process (its own Spark): with no
    raw table in the catalog, the model reads its typed stand-in and builds empty."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SUPPORTLAKE_HOME": str(tmp_path / "home")}
    args = ["build", "--warehouse", "spark:local[1]", "--select", "stg_zendesk__tickets"]
    proc = subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=tmp_path,  # Spark's default warehouse folder lands here
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"staging\.stg_zendesk__tickets\s+0 rows", proc.stdout), proc.stdout
    assert "(stand-in for zendesk.tickets)" in proc.stdout
    assert "1 model(s) built" in proc.stdout
