"""Warnings: what a run must tell although a table loaded (a fallback taken, data the API did not
return) reaches the summary and the run log's ``warning`` column, and an older run log gains it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from connectors.stats import StatsRegistry
from warehouse.progress import summary_table
from warehouse.runlog import TABLE, RunLog, TableResult
from warehouse.sql import connection
from warehouse.target import parse_target


def test_a_warning_is_kept_once_per_message() -> None:
    stats = StatsRegistry()
    stats.warn("zendesk", "tickets", "page 3 carried no metric sets")
    stats.warn("zendesk", "tickets", "page 3 carried no metric sets")
    stats.warn("zendesk", "tickets", "another thing")
    assert stats.get("zendesk", "tickets").warnings == ("page 3 carried no metric sets", "another thing")
    assert stats.get("zendesk", "users").warnings == ()


def test_warnings_reach_the_summary_and_the_run_log(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    result = TableResult("zendesk", "tickets", "ticket_metrics", status="success", rows=3, warning="no metric sets")
    assert "zendesk.ticket_metrics: warning: no metric sets" in summary_table([result])
    # the last column counts the time inside the table's requests, not the table's whole time
    assert summary_table([result]).splitlines()[0].split()[-2:] == ["request", "s"]
    with connection(target) as con:
        log = RunLog(con)
        log.ensure()
        now = dt.datetime.now(dt.UTC)
        log.start("r1", now, [result], False)
        log.finish("r1", now, [result])
        assert con.query(f"select status, warning from {TABLE}") == [("success", "no metric sets")]


def test_an_older_run_log_gains_the_warning_column(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with connection(target) as con:
        con.execute("create schema supportlake")
        con.execute(
            f"create table {TABLE} (run_id varchar not null, source varchar not null, resource varchar not null, "
            "table_name varchar not null, started_at timestamp with time zone not null, "
            "finished_at timestamp with time zone, status varchar not null, rows bigint, requests bigint, "
            "retries bigint, rate_limited bigint, rejected bigint, seconds double precision, full_refresh boolean, "
            "error varchar)"
        )
        RunLog(con).ensure()
        columns = [
            r[0]
            for r in con.query(
                "select column_name from information_schema.columns where table_name = 'supportlake_runs'"
            )
        ]
        assert "warning" in columns
