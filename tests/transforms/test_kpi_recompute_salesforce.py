"""The Salesforce side of the KPIs computed a second, independent way: the Salesforce simulator synced
alone into DuckDB (so every row of ``marts.agg_kpi_monthly`` is Salesforce's), built with the default
settings, then self-service, FCR, CSAT and SLA compliance recomputed in plain Python from the raw
synced rows following KPIS.md's words, and compared with the mart on every month that has data
(whatever months the simulator's clock gives). The SQL models share none of this code.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from transforms.runner import build
from warehouse.sql import Connection, connection
from warehouse.target import parse_target

Month = dt.date
Counts = dict[Month, tuple[float, float]]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> str:
    from simulators.salesforce import SalesforceSimulator
    from warehouse.sync import sync

    url = f"duckdb:///{tmp_path_factory.mktemp('sf_recompute') / 'wh.duckdb'}"
    simulator = SalesforceSimulator(seed=31, n_cases=400)
    with simulator.serve() as base_url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUPPORTLAKE_HOME", str(tmp_path_factory.mktemp("home")))
        mp.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        for key, value in {
            "BASE_URL": base_url,
            "CREDENTIALS__CLIENT_ID": simulator.client_id,
            "CREDENTIALS__CLIENT_SECRET": simulator.client_secret,
            "CREDENTIALS__USERNAME": simulator.username,
            "CREDENTIALS__PASSWORD": simulator.password,
            "CREDENTIALS__SECURITY_TOKEN": simulator.security_token,
            "BULK_POLL_SECONDS": "0.2",
        }.items():
            mp.setenv(f"SOURCES__SALESFORCE__{key}", value)
        result = sync(parse_target(url), ["salesforce"])
        assert result.ok
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


def _columns(con: Connection, table: str) -> set[str]:
    rows = con.query(
        "select column_name from information_schema.columns where table_schema = 'salesforce' and table_name = %s",
        [table],
    )
    return {r[0] for r in rows}


def _rows(con: Connection, table: str, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows of a raw Salesforce table; a column the sync never created (no value ever) reads as None."""
    have = _columns(con, table)
    if not have:
        return []
    wanted = list(columns)
    present = [c for c in wanted if c in have]
    got = con.query(f'select {", ".join(present)} from salesforce."{table}"')
    return [{c: dict(zip(present, r, strict=True)).get(c) for c in wanted} for r in got]


_TIER = re.compile(r"(^|[^a-z0-9])(tier|level|t|l)[ _-]?([1-3])([^0-9]|$)")
_CLOSED = {"closed", "solved", "resolved"}


@dataclass
class Case:
    id: str
    created: dt.datetime
    origin: str
    owner: str
    contact: str | None
    is_closed: bool
    closed: dt.datetime | None
    closed_on_create: bool
    modified: dt.datetime | None
    csat: float | None
    replies: int = 0
    agent_signs: bool = False
    first_closed: dt.datetime | None = None
    has_history: bool = False
    reopens: int = 0
    first_escalated: dt.datetime | None = None
    milestones: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_solved(self) -> dt.datetime | None:
        closes = [t for t in (self.first_closed, self.closed if self.is_closed else None) if t is not None]
        return min(closes, default=None)


def _tier(name: str | None) -> int | None:
    match = _TIER.search((name or "").lower())
    return int(match.group(3)) if match else None


def load_cases(con: Connection) -> dict[str, Case]:
    """The cases the KPIs count (not deleted, not purged, not merged away), with what their comments,
    milestones, Omni-Channel work and history say."""
    purged = {r["id"] for r in _rows(con, "deleted_records", ["id"])}
    cases: dict[str, Case] = {}
    statuses_closed_now: set[str] = set()
    for r in _rows(
        con,
        "case",
        [
            "id",
            "created_date",
            "origin",
            "owner_id",
            "contact_id",
            "is_closed",
            "closed_date",
            "is_closed_on_create",
            "last_modified_date",
            "system_modstamp",
            "is_deleted",
            "master_record_id",
            "status",
            "csat_score_c",
        ],
    ):
        if r["is_closed"] and r["status"]:
            statuses_closed_now.add(r["status"].lower())
        if r["is_deleted"] or r["master_record_id"] or r["id"] in purged:
            continue
        created = _utc(r["created_date"])
        assert created is not None
        cases[r["id"]] = Case(
            id=r["id"],
            created=created,
            origin=(r["origin"] or "").lower(),
            owner=r["owner_id"] or "",
            contact=r["contact_id"],
            is_closed=bool(r["is_closed"]),
            closed=_utc(r["closed_date"]),
            closed_on_create=bool(r["is_closed_on_create"]),
            modified=_utc(r["last_modified_date"] or r["system_modstamp"]),
            csat=None if r["csat_score_c"] is None else float(r["csat_score_c"]),
        )
    closed_statuses = _CLOSED | statuses_closed_now

    def is_closed_status(value: str | None) -> bool:
        return value is not None and (value.lower() in closed_statuses or value.lower().startswith("closed"))

    # agent replies: published comments (not deleted) of internal users, not the case's contact
    user_types = {r["id"]: r["user_type"] for r in _rows(con, "user", ["id", "user_type"])}
    for r in _rows(con, "case_comment", ["id", "parent_id", "is_published", "is_deleted", "created_by_id"]):
        case = cases.get(r["parent_id"])
        author = r["created_by_id"] or ""
        if (
            case is None
            or not r["is_published"]
            or r["is_deleted"]
            or r["id"] in purged
            or not author.startswith("005")
            or author == case.contact
            or (user_types.get(author) or "Standard") != "Standard"
        ):
            continue
        case.replies += 1
        case.agent_signs = True
    # a completed First Response milestone
    first_response = {
        r["id"]
        for r in _rows(con, "milestone_type", ["id", "name"])
        if (r["name"] or "").strip().lower() == "first response"
    }
    for r in _rows(
        con,
        "case_milestone",
        ["case_id", "milestone_type_id", "is_deleted", "is_completed", "is_violated", "target_date", "completion_date"],
    ):
        case = cases.get(r["case_id"])
        if case is None or r["is_deleted"]:
            continue
        case.milestones.append(r)
        if r["is_completed"] and r["completion_date"] is not None and r["milestone_type_id"] in first_response:
            case.agent_signs = True
    # Omni-Channel work an agent accepted
    for r in _rows(con, "agent_work", ["work_item_id", "accept_date_time", "is_deleted"]):
        case = cases.get(r["work_item_id"])
        if case is not None and r["accept_date_time"] is not None and not r["is_deleted"]:
            case.agent_signs = True
    # a phone case owned by an agent (a user, not a queue)
    for case in cases.values():
        if case.origin == "phone" and case.owner.startswith("005"):
            case.agent_signs = True
    # history: first close, reopens, escalations between queue tiers
    by_id: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for r in _rows(con, "group", ["id", "name"]):
        tier = _tier(r["name"])
        if tier is not None:
            by_id[r["id"]] = max(tier, by_id.get(r["id"], 0))
            by_name[r["name"]] = max(tier, by_name.get(r["name"], 0))
    owner_moves: dict[str, dict[dt.datetime, list[int | None]]] = defaultdict(dict)
    for r in sorted(
        _rows(con, "case_history", ["case_id", "field", "old_value", "new_value", "created_date"]),
        key=lambda r: r["created_date"],
    ):
        case = cases.get(r["case_id"])
        if case is None:
            continue
        case.has_history = True
        at = _utc(r["created_date"])
        assert at is not None
        if r["field"] == "Status":
            if is_closed_status(r["new_value"]) and case.first_closed is None:
                case.first_closed = at
            if (
                r["old_value"] is not None
                and r["new_value"] is not None
                and is_closed_status(r["old_value"])
                and not is_closed_status(r["new_value"])
            ):
                case.reopens += 1
        elif r["field"] in ("Owner", "ownerAssignment"):
            old = by_id.get(r["old_value"]) or by_name.get(r["old_value"])
            new = by_id.get(r["new_value"]) or by_name.get(r["new_value"])
            move = owner_moves[case.id].setdefault(at, [None, None])
            move[0] = max(filter(None, (move[0], old)), default=None)
            move[1] = max(filter(None, (move[1], new)), default=None)
    for case_id, moves in owner_moves.items():
        previous: int | None = None
        for at in sorted(moves):
            old, new = moves[at]
            if old is not None:
                previous = old
            if new is not None:
                if previous is not None and new > previous and cases[case_id].first_escalated is None:
                    cases[case_id].first_escalated = at
                previous = new
    return cases


def self_service(cases: dict[str, Case]) -> Counts:
    """Resolutions with no sign of agent work ÷ resolutions, by first solve month."""
    out: dict[Month, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases.values():
        if case.first_solved is None:
            continue
        out[_month(case.first_solved)][0] += not case.agent_signs
        out[_month(case.first_solved)][1] += 1
    return {m: (float(a), float(n)) for m, (a, n) in out.items()}


def fcr(cases: dict[str, Case]) -> Counts:
    """Resolved at first contact (closed on creation, or ≤ 1 reply, never reopened, not escalated
    between tiers before the first solve) ÷ resolved, by first solve month."""
    out: dict[Month, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases.values():
        solved = case.first_solved
        if solved is None:
            continue
        escalated = case.first_escalated is not None and case.first_escalated < solved
        ok = case.closed_on_create or (case.replies <= 1 and case.reopens == 0 and not escalated)
        out[_month(solved)][0] += ok
        out[_month(solved)][1] += 1
    return {m: (float(a), float(n)) for m, (a, n) in out.items()}


def csat(con: Connection, cases: dict[str, Case]) -> tuple[Counts, Counts]:
    """The Case field CSAT_Score__c (the default setting, 1–5): the average and good ÷ (good + bad),
    by the month it was given (the field's latest history change, else ClosedDate)."""
    set_at: dict[str, dt.datetime] = {}
    for r in _rows(con, "case_history", ["case_id", "field", "new_value", "created_date"]):
        if (r["field"] or "").lower() == "csat_score__c" and r["new_value"] is not None:
            at = _utc(r["created_date"])
            assert at is not None
            set_at[r["case_id"]] = max(at, set_at.get(r["case_id"], at))
    total: dict[Month, list[float]] = defaultdict(lambda: [0.0, 0.0])
    positive: dict[Month, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases.values():
        if case.csat is None or not 1 <= case.csat <= 5:
            continue
        at = set_at.get(case.id) or case.closed or case.modified
        assert at is not None
        total[_month(at)][0] += case.csat
        total[_month(at)][1] += 1
        if case.csat >= 4 or case.csat <= 2:
            positive[_month(at)][0] += case.csat >= 4
            positive[_month(at)][1] += 1
    return (
        {m: (s, n) for m, (s, n) in total.items()},
        {m: (float(g), float(n)) for m, (g, n) in positive.items()},
    )


def sla(cases: dict[str, Case]) -> Counts:
    """Achieved ÷ (achieved + breached) milestones, by completion (or breach) month."""
    out: dict[Month, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases.values():
        for m in case.milestones:
            if m["is_violated"]:
                at = _utc(m["target_date"] or m["completion_date"])
                achieved = False
            elif m["is_completed"] and m["completion_date"] is not None:
                at = _utc(m["completion_date"])
                achieved = True
            else:
                continue
            assert at is not None
            out[_month(at)][0] += achieved
            out[_month(at)][1] += 1
    return {m: (float(a), float(n)) for m, (a, n) in out.items()}


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday()


def _business_seconds(hours: dict[str, Any], start: dt.datetime, end: dt.datetime) -> float:
    """Business seconds between two UTC times: each local day's hours (00:00 as an end is midnight
    at the end of the day) in the business hours' time zone, overlapped with [start, end]."""
    zone = ZoneInfo(hours["time_zone_sid_key"] or "UTC")
    total = 0.0
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    while day <= end.astimezone(zone).date() + dt.timedelta(days=1):
        name = _DAYS[day.weekday()]
        opens, closes = hours[f"{name}_start_time"], hours[f"{name}_end_time"]
        if opens and closes:
            o = int(opens[:2]) * 60 + int(opens[3:5])
            c = int(closes[:2]) * 60 + int(closes[3:5]) or 24 * 60
            local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
            lo = (local + dt.timedelta(minutes=o)).replace(tzinfo=None)
            hi = (local + dt.timedelta(minutes=c)).replace(tzinfo=None)
            lo_utc = lo.replace(tzinfo=zone).astimezone(dt.UTC)
            hi_utc = hi.replace(tzinfo=zone).astimezone(dt.UTC)
            total += max(0.0, (min(end, hi_utc) - max(start, lo_utc)).total_seconds())
        day += dt.timedelta(days=1)
    return total


def business_resolution(con: Connection, cases: dict[str, Case]) -> Counts:
    """Median full resolution in business hours (CreatedDate → ClosedDate on the case's
    BusinessHours, else the default one) of the cases closed in the month."""
    columns = ["id", "is_active", "is_default", "time_zone_sid_key"] + [
        f"{d}_{edge}_time" for d in _DAYS for edge in ("start", "end")
    ]
    hours = {r["id"]: r for r in _rows(con, "business_hours", columns) if r["is_active"]}
    default = min((k for k, r in hours.items() if r["is_default"]), default=None)
    assigned = dict((r["id"], r["business_hours_id"]) for r in _rows(con, "case", ["id", "business_hours_id"]))
    out: dict[Month, list[float]] = defaultdict(list)
    for case in cases.values():
        if not case.is_closed or case.closed is None:
            continue
        which = assigned.get(case.id) if assigned.get(case.id) in hours else default
        if which is None:
            continue
        out[_month(case.closed)].append(_business_seconds(hours[which], case.created, case.closed) / 3600)
    return {m: (statistics.median(v), 1.0) for m, v in out.items()}


def totals(con: Connection, kpi: str) -> Counts:
    rows = con.query(
        "select month_start, numerator, denominator from marts.agg_kpi_monthly where kpi_name = %s "
        "and segment = 'all' and channel_group = 'all' and support_tier = 'all'",
        [kpi],
    )
    return {m: (n, d) for m, n, d in rows}


def _same(got: Counts, expected: Counts) -> None:
    assert expected, "the simulator has data for this KPI"
    assert set(got) == set(expected)
    for month, (num, den) in expected.items():
        assert got[month] == (pytest.approx(num), pytest.approx(den)), month


def test_self_service_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        cases = load_cases(con)
        _same(totals(con, "self_service_rate"), self_service(cases))


def test_fcr_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        cases = load_cases(con)
        _same(totals(con, "fcr_rate"), fcr(cases))


def test_csat_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        average, positive = csat(con, load_cases(con))
        _same(totals(con, "csat_avg_5pt"), average)
        _same(totals(con, "csat_pct_positive"), positive)


def test_sla_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        _same(totals(con, "sla_compliance"), sla(load_cases(con)))


def test_business_hours_resolution_recomputed(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        _same(totals(con, "median_resolution_business_hours"), business_resolution(con, load_cases(con)))
