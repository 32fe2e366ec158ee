"""The lease lock between real processes (SUPPORTLAKE_LOCK=lease), on DuckDB and PostgreSQL: a run
holding the lease keeps it alive with its heartbeat past the lease's length, a second
``supportlake build`` meanwhile exits 75 naming the holder, and once the holder is killed with
``-9`` its lease keeps others out until it expires, then the next run proceeds.

(Spark's lease is tested in its own session, tests/transforms/test_spark_lease.py: a local
Spark's catalog belongs to one process, so two processes cannot share it here.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors import registry
from tests.toy_source import SOURCE
from warehouse import lease
from warehouse.lease import Lease, read_lease, utc_now
from warehouse.lock import EXIT_LOCKED, AlreadyRunning
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 6.0

HOLDER = """
import sys, time
from warehouse.lock import RunLock
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target
with RunLock(parse_target(sys.argv[1]), run_id="holder", lease_seconds=float(sys.argv[2]), lease_beat=0.5):
    print("held", flush=True)
    time.sleep(600)
"""


def _build(url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", "build", "--warehouse", url, "--select", "stg_zendesk__tickets"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextlib.contextmanager
def beating_holder(url: str, seconds: float, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], Any]]:
    """A process holding ``url``'s lease (``seconds`` long, a heartbeat every 0.5 s) and the lease
    as it took it; once the lease has outlived that first expiry, only the heartbeat keeps it.
    A second run is refused meanwhile (75), naming the holder; killed on the way out."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(seconds)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held", holder.stderr.read() if holder.stderr else ""
        first = read_lease(parse_target(url))
        assert first is not None
        assert first.holder == f"pid {holder.pid} on {os.uname().nodename}"
        # Outlive the lease as taken: only the heartbeat keeps it held from here on.
        while utc_now() <= first.expires_at:
            time.sleep(0.2)
        refused = _build(url, env)
        assert refused.returncode == EXIT_LOCKED, refused.stderr[-2000:]
        assert f"pid {holder.pid} on" in refused.stderr
        assert "its lease runs until" in refused.stderr
        assert "Traceback" not in refused.stderr
        beating = read_lease(parse_target(url))
        assert beating is not None
        assert beating.lease_id == first.lease_id
        assert beating.expires_at > first.expires_at  # extended by the heartbeat
        yield holder, first
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
        for stream in (holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()


def test_a_second_run_is_refused_while_the_lease_beats_and_proceeds_once_the_holder_is_killed_and_it_expires(
    warehouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTLAKE_LOCK", "lease")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    target = parse_target(warehouse_url)
    with beating_holder(warehouse_url, LEASE_SECONDS, env) as (holder, _):
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        with pytest.raises(AlreadyRunning):  # the killed run's lease has not expired yet
            Lease(target, beat=0).take()
        stale = read_lease(target)
        assert stale is not None
        while utc_now() <= stale.expires_at:
            time.sleep(0.2)
        proceeded = _build(warehouse_url, env)
        assert proceeded.returncode == 0, proceeded.stderr[-2000:]
        assert "1 model(s) built" in proceeded.stdout
        assert read_lease(target) is None  # released at the end of the run


BASE = "https://widgets.example.test"


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    registry.register(SOURCE)
    monkeypatch.setenv("SOURCES__TOY__BASE_URL", BASE)
    monkeypatch.setenv("SOURCES__TOY__API_TOKEN", "toy-secret-token")
    try:
        yield
    finally:
        registry.unregister("toy")


@pytest.mark.usefixtures("toy")
def test_a_sync_under_a_lease_beating_all_along_loads_and_lets_go(
    warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat runs beside dlt's loads and the run log's writes (on DuckDB, in the same
    file of the same process), and the run ends with the lease released."""
    monkeypatch.setenv("SUPPORTLAKE_LOCK", "lease")
    monkeypatch.setattr(lease, "BEAT_SECONDS", 0.02)
    target = parse_target(warehouse_url)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/widgets", json={"widgets": [{"id": 1, "name": "sprocket"}], "next_page": None})
        rsps.get(f"{BASE}/api/owners", json={"owners": [], "next_page": None})
        result = sync(target, ["toy"])
    assert result.ok, [(t.table_name, t.status, t.error) for t in result.tables]
    with connection(target) as con:
        assert con.query("select id, name from toy.widgets") == [(1, "sprocket")]
    assert read_lease(target) is None
