"""The run lock under stress: a PostgreSQL lock whose connection is cut, a second run starting
meanwhile, stale and live run-log rows, and DuckDB readers beside writers (issue 13)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import responses

from connectors import registry
from tests.toy_source import SOURCE
from warehouse import sql
from warehouse.lock import EXIT_LOCKED, AlreadyRunning, LockLost, RunLock, WarehouseBusy, holder_id
from warehouse.runlog import TABLE, RunLog, TableResult
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import Target, parse_target

ROOT = Path(__file__).resolve().parents[2]
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


def _toy_api(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/widgets", json={"widgets": [{"id": 1, "name": "sprocket"}], "next_page": None})
    rsps.get(f"{BASE}/api/owners", json={"owners": [], "next_page": None})


def _terminate_lock_backend(target: Target) -> int:
    """Cut the lock's connection from another session, as a firewall or the server would."""
    admin = psycopg2.connect(target.dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and application_name like 'supportlake lock%%'"
            )
            return len(cur.fetchall())
    finally:
        admin.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --------------------------------------------------------------------------- PostgreSQL: a lost lock


@pytest.mark.postgres
def test_a_postgres_lock_whose_connection_was_cut_is_detected(pg_url: str) -> None:
    target = parse_target(pg_url)
    with RunLock(target, heartbeat=0) as lock:
        lock.verify()
        assert _terminate_lock_backend(target) == 1
        with pytest.raises(LockLost, match=r"^lost the warehouse lock on .*its connection ended"):
            lock.verify()
        with RunLock(target):  # the lock is free: this is what a second run would take
            pass


@pytest.mark.postgres
def test_the_heartbeat_notices_a_cut_connection_without_being_asked(pg_url: str) -> None:
    target = parse_target(pg_url)
    with RunLock(target, heartbeat=0.05) as lock:
        _terminate_lock_backend(target)
        deadline = time.monotonic() + 30
        while lock.lost is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock.lost is not None
        assert "its connection ended" in lock.lost


@pytest.mark.postgres
def test_an_idle_session_timeout_does_not_end_the_lock(pg_url: str) -> None:
    """A server that ends idle sessions (``idle_session_timeout``) would drop the lock's connection."""
    target = parse_target(pg_url)
    with connection(target) as con:
        con.execute("alter database " + pg_url.rsplit("/", 1)[1] + " set idle_session_timeout = '1s'")
    with RunLock(target, heartbeat=0) as lock:
        time.sleep(2.5)
        lock.verify()


@pytest.mark.postgres
@pytest.mark.usefixtures("toy")
def test_a_run_that_lost_its_lock_stops_and_a_second_run_leaves_its_rows_alone(pg_url: str) -> None:
    target = parse_target(pg_url)
    second: dict[str, int] = {}

    def meanwhile(tables: list[TableResult]) -> None:
        # the first run has logged its tables 'running'; its lock's connection is cut, and a
        # second run takes the lock and tidies the run log, as it does when it starts
        assert _terminate_lock_backend(target) == 1
        with RunLock(target), connection(target) as con:
            second["killed"] = RunLog(con).mark_killed()
            second["running"] = int(con.query(f"select count(*) from {TABLE} where status = 'running'")[0][0])

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _toy_api(rsps)
        with pytest.raises(LockLost, match="lost the warehouse lock"):
            sync(target, ["toy"], on_start=meanwhile)
        assert not rsps.calls  # it stopped before extracting anything
    assert second == {"killed": 0, "running": 2}
    with connection(target) as con:
        rows = con.query(f"select table_name, status, error, holder from {TABLE} order by table_name")
    assert [(t, s) for t, s, _, _ in rows] == [("owners", "failed"), ("widgets", "failed")]
    assert all(e.startswith("lost the warehouse lock on ") for _, _, e, _ in rows)
    assert {h for _, _, _, h in rows} == {holder_id()}


def test_mark_killed_relabels_only_runs_that_are_gone(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    host = socket.gethostname()
    try:
        with connection(target) as con:
            log = RunLog(con)
            log.ensure()
            now = dt.datetime.now(dt.UTC)
            holders = {
                "dead": f"pid {dead.pid} on {host}",
                "alive": f"pid {alive.pid} on {host}",
                "old": None,  # a row written before holders were recorded
                "elsewhere": f"pid {alive.pid} on not-{host}",
                "this_process": holder_id(),  # no run of this process holds a lock: gone
            }
            for run_id, holder in holders.items():
                con.execute(
                    f"insert into {TABLE} (run_id, source, resource, table_name, started_at, status, holder) "
                    "values (%s, 'zendesk', 'tickets', 'tickets', %s, 'running', %s)",
                    [run_id, now, holder],
                )
            with RunLock(target, run_id="mine"):
                log.start("mine", now, [TableResult("zendesk", "tickets", "tickets")], False)
                assert log.mark_killed() == 4
            statuses = dict(con.query(f"select run_id, status from {TABLE}"))
    finally:
        alive.kill()
        alive.wait()
    assert statuses == {
        "dead": "killed",
        "alive": "running",
        "old": "killed",
        "elsewhere": "killed",
        "this_process": "killed",
        "mine": "running",
    }


def test_a_deleted_duckdb_lock_file_is_a_lost_lock(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with RunLock(target) as lock:
        lock.verify()
        (tmp_path / "wh.duckdb.lock").unlink()
        with pytest.raises(LockLost, match=r"lock file .* was removed"):
            lock.verify()


# --------------------------------------------------------------------------- DuckDB: readers and writers


def _warehouse_with_a_mart(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    with connection(parse_target(url)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.numbers as select 1 as n")
    return url


@pytest.mark.parametrize("command", ["kpis", "export-hyper"])
def test_a_reader_while_a_run_writes_exits_75_with_one_line(tmp_path: Path, command: str) -> None:
    url = _warehouse_with_a_mart(tmp_path)
    extra = ["--out", str(tmp_path / "x")] if command == "export-hyper" else []
    with RunLock(parse_target(url)):
        proc = run_cli(command, "--warehouse", url, *extra)
    assert proc.returncode == EXIT_LOCKED, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("supportlake: ")]
    assert lines == [
        f"supportlake: a supportlake run is writing duckdb:///{tmp_path / 'wh.duckdb'} ({holder_id()}); "
        "read it again when that run has finished"
    ]
    assert "Traceback" not in proc.stderr


@pytest.fixture
def file_held_by_another_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process (a DuckDB shell, a notebook) with the warehouse file open read-write."""
    _warehouse_with_a_mart(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(120)",
            str(tmp_path / "wh.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "open"
    try:
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", ["kpis", "export-hyper"])
def test_a_reader_of_a_file_another_process_holds_exits_75_with_one_line(
    tmp_path: Path, command: str, file_held_by_another_process: subprocess.Popen[str]
) -> None:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    extra = ["--out", str(tmp_path / "x")] if command == "export-hyper" else []
    proc = run_cli(command, "--warehouse", url, *extra)
    assert proc.returncode == EXIT_LOCKED, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"is open in process {file_held_by_another_process.pid}" in proc.stderr


@pytest.mark.usefixtures("toy")
def test_a_sync_on_a_file_another_process_holds_is_busy_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_held_by_another_process: subprocess.Popen[str]
) -> None:
    monkeypatch.setattr(sql, "BUSY_WAIT_SECONDS", 0.0)
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with pytest.raises(WarehouseBusy, match=f"is open in process {file_held_by_another_process.pid}"):
        sync(target, ["toy"])


def test_a_writer_waits_for_readers_and_a_reader_waits_for_no_writer(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    reading = threading.Event()
    done = threading.Event()

    def reader() -> None:
        with RunLock(target, shared=True), RunLock(target, shared=True):  # readers share the lock
            reading.set()
            time.sleep(0.5)
        done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    reading.wait(10)
    with RunLock(target, reader_wait=60) as writer:
        assert done.is_set()  # it waited for the readers rather than failing
        writer.verify()
        with pytest.raises(WarehouseBusy, match="a supportlake run is writing"), RunLock(target, shared=True):
            pass
        with pytest.raises(AlreadyRunning, match="another supportlake run"), RunLock(target):
            pass
    thread.join()


def test_a_writer_gives_up_on_readers_that_take_too_long(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with (
        RunLock(target, shared=True),
        pytest.raises(WarehouseBusy, match="has been read"),
        RunLock(target, reader_wait=0),
    ):
        pass
