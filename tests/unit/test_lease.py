"""The lease lock (warehouse/lease.py) on a real warehouse, DuckDB and PostgreSQL, with the clock
moved by hand: taking, refusing, extending, expiring, taking over, verifying."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from common.errors import ConfigError
from tests.clock import T0, Clock
from warehouse.lease import Lease, read_lease
from warehouse.lock import AlreadyRunning, LockLost, RunLock, holder_id, uses_lease
from warehouse.sql import connection
from warehouse.target import parse_target


def _lease(url: str, clock: Clock, run_id: str | None = None) -> Lease:
    return Lease(parse_target(url), run_id=run_id, seconds=60, beat=0, settle=0, clock=clock)


def test_a_held_lease_refuses_others_until_it_expires_and_its_heartbeat_extends_it(warehouse_url: str) -> None:
    clock = Clock()
    first = _lease(warehouse_url, clock, run_id="run-1").take()
    row = read_lease(parse_target(warehouse_url))
    assert row is not None
    expected = (holder_id(), "run-1", T0, T0 + dt.timedelta(seconds=60))
    assert (row.holder, row.run_id, row.acquired_at, row.expires_at) == expected
    busy = r"another supportlake run is using .*\(pid \d+ on .*, its lease runs until"
    with pytest.raises(AlreadyRunning, match=busy):
        _lease(warehouse_url, clock).take()

    clock.advance(50)
    first.extend()  # a heartbeat
    assert first.expires_at == T0 + dt.timedelta(seconds=110)
    clock.advance(50)  # past the first expiry, within the extended one
    first.verify()
    with pytest.raises(AlreadyRunning):
        _lease(warehouse_url, clock).take()

    clock.advance(11)  # no heartbeat came: the lease has lapsed
    with pytest.raises(LockLost, match="its lease expired at 03:01:50 UTC"):
        first.verify()
    first.extend()  # an expired lease is not revived
    assert first.expires_at == T0 + dt.timedelta(seconds=110)


def test_an_expired_lease_is_taken_over_and_its_old_holder_gets_lock_lost(warehouse_url: str) -> None:
    clock = Clock()
    first = _lease(warehouse_url, clock).take()
    clock.advance(61)  # the first holder was killed: nobody extends it
    second = _lease(warehouse_url, clock).take()
    second.verify()
    with pytest.raises(LockLost, match="its lease was taken over by pid"):
        first.verify()
    first.extend()
    assert first.lost is not None
    first.release()  # leaves the row of the run that took over
    row = read_lease(parse_target(warehouse_url))
    assert row is not None
    assert row.lease_id == second.lease_id
    second.release()
    assert read_lease(parse_target(warehouse_url)) is None
    _lease(warehouse_url, clock).take().release()  # free again


def test_a_deleted_lease_row_is_a_lost_lock(warehouse_url: str) -> None:
    clock = Clock()
    lease = _lease(warehouse_url, clock).take()
    with connection(parse_target(warehouse_url)) as con:
        con.execute("delete from supportlake.run_lease")
    with pytest.raises(LockLost, match=r"its lease row in supportlake\.run_lease was deleted"):
        lease.verify()


def test_supportlake_lock_lease_replaces_the_engines_own_lock(
    warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = parse_target(warehouse_url)
    assert not uses_lease(target)
    monkeypatch.setenv("SUPPORTLAKE_LOCK", "lease")
    assert uses_lease(target)
    with RunLock(target, run_id="r1", lease_beat=0) as lock:
        assert lock._file is None
        assert lock._pg is None  # neither the flock nor the advisory lock
        with pytest.raises(AlreadyRunning, match="its lease runs until"), RunLock(target, lease_beat=0):
            pass
        lock.verify()
        row = read_lease(target)
        assert row is not None
        assert row.run_id == "r1"
    assert read_lease(target) is None
    with RunLock(target, lease_beat=0):  # released: the next run takes it
        pass


def test_an_unknown_supportlake_lock_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTLAKE_LOCK", "flock")
    with pytest.raises(ConfigError, match="SUPPORTLAKE_LOCK='flock' is not a lock supportlake knows"):
        uses_lease(parse_target("duckdb:///x.duckdb"))


def test_the_heartbeat_opens_a_duckdb_file_this_process_is_loading_or_building(tmp_path: Path) -> None:
    """DuckDB lets a process open a file twice only with the same settings: the lease's short
    connections open it beside dlt's (opened without settings, then set) and beside the runner's."""
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    clock = Clock()
    lease = _lease(url, clock).take()
    loading = duckdb.connect(str(tmp_path / "wh.duckdb"))  # as dlt's DuckDB client opens it
    loading.execute("set global memory_limit = '128MB'")
    try:
        clock.advance(30)
        lease.extend()
        lease.verify()
    finally:
        loading.close()
    with connection(parse_target(url)) as building:  # the runner's connection, with its settings
        clock.advance(30)
        lease.extend()
        lease.verify()
        assert building.query("select count(*) from supportlake.run_lease") == [(1,)]
    assert lease.expires_at == T0 + dt.timedelta(seconds=120)
    lease.release()
