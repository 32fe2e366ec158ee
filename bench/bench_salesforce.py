"""Salesforce sync benchmark: a full sync of N cases (through Bulk 2.0), then a 1% incremental.

    nox -s bench                                   # runs this after the Zendesk benchmark
    python bench/bench_salesforce.py --cases 50000

The simulator serves from this process (its ``mutate`` is called between the runs); each sync
runs in a child process whose peak RSS is read from ``wait4``. Prints rows per second, requests
and peak memory for both runs. Nothing here asserts: CI never times anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.salesforce import SalesforceSimulator  # noqa: E402


def run_sync(env: dict[str, str], db: Path) -> tuple[float, float, str]:
    cmd = [sys.executable, "-m", "warehouse", "sync", "--source", "salesforce", "--warehouse", f"duckdb:///{db}"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sync failed:\n{out}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, out


def rows_loaded(out: str) -> int:
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith("salesforce.") and parts[1] == "success":
            total += int(parts[2].replace(",", ""))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    sim = SalesforceSimulator(seed=args.seed, n_cases=args.cases, now=now, daily_limit=10_000_000)
    with sim.serve() as base, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update(
            {
                "SOURCES__SALESFORCE__BASE_URL": base,
                "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_ID": sim.client_id,
                "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_SECRET": sim.client_secret,
                "SOURCES__SALESFORCE__CREDENTIALS__USERNAME": sim.username,
                "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD": sim.password,
                "SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN": sim.security_token,
                "SOURCES__SALESFORCE__BULK_POLL_SECONDS": "0.2",
                "SUPPORTLAKE_HOME": str(Path(tmp) / "home"),
                "RUNTIME__DLTHUB_TELEMETRY": "false",
            }
        )
        db = Path(tmp) / "sf.duckdb"
        print(f"{'run':>12} {'rows':>9} {'seconds':>8} {'rows/s':>8} {'requests':>9} {'bulk jobs':>9} {'peak MiB':>9}")
        for label in ("full", "1% changed"):
            if label != "full":
                sim.mutate(seed=2, update_fraction=0.01)
            before, jobs_before = sum(sim.stats.requests.values()), sim.stats.bulk_jobs
            seconds, peak, out = run_sync(env, db)
            rows = rows_loaded(out)
            requests = sum(sim.stats.requests.values()) - before
            jobs = sim.stats.bulk_jobs - jobs_before
            print(f"{label:>12} {rows:>9} {seconds:>8.2f} {rows / seconds:>8.0f} {requests:>9} {jobs:>9} {peak:>9.0f}")


if __name__ == "__main__":
    main()
