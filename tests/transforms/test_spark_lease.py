"""The lease lock on Spark (warehouse/lease.py), in the session's own catalog, with the clock moved
by hand. Two processes cannot share a local Spark's catalog (the in-memory catalog, or Derby's
embedded metastore, belongs to one process), so the contenders here are two leases of one
process: each has its own id, as two hosts' runs would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.clock import T0, Clock
from warehouse.lease import Lease, read_lease
from warehouse.lock import AlreadyRunning, LockLost, RunLock
from warehouse.target import home, parse_target

pytestmark = pytest.mark.spark


def test_the_lease_on_spark_refuses_extends_expires_and_is_taken_over(spark_session: Any) -> None:
    target = parse_target("spark")
    clock = Clock()

    def lease() -> Lease:
        return Lease(target, seconds=60, beat=0, settle=0, clock=clock)

    first = lease().take()
    row = read_lease(target)
    assert row is not None
    assert (row.lease_id, row.acquired_at, row.expires_at) == (first.lease_id, T0, T0 + dt.timedelta(seconds=60))
    with pytest.raises(AlreadyRunning, match="its lease runs until 2026-12-06 03:01:00 UTC"):
        lease().take()
    clock.advance(50)
    first.extend()
    clock.advance(50)
    first.verify()  # extended to 03:01:50
    with pytest.raises(AlreadyRunning):
        lease().take()

    clock.advance(11)  # the holder was killed: nobody extends it any more
    second = lease().take()
    second.verify()
    with pytest.raises(LockLost, match="its lease was taken over by pid"):
        first.verify()
    first.release()  # not its row any more: left alone
    still = read_lease(target)
    assert still is not None
    assert still.lease_id == second.lease_id
    second.release()
    assert read_lease(target) is None


def test_a_spark_run_lock_holds_the_machines_flock_and_the_warehouses_lease(spark_session: Any) -> None:
    target = parse_target("spark")
    with RunLock(target, run_id="spark-run", lease_beat=0) as lock:
        assert lock._file is not None
        assert any((home() / "locks").glob("spark-*.lock"))
        row = read_lease(target)
        assert row is not None
        assert row.run_id == "spark-run"
        lock.verify()
        # another host's run, which the flock cannot see: the lease refuses it
        with pytest.raises(AlreadyRunning, match="its lease runs until"):
            Lease(target, beat=0, settle=0).take()
    assert read_lease(target) is None


def test_the_spark_heartbeat_leaves_the_builds_information_schema_views_alone(spark_session: Any) -> None:
    """The heartbeat beats from its own thread while the build queries: it must not drop the
    session's temporary information_schema views under the build's feet."""
    from warehouse.spark import SparkConnection

    building = SparkConnection(spark=spark_session)
    building.query("select table_name from information_schema.tables where table_schema = %s", ["supportlake"])
    assert spark_session.catalog.tableExists("sl_information_schema_tables")
    lease = Lease(parse_target("spark"), beat=0, settle=0).take()
    lease.extend()
    lease.verify()
    assert spark_session.catalog.tableExists("sl_information_schema_tables")
    lease.release()
    building.close()
