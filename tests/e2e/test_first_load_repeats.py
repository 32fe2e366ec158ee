"""A first load appends (connectors/firstload.py), and an append is not idempotent at the level of
one dlt load job: killed after a job committed its rows but before dlt noted the job done, the next
run's completion runs the job again. warehouse/repeats.py notes those tables before completing
and keeps one row per key after it. Here the kill lands in exactly that window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from simulators.zendesk import ZendeskSimulator
from tests.e2e.helpers import assert_warehouse_equals_simulator, sync_with_env
from tests.e2e.test_checkpoint import env_of
from warehouse.repeats import NOTE
from warehouse.sql import connection
from warehouse.target import parse_target

ROOT = Path(__file__).resolve().parents[2]


def _sync_killed_after(table: str, *jobs: str) -> str:
    """A sync (``python -c``, the warehouse URL as its argument) that kills itself with SIGKILL
    right after a load job of ``table`` ran and committed, before dlt notes the job done. ``jobs``:
    the dlt job classes patched, as ``module:Class``."""
    lines = ["import os, signal, sys"]
    lines += [f"from {module} import {cls}" for module, cls in (j.split(":") for j in jobs)]
    lines += [
        "def killing(run):",
        "    def wrapped(self):",
        "        run(self)",
        f"        if self.load_table_name == {table!r}:",
        "            os.kill(os.getpid(), signal.SIGKILL)",
        "    return wrapped",
    ]
    lines += [f"{cls}.run = killing({cls}.run)" for cls in (j.split(":")[1] for j in jobs)]
    lines += [
        "from warehouse.cli import main",
        'sys.exit(main(["sync", "--source", "zendesk", "--warehouse", sys.argv[1]]))',
    ]
    return "\n".join(lines) + "\n"


# The copy job of `tickets` runs (and commits: DuckDB's statement autocommits, PostgreSQL's COPY
# commits its transaction inside run()), then the process dies before dlt moves the job's file.
KILL_AFTER_TICKETS_COMMIT = _sync_killed_after(
    "tickets",
    "dlt.destinations.impl.duckdb.duck:DuckDbCopyJob",
    "dlt.destinations.impl.postgres.postgres:PostgresCsvCopyJob",
)


def _tickets(url: str) -> tuple[int, int]:
    with connection(parse_target(url)) as con:
        total, distinct = con.query("select count(*), count(distinct id) from zendesk.tickets")[0]
    return int(total), int(distinct)


def _killed_run(script: str, warehouse_url: str, sim: ZendeskSimulator) -> None:
    """Run ``script`` (a sync that kills itself at one point) against ``sim``; it must die by SIGKILL."""
    proc = subprocess.run(
        [sys.executable, "-c", script, warehouse_url],
        cwd=ROOT,
        env={**os.environ, **env_of(sim)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]


def test_a_first_load_killed_after_its_append_committed_is_not_loaded_twice(warehouse_url: str) -> None:
    sim = ZendeskSimulator(seed=5, n_tickets=300, export_rpm=1_000_000)
    with sim.serve() as base_url:
        sim.base_url = base_url
        _killed_run(KILL_AFTER_TICKETS_COMMIT, warehouse_url, sim)
        total, distinct = _tickets(warehouse_url)
        assert total == distinct == 300  # committed once, but dlt does not know it
        home = Path(os.environ["SUPPORTLAKE_HOME"])
        assert [p for p in home.glob("pipelines/*/*/load/normalized/*/started_jobs/tickets.*")]

        result = sync_with_env(warehouse_url, env_of(sim), ["zendesk"])

        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        assert _tickets(warehouse_url) == (300, 300)  # the job ran again; its copy was removed
        assert not list(home.glob(f"pipelines/*/*/{NOTE}"))
        assert_warehouse_equals_simulator(warehouse_url, sim)


# dlt's state row is written by an insert job of its own, into a table whose ``_dlt_id`` is unique
# (a constraint on PostgreSQL). Killed after that job committed, the next run's completion ran it
# again: a duplicate key, a terminal failure, and every later run stuck behind the same package.
KILL_AFTER_STATE_COMMIT = _sync_killed_after(
    "_dlt_pipeline_state", "dlt.destinations.insert_job_client:InsertValuesLoadJob"
)


def test_a_load_killed_after_its_state_row_committed_completes_on_the_next_run(warehouse_url: str) -> None:
    sim = ZendeskSimulator(seed=6, n_tickets=300, export_rpm=1_000_000)
    with sim.serve() as base_url:
        sim.base_url = base_url
        _killed_run(KILL_AFTER_STATE_COMMIT, warehouse_url, sim)
        with connection(parse_target(warehouse_url)) as con:
            (committed,) = con.query("select count(*) from zendesk._dlt_pipeline_state")[0]
        assert committed == 1  # the row is in, but dlt does not know it
        home = Path(os.environ["SUPPORTLAKE_HOME"])
        assert [p for p in home.glob("pipelines/*/*/load/normalized/*/started_jobs/_dlt_pipeline_state.*")]

        result = sync_with_env(warehouse_url, env_of(sim), ["zendesk"])

        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        with connection(parse_target(warehouse_url)) as con:
            rows, ids = con.query("select count(*), count(distinct _dlt_id) from zendesk._dlt_pipeline_state")[0]
        assert rows == ids  # no state row twice
        assert _tickets(warehouse_url) == (300, 300)
        assert_warehouse_equals_simulator(warehouse_url, sim)
