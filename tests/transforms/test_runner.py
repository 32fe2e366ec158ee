"""The runner on real warehouses: DuckDB (a file per test) and PostgreSQL (a database per test)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from common.errors import ConfigError
from connectors.zendesk.endpoints import ENDPOINTS
from transforms.runner import (
    STANDIN_SCHEMA,
    ModelResult,
    TransformError,
    build,
    raw_table_columns,
    summary,
)
from warehouse.lock import AlreadyRunning, RunLock
from warehouse.sql import connection
from warehouse.target import parse_target

from .conftest import FIXTURES, columns, query, seed_raw, write_models

UTC = dt.UTC


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


TICKET_COLUMNS = ("id", "status", "organization_id", "via__channel", "created_at")
TICKETS = [
    dict(zip(TICKET_COLUMNS, row, strict=True))
    for row in [
        (1, "open", 10, "email", ts("2024-01-05T10:00:00+00:00")),
        (2, "solved", 10, "web", ts("2024-01-20T23:30:00+00:00")),
        (3, "closed", 20, "email", ts("2024-02-01T00:00:00+00:00")),
        (4, "deleted", 10, "email", ts("2024-02-02T00:00:00+00:00")),
        # 23:59:59 in New York on 29 February is 1 March in UTC: the month is March.
        (5, "Solved", None, "api", ts("2024-02-29T23:59:59-05:00")),
    ]
]
for _row in TICKETS:
    _row["updated_at"] = _row["created_at"]
_CREATED = ts("2023-01-01T00:00:00+00:00")
ORGANIZATIONS = [
    {"id": 10, "name": "Acme", "external_id": "001000000000001AAA", "created_at": _CREATED, "updated_at": _CREATED},
    {"id": 30, "name": "Unused", "external_id": None, "created_at": _CREATED, "updated_at": _CREATED},
]


def seed_project(url: str) -> None:
    seed_raw(url, {"zendesk.tickets": TICKETS, "zendesk.organizations": ORGANIZATIONS})


def test_builds_every_fixture_model_with_rows_per_model(warehouse_url: str) -> None:
    seed_project(url=warehouse_url)
    target = parse_target(warehouse_url)
    seen: list[ModelResult] = []

    results = build(target, FIXTURES / "project", on_result=seen.append)

    assert seen == results
    assert {r.model: r.rows for r in results} == {
        "staging.stg_zendesk__calls": 0,
        "staging.stg_zendesk__organizations": 2,
        "staging.stg_zendesk__tickets": 5,
        "intermediate.int_tickets_with_accounts": 4,
        "core.tickets": 4,
        "core.accounts_summary": 2,
        "marts.agg_tickets_monthly": 4,
    }
    assert [r.model for r in results].index("core.tickets") < [r.model for r in results].index("core.accounts_summary")
    assert all(r.seconds >= 0 for r in results)
    assert {r.model: r.standins for r in results if r.standins} == {"staging.stg_zendesk__calls": ("zendesk.calls",)}
    assert results[0].path == FIXTURES / "project" / "staging" / "zendesk" / "stg_zendesk__calls.sql"

    monthly = "select month, channel, tickets, solved_tickets, calls from marts.agg_tickets_monthly order by 1, 2"
    assert query(warehouse_url, monthly) == [
        (dt.date(2024, 1, 1), "email", 1, 0, 0),
        (dt.date(2024, 1, 1), "web", 1, 1, 0),
        (dt.date(2024, 2, 1), "email", 1, 1, 0),
        (dt.date(2024, 3, 1), "api", 1, 1, 0),
    ]  # fmt: skip
    organizations = "select account_name, has_account_id, name_has_s from staging.stg_zendesk__organizations"
    assert query(warehouse_url, organizations + " order by 1") == [
        ("Acme", True, False),
        ("Unused", None, True),
    ]  # fmt: skip
    assert query(
        warehouse_url, "select account_key, tickets, solved_tickets from core.accounts_summary order by 1"
    ) == [
        ("zendesk:10", 2, 1),
        (None, 2, 2),
    ]
    # Times are UTC wall-clock TIMESTAMPs (Tableau-ready), whatever the session's zone was.
    assert query(warehouse_url, "select created_at from core.tickets where ticket_key = 'zendesk:5'") == [
        (dt.datetime(2024, 3, 1, 4, 59, 59),)
    ]
    # No temporary tables and no stand-ins are left behind; the raw schema holds only what was loaded.
    tables = query(warehouse_url, "select table_schema, table_name from information_schema.tables")
    assert not [t for t in tables if t[1].endswith("__sl_new") or t[0] == STANDIN_SCHEMA]
    assert sorted(t[1] for t in tables if t[0] == "zendesk") == ["organizations", "tickets"]

    # A second build swaps every table in place and gives the same result.
    again = build(target, FIXTURES / "project")
    assert [(r.model, r.rows) for r in again] == [(r.model, r.rows) for r in results]


def test_absent_sources_give_empty_tables_with_the_right_columns(warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    results = build(target, FIXTURES / "project")

    assert {r.rows for r in results} == {0}
    assert {r.model: r.standins for r in results if r.standins} == {
        "staging.stg_zendesk__calls": ("zendesk.calls",),
        "staging.stg_zendesk__organizations": ("zendesk.organizations",),
        "staging.stg_zendesk__tickets": ("zendesk.tickets",),
    }
    with connection(target) as con:
        stg = columns(con, "staging", "stg_zendesk__tickets")
        marts = columns(con, "marts", "agg_tickets_monthly")
        raw = query(warehouse_url, "select table_schema from information_schema.tables where table_schema = 'zendesk'")
    text = "varchar" if target.kind == "duckdb" else "text"
    plain_ts = "timestamp" if target.kind == "duckdb" else "timestamp without time zone"
    assert stg == {
        "ticket_key": text,
        "source_ticket_id": "bigint",
        "organization_id": "bigint",
        "status": text,
        "channel": text,
        "created_at": plain_ts,
        "is_deleted": "boolean",
    }
    assert marts == {
        "month": "date",
        "channel": text,
        "tickets": "bigint",
        "solved_tickets": "bigint",
        "calls": "bigint",
    }
    assert raw == []  # stand-ins never appear in the raw schemas


def test_registry_declares_every_zendesk_table() -> None:
    declared = raw_table_columns()
    for endpoint in ENDPOINTS:
        for table in endpoint.tables:
            cols = declared[f"zendesk.{table.name}"]
            assert cols["id"] == "bigint"
            assert cols["_sl_seq"] == "bigint"
            assert set(cols.values()) <= {"text", "bigint", "double", "bool", "timestamp", "json"}
    assert declared["zendesk.tickets"]["created_at"] == "timestamp"
    assert declared["zendesk.tickets"]["via__channel"] == "text"


def test_every_raw_table_declares_the_deletion_columns() -> None:
    """Stand-ins of unsynced tables offer the columns staging reads for deletions."""
    for table, cols in raw_table_columns().items():
        if table.startswith("inputs."):
            continue  # loaded from files, not from a source: no deletions
        assert (cols["_sl_deleted"], cols["_sl_deleted_at"]) == ("bool", "timestamp"), table


def test_absent_undeclared_source_is_an_error_naming_the_model(warehouse_url: str, tmp_path: Path) -> None:
    models = write_models(tmp_path / "models", {"staging/stg_x.sql": "select id from jira.issues"})
    with pytest.raises(TransformError, match=r"model staging\.stg_x reads jira\.issues: not in the warehouse"):
        build(parse_target(warehouse_url), models)


def test_custom_registry_of_raw_tables(warehouse_url: str, tmp_path: Path) -> None:
    models = write_models(tmp_path / "models", {"staging/stg_x.sql": "select id, title from jira.issues"})
    results = build(parse_target(warehouse_url), models, raw_tables={"jira.issues": {"id": "bigint", "title": "text"}})
    assert [(r.model, r.rows, r.standins) for r in results] == [("staging.stg_x", 0, ("jira.issues",))]


def test_stand_in_keeps_table_and_column_qualifiers(warehouse_url: str, tmp_path: Path) -> None:
    sql = (
        "select zendesk.tickets.id, tickets.status, u.email "
        "from zendesk.tickets left join zendesk.users as u on u.id = tickets.requester_id"
    )
    models = write_models(tmp_path / "models", {"staging/stg_x.sql": sql})
    results = build(parse_target(warehouse_url), models)
    assert [(r.rows, r.standins) for r in results] == [(0, ("zendesk.tickets", "zendesk.users"))]


@pytest.mark.parametrize("seeded", [False, True], ids=["stand-in", "real-table"])
def test_unknown_column_is_an_error_naming_model_and_column(warehouse_url: str, seeded: bool) -> None:
    if seeded:
        seed_raw(warehouse_url, {"zendesk.tickets": TICKETS[:1]})
    with pytest.raises(TransformError) as info:
        build(parse_target(warehouse_url), FIXTURES / "missing_column")
    message = str(info.value)
    assert "model staging.stg_tickets" in message
    assert "stg_tickets.sql" in message
    assert "no_such_column" in message
    assert info.value.model == "staging.stg_tickets"


def test_first_failure_stops_the_run_naming_the_model(warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    built: list[str] = []
    with pytest.raises(TransformError) as info:
        build(target, FIXTURES / "failing", on_result=lambda r: built.append(r.model))
    message = str(info.value)
    assert message.startswith(f"model core.bad ({FIXTURES / 'failing' / 'core' / 'bad.sql'}) failed on {target.kind}: ")
    assert "not a number" in message  # the engine's own message
    assert info.value.model == "core.bad"
    assert info.value.path == FIXTURES / "failing" / "core" / "bad.sql"
    assert built == ["staging.ok"]
    tables = {(s, t) for s, t in query(warehouse_url, "select table_schema, table_name from information_schema.tables")}
    assert ("staging", "ok") not in tables  # built, but a build is published whole or not at all
    assert ("core", "bad") not in tables
    assert ("marts", "after") not in tables
    assert not [t for t in tables if t[1].endswith("__sl_new")]


def test_failed_rebuild_leaves_the_previous_table_intact(warehouse_url: str, tmp_path: Path) -> None:
    target = parse_target(warehouse_url)
    models = write_models(tmp_path / "models", {"core/numbers.sql": "select * from generate_series(1, 3) as g(n)"})
    assert [r.rows for r in build(target, models)] == [3]

    write_models(models, {"core/numbers.sql": "select n::INTEGER as n from (values ('1'), ('x')) as v(n)"})
    with pytest.raises(TransformError, match=r"model core\.numbers"):
        build(target, models)

    assert query(warehouse_url, "select n from core.numbers order by n") == [(1,), (2,), (3,)]
    names = [t for (t,) in query(warehouse_url, "select table_name from information_schema.tables")]
    assert "numbers__sl_new" not in names


def test_select_builds_only_the_named_models(warehouse_url: str) -> None:
    seed_project(warehouse_url)
    target = parse_target(warehouse_url)
    build(target, FIXTURES / "project")
    results = build(target, FIXTURES / "project", select=["core.tickets+"])
    assert [r.model for r in results] == ["core.tickets", "core.accounts_summary", "marts.agg_tickets_monthly"]


def test_a_build_never_overlaps_another_run(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with RunLock(target), pytest.raises(AlreadyRunning):
        build(target, FIXTURES / "failing")


@pytest.mark.parametrize("name", ["core", "zendesk", "supportlake"])
def test_duckdb_file_named_like_a_schema_is_a_config_error(tmp_path: Path, name: str) -> None:
    """DuckDB names its catalog after the file: ``supportlake.duckdb`` makes every
    ``supportlake.<table>`` (the run log) an ambiguous reference, so the URL is refused up front."""
    with pytest.raises(ConfigError, match=f"names its catalog after the file \\('{name}'\\)"):
        parse_target(f"duckdb:///{tmp_path / (name + '.duckdb')}")
    with pytest.raises(ConfigError, match=f"catalog after the file \\('{name}'\\)"):
        parse_target(str(tmp_path / (name + ".duckdb")))


def test_duckdb_catalog_named_like_a_model_schema_fails_the_build(tmp_path: Path) -> None:
    """The build's own check, for a target made without parse_target's."""
    import dataclasses

    target = dataclasses.replace(parse_target(f"duckdb:///{tmp_path / 'x.duckdb'}"), path=tmp_path / "core.duckdb")
    with pytest.raises(ConfigError, match="the DuckDB file is named 'core'"):
        build(target, FIXTURES / "project")


def test_summary_lines() -> None:
    lines = summary(
        [
            ModelResult("staging.stg_zendesk__calls", Path("x.sql"), 0, 0.01, ("zendesk.calls",)),
            ModelResult("core.tickets", Path("y.sql"), 1234567, 2.5),
        ]
    )
    assert lines == [
        "staging.stg_zendesk__calls           0 rows     0.01s  (stand-in for zendesk.calls)",
        "core.tickets                 1,234,567 rows     2.50s",
    ]


@pytest.mark.postgres
def test_postgres_grants_survive_the_swap(pg_url: str, tmp_path: Path) -> None:
    role = f"sl_reader_{uuid.uuid4().hex[:8]}"
    target = parse_target(pg_url)
    models = write_models(tmp_path / "models", {"marts/numbers.sql": "select * from generate_series(1, 3) as g(n)"})
    build(target, models)
    with connection(target) as con:
        con.execute(f"create role {role}")
        try:
            con.execute(f"grant usage on schema marts to {role}")
            con.execute(f"grant select on marts.numbers to {role}")
            build(target, models)
            assert con.query("select has_table_privilege(%s, 'marts.numbers', 'select')", [role]) == [(True,)]
            assert con.query("select has_table_privilege(%s, 'marts.numbers', 'insert')", [role]) == [(False,)]
        finally:
            con.execute(f"drop owned by {role}")
            con.execute(f"drop role {role}")


def test_a_declared_column_the_raw_table_never_got_reads_as_null(warehouse_url: str, tmp_path: Path) -> None:
    """dlt creates a column with its first value: a field nobody filled is absent from a real
    table. A model reading it gets typed NULLs, not an error; the real rows are all there."""
    with connection(parse_target(warehouse_url)) as con:  # as dlt leaves it: only filled columns
        con.execute("create schema zendesk")
        con.execute("create table zendesk.tickets (id bigint, status varchar)")
        for t in TICKETS:
            con.execute("insert into zendesk.tickets values (%s, %s)", [t["id"], t["status"]])
    models = write_models(
        tmp_path / "models",
        {"staging/stg_x.sql": "select id, status, priority, priority is null as unset from zendesk.tickets"},
    )
    results = build(parse_target(warehouse_url), models)
    assert [(r.rows, r.standins) for r in results] == [(len(TICKETS), ("zendesk.tickets",))]
    rows = query(warehouse_url, "select id, status, priority, unset from staging.stg_x order by id")
    assert rows == [(t["id"], t["status"], None, True) for t in TICKETS]
    with connection(parse_target(warehouse_url)) as con:
        assert columns(con, "staging", "stg_x")["priority"] in ("varchar", "text", "character varying")


def test_raw_tables_named_like_sql_keywords_work_as_stand_ins(warehouse_url: str, tmp_path: Path) -> None:
    """Salesforce's case, user and group: the stand-in's alias is quoted."""
    models = write_models(tmp_path / "models", {"staging/stg_x.sql": 'select id from salesforce."user"'})
    results = build(parse_target(warehouse_url), models)
    assert [(r.rows, r.standins) for r in results] == [(0, ("salesforce.user",))]
