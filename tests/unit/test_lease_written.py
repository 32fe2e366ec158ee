"""The lease on engines without ``on conflict … returning`` (Snowflake, BigQuery, …): taken by
writing the row and reading it back, run here for real through the generic dlt path on dlt's
``duckdb`` destination with the engine's ``upsert`` turned off."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from warehouse.dlt_sql import DltConnection
from warehouse.lease import Lease, read_lease
from warehouse.lock import AlreadyRunning, LockLost
from warehouse.target import Target, parse_target


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    monkeypatch.setattr(DltConnection, "upsert", property(lambda self: False))
    return parse_target(f"dlt+duckdb:///{tmp_path / 'wh.duckdb'}")


def test_taken_refused_extended_and_released(target: Target) -> None:
    first = Lease(target, beat=0, settle=0.05).take()
    with pytest.raises(AlreadyRunning, match="its lease runs until"):
        Lease(target, beat=0, settle=0.05).take()
    before = first.expires_at
    assert before is not None
    first.seconds = 120
    first.extend()
    first.verify()
    row = read_lease(target)
    assert row is not None
    assert row.lease_id == first.lease_id
    assert row.expires_at > before
    first.release()
    assert read_lease(target) is None
    Lease(target, beat=0, settle=0.05).take().release()


def test_an_expired_lease_is_taken_over_and_its_holder_learns_it(target: Target) -> None:
    past = dt.datetime(2026, 1, 1, 12, 0, 0)
    stale = Lease(target, beat=0, settle=0.05, seconds=5, clock=lambda: past).take()
    successor = Lease(target, beat=0, settle=0.05).take()
    with pytest.raises(LockLost, match="taken over"):
        stale.verify()
    stale.release()  # not its row any more: left alone
    row = read_lease(target)
    assert row is not None
    assert row.lease_id == successor.lease_id


def test_of_two_runs_racing_for_it_exactly_one_holds_it(target: Target) -> None:
    Lease(target, beat=0, settle=0).take().release()  # the table exists: the race is for the row
    leases = [Lease(target, beat=0, settle=0.5) for _ in range(2)]
    won: list[Lease] = []
    errors: list[BaseException] = []

    def take(lease: Lease) -> None:
        try:
            won.append(lease.take())
        except AlreadyRunning:
            pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(won) == 1
    row = read_lease(target)
    assert row is not None
    assert row.lease_id == won[0].lease_id
