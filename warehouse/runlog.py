"""The run log: ``supportlake.supportlake_runs``, one row per run and table.

A run writes its rows with status ``running`` when it starts and completes them when it ends;
a run stopped by Ctrl-C or SIGTERM completes its unfinished rows as ``interrupted``
(:func:`warehouse.sync.sync`); a row still ``running`` when the next run takes the lock belongs to a
run that was killed (``kill -9``, a crash), and is marked ``killed`` — unless its ``holder``
(``pid N on HOST``) is a process still alive on this machine: a run that lost its lock goes on
until its next check, then marks its own rows ``failed`` (:meth:`RunLog.finish` with the lock).
Errors are stored redacted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.secrets import redact
from warehouse.lock import LockLost, RunLock, holder_id, run_alive
from warehouse.sql import Connection

SCHEMA = "supportlake"
TABLE = f"{SCHEMA}.supportlake_runs"

DDL = f"""
create table if not exists {TABLE} (
    run_id varchar not null,
    source varchar not null,
    resource varchar not null,
    table_name varchar not null,
    started_at timestamp with time zone not null,
    finished_at timestamp with time zone,
    status varchar not null,
    rows bigint,
    requests bigint,
    retries bigint,
    rate_limited bigint,
    rejected bigint,
    seconds double precision,
    full_refresh boolean,
    error varchar,
    warning varchar,
    holder varchar,
    quarantined bigint
)
"""
MIGRATIONS = (
    # Columns added after the first release; older run logs gain them on the next run.
    f"alter table {TABLE} add column if not exists warning varchar",
    f"alter table {TABLE} add column if not exists holder varchar",
    f"alter table {TABLE} add column if not exists quarantined bigint",
)


@dataclass
class TableResult:
    source: str
    resource: str
    table_name: str
    status: str = "running"
    rows: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rejected: int = 0
    seconds: float = 0.0
    error: str | None = None
    quarantined: int = 0
    """Records of the table held in ``supportlake.rejected_records`` when the run ended."""
    warning: str | None = None
    """Something the user must know although the table loaded (e.g. data the API did not
    return, a fallback taken); ``None`` when there is nothing to say."""

    def add_warnings(self, *texts: str) -> None:
        """``texts`` after the warnings already said, each once (``; `` between them)."""
        said = self.warning.split("; ") if self.warning else []
        self.warning = "; ".join(dict.fromkeys([*said, *texts])) or None


class RunLog:
    def __init__(self, con: Connection) -> None:
        self.con = con

    def ensure(self) -> None:
        self.con.execute(f"create schema if not exists {SCHEMA}")
        self.con.execute(DDL)
        for statement in MIGRATIONS:
            self.con.execute(statement)

    def mark_killed(self) -> int:
        """Rows left ``running`` by runs that died. We hold the lock, but a run that lost it may
        still be going (:func:`warehouse.lock.run_alive`): its rows are left to it."""
        runs = self.con.query(f"select run_id, holder, count(*) from {TABLE} where status = 'running' group by 1, 2")
        n = 0
        for run_id, holder, count in runs:
            if run_alive(str(run_id), holder):
                continue
            self.con.execute(
                f"update {TABLE} set status = 'killed', error = %s where status = 'running' and run_id = %s",
                [
                    "the run ended without finishing (killed or crashed); the next run resumed from the last load",
                    run_id,
                ],
            )
            n += int(count)
        return n

    def start(self, run_id: str, started: dt.datetime, results: list[TableResult], full_refresh: bool) -> None:
        for r in results:
            self.con.execute(
                f"insert into {TABLE} (run_id, source, resource, table_name, started_at, status, full_refresh, holder) "
                "values (%s, %s, %s, %s, %s, 'running', %s, %s)",
                [run_id, r.source, r.resource, r.table_name, started, full_refresh, holder_id()],
            )

    def finish(
        self, run_id: str, finished: dt.datetime, results: list[TableResult], lock: RunLock | None = None
    ) -> None:
        """Complete the run's rows. With ``lock``, check it first: a run that lost its lock
        records every table ``failed`` with why (its own rows only) and raises :class:`LockLost`."""
        lost: LockLost | None = None
        if lock is not None:
            try:
                lock.verify()
            except LockLost as exc:
                lost = exc
                for r in results:
                    r.status, r.error = "failed", str(exc)
        self._write(run_id, finished, results)
        if lost is not None:
            raise lost

    def _write(self, run_id: str, finished: dt.datetime, results: list[TableResult]) -> None:
        for r in results:
            self.con.execute(
                f"update {TABLE} set finished_at = %s, status = %s, rows = %s, requests = %s, retries = %s, "
                "rate_limited = %s, rejected = %s, seconds = %s, error = %s, warning = %s, quarantined = %s "
                "where run_id = %s and source = %s and table_name = %s",
                [
                    finished,
                    r.status,
                    r.rows,
                    r.requests,
                    r.retries,
                    r.rate_limited,
                    r.rejected,
                    round(r.seconds, 3),
                    redact(r.error) if r.error else None,
                    redact(r.warning) if r.warning else None,
                    r.quarantined,
                    run_id,
                    r.source,
                    r.table_name,
                ],
            )
