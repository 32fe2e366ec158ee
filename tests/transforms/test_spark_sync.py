"""``sync`` → ``build`` → ``kpis`` → ``export-hyper`` with ``--warehouse spark`` (local mode).

The three simulators are started once; every sync goes to both warehouses from the same running
simulators: Spark (through its landing DuckDB file, :mod:`warehouse.spark_landing`) and a plain
DuckDB warehouse, the reference. After a first sync, a change in every simulator and a second
(incremental) sync, every raw table in Spark equals the DuckDB one row by row, with no row twice;
then both are built, and every mart, the KPI report and the Tableau extracts agree. Run by ``nox -s
spark``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors import registry
from transforms.runner import build, default_models
from warehouse import spark_landing
from warehouse.demo import DEMO_INPUTS, _load_sample_inputs
from warehouse.inputs import load_input
from warehouse.spark import SparkConnection
from warehouse.sync import SyncResult, sync
from warehouse.target import Target, parse_target

from .test_spark_build import _differences

pytestmark = pytest.mark.spark

SEED, TICKETS = 5, 150
SPARK_SCHEMAS = (
    *registry.names(),
    "inputs",
    "supportlake",
    "supportlake_config",
    "supportlake_standins",
    "staging",
    "intermediate",
    "core",
    "marts",
)


@dataclass
class Run:
    home: Path
    duck: Target
    spark: Target
    first: tuple[SyncResult, SyncResult]  # (spark, duckdb)
    second: tuple[SyncResult, SyncResult]
    raw_after_first: list[str]  # differences between the two warehouses' raw tables
    published_second: list[spark_landing.Published]
    spark_session: Any


def _drop_spark_schemas(spark: Any) -> None:
    for schema in SPARK_SCHEMAS:
        spark.sql(f"drop schema if exists `{schema}` cascade")


@pytest.fixture(scope="module")
def run(spark_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("spark_sync")
    duck = parse_target(f"duckdb:///{folder / 'wh.duckdb'}")
    spark = parse_target("spark")  # the session this process started
    _drop_spark_schemas(spark_session)
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        mp.setenv("SUPPORTLAKE_HOME", str(folder / "home"))
        mp.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        simulators = []
        sources = []
        for spec in registry.specs():
            if spec.simulator is None:
                continue
            simulator = spec.simulator.create(SEED, TICKETS)
            url = stack.enter_context(simulator.serve())
            for key, value in spec.simulator.settings(simulator, url).items():
                mp.setenv(key, value)
            simulators.append(simulator)
            sources.append(spec.name)
        first = (sync(spark, sources), sync(duck, sources))
        raw_after_first = _raw_differences(duck, spark_session)
        for i, simulator in enumerate(simulators):
            simulator.mutate(seed=3 + i)
        second_spark = sync(spark, sources)
        published = spark_landing.publish(spark, sources)  # nothing changed since: nothing copied
        second = (second_spark, sync(duck, sources))
        _load_sample_inputs(duck, SEED)  # the demo's NPS and support cost files, beside the DuckDB file
        for kind in ("nps", "support_cost"):
            load_input(spark, kind, folder / DEMO_INPUTS / f"{kind}.csv", replace=True)
        build(duck)
        build(spark)
        yield Run(folder / "home", duck, spark, first, second, raw_after_first, published, spark_session)
    _drop_spark_schemas(spark_session)


def _value(v: Any) -> Any:
    """DuckDB gives instants as aware datetimes, Spark (through the connection) as UTC wall clock."""
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC).replace(tzinfo=None)
    return v


def _raw_tables(duck: Target) -> list[tuple[str, str, list[str]]]:
    assert duck.path is not None
    con = duckdb.connect(str(duck.path), read_only=True)
    try:
        names = ", ".join(f"'{s}'" for s in registry.names())
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            f"and table_schema in ({names}) and table_name not like '\\_dlt%' escape '\\' order by 1, 2"
        ).fetchall()
        return [
            (
                s,
                t,
                [
                    str(r[0])
                    for r in con.execute(
                        "select column_name from information_schema.columns where table_schema = ? "
                        "and table_name = ? order by ordinal_position",
                        [s, t],
                    ).fetchall()
                ],
            )
            for s, t in tables
        ]
    finally:
        con.close()


SYNC_TIMES = {"confluence": ("detected_at", "_sl_deleted_at")}
"""Columns holding when a sync noticed something (Confluence's purged pages: the run's clock), which
differ between the two warehouses' syncs by the seconds between them; left out of the comparison."""


def _raw_differences(duck: Target, spark_session: Any) -> list[str]:
    """Every raw table of the DuckDB warehouse against the same table in Spark: columns, rows
    (but :data:`SYNC_TIMES`)."""
    assert duck.path is not None
    spark = SparkConnection(spark=spark_session)
    problems: list[str] = []
    tables = _raw_tables(duck)
    assert len(tables) > 10
    con = duckdb.connect(str(duck.path), read_only=True)
    try:
        for schema, table, columns in tables:
            if not spark_session.catalog.tableExists(f"`{schema}`.`{table}`"):
                problems.append(f"{schema}.{table}: not in Spark")
                continue
            spark_columns = [f.name for f in spark_session.table(f"`{schema}`.`{table}`").schema.fields]
            if spark_columns != columns:
                problems.append(f"{schema}.{table}: columns {columns} on DuckDB, {spark_columns} on Spark")
                continue
            name = f'"{schema}"."{table}"'
            compared = [c for c in columns if c not in SYNC_TIMES.get(schema, ())]
            select = f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in compared)} from {name}"
            left = [tuple(_value(v) for v in r) for r in con.execute(select).fetchall()]
            problems += _differences(f"{schema}.{table}", compared, left, spark.query(select))
    finally:
        con.close()
    return problems


def test_the_first_sync_into_spark_equals_the_sync_into_duckdb(run: Run) -> None:
    spark_result, duck_result = run.first
    assert spark_result.ok, [(t.table_name, t.status, t.error) for t in spark_result.tables if t.status != "success"]
    assert duck_result.ok
    assert not run.raw_after_first, "\n".join(run.raw_after_first)
    rows = {(t.source, t.table_name): t.rows for t in spark_result.tables}
    assert rows == {(t.source, t.table_name): t.rows for t in duck_result.tables}
    assert rows[("zendesk", "tickets")] == TICKETS


def test_an_incremental_sync_into_spark_converges_without_duplicates(run: Run) -> None:
    spark_result, duck_result = run.second
    assert spark_result.ok
    assert duck_result.ok
    assert 0 < sum(t.rows for t in spark_result.tables) < sum(t.rows for t in run.first[0].tables)
    assert not _raw_differences(run.duck, run.spark_session)
    con = SparkConnection(spark=run.spark_session)
    for table, key in (("zendesk.tickets", "id"), ("salesforce.case", "id"), ("confluence.pages", "id")):
        total, distinct = con.query(f"select count(*), count(distinct {key}) from {table}")[0]
        assert total == distinct > 0, f"{table}: {total - distinct} rows twice"
    # unchanged since that sync: the publish right after it copied nothing
    assert run.published_second
    assert not [p.table for p in run.published_second if p.copied]


def test_the_run_log_and_the_quarantine_reach_spark(run: Run) -> None:
    con = SparkConnection(spark=run.spark_session)
    runs = con.query("select run_id, status, count(*) from supportlake.supportlake_runs group by 1, 2 order by 1")
    spark_runs = {run.first[0].run_id, run.second[0].run_id}
    assert {r[0] for r in runs} == spark_runs, runs  # the DuckDB runs are another warehouse's
    assert {r[1] for r in runs} == {"success"}
    con.query("select count(*) from supportlake.rejected_records")  # published, even empty
    assert not con.query(
        "select table_name from information_schema.tables where table_schema = %s and table_name like %s",
        ["supportlake", "%__sl_new"],
    )


def test_every_mart_built_on_synced_spark_equals_duckdb(run: Run) -> None:
    spark = SparkConnection(spark=run.spark_session)
    assert run.duck.path is not None
    duck = duckdb.connect(str(run.duck.path), read_only=True)
    problems: list[str] = []
    try:
        for model in (m for m in default_models() if m.schema == "marts"):
            table = f'"{model.schema}"."{model.name}"'
            columns = [d[0] for d in duck.execute(f"select * from {table} limit 0").description]
            left = duck.execute(f"select * from {table}").fetchall()
            problems += _differences(model.key, columns, left, spark.query(f"select * from {table}"))
    finally:
        duck.close()
    assert not problems, "\n".join(problems)
    assert spark.query("select count(*) from marts.fct_tickets")[0][0] > TICKETS
    nps = spark.query("select count(*) from marts.agg_kpi_monthly where kpi_name = 'nps'")[0][0]
    assert nps > 0  # from the input table load-input published


def test_kpis_on_spark_print_the_duckdb_report(run: Run) -> None:
    from warehouse.report import kpi_report

    report = kpi_report(run.spark)
    assert report == kpi_report(run.duck)
    assert "KPIs for" in report
    assert "First contact resolution" in report


def test_export_hyper_from_spark_writes_the_duckdb_extracts(run: Run, tmp_path: Path) -> None:
    import os

    try:
        import tableauhyperapi  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true requires tableauhyperapi (nox -s spark installs supportlake[tableau])")
        pytest.skip("tableauhyperapi is not installed (pip install 'supportlake[tableau]')")
    from warehouse.hyper import export_hyper

    from_spark = {Path(r.path).name: r.rows for r in export_hyper(run.spark, tmp_path / "spark")}
    from_duck = {Path(r.path).name: r.rows for r in export_hyper(run.duck, tmp_path / "duck")}
    assert from_spark == from_duck
    assert from_spark["fct_tickets.hyper"] > TICKETS
    assert _hyper_rows(tmp_path / "spark" / "fct_tickets.hyper") == _hyper_rows(tmp_path / "duck" / "fct_tickets.hyper")


def _hyper_rows(path: Path) -> list[tuple[Any, ...]]:
    import tableauhyperapi as hyper

    with (
        hyper.HyperProcess(hyper.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_config": ""}) as process,
        hyper.Connection(process.endpoint, str(path)) as con,
    ):
        rows = con.execute_list_query('select * from "Extract"."fct_tickets"')
    return sorted(tuple(str(v) for v in r) for r in rows)


# --------------------------------------------------------------------------- the publish step alone


def _landing_sql(target: Target, *statements: str) -> None:
    landing = spark_landing.landing_target(target)
    assert landing.path is not None
    con = duckdb.connect(str(landing.path))
    try:
        con.execute("set TimeZone = 'UTC'")
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def test_publish_keeps_every_type_and_replaces_only_what_changed(spark_session: Any) -> None:
    target = parse_target("spark")
    spark_session.sql("drop schema if exists sl_pub cascade")
    _landing_sql(
        target,
        "create schema sl_pub",
        "create table sl_pub.t (id bigint, happened timestamptz, wall timestamp, amount decimal(18, 4), ok boolean, "
        "doc json, day date, n integer, x double, name varchar)",
        "insert into sl_pub.t values (1, '2024-03-05 10:20:30.123456+00', '2024-03-05 23:59:59', 1234.5678, true, "
        "'{\"a\": [1, 2]}', '2024-02-29', 7, 0.1, 'it''s'), (2, null, null, null, null, null, null, null, null, null)",
        "create table sl_pub.same (k varchar)",
        "insert into sl_pub.same values ('x')",
        "create table sl_pub._dlt_loads (load_id varchar)",
    )
    first = spark_landing.publish(target, ["sl_pub"])
    assert {p.table: (p.rows, p.copied) for p in first} == {"sl_pub.t": (2, True), "sl_pub.same": (1, True)}
    assert not spark_session.catalog.tableExists("sl_pub._dlt_loads")
    types = [f.dataType.simpleString() for f in spark_session.table("sl_pub.t").schema.fields]
    assert types == [
        "bigint", "timestamp", "timestamp_ntz", "decimal(18,4)", "boolean", "string", "date", "int", "double", "string",
    ]  # fmt: skip
    con = SparkConnection(spark=spark_session)
    assert con.query("select * from sl_pub.t order by id") == [
        (
            1,
            dt.datetime(2024, 3, 5, 10, 20, 30, 123456),
            dt.datetime(2024, 3, 5, 23, 59, 59),
            __import__("decimal").Decimal("1234.5678"),
            True,
            '{"a": [1, 2]}',
            dt.date(2024, 2, 29),
            7,
            0.1,
            "it's",
        ),
        (2, None, None, None, None, None, None, None, None, None),
    ]
    assert con.query("select hour(happened) from sl_pub.t where id = 1") == [(10,)]  # an instant, read in UTC

    # a merge-like change (one row updated, a column added) replaces the table; the other stays
    _landing_sql(
        target, "update sl_pub.t set name = 'changed' where id = 2", "alter table sl_pub.t add column extra varchar"
    )
    second = {p.table: p.copied for p in spark_landing.publish(target, ["sl_pub"])}
    assert second == {"sl_pub.t": True, "sl_pub.same": False}
    assert con.query("select id, name, extra from sl_pub.t order by id") == [(1, "it's", None), (2, "changed", None)]

    # a table the catalog lost is published again; one the landing dropped is dropped from Spark
    spark_session.sql("drop table sl_pub.same")
    _landing_sql(target, "drop table sl_pub.t")
    third = {p.table: (p.copied, p.dropped) for p in spark_landing.publish(target, ["sl_pub"])}
    assert third == {"sl_pub.same": (True, False), "sl_pub.t": (False, True)}
    assert spark_session.catalog.tableExists("sl_pub.same")
    assert not spark_session.catalog.tableExists("sl_pub.t")
    assert not [t for t in spark_session.catalog.listTables("sl_pub") if t.name.endswith("__sl_new")]
    spark_session.sql("drop schema sl_pub cascade")


def test_publish_in_batches_and_empty_tables(spark_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    target = parse_target("spark")
    spark_session.sql("drop schema if exists sl_batch cascade")
    _landing_sql(
        target,
        "create schema sl_batch",
        "create table sl_batch.many as select range as id, range::varchar as s from range(2500)",
        "create table sl_batch.empty (id bigint, happened timestamptz)",
    )
    monkeypatch.setattr(spark_landing, "BATCH_ROWS", 1000)
    spark_landing.publish(target, ["sl_batch"])
    con = SparkConnection(spark=spark_session)
    assert con.query("select count(*), count(distinct id), max(id) from sl_batch.many") == [(2500, 2500, 2499)]
    assert con.query("select count(*) from sl_batch.empty") == [(0,)]
    assert [f.dataType.simpleString() for f in spark_session.table("sl_batch.empty").schema.fields] == [
        "bigint",
        "timestamp",
    ]
    spark_session.sql("drop schema sl_batch cascade")


def test_a_publish_that_lost_the_lock_replaces_nothing(spark_session: Any) -> None:
    from warehouse.lock import LockLost, RunLock
    from warehouse.target import home

    target = parse_target("spark")
    spark_session.sql("drop schema if exists sl_lost cascade")
    _landing_sql(target, "create schema sl_lost", "create table sl_lost.t as select 1 as a")
    spark_landing.publish(target, ["sl_lost"])
    _landing_sql(target, "update sl_lost.t set a = 2")
    with RunLock(target, lease_beat=0):
        for lock_file in (home() / "locks").glob("spark-*.lock"):
            lock_file.unlink()
        with pytest.raises(LockLost):
            spark_landing.publish(target, ["sl_lost"])
    assert SparkConnection(spark=spark_session).query("select a from sl_lost.t") == [(1,)]
    spark_session.sql("drop schema sl_lost cascade")


def test_the_cli_syncs_into_spark_and_another_process_builds_on_it(tmp_path: Path) -> None:
    """``supportlake sync`` and ``supportlake build`` with ``--warehouse spark:local[1]``, each in
    its own process with its own Spark, sharing a Hive metastore (Derby) and a warehouse folder
    configured in ``spark-defaults.conf``, as a deployment would: the build reads the raw table the
    sync published."""
    import os
    import subprocess
    import sys

    spec = registry.get("zendesk")
    assert spec.simulator is not None
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text(
        "spark.sql.catalogImplementation hive\n"
        f"spark.sql.warehouse.dir {tmp_path / 'warehouse'}\n"
        f"spark.hadoop.javax.jdo.option.ConnectionURL jdbc:derby:;databaseName={tmp_path / 'metastore'};create=true\n"
        "spark.sql.shuffle.partitions 1\n"
        "spark.ui.enabled false\n"
        "spark.driver.memory 1g\n",
        encoding="utf-8",
    )
    simulator = spec.simulator.create(SEED, 60)
    with simulator.serve() as url:
        env = {
            **os.environ,
            **spec.simulator.settings(simulator, url),
            "SPARK_CONF_DIR": str(conf),
            "SUPPORTLAKE_HOME": str(tmp_path / "home"),
        }

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "warehouse", *args, "--warehouse", "spark:local[1]"],
                cwd=tmp_path,  # Derby's log lands here
                env=env,
                capture_output=True,
                text=True,
                timeout=400,
                check=False,
            )

        synced = cli("sync", "--source", "zendesk")
    assert synced.returncode == 0, synced.stderr[-3000:]
    assert "in memory" not in synced.stderr  # a metastore: no warning
    assert (tmp_path / "home" / "pipelines").glob("*/landing.duckdb")
    built = cli("build", "--select", "stg_zendesk__tickets")
    assert built.returncode == 0, built.stderr[-3000:]
    assert "staging.stg_zendesk__tickets" in built.stdout
    assert "stand-in" not in built.stdout, built.stdout  # the synced table, not an empty stand-in
    assert re.search(r"staging\.stg_zendesk__tickets\s+60 rows", built.stdout), built.stdout
