"""Issue 13, "never lose a record silently": one bad value rejects its record, not its page; every
rejected record is kept in ``supportlake.rejected_records`` (reason, redacted payload), fetched
again by id on later runs and resolved once read valid; while any is held the table is ``partial``
and ``supportlake sync`` exits 3."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from connectors.endpoints import Table
from connectors.rejects import REJECTS
from connectors.stats import STATS
from schemas import zendesk as m
from warehouse import quarantine
from warehouse.cli import main
from warehouse.runlog import TABLE as RUNS
from warehouse.sql import connection
from warehouse.target import parse_target

BASE = "https://acme.zendesk.com"
TICKETS = f"{BASE}/api/v2/incremental/tickets/cursor.json"
SHOW_MANY = f"{BASE}/api/v2/tickets/show_many.json"
FIELDS = f"{BASE}/api/v2/ticket_fields.json"
TOKEN = "zd-quarantine-token-5f2a"


def ticket(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": i,
        "status": "open",
        "subject": f"ticket {i}",
        "created_at": "2024-03-01T09:00:00Z",
        "updated_at": "2024-03-01T10:00:00Z",
        **fields,
    }


def export(tickets: list[dict[str, Any]], cursor: str) -> dict[str, Any]:
    return {
        "tickets": tickets,
        "after_cursor": cursor,
        "after_url": f"{TICKETS}?cursor={cursor}",
        "before_cursor": None,
        "before_url": None,
        "end_of_stream": True,
    }


# -- the writer rejects the record, not the page ------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "column", "value"),
    [({"is_public": "yes"}, "is_public", "'yes'"), ({"updated_at": 1709287200}, "updated_at", "1709287200")],
)
def test_a_value_its_column_cannot_hold_rejects_the_record_not_the_page(
    bad: dict[str, Any], column: str, value: str
) -> None:
    writer = Table(name="tickets", model=m.Ticket).sink()
    from connectors.writer import StreamWriter

    w = StreamWriter({"tickets": writer})
    rows = [ticket(1, is_public=True), ticket(2, **{"is_public": False, **bad}), ticket(3, is_public=False)]

    good = w.validate("tickets", rows)
    table = w.build("tickets", good)

    assert sorted(table.column("id").to_pylist()) == [1, 3]
    (rejection,) = w.rejections()
    assert rejection.record_id == 2
    assert f"tickets.{column}" in rejection.problems
    assert value in rejection.problems
    assert rejection.payload["id"] == 2


# -- end to end: quarantine, re-fetch by id, resolution, exit code 3 ----------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "CREDENTIALS__", "SUPPORTLAKE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("SUPPORTLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", BASE)
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", "agent@acme.com")
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", TOKEN)
    monkeypatch.setenv("SOURCES__ZENDESK__MAX_ATTEMPTS", "1")
    STATS.reset()
    REJECTS.reset()
    return f"duckdb:///{tmp_path / 'wh.duckdb'}"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        yield mock


def _fields(rsps: responses.RequestsMock) -> None:
    rsps.get(FIELDS, json={"ticket_fields": [], "meta": {"has_more": False}, "links": {"next": None}})


def _sync(url: str) -> int:
    return main(["sync", "--source", "zendesk", "--resource", "tickets", "--warehouse", url])


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with connection(parse_target(url)) as con:
        return con.query(sql)


def test_rejected_records_are_quarantined_refetched_and_resolved(
    env: str, rsps: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    url = env
    leaky = f"callback https://hooks.example.com/cb?access_token=abcd1234efgh and the API token {TOKEN}"
    # Run 1: two records whose values their columns cannot hold; the third loads.
    _fields(rsps)
    rsps.get(
        TICKETS,
        json=export(
            [
                ticket(1, is_public=True),
                ticket(2, is_public="yes", description=leaky),
                ticket(3, updated_at=1709287200),
            ],
            "c1",
        ),
    )
    assert _sync(url) == 3
    out = capsys.readouterr()
    assert "PARTIAL" in out.out

    assert _rows(url, "select id from zendesk.tickets order by id") == [(1,)]
    held = _rows(
        url,
        f"select record_key, reason, payload, first_seen = last_seen, resolved_at is null from {quarantine.TABLE} "
        "where source = 'zendesk' and table_name = 'tickets' order by record_key",
    )
    assert [(k, same, open_) for k, _, _, same, open_ in held] == [("2", True, True), ("3", True, True)]
    assert "is_public" in held[0][1]
    assert "'yes'" in held[0][1]
    assert "updated_at" in held[1][1]
    payload = json.loads(held[0][2])
    assert payload["is_public"] == "yes"
    assert payload["id"] == 2
    assert TOKEN not in held[0][2]
    assert "abcd1234efgh" not in held[0][2]
    (run,) = _rows(url, f"select status, rejected, quarantined, warning from {RUNS} where table_name = 'tickets'")
    assert run[:3] == ("partial", 2, 2)
    assert "quarantine" in run[3]

    # Run 2: nothing new in the export; the held tickets are fetched again by id. #2 reads valid
    # now (resolved), #3 still does not (held, last_seen moves, first_seen stays).
    _fields(rsps)
    rsps.get(
        TICKETS,
        json=export([], "c2"),
        match=[matchers.query_param_matcher({"include": "metric_sets", "per_page": "1000", "cursor": "c1"})],
    )
    rsps.get(
        SHOW_MANY,
        json={"tickets": [ticket(2, is_public=True), ticket(3, updated_at=1709287200)]},
        match=[matchers.query_param_matcher({"ids": "2,3", "include": "metric_sets"})],
    )
    assert _sync(url) == 3
    assert _rows(url, "select id, is_public from zendesk.tickets order by id") == [(1, True), (2, True)]
    state = _rows(
        url,
        f"select record_key, resolved_at is not null, first_seen < last_seen from {quarantine.TABLE} "
        "order by record_key",
    )
    assert state == [("2", True, False), ("3", False, True)]

    # Run 3: #3 was fixed upstream; read valid (by id), nothing held: exit 0.
    _fields(rsps)
    rsps.get(TICKETS, json=export([], "c3"))
    rsps.get(
        SHOW_MANY,
        json={"tickets": [ticket(3)]},
        match=[matchers.query_param_matcher({"ids": "3", "include": "metric_sets"})],
    )
    assert _sync(url) == 0
    assert _rows(url, f"select count(*) from {quarantine.TABLE} where resolved_at is null") == [(0,)]
    assert _rows(url, "select count(*) from zendesk.tickets") == [(3,)]
    statuses = _rows(url, f"select status from {RUNS} where table_name = 'tickets' order by started_at")
    assert [s for (s,) in statuses] == ["partial", "partial", "success"]


def test_held_records_the_api_no_longer_returns_by_id_are_resolved_saying_so(
    env: str, rsps: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A held ticket deleted for good (or archived, or out of the agent's reach) is not in the
    Show Many answer: before, it stayed held on every run, every run ``partial`` (exit 3) and a
    cron line ``sync && build`` never built. Now it is resolved once that run's load commits, its
    reason saying why, and the table says how many in a warning."""
    url = env
    _fields(rsps)
    rsps.get(TICKETS, json=export([ticket(1), ticket(2, is_public="yes"), ticket(3, is_public="no")], "c1"))
    assert _sync(url) == 3
    assert _rows(url, f"select record_key from {quarantine.TABLE} where resolved_at is null order by 1") == [
        ("2",),
        ("3",),
    ]

    # Run 2: #2 is gone (not in the answer), #3 is still there and still bad: #3 stays held.
    _fields(rsps)
    rsps.get(TICKETS, json=export([], "c2"))
    rsps.get(
        SHOW_MANY,
        json={"tickets": [ticket(3, is_public="no")]},
        match=[matchers.query_param_matcher({"ids": "2,3", "include": "metric_sets"})],
    )
    assert _sync(url) == 3
    rows = _rows(url, f"select record_key, reason, resolved_at is not null from {quarantine.TABLE} order by 1")
    assert [(k, resolved) for k, _, resolved in rows] == [("2", True), ("3", False)]
    assert rows[0][1].startswith("tickets.is_public")  # the first reason is kept, then why it was resolved
    assert "not returned when read again by id" in rows[0][1]
    assert "not returned" not in rows[1][1]
    latest = "where table_name = 'tickets' order by started_at desc limit 1"
    (run,) = _rows(url, f"select status, quarantined, warning from {RUNS} {latest}")
    assert run[:2] == ("partial", 1)
    assert "1 record(s) held in quarantine were not returned when read again by id" in run[2]
    assert "not returned when read again by id" in capsys.readouterr().out

    # Run 3: #3 is gone too: nothing held, exit 0, the table a success with the warning.
    _fields(rsps)
    rsps.get(TICKETS, json=export([], "c3"))
    rsps.get(
        SHOW_MANY,
        json={"tickets": []},
        match=[matchers.query_param_matcher({"ids": "3", "include": "metric_sets"})],
    )
    assert _sync(url) == 0
    assert _rows(url, f"select count(*) from {quarantine.TABLE} where resolved_at is null") == [(0,)]
    (run,) = _rows(url, f"select status, warning from {RUNS} {latest}")
    assert run[0] == "success"
    assert "1 record(s) held in quarantine were not returned" in run[1]


def test_a_read_by_id_that_fails_resolves_nothing(env: str, rsps: responses.RequestsMock) -> None:
    """Only a whole answer says an id is gone: Show Many failing (here a 500, one attempt) leaves
    the held record held."""
    url = env
    _fields(rsps)
    rsps.get(TICKETS, json=export([ticket(1), ticket(2, is_public="yes")], "c1"))
    assert _sync(url) == 3
    _fields(rsps)
    rsps.get(TICKETS, json=export([], "c2"))
    rsps.get(SHOW_MANY, status=500, json={"error": "InternalError"})
    assert _sync(url) != 0
    assert _rows(url, f"select record_key from {quarantine.TABLE} where resolved_at is null") == [("2",)]


def test_gone_keys_are_resolved_only_when_the_load_committed(warehouse_url: str) -> None:
    import datetime as dt

    from schemas.payload import Rejection

    REJECTS.reset()
    t0 = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    with connection(parse_target(warehouse_url)) as con:
        quarantine.ensure(con)
        held = [Rejection("users", i, "users.id: bad", {"id": i}) for i in (7, 8, 9)]
        quarantine.store(con, "zendesk", "r1", t0, held)
        REJECTS.hold("zendesk", quarantine.held(con, "zendesk"))
        # asked 7, 8 and 9 (and 10, not held); the answer had 8 only: 7 and 9 are gone
        REJECTS.missing("zendesk", "users", ["7", "8", "9", "10"], [8])
        assert quarantine.settle(con, "zendesk", "r2", loaded=False) == ({"users": 3}, {})
        assert quarantine.held_counts(con, "zendesk") == {"users": 3}  # the load did not commit

        REJECTS.hold("zendesk", quarantine.held(con, "zendesk"))
        REJECTS.missing("zendesk", "users", ["7", "8", "9"], ["8"])
        REJECTS.add("zendesk", [Rejection("users", 9, "users.id: bad again")])  # read after all: kept
        assert quarantine.settle(con, "zendesk", "r3", loaded=True) == ({"users": 2}, {"users": 1})
        rows = con.query(f"select record_key, resolved_at is not null from {quarantine.TABLE} order by 1")
    assert rows == [("7", True), ("8", False), ("9", False)]


# -- the table on both warehouses ------------------------------------------------------------------


def test_the_quarantine_table_on_duckdb_and_postgres(warehouse_url: str) -> None:
    import datetime as dt

    from schemas.payload import Rejection

    t0 = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    t1 = t0 + dt.timedelta(hours=1)
    first = [Rejection("tickets", 2, "tickets.is_public: 'yes'", {"id": 2}), Rejection("users", None, "no id", 5)]
    with connection(parse_target(warehouse_url)) as con:
        quarantine.ensure(con)
        quarantine.ensure(con)  # idempotent
        assert quarantine.store(con, "zendesk", "r1", t0, first) == 2
        assert quarantine.held(con, "zendesk") == {"tickets": ["2"], "users": [""]}
        # the same record rejected again: one row, first_seen kept, last_seen and run moved
        quarantine.store(con, "zendesk", "r2", t1, [Rejection("tickets", 2, "tickets.is_public: 'no'", {"id": 2})])
        # read valid later: resolved; a key both read valid and rejected in one run stays held
        n = quarantine.resolve(con, "zendesk", t1, {"tickets": ["2"], "users": [""]}, [Rejection("users", None, "x")])
        assert n == 1
        rows = con.query(
            f"select table_name, record_key, reason, first_seen, last_seen, run_id, resolved_at "
            f"from {quarantine.TABLE} order by table_name"
        )
        assert quarantine.held_counts(con, "zendesk") == {"users": 1}
    (tickets, users) = rows
    assert tickets[:3] == ("tickets", "2", "tickets.is_public: 'no'")
    assert (tickets[3], tickets[4], tickets[5]) == (t0, t1, "r2")
    assert tickets[6] == t1
    assert users[1] == ""
    assert users[6] is None


def test_a_whole_table_rejected_is_stored_and_resolved_in_batches(
    warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API change that rejects every record: a few statements per batch of keys, not two per
    record; a key held before keeps its first_seen; the write is one transaction."""
    import datetime as dt

    from schemas.payload import Rejection

    monkeypatch.setattr(quarantine, "BATCH", 7)
    t0 = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    t1 = t0 + dt.timedelta(hours=1)
    with connection(parse_target(warehouse_url)) as con:
        quarantine.ensure(con)
        quarantine.store(con, "zendesk", "r1", t0, [Rejection("tickets", i, "old", {"id": i}) for i in range(10)])
        statements: list[str] = []
        execute = con.execute

        def counted(sql: str, params: Any = ()) -> None:
            statements.append(sql.split()[0])
            execute(sql, params)

        monkeypatch.setattr(con, "execute", counted)
        again = [Rejection("tickets", i, "new", {"id": i}) for i in range(5, 30)]  # 5..9 held before
        assert quarantine.store(con, "zendesk", "r2", t1, again) == 25
        assert statements == ["begin", "delete", "insert", "insert", "insert", "insert", "commit"]
        statements.clear()
        assert quarantine.resolve(con, "zendesk", t1, {"tickets": [str(i) for i in range(20)]}) == 20
        assert statements == ["update", "update", "update"]
        monkeypatch.undo()
        rows = con.query(
            f"select record_key, reason, first_seen, resolved_at is null from {quarantine.TABLE} "
            "where source = 'zendesk' order by cast(record_key as integer)"
        )
    assert len(rows) == 30
    assert rows[0] == ("0", "old", t0, False)
    assert rows[7] == ("7", "new", t0, False)  # held before: first_seen kept, reason replaced
    assert rows[25] == ("25", "new", t1, True)


def test_a_run_keeps_a_bounded_number_of_payloads(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors import rejects
    from schemas.payload import Rejection

    monkeypatch.setattr(rejects, "MAX_PAYLOADS", 2)
    collector = rejects.Rejects()
    collector.add("zendesk", [Rejection("tickets", i, "bad", {"id": i, "body": "x" * 100}) for i in range(5)])

    kept = collector.take("zendesk")

    assert [r.record_id for r in kept] == [0, 1, 2, 3, 4]  # every rejection is kept, by key and reason
    assert [r.payload["id"] for r in kept[:2]] == [0, 1]
    assert all("not kept" in r.payload for r in kept[2:])
