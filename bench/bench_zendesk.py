"""Zendesk sync benchmark: rows per second, requests, peak memory — against a bare loop.

    nox -s bench                       # 25k, 100k and 200k tickets: memory must not grow
    python bench/bench_zendesk.py --tickets 100000 --tickets 25000

For each size it starts the simulator in its own process (so it does not share our GIL), reads
every page once to warm it, then runs ``--rounds`` rounds (default 3) of, one right after the other:

1. the bare loop: requests + JSON parsing of every page of the tickets cursor export with
   side-loaded metric sets, nothing stored — what the network and parsing cost;
2. the same loop parsing with orjson;
3. ``supportlake sync --source zendesk --resource tickets`` (``python -m warehouse``, what the
   ``supportlake`` command runs) into a fresh DuckDB file, in a child process whose peak RSS is
   read from ``wait4``.

Each round's ratios are taken within the round: on a shared machine the simulator's pace and the
machine's speed drift by a quarter and more from one minute to the next, and a sync compared
with a bare loop timed minutes earlier measured the drift as much as the sync. Every column is
the median of the rounds; ``ratio`` and ``extract ratio`` also print their lowest and highest.

The aim (DESIGN.md): the sync within 1.5× the bare loop; peak memory flat as tickets grow.

Besides wall time it prints where the CPU went, because on a small machine the CPU bounds the
ratio before any code does: ``sync cpu`` is the sync process's user+system seconds (``wait4``),
``sim cpu`` the simulator's during the sync (it serves every page, on the same cores), and
``floor`` = (sync cpu + sim cpu) / cores — the wall time no overlap of fetching, parsing and
loading can beat on this machine; ``floor ratio`` is that floor over the bare loop. ``extract s``
is the wall time of the sync's extract step from dlt's trace (the source's set-up, every page's
fetch, parse, validation and Arrow build, writing the load files; no start-up, no normalize, no
load into the warehouse), and ``extract ratio`` that over the bare loop. The bare loop parses with
the standard library's ``json``, as a plain script would; the sync parses with orjson, so the
bench also times the bare loop with orjson (``bare orjson s``) and extraction over that
(``extract/orjson``): the stricter yardstick.
Nothing here asserts: CI never times anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
EMAIL, TOKEN = "bench@example.com", "bench-token"


def start_simulator(tickets: int, seed: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "simulators",
        "zendesk",
        "--port",
        "0",
        "--tickets",
        str(tickets),
        "--seed",
        str(seed),
        "--export-rpm",
        "1000000",
        "--account-rpm",  # the bench makes ~4 requests a page within a minute: no 429 waits in the figures
        "1000000",
        "--email",
        EMAIL,
        "--token",
        TOKEN,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http"):
        proc.kill()
        raise SystemExit(f"simulator did not start: {base!r}")
    return proc, base


def bare_loop(base: str, loads: Callable[[bytes], Any] = json.loads) -> tuple[float, int, int]:
    """Fetch and parse every tickets export page with ``loads``; returns (seconds, tickets, requests)."""
    s = requests.Session()
    s.auth = (f"{EMAIL}/token", TOKEN)
    params: dict[str, object] = {"start_time": 0, "include": "metric_sets", "per_page": 1000}
    n = reqs = 0
    t0 = time.perf_counter()
    while True:
        r = s.get(f"{base}/api/v2/incremental/tickets/cursor.json", params=params, timeout=120)
        r.raise_for_status()
        data = loads(r.content)
        reqs += 1
        n += len(data["tickets"])
        if data.get("end_of_stream") or not data.get("after_cursor"):
            break
        params = {"cursor": data["after_cursor"], "include": "metric_sets", "per_page": 1000}
    return time.perf_counter() - t0, n, reqs


def timed_sync(
    base: str, db: Path, home: Path, *, resources: tuple[str, ...] = ("tickets",), env: dict[str, str] | None = None
) -> tuple[float, float, float, str]:
    """Run ``supportlake sync --source zendesk`` (only ``resources``; none: every stream) in a
    child with ``env`` added; returns (seconds, peak RSS MiB, CPU seconds, its summary)."""
    child_env = dict(os.environ)
    child_env.update(
        {
            "SOURCES__ZENDESK__BASE_URL": base,
            "SOURCES__ZENDESK__CREDENTIALS__EMAIL": EMAIL,
            "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN": TOKEN,
            "SOURCES__ZENDESK__EXPORT_RATE_LIMIT": "1000000",
            "SUPPORTLAKE_HOME": str(home),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            **(env or {}),
        }
    )
    cmd = [sys.executable, "-m", "warehouse", "sync", "--source", "zendesk", "--warehouse", f"duckdb:///{db}"]
    for resource in resources:
        cmd += ["--resource", resource]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sync failed:\n{out}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out


def extract_seconds(home: Path) -> float:
    """Wall seconds of the sync's extract steps, from the trace dlt keeps in the pipeline's folder
    under ``home`` (start-up, normalize and the load into the warehouse are not in it); NaN
    when there is no trace."""
    from dlt.pipeline.trace import load_trace

    total, found = 0.0, False
    for folder in sorted(home.glob("pipelines/*/*")):
        trace = load_trace(str(folder))
        for step in trace.steps if trace is not None else []:
            if step.step == "extract" and step.finished_at is not None:
                total += (step.finished_at - step.started_at).total_seconds()
                found = True
    return total if found else float("nan")


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a running process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(rounds: list[dict[str, float]], key: str) -> str:
    """The lowest and the highest of ``key`` over the rounds."""
    return f"{min(r[key] for r in rounds):.2f}–{max(r[key] for r in rounds):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, action="append", help="sizes (repeatable); default 25000, 100000 and 200000")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of bare loop, orjson loop and sync (default 3)")
    args = ap.parse_args()
    sizes = args.tickets or [25_000, 100_000, 200_000]
    cores = len(os.sched_getaffinity(0))
    print(
        f"{'tickets':>8} {'bare s':>8} {'sync s':>8} {'ratio':>6} {'ratio range':>11} {'rows/s':>9} {'requests':>8}"
        f" {'peak MiB':>9} {'sync cpu':>9} {'sim cpu':>8} {'floor s':>8} {'floor ratio':>11} {'extract s':>9}"
        f" {'extract ratio':>13} {'extract range':>13}"
        f" {'bare orjson s':>13} {'extract/orjson':>14}"
        f"   ({cores} cores)"
    )
    for n in sizes:
        proc, base = start_simulator(n, args.seed)
        rounds: list[dict[str, float]] = []
        try:
            _, got, reqs = bare_loop(base)  # warms the simulator's caches: every round sees the same server
            for _ in range(args.rounds):
                bare_s = bare_loop(base)[0]
                bare_orjson_s = bare_loop(base, orjson.loads)[0]
                with tempfile.TemporaryDirectory() as tmp:
                    sim_before = cpu_seconds(proc.pid)
                    sync_s, peak, sync_cpu, summary = timed_sync(base, Path(tmp) / "bench.duckdb", Path(tmp) / "home")
                    sim_cpu = cpu_seconds(proc.pid) - sim_before
                    extract = extract_seconds(Path(tmp) / "home")
                waits = re.search(r"^zendesk\.tickets\s+\S+\s+[\d,]+\s+\d+\s+(\d+)\s+(\d+)", summary, re.MULTILINE)
                if waits and (int(waits.group(1)) or int(waits.group(2))):
                    retries, limited = waits.groups()
                    print(f"   (a sync below was retried {retries} times, {limited} after a 429: waits included)")
                floor = (sync_cpu + sim_cpu) / cores
                rounds.append(
                    {
                        "bare": bare_s,
                        "sync": sync_s,
                        "ratio": sync_s / bare_s,
                        "rate": got / sync_s,
                        "peak": peak,
                        "sync_cpu": sync_cpu,
                        "sim_cpu": sim_cpu,
                        "floor": floor,
                        "floor_ratio": floor / bare_s,
                        "extract": extract,
                        "extract_ratio": extract / bare_s,
                        "bare_orjson": bare_orjson_s,
                        "extract_orjson": extract / bare_orjson_s,
                    }
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        m = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        ratio_range, extract_range = spread(rounds, "ratio"), spread(rounds, "extract_ratio")
        print(
            f"{got:>8} {m['bare']:>8.2f} {m['sync']:>8.2f} {m['ratio']:>6.2f} {ratio_range:>11}"
            f" {m['rate']:>9.0f} {reqs:>8} {m['peak']:>9.0f}"
            f" {m['sync_cpu']:>9.2f} {m['sim_cpu']:>8.2f} {m['floor']:>8.2f} {m['floor_ratio']:>11.2f}"
            f" {m['extract']:>9.1f} {m['extract_ratio']:>13.2f} {extract_range:>13}"
            f" {m['bare_orjson']:>13.2f} {m['extract_orjson']:>14.2f}"
        )


if __name__ == "__main__":
    main()
