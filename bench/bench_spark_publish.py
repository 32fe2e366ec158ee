"""How long a sync into Spark takes to publish its raw tables (``warehouse/spark_landing.py``).

    python bench/bench_spark_publish.py                     # 100k Zendesk tickets, local[2]
    python bench/bench_spark_publish.py --tickets 1000000 --master 'local[2]' --driver-memory 4g

The raw tables are generated into the Spark warehouse's landing DuckDB file exactly as
``bench/bench_build.py`` generates them; then :func:`warehouse.spark_landing.publish` copies every
raw table into a local SparkSession's catalog (first publish: everything), publishes again with
nothing changed (the signatures only), changes one ticket and publishes once more (that table
alone). Prints the seconds of each and the peak RSS of the Spark JVM. Needs the ``spark`` extra
and Java 17+. Nothing here asserts: CI never times anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import generate  # noqa: E402
from bench_build_spark import PeakChildRss, spark_session  # noqa: E402

from warehouse import spark_landing  # noqa: E402
from warehouse.target import parse_target  # noqa: E402

SCHEMAS = ("zendesk", "salesforce", "confluence")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=100_000, help="Zendesk tickets (default 100,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    ap.add_argument("--driver-memory", default="2g")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SUPPORTLAKE_HOME"] = str(Path(tmp) / "home")
        target = parse_target("spark")
        landing = spark_landing.landing_target(target)
        assert landing.path is not None
        t0 = time.perf_counter()
        counts = generate(landing.path, args.tickets, args.seed)
        raw = sum(n for t, n in counts.items() if t.split(".", 1)[0] in SCHEMAS)
        print(f"generated {raw:,} raw rows in {time.perf_counter() - t0:.1f}s")
        with PeakChildRss() as rss:
            t0 = time.perf_counter()
            spark_session(args.master, 2, args.driver_memory, Path(tmp) / "spark")
            print(f"Spark session started in {time.perf_counter() - t0:.1f}s")
            for label, change in (("first publish", None), ("nothing changed", None), ("one ticket changed", True)):
                if change:
                    import duckdb

                    con = duckdb.connect(str(landing.path))
                    con.execute(
                        "update zendesk.tickets set status = 'closed' where id = (select min(id) from zendesk.tickets)"
                    )
                    con.close()
                t0 = time.perf_counter()
                published = spark_landing.publish(target, SCHEMAS)
                copied = [p for p in published if p.copied]
                print(
                    f"{label:<20} {time.perf_counter() - t0:7.1f}s  {len(copied)} of {len(published)} tables copied, "
                    f"{sum(p.rows for p in copied):,} rows"
                )
        print(f"Spark JVM peak RSS {rss.peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
