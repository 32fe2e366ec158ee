"""The KPI report's month: the most tickets among the months where both ticketing systems have some
(not the busiest month of one system), and each system's share of that month's tickets, on DuckDB
and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

import pytest

from warehouse.report import pick_month, render_shares, system_shares
from warehouse.sql import connection
from warehouse.target import parse_target

TICKETS = [
    # March: the busiest month, Zendesk only
    *[("zendesk", dt.datetime(2025, 3, 10, 9), False)] * 9,
    # April: both systems, 4 + 2 tickets (one more Salesforce case excluded: deleted, merged or spam)
    *[("zendesk", dt.datetime(2025, 4, 2, 9), False)] * 4,
    *[("salesforce", dt.datetime(2025, 4, 30, 23), False)] * 2,
    ("salesforce", dt.datetime(2025, 4, 3, 9), True),
    # May: both systems, fewer tickets
    ("zendesk", dt.datetime(2025, 5, 2, 9), False),
    ("salesforce", dt.datetime(2025, 5, 3, 9), False),
]


@pytest.fixture(params=["duckdb", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/report.duckdb"
    return str(request.getfixturevalue("pg_url"))


def _load(url: str, rows: list[tuple[str, dt.datetime, bool]]) -> None:
    with connection(parse_target(url)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create table marts.fct_tickets (source_system varchar, created_at timestamp, is_excluded boolean)")
        for row in rows:
            con.execute("insert into marts.fct_tickets values (%s, %s, %s)", list(row))


def test_the_month_with_both_systems_and_their_shares(url: str) -> None:
    _load(url, TICKETS)
    with connection(parse_target(url)) as con:
        month = pick_month(con)
        assert month == dt.date(2025, 4, 1)
        shares = system_shares(con, month)
    assert [(s.system, s.count, round(s.share, 3)) for s in shares] == [("zendesk", 4, 0.667), ("salesforce", 2, 0.333)]
    assert render_shares(shares, month)[1:] == ["  Zendesk      67% (4 tickets)", "  Salesforce   33% (2 cases)"]


def test_one_system_only_the_busiest_month(url: str) -> None:
    _load(url, [r for r in TICKETS if r[0] == "zendesk"])
    with connection(parse_target(url)) as con:
        assert pick_month(con) == dt.date(2025, 3, 1)
        assert [(s.system, s.share) for s in system_shares(con, dt.date(2025, 3, 1))] == [("zendesk", 1.0)]
