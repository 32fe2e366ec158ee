"""The ``supportlake`` command as cron runs it: exit codes, messages, the lock, kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.zendesk import ZendeskSimulator
from tests.e2e.helpers import assert_warehouse_equals_simulator, kill_sync_midway, sync_with_env
from warehouse.lock import EXIT_LOCKED, RunLock
from warehouse.sql import connection
from warehouse.target import parse_target

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def sim() -> Iterator[ZendeskSimulator]:
    simulator = ZendeskSimulator(seed=5, n_tickets=1200)
    simulator.export_rpm = 10_000
    with simulator.serve() as base_url:
        simulator.base_url = base_url
        yield simulator


def sim_env(sim: ZendeskSimulator, **extra: str) -> dict[str, str]:
    env = {
        "SOURCES__ZENDESK__BASE_URL": sim.base_url,
        "SOURCES__ZENDESK__CREDENTIALS__EMAIL": sim.email,
        "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN": sim.api_token,
        "SOURCES__ZENDESK__EXPORT_RATE_LIMIT": "100000",
    }
    env.update(extra)
    return env


def test_sync_prints_summary_and_logs_run(sim: ZendeskSimulator, warehouse_url: str) -> None:
    proc = run_cli("sync", "--source", "zendesk", "--warehouse", warehouse_url, env=sim_env(sim))
    assert proc.returncode == 0, proc.stderr
    assert "zendesk.tickets" in proc.stdout
    assert "success" in proc.stdout
    assert sim.api_token not in proc.stdout + proc.stderr
    with connection(parse_target(warehouse_url)) as con:
        rows = con.query("select table_name, status, rows, requests from supportlake.supportlake_runs")
    by_table = {r[0]: r for r in rows}
    assert by_table["tickets"][1] == "success"
    assert by_table["tickets"][2] == 1200
    assert by_table["tickets"][3] >= 2


def test_overlapping_run_exits_at_once(sim: ZendeskSimulator, warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    with RunLock(target):
        t0 = time.monotonic()
        proc = run_cli("sync", "--warehouse", warehouse_url, env=sim_env(sim))
        elapsed = time.monotonic() - t0
    assert proc.returncode == EXIT_LOCKED, proc.stderr
    assert "another supportlake run" in proc.stderr
    assert elapsed < 60
    assert sum(sim.stats.requests.values()) == 0


def test_missing_credentials_name_the_settings(tmp_path: Path) -> None:
    proc = run_cli(
        "sync",
        "--warehouse",
        f"duckdb:///{tmp_path / 'x.duckdb'}",
        env={"SOURCES__ZENDESK__BASE_URL": "http://127.0.0.1:9"},
    )
    assert proc.returncode == 2
    assert "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN" in proc.stderr + proc.stdout


def test_wrong_token_names_the_setting_and_hides_it(sim: ZendeskSimulator, tmp_path: Path) -> None:
    secret = "wrong-secret-token-123"
    env = sim_env(sim, SOURCES__ZENDESK__CREDENTIALS__API_TOKEN=secret)
    proc = run_cli("sync", "--resource", "tickets", "--warehouse", f"duckdb:///{tmp_path / 'x.duckdb'}", env=env)
    assert proc.returncode == 2  # refused credentials: configuration, as on every source
    out = proc.stdout + proc.stderr
    assert "401" in out
    assert "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN" in out
    assert secret not in out


def test_bad_warehouse_url_is_a_usage_error() -> None:
    proc = run_cli("sync", "--warehouse", "mysql://nope")
    assert proc.returncode == 2
    assert "duckdb:///" in proc.stderr


def _loading(home: Path) -> bool:
    """True once dlt has a normalized package waiting to load (the run is in its load step)."""
    return any(p.is_dir() for p in home.glob("pipelines/*/*/load/normalized/*"))


@pytest.mark.slow
@pytest.mark.parametrize("kill_point", ["request:2", "request:9", "load"])
def test_sigkill_mid_sync_then_rerun_converges(tmp_path: Path, kill_point: str) -> None:
    """kill -9 while pages are being fetched, or while dlt loads a package, then change the
    source and sync again: the warehouse ends equal to the source, nothing lost or duplicated.
    After a kill during load, the next run must finish the pending package and still extract
    what is new."""
    home = Path(os.environ["SUPPORTLAKE_HOME"])
    url = f"duckdb:///{tmp_path / 'kill.duckdb'}"
    simulator = ZendeskSimulator(seed=9, n_tickets=6000)
    simulator.export_rpm = 10_000
    simulator.latency_ms = 40
    with simulator.serve() as base_url:
        simulator.base_url = base_url

        def reached() -> bool:
            if kill_point == "load":
                return _loading(home)
            return sum(simulator.stats.requests.values()) >= int(kill_point.split(":")[1])

        kill_sync_midway(url, sim_env(simulator), ["zendesk"], reached)
        simulator.latency_ms = 0
        simulator.mutate(seed=3)
        result = sync_with_env(url, sim_env(simulator), ["zendesk"])
        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        assert_warehouse_equals_simulator(url, simulator)
        with connection(parse_target(url)) as con:
            statuses = {r[0] for r in con.query("select status from supportlake.supportlake_runs")}
        assert statuses == {"killed", "success"}


@pytest.mark.slow
def test_rate_limited_to_10_per_minute_with_5xx_storm_completes_exactly(tmp_path: Path) -> None:
    """The simulator allows 10 export requests a minute and fails 5% of all requests with 5xx:
    the sync paces itself (no storm of 429s), retries the failures, and ends exact."""
    url = f"duckdb:///{tmp_path / 'rl.duckdb'}"
    simulator = ZendeskSimulator(seed=4, n_tickets=300, error_rate=0.05)
    simulator.export_rpm = 10
    with simulator.serve() as base_url:
        simulator.base_url = base_url
        env = sim_env(simulator, SOURCES__ZENDESK__EXPORT_RATE_LIMIT="10")
        proc = run_cli("sync", "--warehouse", url, env=env, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "retries" in proc.stdout
        simulator.error_rate = 0.0
        assert_warehouse_equals_simulator(url, simulator)
        assert simulator.stats.rate_limited <= 2, "pacing should keep 429s to a minimum"
        with connection(parse_target(url)) as con:
            (retries,) = con.query("select sum(retries) from supportlake.supportlake_runs")[0]
        assert retries is not None
