"""The cost of checkpointing: a Zendesk sync committed in one chunk against the same sync
committed every N rows — requests, seconds, rows and peak memory.

    python bench/bench_checkpoint.py --tickets 25000 --chunk-rows 0 --chunk-rows 100000 --chunk-rows 20000

For each chunk size, a fresh simulator process (same seed: the same data) and a fresh DuckDB
file; ``supportlake sync --source zendesk`` (every stream) runs in a child process with
``SUPPORTLAKE_CHUNK_ROWS`` set (0: one chunk, the behaviour before checkpointing). Requests are
the run log's sum over tables (plus the ticket-fields read of the pivot); peak RSS from ``wait4``.
Nothing here asserts: CI never times anything.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_zendesk import start_simulator, timed_sync


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=25_000)
    ap.add_argument("--chunk-rows", type=int, action="append", help="chunk sizes (repeatable; 0: one chunk)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sizes = args.chunk_rows or [0, 100_000, 20_000]
    print(f"{'chunk rows':>10} {'chunks':>6} {'rows':>9} {'requests':>8} {'sync s':>7} {'peak MiB':>8}")
    for chunk in sizes:
        proc, base = start_simulator(args.tickets, args.seed)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "bench.duckdb"
                env = {"SUPPORTLAKE_CHUNK_ROWS": str(chunk), "SUPPORTLAKE_CHUNK_SECONDS": "0"}
                seconds, peak, _, _ = timed_sync(base, db, Path(tmp) / "home", resources=(), env=env)
                con = duckdb.connect(str(db), read_only=True)
                rows, requests = con.execute(
                    "select sum(rows), sum(requests) from supportlake.supportlake_runs"
                ).fetchone() or (0, 0)
                (chunks,) = con.execute("select count(*) from zendesk._dlt_loads where status = 0").fetchone() or (0,)
                con.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        label = "one" if chunk == 0 else f"{chunk:,}"
        print(f"{label:>10} {chunks:>6} {rows:>9,} {requests:>8} {seconds:>7.1f} {peak:>8.0f}")


if __name__ == "__main__":
    main()
