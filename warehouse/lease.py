"""The run lock as a lease row in the warehouse itself, for engines without an advisory lock.

PostgreSQL's run lock is a session advisory lock, held by the server, so two cron hosts never run
at once. Spark has nothing of the kind, and a ``flock`` excludes runs of one machine only; there,
and wherever ``SUPPORTLAKE_LOCK=lease`` is set, the lock is a row of :data:`TABLE`
(``supportlake.run_lease``) written through the warehouse's own connection
(:mod:`warehouse.sql`):

=============  =============================================================================
name           ``'run'``: the one row
lease_id       a fresh id per lease: the holder's proof (two leases of one process differ)
holder         ``pid N on HOST``
run_id         the run's id (the run log's), when the lock has one
acquired_at    when the lease was taken (UTC)
expires_at     when it lapses unless extended (UTC)
=============  =============================================================================

- *take*: insert the row, or take it over when its ``expires_at`` has passed; otherwise
  :class:`warehouse.lock.AlreadyRunning` naming the holder and the expiry. DuckDB and PostgreSQL
  do this atomically (``insert … on conflict do nothing`` on the primary key, then ``update …
  where expires_at < now``, each ``returning`` the row it wrote: PostgreSQL re-checks the
  ``where`` of a concurrent update after the first commits). Spark's tables have no conditional
  update: the row is overwritten (``insert overwrite``) and read back after :attr:`Lease.settle`
  seconds; a run that lost the race to another host sees that host's row and is refused, and a
  race closer than that is caught by :meth:`Lease.verify` before the first commit. dlt
  destinations without ``on conflict`` / ``returning`` (Snowflake, BigQuery, …: ``upsert`` of
  :mod:`warehouse.engines`) do the same with plain SQL: expired rows deleted, this run's row
  inserted, read back after :attr:`Lease.settle` seconds; the latest row wins, a loser deletes its own;
- *heartbeat*: a daemon thread pushes ``expires_at`` to now + :attr:`Lease.seconds` every
  :attr:`Lease.beat` seconds, on a short connection it closes right away (DuckDB lets one process
  open a file for writing: between beats, other processes can read the lease and be refused);
- *verify*: :class:`warehouse.lock.LockLost` unless the row still names this lease and has not
  expired (an expired lease is lost even if nobody took it: another run could have);
- *release*: the row is deleted (Spark: the table emptied) if it is still this lease's.

A ``kill -9`` leaves the row: the next run is refused until ``expires_at``, then takes over. Hosts'
clocks must agree to well within the lease (NTP): times are the hosts', in UTC. The clock is
injectable (:class:`Lease`'s ``clock``), so tests move time instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from common.errors import one_line
from warehouse.lock import AlreadyRunning, LockLost, holder_id
from warehouse.sql import SAME_FILE_OTHER_SETTINGS, Connection, DuckDBConnection, connection
from warehouse.target import Target

LEASE_SECONDS = 60.0
"""How long a lease lasts unless its heartbeat extends it; also how long a killed run's lease
keeps the next run out."""

BEAT_SECONDS = 15.0
"""How often the heartbeat extends the lease (well under :data:`LEASE_SECONDS`)."""

SETTLE_SECONDS = 2.0
"""Spark: how long a run waits after writing its lease before reading it back (another host's
write in that time wins)."""

TABLE = "supportlake.run_lease"
ROW = "run"

log = logging.getLogger("supportlake.lock")

Clock = Callable[[], dt.datetime]

_SPARK_LEASE = threading.RLock()
"""Spark: one lease statement of this process at a time. The heartbeat's ``insert overwrite``
replaces the files a ``verify`` in another thread may be reading (Spark then fails the read with
``FILE_NOT_EXIST``)."""


def utc_now() -> dt.datetime:
    """The time as the lease stores it: UTC, without a zone (microseconds dropped)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class LeaseRow:
    lease_id: str
    holder: str
    run_id: str | None
    acquired_at: dt.datetime
    expires_at: dt.datetime


_COLUMNS = "lease_id, holder, run_id, acquired_at, expires_at"


class Lease:
    """One lease on ``target``'s warehouse: :meth:`take`, then :meth:`verify` before each commit,
    :meth:`release` at the end. ``seconds``, ``beat`` (0: no heartbeat thread), ``settle`` and
    ``clock`` default to the module's constants and :func:`utc_now`."""

    def __init__(
        self,
        target: Target,
        *,
        run_id: str | None = None,
        seconds: float | None = None,
        beat: float | None = None,
        settle: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.target = target
        self.run_id = run_id
        self.seconds = LEASE_SECONDS if seconds is None else seconds
        self.beat = BEAT_SECONDS if beat is None else beat
        self.settle = SETTLE_SECONDS if settle is None else settle
        self.clock = clock or utc_now
        self.lease_id = uuid.uuid4().hex
        self.holder = holder_id()
        self.expires_at: dt.datetime | None = None
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ taking and releasing

    def take(self) -> Lease:
        """Take the lease (and start the heartbeat), or raise :class:`AlreadyRunning`."""
        with _connect(self.target) as con:
            _create_table(con)
            now = self.clock()
            expires = now + dt.timedelta(seconds=self.seconds)
            if not _upsert(con):
                won = self._take_written(con, now, expires)
            else:
                won = self._take_sql(con, now, expires)
            if not won:
                current = _read(con)
                raise AlreadyRunning(self._busy_message(current))
        self.expires_at = expires
        if self.beat > 0:
            self._thread = threading.Thread(target=self._heartbeat, name="supportlake-lease-heartbeat", daemon=True)
            self._thread.start()
        return self

    def _values(self, now: dt.datetime, expires: dt.datetime) -> list[Any]:
        return [self.lease_id, self.holder, self.run_id, now, expires]

    def _take_sql(self, con: Connection, now: dt.datetime, expires: dt.datetime) -> bool:
        inserted = con.query(
            f"insert into {TABLE} (name, {_COLUMNS}) values (%s, %s, %s, %s, %s, %s) "
            "on conflict (name) do nothing returning lease_id",
            [ROW, *self._values(now, expires)],
        )
        if inserted:
            return True
        taken = con.query(
            f"update {TABLE} set lease_id = %s, holder = %s, run_id = %s, acquired_at = %s, expires_at = %s "
            "where name = %s and expires_at < %s returning lease_id",
            [*self._values(now, expires), ROW, now],
        )
        return bool(taken)

    def _take_written(self, con: Connection, now: dt.datetime, expires: dt.datetime) -> bool:
        """Write this lease's row, wait :attr:`settle`, read back: the latest write wins."""
        current = _read(con)
        if current is not None and current.expires_at >= now:
            return False
        values = [ROW, *self._values(now, expires)]
        if con.kind == "spark":
            con.execute(f"insert overwrite table {TABLE} values (%s, %s, %s, %s, %s, %s)", values)
        else:
            con.execute(f"delete from {TABLE} where name = %s and expires_at < %s", [ROW, now])
            con.execute(f"insert into {TABLE} (name, {_COLUMNS}) values (%s, %s, %s, %s, %s, %s)", values)
        if self.settle > 0:
            time.sleep(self.settle)
        mine = _read(con)
        if mine is not None and mine.lease_id == self.lease_id:
            return True
        if con.kind != "spark":  # lost the race: leave the winner's row alone
            con.execute(f"delete from {TABLE} where name = %s and lease_id = %s", [ROW, self.lease_id])
        return False

    def _busy_message(self, current: LeaseRow | None) -> str:
        if current is None:  # taken and released between our two statements
            who = "another run"
        else:
            who = f"{current.holder}, its lease runs until {current.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"another supportlake run is using {self.target.display} ({who}); this run exits without doing anything"

    def release(self) -> None:
        """Stop the heartbeat; delete the row if it is still this lease's (a lost lease's row
        belongs to whoever took it over)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.expires_at is None:
            return
        with _connect(self.target) as con:
            if con.kind == "spark":
                current = _read(con)
                if current is not None and current.lease_id == self.lease_id:
                    con.execute(f"truncate table {TABLE}")
            else:
                con.execute(f"delete from {TABLE} where name = %s and lease_id = %s", [ROW, self.lease_id])
        self.expires_at = None

    # ------------------------------------------------------------------ keeping and checking

    def extend(self) -> None:
        """Push ``expires_at`` to now + :attr:`seconds` if the lease is still this run's and has
        not expired; else mark it lost (:attr:`lost`)."""
        if self.lost is not None:
            return
        now = self.clock()
        expires = now + dt.timedelta(seconds=self.seconds)
        with _connect(self.target) as con:
            if con.kind == "spark":
                current = _read(con)
                problem = self._problem(current, now)
                if problem is None and current is not None:
                    values = [ROW, self.lease_id, self.holder, self.run_id, current.acquired_at, expires]
                    con.execute(f"insert overwrite table {TABLE} values (%s, %s, %s, %s, %s, %s)", values)
            elif not _upsert(con):
                problem = self._problem(_read(con), now)
                if problem is None:
                    con.execute(
                        f"update {TABLE} set expires_at = %s where name = %s and lease_id = %s",
                        [expires, ROW, self.lease_id],
                    )
            else:
                rows = con.query(
                    f"update {TABLE} set expires_at = %s where name = %s and lease_id = %s and expires_at >= %s "
                    "returning lease_id",
                    [expires, ROW, self.lease_id, now],
                )
                problem = None
                if not rows:
                    problem = self._problem(_read(con), now) or "its lease row changed while it was being extended"
        if problem is not None:
            self.lost = problem
            return
        self.expires_at = expires

    def verify(self) -> None:
        """Raise :class:`LockLost` unless the lease row still names this lease and has not expired."""
        if self.lost is None:
            now = self.clock()
            try:
                with _connect(self.target) as con:
                    current = _read(con)
            except Exception as exc:
                reason = one_line(exc)
                self.lost = f"its lease could not be read ({reason})"
            else:
                self.lost = self._problem(current, now)
        if self.lost is not None:
            raise LockLost(
                f"lost the warehouse lock on {self.target.display}: {self.lost}; another run may hold it now, "
                "so this run stops without writing more"
            )

    def _problem(self, current: LeaseRow | None, now: dt.datetime) -> str | None:
        """Why ``current`` is not this lease, held (None: it is)."""
        if current is None:
            return f"its lease row in {TABLE} was deleted"
        if current.lease_id != self.lease_id:
            return f"its lease was taken over by {current.holder}"
        if current.expires_at < now:
            return f"its lease expired at {current.expires_at:%H:%M:%S} UTC"
        return None

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.beat):
            try:
                self.extend()
            except Exception as exc:  # e.g. the warehouse briefly unreachable: the next beat retries
                log.warning("could not extend the lease on %s: %s", self.target.display, one_line(exc))
                continue
            if self.lost is not None:
                log.error("lost the warehouse lock on %s: %s", self.target.display, self.lost)
                return


@contextmanager
def _connect(target: Target) -> Iterator[Connection]:
    """A short connection for the lease. DuckDB: opened as dlt opens it (no settings), so the
    heartbeat can open the file beside a load of this process; beside this process's own
    :class:`warehouse.sql.DuckDBConnection` (a build), with its settings. Spark: the session's."""
    if target.kind == "spark":
        from warehouse.spark import SparkConnection

        # Not closed: closing drops the session's information_schema views, which a build of this
        # process may be reading at that moment (the heartbeat beats from its own thread).
        with _SPARK_LEASE:
            yield SparkConnection(target)
        return
    if target.kind != "duckdb":
        with connection(target) as con:
            yield con
        return
    try:
        duck: Connection = DuckDBConnection(target, plain=True)
    except Exception as exc:
        if SAME_FILE_OTHER_SETTINGS not in str(exc):
            raise
        duck = DuckDBConnection(target)
    try:
        yield duck
    finally:
        duck.close()


def _upsert(con: Connection) -> bool:
    """Whether ``con`` has ``insert … on conflict do nothing returning`` (DuckDB, PostgreSQL)."""
    return bool(getattr(con, "upsert", con.kind != "spark"))


def _create_table(con: Connection) -> None:
    con.execute("create schema if not exists supportlake")
    if not _upsert(con):  # no enforced keys (Spark, most cloud warehouses): one row by protocol
        ddl = (
            "name varchar, lease_id varchar, holder varchar, run_id varchar, acquired_at timestamp, "
            "expires_at timestamp"
        )
    else:
        ddl = (
            "name varchar primary key, lease_id varchar not null, holder varchar not null, run_id varchar, "
            "acquired_at timestamp not null, expires_at timestamp not null"
        )
    try:
        con.execute(f"create table if not exists {TABLE} ({ddl})")
    except Exception:
        # PostgreSQL: two runs creating it at once; one wins, the other finds it there
        if not con.query(
            "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
            ["supportlake", "run_lease"],
        ):
            raise


def _read(con: Connection) -> LeaseRow | None:
    try:
        rows = con.query(f"select {_COLUMNS} from {TABLE} where name = %s", [ROW])
    except Exception as exc:
        if con.kind != "spark" or "FILE_NOT_EXIST" not in str(exc):
            raise
        # another host overwrote the lease between Spark listing its files and reading them
        con.execute_verbatim(f"refresh table {TABLE}")
        rows = con.query(f"select {_COLUMNS} from {TABLE} where name = %s", [ROW])
    if not rows:
        return None
    lease_id, holder, run_id, acquired, expires = max(rows, key=lambda r: (r[4], r[0]))  # Spark: the latest write
    return LeaseRow(str(lease_id), str(holder), None if run_id is None else str(run_id), acquired, expires)


def read_lease(target: Target) -> LeaseRow | None:
    """The lease row of ``target``'s warehouse as it stands (None: nobody holds it)."""
    with _connect(target) as con:
        try:
            return _read(con)
        except Exception:
            if not con.query(
                "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
                ["supportlake", "run_lease"],
            ):
                return None
            raise
