"""Three KPIs computed a second, independent way: plain Python over the raw rows the simulators
served (as synced, before any SQL model), following KPIS.md's words, compared with
``marts.agg_kpi_monthly`` month by month. The SQL models share none of this code."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest

from transforms.runner import build
from warehouse.demo import run_demo
from warehouse.sql import Connection, connection
from warehouse.target import parse_target

Month = dt.date


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('kpi_recompute') / 'wh.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUPPORTLAKE_HOME", str(tmp_path_factory.mktemp("home")))
        mp.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        assert run_demo(url, tickets=600, seed=23, extracts=None) == 0
        build(parse_target(url))
    return url


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _month(value: dt.datetime) -> Month:
    return dt.date(value.year, value.month, 1)


def _rows(con: Connection, sql: str) -> list[tuple[Any, ...]]:
    return con.query(sql)


def counted_tickets(con: Connection) -> set[str]:
    """Tickets the KPIs count: not deleted, not merged away, not spam (KPIS.md's exclusions)."""
    keep = set()
    for id, status, tags in _rows(con, "select id, status, tags from zendesk.tickets"):
        labels = set(json.loads(tags or "[]"))
        if status != "deleted" and not labels & {"closed_by_merge", "spam"}:
            keep.add(f"zendesk:{id}")
    purged = {r[0] for r in _rows(con, "select id from salesforce.deleted_records where object = 'Case'")}
    for id, deleted, master in _rows(con, 'select id, is_deleted, master_record_id from salesforce."case"'):
        if not deleted and not master and id not in purged:
            keep.add(f"salesforce:{id}")
    return keep


def _has_column(con: Connection, schema: str, table: str, column: str) -> bool:
    rows = con.query(
        "select 1 from information_schema.columns where table_schema = %s and table_name = %s and column_name = %s",
        [schema, table, column],
    )
    return bool(rows)


def csat_pct_positive(con: Connection, counted: set[str]) -> dict[Month, tuple[int, int]]:
    """good ÷ (good + bad), the latest response per ticket, by the month it was given. Zendesk ratings;
    Salesforce's CSAT_Score__c (the default Case field, 1–5: 4–5 good, 1–2 bad), given when the
    field's history says, else at ClosedDate."""
    latest: dict[str, tuple[dt.datetime, int, str]] = {}
    for id, ticket, score, created, updated in _rows(
        con, "select id, ticket_id, score, created_at, updated_at from zendesk.satisfaction_ratings"
    ):
        if score not in ("good", "bad") or ticket is None or f"zendesk:{ticket}" not in counted:
            continue
        at = _utc(updated or created)
        assert at is not None
        key = f"zendesk:{ticket}"
        if key not in latest or (at, id) > latest[key][:2]:
            latest[key] = (at, id, score)
    out: dict[Month, list[int]] = defaultdict(lambda: [0, 0])
    for at, _, score in latest.values():
        out[_month(at)][0] += score == "good"
        out[_month(at)][1] += 1
    if _has_column(con, "salesforce", "case", "csat_score_c"):
        set_at: dict[str, dt.datetime] = {}
        for case, field, value, created in _rows(
            con, "select case_id, field, new_value, created_date from salesforce.case_history"
        ):
            if (field or "").lower() == "csat_score__c" and value is not None:
                at = _utc(created)
                assert at is not None
                set_at[case] = max(at, set_at.get(case, at))
        for id, score, closed, modified in _rows(
            con, 'select id, csat_score_c, closed_date, last_modified_date from salesforce."case"'
        ):
            if score is None or f"salesforce:{id}" not in counted or not (score >= 4 or score <= 2) or score < 1:
                continue
            at = set_at.get(id) or _utc(closed or modified)
            assert at is not None
            out[_month(at)][0] += score >= 4
            out[_month(at)][1] += 1
    return {m: (g, n) for m, (g, n) in out.items()}


def sla_compliance(con: Connection, counted: set[str]) -> dict[Month, tuple[int, int]]:
    """achieved ÷ (achieved + breached) targets, by completion month; running targets excluded.
    Zendesk: an instance counts once an SLA was applied; a breach counts unless it came after the
    last fulfilment or Zendesk marked it deleted ("you can ignore any breach event when deleted is
    true"). Salesforce: a violated milestone is breached (at its target date), a completed
    one achieved."""
    events: dict[tuple[Any, ...], list[tuple[str, dt.datetime]]] = defaultdict(list)
    deleted = "deleted" if _has_column(con, "zendesk", "ticket_metric_events", "deleted") else "false"
    for ticket, metric, instance, kind, time, is_deleted in _rows(
        con, f"select ticket_id, metric, instance_id, type, time, {deleted} from zendesk.ticket_metric_events"
    ):
        at = _utc(time)
        assert at is not None
        if kind == "breach" and is_deleted:
            continue
        events[("zendesk", ticket, metric, instance)].append((kind, at))
    out: dict[Month, list[int]] = defaultdict(lambda: [0, 0])

    def count(ticket: str, achieved: bool, at: dt.datetime) -> None:
        if ticket in counted:
            out[_month(at)][0] += achieved
            out[_month(at)][1] += 1

    for (_, ticket, _, _), evs in events.items():
        kinds = {k for k, _ in evs}
        if "apply_sla" not in kinds:
            continue
        fulfilled = max((t for k, t in evs if k == "fulfill"), default=None)
        breached = min((t for k, t in evs if k == "breach"), default=None)
        if breached is not None and (fulfilled is None or breached < fulfilled):
            count(f"zendesk:{ticket}", False, breached)
        elif fulfilled is not None:
            count(f"zendesk:{ticket}", True, fulfilled)
    for case, deleted, completed, violated, target, completion in _rows(
        con,
        "select case_id, is_deleted, is_completed, is_violated, target_date, completion_date "
        "from salesforce.case_milestone",
    ):
        if deleted:
            continue
        if violated:
            at = _utc(target or completion)
            assert at is not None
            count(f"salesforce:{case}", False, at)
        elif completed and completion is not None:
            count(f"salesforce:{case}", True, _utc(completion) or completion)
    return {m: (a, n) for m, (a, n) in out.items()}


def median_resolution_hours(con: Connection, counted: set[str]) -> dict[Month, float]:
    """Median full resolution time in calendar hours of the tickets finally resolved in the month:
    Zendesk's full_resolution_time_in_minutes (else created → closed for one closed without a
    solve); Salesforce CreatedDate → ClosedDate."""
    hours: dict[Month, list[float]] = defaultdict(list)
    zendesk = _rows(
        con,
        "select t.id, t.status, t.created_at, t.updated_at, m.solved_at, m.status_updated_at, "
        "m.full_resolution_time_in_minutes__calendar from zendesk.tickets as t "
        "left join zendesk.ticket_metrics as m on m.ticket_id = t.id",
    )
    for id, status, created, updated, solved, status_updated, full in zendesk:
        if f"zendesk:{id}" not in counted or status not in ("solved", "closed"):
            continue
        if solved is not None:
            final = _utc(solved)
        elif status == "closed":  # closed without a solve: resolved when closed
            final = _utc(status_updated or updated)
        else:
            continue
        if final is None:
            continue
        start = _utc(created)
        assert start is not None
        minutes = full if full is not None else (final - start).total_seconds() / 60
        hours[_month(final)].append(minutes / 60)
    for id, created, closed, is_closed in _rows(
        con, 'select id, created_date, closed_date, is_closed from salesforce."case"'
    ):
        if f"salesforce:{id}" not in counted or not is_closed or closed is None:
            continue
        final, start = _utc(closed), _utc(created)
        assert final is not None
        assert start is not None
        hours[_month(final)].append((final - start).total_seconds() / 3600)
    return {m: statistics.median(v) for m, v in hours.items()}


def totals(con: Connection, kpi: str) -> dict[Month, tuple[float, float]]:
    rows: Iterable[tuple[Any, ...]] = con.query(
        "select month_start, numerator, denominator from marts.agg_kpi_monthly where kpi_name = %s "
        "and segment = 'all' and channel_group = 'all' and support_tier = 'all'",
        [kpi],
    )
    return {m: (n, d) for m, n, d in rows}


def test_csat_pct_positive_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        expected = csat_pct_positive(con, counted_tickets(con))
        got = totals(con, "csat_pct_positive")
    assert expected, "the simulator rates tickets"
    assert got == {m: (float(g), float(n)) for m, (g, n) in expected.items()}


def test_sla_compliance_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        expected = sla_compliance(con, counted_tickets(con))
        got = totals(con, "sla_compliance")
    assert expected, "the simulators apply SLAs"
    assert got == {m: (float(a), float(n)) for m, (a, n) in expected.items()}


def test_median_resolution_hours_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        expected = median_resolution_hours(con, counted_tickets(con))
        got = totals(con, "median_resolution_hours")
    assert expected
    assert set(got) == set(expected)
    for month, value in expected.items():
        assert got[month] == (pytest.approx(value), 1.0), month
