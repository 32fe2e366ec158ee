"""Build benchmark on Apache Spark (local mode) against DuckDB: every model over generated tickets.

    python bench/bench_build_spark.py                      # 100k Zendesk tickets, local[*]
    python bench/bench_build_spark.py --tickets 1000000 --master 'local[2]' --driver-memory 4g

The raw tables are generated in a DuckDB file exactly as ``bench/bench_build.py`` does (same
generator, same sizes per ticket), built there with ``transforms.runner.build()``; then written
as Parquet (DuckDB's ``COPY``), registered as tables of a local SparkSession (in-memory catalog,
``spark.sql.shuffle.partitions`` as given) and built again, by the same runner, with Spark SQL.
Prints seconds per layer on each engine, the total, and the peak RSS of the Spark JVM. Needs the
``spark`` extra and Java 17+. Nothing here asserts: CI never times anything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import generate  # noqa: E402

from transforms.graph import MODEL_SCHEMAS  # noqa: E402
from transforms.runner import ModelResult, build  # noqa: E402
from warehouse.target import parse_target  # noqa: E402

RAW_SCHEMAS = ("zendesk", "salesforce", "confluence", "inputs")


class PeakChildRss:
    """The highest RSS of this process's children (the Spark JVM), sampled every 100 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, sum(c.memory_info().rss for c in me.children(recursive=True)))
            self._stop.wait(0.1)

    def __enter__(self) -> PeakChildRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def to_parquet(db: Path, folder: Path) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    # SQL of our own schema names and of table names read from the catalog; no outside text
    try:
        schemas = ", ".join(f"'{s}'" for s in RAW_SCHEMAS)
        sql = (
            "select table_schema, table_name from information_schema.tables "  # noqa: S608
            f"where table_type = 'BASE TABLE' and table_schema in ({schemas}) order by 1, 2"
        )
        tables = con.execute(sql).fetchall()
        for schema, table in tables:
            (folder / schema / table).mkdir(parents=True)
            target = folder / schema / table / "part.parquet"
            con.execute(f'copy (select * from "{schema}"."{table}") to \'{target}\' (format parquet)')  # noqa: S608
    finally:
        con.close()
    return [(str(s), str(t)) for s, t in tables]


def spark_session(master: str, partitions: int, driver_memory: str, warehouse: Path) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("supportlake-bench")
    for key, value in {
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.catalogImplementation": "in-memory",
        "spark.driver.memory": driver_memory,
        "spark.sql.warehouse.dir": str(warehouse),
    }.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def layers(results: list[ModelResult]) -> dict[str, float]:
    return {
        layer: sum(r.seconds for r in results if r.model.split(".", 1)[0] == layer)
        for layer in MODEL_SCHEMAS
        if any(r.model.split(".", 1)[0] == layer for r in results)
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=100_000, help="Zendesk tickets (default 100,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    ap.add_argument("--shuffle-partitions", type=int, default=2)
    ap.add_argument("--driver-memory", default="2g")
    args = ap.parse_args()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SUPPORTLAKE_HOME", str(Path(tmp) / "home"))
        db = Path(tmp) / "bench_warehouse.duckdb"
        t0 = time.perf_counter()
        counts = generate(db, args.tickets, args.seed)
        print(f"generated {sum(counts.values()):,} raw rows in {time.perf_counter() - t0:.1f}s")

        duck: list[ModelResult] = []
        t0 = time.perf_counter()
        build(parse_target(f"duckdb:///{db}"), on_result=duck.append)
        duck_total = time.perf_counter() - t0

        t0 = time.perf_counter()
        tables = to_parquet(db, Path(tmp) / "raw")
        print(f"{len(tables)} raw tables to Parquet in {time.perf_counter() - t0:.1f}s")
        with PeakChildRss() as rss:
            t0 = time.perf_counter()
            spark = spark_session(args.master, args.shuffle_partitions, args.driver_memory, Path(tmp) / "spark")
            for schema in sorted({s for s, _ in tables}):
                spark.sql(f"create schema if not exists `{schema}`")
            for schema, table in tables:
                location = Path(tmp) / "raw" / schema / table
                spark.sql(f"create table `{schema}`.`{table}` using parquet location '{location}'")
            startup = time.perf_counter() - t0
            sparks: list[ModelResult] = []
            t0 = time.perf_counter()
            build(parse_target("spark"), on_result=sparks.append)
            spark_total = time.perf_counter() - t0
            spark.stop()

    print(f"\n{'layer':<14} {'models':>6} {'DuckDB s':>9} {'Spark s':>9}")
    d, s = layers(duck), layers(sparks)
    for layer in d:
        n = sum(1 for r in duck if r.model.split(".", 1)[0] == layer)
        print(f"{layer:<14} {n:>6} {d[layer]:>9.1f} {s.get(layer, 0.0):>9.1f}")
    slowest = sorted(sparks, key=lambda r: -r.seconds)[:5]
    print("\nslowest on Spark: " + ", ".join(f"{r.model} {r.seconds:.1f}s" for r in slowest))
    print(
        f"\n{args.tickets:,} Zendesk tickets, {len(duck)} models on {os.cpu_count()} cores: DuckDB {duck_total:.1f}s; "
        f"Spark {args.master} {spark_total:.1f}s (+{startup:.1f}s session start and table registration), "
        f"Spark JVM peak RSS {rss.peak / 2**20:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
