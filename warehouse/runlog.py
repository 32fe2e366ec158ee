"""The run log: ``supportlake.supportlake_runs``, one row per run and table.

A run writes its rows with status ``running`` when it starts and completes them when it ends;
a run stopped by Ctrl-C or SIGTERM completes its unfinished rows as ``interrupted``
(:func:`warehouse.sync.sync`); a row still ``running`` when the next run takes the lock belongs to a
run that was killed (``kill -9``, a crash), and is marked ``killed``. Errors are stored redacted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.secrets import redact
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
    warning varchar
)
"""
MIGRATIONS = (
    # Columns added after the first release; older run logs gain them on the next run.
    f"alter table {TABLE} add column if not exists warning varchar",
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
    warning: str | None = None
    """Something the user must know although the table loaded (e.g. data the API did not
    return, a fallback taken); ``None`` when there is nothing to say."""


class RunLog:
    def __init__(self, con: Connection) -> None:
        self.con = con

    def ensure(self) -> None:
        self.con.execute(f"create schema if not exists {SCHEMA}")
        self.con.execute(DDL)
        for statement in MIGRATIONS:
            self.con.execute(statement)

    def mark_killed(self) -> int:
        """Rows left ``running`` by a run that died (we hold the lock, so none is alive)."""
        rows = self.con.query(f"select count(*) from {TABLE} where status = 'running'")
        n = int(rows[0][0]) if rows else 0
        if n:
            self.con.execute(
                f"update {TABLE} set status = 'killed', error = %s where status = 'running'",
                ["the run ended without finishing (killed or crashed); the next run resumed from the last load"],
            )
        return n

    def start(self, run_id: str, started: dt.datetime, results: list[TableResult], full_refresh: bool) -> None:
        for r in results:
            self.con.execute(
                f"insert into {TABLE} (run_id, source, resource, table_name, started_at, status, full_refresh) "
                "values (%s, %s, %s, %s, %s, 'running', %s)",
                [run_id, r.source, r.resource, r.table_name, started, full_refresh],
            )

    def finish(self, run_id: str, finished: dt.datetime, results: list[TableResult]) -> None:
        for r in results:
            self.con.execute(
                f"update {TABLE} set finished_at = %s, status = %s, rows = %s, requests = %s, retries = %s, "
                "rate_limited = %s, rejected = %s, seconds = %s, error = %s, warning = %s "
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
                    run_id,
                    r.source,
                    r.table_name,
                ],
            )
