"""The deletion columns: the Arrow helper at extraction and the load step's UPDATEs, on DuckDB and
PostgreSQL, with raw tables seeded by hand as the connectors load them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from connectors.confluence.deletions import DELETIONS as CONFLUENCE
from connectors.deletions import DELETED, DELETED_AT, flag_arrow
from connectors.salesforce.deletions import DELETIONS as SALESFORCE
from connectors.zendesk.deletions import DELETIONS as ZENDESK
from warehouse import deletions
from warehouse.sql import Connection, connection
from warehouse.target import parse_target

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def create(con: Connection, table: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
    con.execute("create schema if not exists " + table.split(".")[0])
    con.execute(f"create table {table} ({', '.join(f'{c} {k}' for c, k in columns.items())})")
    for row in rows:
        names = list(row)
        con.execute(
            f"insert into {table} ({', '.join(names)}) values ({', '.join(['%s'] * len(names))})",
            [row[n] for n in names],
        )


TS = "timestamp with time zone"
FLAGS = {DELETED: "boolean", DELETED_AT: TS}


def flags(con: Connection, table: str, key: str = "id") -> dict[Any, tuple[bool, dt.datetime | None]]:
    rows = con.query(f"select {key}, {DELETED}, {DELETED_AT} from {table}")
    return {r[0]: (r[1], r[2].astimezone(dt.UTC) if r[2] is not None else None) for r in rows}


def seed_salesforce(con: Connection) -> None:
    # What extraction wrote: the record's own IsDeleted. 500C was purged (deleted_records), 500D
    # was loaded before the columns existed (NULL flags).
    create(
        con,
        'salesforce."case"',
        {"id": "text", "is_deleted": "boolean", "system_modstamp": TS, **FLAGS},
        [
            {"id": "500A", "is_deleted": False, "system_modstamp": at(0), DELETED: False},
            {"id": "500B", "is_deleted": True, "system_modstamp": at(1), DELETED: True, DELETED_AT: at(1)},
            {"id": "500C", "is_deleted": False, "system_modstamp": at(2), DELETED: False},
            {"id": "500D", "is_deleted": True, "system_modstamp": at(3)},
        ],
    )
    # CaseHistory: no SystemModstamp, never read again after its case is deleted; and an older
    # load without the two columns at all.
    create(
        con,
        "salesforce.case_history",
        {"id": "text", "case_id": "text", "is_deleted": "boolean", "created_date": TS},
        [
            {"id": "017A", "case_id": "500A", "is_deleted": False, "created_date": at(0)},
            {"id": "017B", "case_id": "500B", "is_deleted": False, "created_date": at(0)},
            {"id": "017C", "case_id": "500C", "is_deleted": False, "created_date": at(0)},
            {"id": "017E", "case_id": "500E", "is_deleted": False, "created_date": at(0)},
        ],
    )
    create(
        con,
        "salesforce.case_comment",
        {"id": "text", "parent_id": "text", "is_deleted": "boolean", "system_modstamp": TS, **FLAGS},
        [
            {"id": "00aA", "parent_id": "500A", "is_deleted": False, "system_modstamp": at(0), DELETED: False},
            # deleted on its own before its case was: keeps its own time
            {"id": "00aC", "parent_id": "500C", "is_deleted": True, "system_modstamp": at(1), DELETED: True},
            {"id": "00aX", "parent_id": "500A", "is_deleted": False, "system_modstamp": at(0), DELETED: False},
        ],
    )
    create(
        con,
        "salesforce.knowledge_kav",
        {"id": "text", "knowledge_article_id": "text", "is_deleted": "boolean", **FLAGS},
        [
            {"id": "ka0A", "knowledge_article_id": "kA0A", "is_deleted": False, DELETED: False},
            {"id": "ka0B", "knowledge_article_id": "kA0B", "is_deleted": False, DELETED: False},
        ],
    )
    create(
        con,
        "salesforce.deleted_records",
        {"object": "text", "id": "text", "deleted_date": TS, **FLAGS},
        [
            {"object": "Case", "id": "500C", "deleted_date": at(5), DELETED: False},
            {"object": "CaseComment", "id": "00aX", "deleted_date": at(6), DELETED: False},
            {"object": "KnowledgeArticle", "id": "kA0B", "deleted_date": at(7), DELETED: False},
        ],
    )
    # dlt's own tables are not raw tables
    create(con, "salesforce._dlt_loads", {"load_id": "text"}, [{"load_id": "1"}])


def test_salesforce_soft_deletes_purges_and_children_of_deleted_cases(warehouse_url: str) -> None:
    with connection(parse_target(warehouse_url)) as con:
        seed_salesforce(con)
        done = deletions.apply(con, "salesforce", SALESFORCE)

        assert "_dlt_loads" not in done
        assert done.index("case") < done.index("case_history")
        assert done.index("case") < done.index("case_comment")
        assert flags(con, 'salesforce."case"') == {
            "500A": (False, None),
            "500B": (True, at(1)),  # soft-deleted: its SystemModstamp
            "500C": (True, at(5)),  # purged: the row keeps IsDeleted = false, flagged from deleted_records
            "500D": (True, at(3)),  # loaded before the columns: filled from its own IsDeleted
        }
        assert con.query(
            "select is_deleted, system_modstamp is not null from salesforce.\"case\" where id = '500C'"
        ) == [(False, True)], "a purged row keeps its last-seen values"
        assert flags(con, "salesforce.case_history") == {
            "017A": (False, None),
            "017B": (True, at(1)),  # its case soft-deleted
            "017C": (True, at(5)),  # its case purged
            "017E": (False, None),  # a case not in the warehouse says nothing
        }
        assert flags(con, "salesforce.case_comment") == {
            "00aA": (False, None),
            "00aC": (True, at(1)),  # its own deletion came first (SystemModstamp)
            "00aX": (True, at(6)),  # purged on its own
        }
        assert flags(con, "salesforce.knowledge_kav") == {"ka0A": (False, None), "ka0B": (True, at(7))}
        assert set(flags(con, "salesforce.deleted_records").values()) == {(False, None)}
        for table in done:
            assert con.query(f'select count(*) from salesforce."{table}" where {DELETED} is null') == [(0,)]


def test_applying_again_converges_after_a_merge_and_follows_a_restore(warehouse_url: str) -> None:
    with connection(parse_target(warehouse_url)) as con:
        seed_salesforce(con)
        deletions.apply(con, "salesforce", SALESFORCE)
        before = {t: flags(con, f'salesforce."{t}"') for t in ("case", "case_history", "case_comment")}
        deletions.apply(con, "salesforce", SALESFORCE)
        assert {t: flags(con, f'salesforce."{t}"') for t in before} == before

        # A load merges the purged case again from the API's last values (as extraction flags
        # it: not deleted), and 500B is restored from the Recycle Bin.
        con.execute(f"update salesforce.\"case\" set {DELETED} = false, {DELETED_AT} = null where id = '500C'")
        con.execute(
            f'update salesforce."case" set is_deleted = false, {DELETED} = false, {DELETED_AT} = null '
            "where id = '500B'"
        )
        deletions.apply(con, "salesforce", SALESFORCE)
        assert flags(con, 'salesforce."case"')["500C"] == (True, at(5)), "a purge is never undone by a merge"
        assert flags(con, 'salesforce."case"')["500B"] == (False, None)
        assert flags(con, "salesforce.case_history")["017B"] == (False, None), "children follow a restore"
        assert flags(con, "salesforce.case_history")["017C"] == (True, at(5))


def test_rules_naming_absent_tables_or_columns_are_passed_over(warehouse_url: str) -> None:
    with connection(parse_target(warehouse_url)) as con:
        # CaseHistory synced alone (no case, no deleted_records); an object without IsDeleted.
        create(
            con,
            "salesforce.case_history",
            {"id": "text", "case_id": "text", **FLAGS},
            [{"id": "017A", "case_id": "500A"}],
        )
        create(con, "salesforce.milestone_type", {"id": "text", "name": "text"}, [{"id": "557A", "name": "FR"}])
        deletions.apply(con, "salesforce", SALESFORCE)
        assert flags(con, "salesforce.case_history") == {"017A": (False, None)}
        assert flags(con, "salesforce.milestone_type") == {"557A": (False, None)}
        assert deletions.apply(con, "zendesk", ZENDESK) == []  # no such dataset: nothing to do


def test_zendesk_deleted_tickets_users_groups_organizations_and_ticket_children(warehouse_url: str) -> None:
    with connection(parse_target(warehouse_url)) as con:
        create(
            con,
            "zendesk.tickets",
            {"id": "bigint", "status": "text", "updated_at": TS},
            [
                {"id": 1, "status": "open", "updated_at": at(0)},
                {"id": 2, "status": "deleted", "updated_at": at(2)},
            ],
        )
        for child in ("ticket_metrics", "ticket_comments", "ticket_metric_events", "satisfaction_ratings", "calls"):
            create(
                con,
                f"zendesk.{child}",
                {"id": "bigint", "ticket_id": "bigint"},
                [{"id": 10, "ticket_id": 1}, {"id": 20, "ticket_id": 2}],
            )
        create(
            con,
            "zendesk.users",
            {"id": "bigint", "active": "boolean", "updated_at": TS},
            [{"id": 1, "active": True, "updated_at": at(0)}, {"id": 2, "active": False, "updated_at": at(3)}],
        )
        create(
            con,
            "zendesk.groups",
            {"id": "bigint", "deleted": "boolean", "updated_at": TS},
            [{"id": 1, "deleted": False, "updated_at": at(0)}, {"id": 2, "deleted": True, "updated_at": at(4)}],
        )
        create(
            con,
            "zendesk.organizations",
            {"id": "bigint", "deleted_at": TS, "updated_at": TS},
            [{"id": 1, "updated_at": at(0)}, {"id": 2, "deleted_at": at(5), "updated_at": at(6)}],
        )
        deletions.apply(con, "zendesk", ZENDESK)
        assert flags(con, "zendesk.tickets") == {1: (False, None), 2: (True, at(2))}
        for child in ("ticket_metrics", "ticket_comments", "ticket_metric_events", "satisfaction_ratings"):
            assert flags(con, f"zendesk.{child}") == {10: (False, None), 20: (True, at(2))}, child
        assert flags(con, "zendesk.calls") == {10: (False, None), 20: (False, None)}, "a call is not deleted"
        assert flags(con, "zendesk.users") == {1: (False, None), 2: (True, at(3))}
        assert flags(con, "zendesk.groups") == {1: (False, None), 2: (True, at(4))}
        assert flags(con, "zendesk.organizations") == {1: (False, None), 2: (True, at(5))}


def test_confluence_trashed_and_purged_content_and_its_labels(warehouse_url: str) -> None:
    with connection(parse_target(warehouse_url)) as con:
        content = {"id": "text", "status": "text", "version__created_at": TS}
        create(
            con,
            "confluence.pages",
            content,
            [
                {"id": "1", "status": "current", "version__created_at": at(0)},
                {"id": "2", "status": "trashed", "version__created_at": at(1)},
                {"id": "3", "status": "current", "version__created_at": at(2)},  # purged since
            ],
        )
        create(con, "confluence.blogposts", content, [{"id": "3", "status": "current", "version__created_at": at(0)}])
        create(
            con,
            "confluence.deleted_content",
            {"id": "text", "content_type": "text", "detected_at": TS},
            [{"id": "3", "content_type": "page", "detected_at": at(9)}],
        )
        create(
            con,
            "confluence.labels",
            {"content_id": "text", "content_type": "text", "label_id": "text"},
            [
                {"content_id": "1", "content_type": "page", "label_id": "90"},
                {"content_id": "2", "content_type": "page", "label_id": "90"},
                {"content_id": "3", "content_type": "page", "label_id": "91"},
                {"content_id": "3", "content_type": "blogpost", "label_id": "92"},
            ],
        )
        deletions.apply(con, "confluence", CONFLUENCE)
        assert flags(con, "confluence.pages") == {"1": (False, None), "2": (True, at(1)), "3": (True, at(9))}
        assert flags(con, "confluence.blogposts") == {"3": (False, None)}, "a page's purge is not a blog post's"
        labels = {
            (r[0], r[1]): (r[2], r[3].astimezone(dt.UTC) if r[3] else None)
            for r in con.query(f"select content_id, content_type, {DELETED}, {DELETED_AT} from confluence.labels")
        }
        assert labels == {
            ("1", "page"): (False, None),
            ("2", "page"): (True, at(1)),
            ("3", "page"): (True, at(9)),
            ("3", "blogpost"): (False, None),
        }


UTC_TS = pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize(
    ("source", "table", "columns"),
    [
        ("zendesk", "tickets", {"status": pa.string(), "updated_at": UTC_TS}),
        ("zendesk", "users", {"active": pa.bool_(), "updated_at": UTC_TS}),
        ("confluence", "pages", {"status": pa.string(), "version__created_at": UTC_TS}),
        ("salesforce", "case", {"is_deleted": pa.bool_(), "system_modstamp": UTC_TS}),
    ],
)
def test_extraction_and_the_load_step_read_a_record_alike(
    tmp_path: Any, source: str, table: str, columns: dict[str, pa.DataType]
) -> None:
    """The record-level rule is applied twice (Arrow, then SQL for old rows): same answer."""
    rules = {"zendesk": ZENDESK, "confluence": CONFLUENCE, "salesforce": SALESFORCE}[source]
    flag_col, time_col = list(columns)
    values: list[Any] = {
        pa.string(): ["deleted", "trashed", "open", "current", None, "DELETED"],
        pa.bool_(): [True, False, None, True, False, True],
    }[columns[flag_col]]
    times = [at(i) if i % 2 == 0 else None for i in range(len(values))]
    data = pa.table({"id": pa.array([str(i) for i in range(len(values))]), flag_col: values, time_col: times})
    flagged = flag_arrow(data, rules.of(table))
    want = {
        i: (d, t.astimezone(dt.UTC) if t is not None else None)
        for i, d, t in zip(*(flagged.column(c).to_pylist() for c in ("id", DELETED, DELETED_AT)), strict=True)
    }
    assert any(d for d, _ in want.values())
    assert not all(d for d, _ in want.values())
    with connection(parse_target(f"duckdb:///{tmp_path / 'w.duckdb'}")) as con:
        create(
            con,
            f'{source}."{table}"',
            {"id": "text", flag_col: "text" if columns[flag_col] == pa.string() else "boolean", time_col: TS},
            [{"id": str(i), flag_col: v, time_col: t} for i, (v, t) in enumerate(zip(values, times, strict=True))],
        )
        deletions.apply(con, source, rules)
        assert flags(con, f'{source}."{table}"') == want
