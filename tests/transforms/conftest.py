"""Helpers of the transforms tests: the fixture model folders and raw tables seeded by hand."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from transforms.runner import SQL_TYPES, raw_table_columns
from warehouse import deletions
from warehouse.sql import Connection, connection
from warehouse.target import parse_target

FIXTURES = Path(__file__).parent / "fixtures"


def seed_raw(url: str, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Create raw tables with every declared column, typed, and insert ``rows``; then run the
    sync's load step of deletions, so ``_sl_deleted``/``_sl_deleted_at`` are what a sync would
    leave (a row says ``status = 'deleted'`` or ``is_deleted``, or is listed as purged, or belongs
    to a deleted parent). (A sync creates only the columns that ever held a value; the runner
    covers the others with NULLs.)"""
    with connection(parse_target(url)) as con:
        for table, rows in tables.items():
            columns = raw_table_columns()[table]
            schema = table.split(".", 1)[0]
            con.execute(f"create schema if not exists {schema}")
            ddl = ", ".join(f"{c} {SQL_TYPES[con.kind][k]}" for c, k in columns.items())
            con.execute(f"create table {table} ({ddl})")
            for row in rows:
                names = list(row)
                con.execute(
                    f"insert into {table} ({', '.join(names)}) values ({', '.join(['%s'] * len(names))})",
                    [row[n] for n in names],
                )
        for dataset in sorted({t.split(".", 1)[0] for t in tables} & set(registry.names())):
            deletions.apply(con, dataset)


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with connection(parse_target(url)) as con:
        return con.query(sql)


def columns(con: Connection, schema: str, table: str) -> dict[str, str]:
    rows = con.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        [schema, table],
    )
    return {name: str(kind).lower() for name, kind in rows}


def write_models(root: Path, files: Mapping[str, str]) -> Path:
    """A models folder made of ``{"core/x.sql": "select ..."}``."""
    for rel, sql in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    return root


SPARK_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.driver.memory": "1g",
}
"""A small local Spark: two cores, one shuffle partition (the test data is a few thousand rows)."""


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local SparkSession for the whole test session (starting one costs seconds). Without
    pyspark or Java the Spark tests are skipped with the reason, except with CI=true (``nox -s
    spark`` installs pyspark; ``.ci/run`` installs Java when it is missing)."""
    problem = None
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        problem = "pyspark is not installed (install supportlake[spark]; nox -s spark does)"
    if problem is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        problem = "no Java runtime (Spark needs Java 17+)"
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires Spark: {problem}")
        pytest.skip(problem)
    builder = SparkSession.builder.master("local[2]").appName("supportlake-tests")
    builder = builder.config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("OFF")
    yield spark
    spark.stop()
