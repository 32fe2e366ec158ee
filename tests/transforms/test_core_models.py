"""Given/expect tests of the core models: tiny raw rows in, exact core rows out, on DuckDB and PostgreSQL.

Raw tables are created as a sync would create them (every declared column); the tables a test does
not seed are read as empty stand-ins, so each test seeds only what it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from connectors import registry
from transforms.runner import SQL_TYPES, build, raw_table_columns
from transforms.settings import parse_settings
from warehouse import deletions
from warehouse.sql import connection
from warehouse.target import parse_target

from .conftest import query


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def seed_raw(
    url: str,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    extra_columns: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Create raw tables as a sync would (every declared column, typed; names quoted, since
    ``case``, ``user``, ``group`` and ``default`` are keywords) and insert ``rows``.
    ``extra_columns``: per table, columns a sync would add besides the declared ones (custom
    fields: ``{"salesforce.case": {"tier_c": "text"}}``). Then the sync's load step of deletions
    sets ``_sl_deleted``/``_sl_deleted_at`` from the rows, as a sync would leave them."""
    with connection(parse_target(url)) as con:
        for table, rows in tables.items():
            schema, name = table.split(".", 1)
            declared = {**raw_table_columns()[table], **(extra_columns or {}).get(table, {})}
            ddl = ", ".join(f"{_q(c)} {SQL_TYPES[con.kind][k]}" for c, k in declared.items())
            con.execute(f"create schema if not exists {_q(schema)}")
            con.execute(f"create table {_q(schema)}.{_q(name)} ({ddl})")
            for row in rows:
                cols = ", ".join(_q(c) for c in row)
                marks = ", ".join(["%s"] * len(row))
                con.execute(f"insert into {_q(schema)}.{_q(name)} ({cols}) values ({marks})", list(row.values()))
        for dataset in sorted({t.split(".", 1)[0] for t in tables} & set(registry.names())):
            deletions.apply(con, dataset)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def naive(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)


T0 = "2024-03-01T09:00:00+00:00"


def zd_ticket(id: int, status: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "status": status,
        "created_at": ts(T0),
        "updated_at": ts("2024-03-05T12:00:00+00:00"),
        "via__channel": "email",
        "tags": "[]",
    }
    row.update(kw)
    return row


def zd_metrics(ticket_id: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": 1000 + ticket_id, "ticket_id": ticket_id, "reopens": 0, "replies": 1}
    row.update(kw)
    return row


ZENDESK = {
    "zendesk.tickets": [
        # Reopened once and solved twice: reopens is Zendesk's 1 (not "solves minus one" of anything else).
        zd_ticket(1, "solved", group_id=11, via__channel="voice", priority="High", organization_id=7),
        # Closed without ever being solved: resolved at its close time.
        zd_ticket(2, "closed", group_id=12, via__channel="web"),
        # Merged away into ticket 1.
        zd_ticket(3, "closed", tags='["billing","closed_by_merge"]', via__channel="twitter"),
        # Deleted.
        zd_ticket(4, "deleted", via__channel="chat"),
        # Open, never replied to: NULL reply time, even where the metric says 0.
        zd_ticket(5, "open", via__channel="sample_channel", created_at=ts("2024-03-01T04:00:00-05:00")),
    ],
    "zendesk.ticket_metrics": [
        zd_metrics(
            1,
            reopens=1,
            replies=2,
            solved_at=ts("2024-03-04T10:00:00+00:00"),
            status_updated_at=ts("2024-03-04T10:00:00+00:00"),
            reply_time_in_minutes__calendar=30,
            reply_time_in_minutes__business=20,
            first_resolution_time_in_minutes__calendar=120,
            first_resolution_time_in_minutes__business=90,
            full_resolution_time_in_minutes__calendar=4380,
            full_resolution_time_in_minutes__business=1500,
            on_hold_time_in_minutes__calendar=0,
        ),
        zd_metrics(
            2,
            replies=1,
            status_updated_at=ts("2024-03-03T08:30:00+00:00"),
            reply_time_in_minutes__calendar=45,
        ),
        zd_metrics(3, replies=0, status_updated_at=ts("2024-03-01T10:00:00+00:00")),
        zd_metrics(5, replies=0, reply_time_in_minutes__calendar=0, reply_time_in_minutes__business=0),
    ],
    "zendesk.groups": [
        {"id": 11, "name": "Tier 2 Support"},
        {"id": 12, "name": "Billing"},
    ],
}

SALESFORCE = {
    "salesforce.case": [
        {
            "id": "5001x000001AbcDAAS",
            "system_modstamp": ts("2024-03-02T00:00:00+00:00"),
            "created_date": ts("2024-03-01T10:00:00+00:00"),
            "closed_date": ts("2024-03-01T13:30:00+00:00"),
            "status": "Closed",
            "is_closed": True,
            "origin": "Phone",
            "priority": "High",
            "account_id": "0011x000003DGb2AAG",
            "contact_id": "0031x000001",
            "owner_id": "0051x000000AAAAAA2",
            "is_deleted": False,
        },
        {
            "id": "5001x000001AbcEAAS",
            "system_modstamp": ts("2024-03-02T00:00:00+00:00"),
            "created_date": ts("2024-03-01T11:00:00+00:00"),
            "status": "Waiting on Customer",
            "is_closed": False,
            "origin": "Web",
            "owner_id": "00G1x000000QQQQEA4",
            "master_record_id": "5001x000001AbcDAAS",
        },
        {
            "id": "5001x000001AbcFAAS",
            "system_modstamp": ts("2024-03-02T00:00:00+00:00"),
            "created_date": ts("2024-03-01T12:00:00+00:00"),
            "status": "New",
            "origin": "Social",
            "is_deleted": True,
        },
    ],
    "salesforce.group": [
        {"id": "00G1x000000QQQQEA4", "system_modstamp": ts(T0), "name": "Tier 3 Support", "type": "Queue"},
    ],
}

TICKET_COLUMNS = (
    "ticket_key, source_system, source_ticket_id, account_key, assignee_agent_key, group_key, support_tier, "
    "escalation_count, highest_tier, is_escalated_before_first_solve, "
    "channel_raw, channel_group, priority, status, created_at, first_solved_at, solved_at, closed_at, "
    "resolved_at, reply_count, reopen_count, first_reply_minutes_calendar, first_reply_minutes_business, "
    "first_resolution_minutes_calendar, full_resolution_minutes_calendar, full_resolution_minutes_business, "
    "on_hold_minutes_calendar, is_merged, is_deleted, is_resolved"
)


def tickets(url: str) -> dict[str, dict[str, Any]]:
    names = [c.strip() for c in TICKET_COLUMNS.split(",")]
    rows = query(url, f"select {TICKET_COLUMNS} from core.tickets order by ticket_key")
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


def test_core_tickets_given_zendesk_and_salesforce_rows(warehouse_url: str) -> None:
    seed_raw(warehouse_url, {**ZENDESK, **SALESFORCE})
    build(parse_target(warehouse_url))

    got = tickets(warehouse_url)

    assert sorted(got) == [
        "salesforce:5001x000001AbcDAAS",
        "salesforce:5001x000001AbcEAAS",
        "salesforce:5001x000001AbcFAAS",
        "zendesk:1",
        "zendesk:2",
        "zendesk:3",
        "zendesk:4",
        "zendesk:5",
    ]
    reopened = got["zendesk:1"]
    assert reopened == {
        "ticket_key": "zendesk:1",
        "source_system": "zendesk",
        "source_ticket_id": "1",
        "account_key": "zendesk:7",
        "assignee_agent_key": None,
        "group_key": "zendesk:11",
        "support_tier": "Tier 2",
        # No group_stations in the metric set: unknowable, NULL (not 0).
        "escalation_count": None,
        "highest_tier": "Tier 2",
        "is_escalated_before_first_solve": None,
        "channel_raw": "voice",
        "channel_group": "phone",
        "priority": "high",
        "status": "solved",
        "created_at": naive(T0),
        "first_solved_at": naive("2024-03-01T11:00:00+00:00"),
        "solved_at": naive("2024-03-04T10:00:00+00:00"),
        "closed_at": None,
        "resolved_at": naive("2024-03-01T11:00:00+00:00"),
        "reply_count": 2,
        "reopen_count": 1,
        "first_reply_minutes_calendar": 30.0,
        "first_reply_minutes_business": 20.0,
        "first_resolution_minutes_calendar": 120.0,
        "full_resolution_minutes_calendar": 4380.0,
        "full_resolution_minutes_business": 1500.0,
        "on_hold_minutes_calendar": 0.0,
        "is_merged": False,
        "is_deleted": False,
        "is_resolved": True,
    }

    closed_unsolved = got["zendesk:2"]
    assert closed_unsolved["status"] == "closed"
    assert closed_unsolved["first_solved_at"] is None
    assert closed_unsolved["solved_at"] is None
    assert closed_unsolved["closed_at"] == naive("2024-03-03T08:30:00+00:00")
    assert closed_unsolved["resolved_at"] == naive("2024-03-03T08:30:00+00:00")
    assert closed_unsolved["is_resolved"] is True
    assert (closed_unsolved["channel_group"], closed_unsolved["support_tier"]) == ("portal", None)

    merged = got["zendesk:3"]
    assert (merged["is_merged"], merged["is_deleted"], merged["channel_group"]) == (True, False, "social")
    assert merged["first_reply_minutes_calendar"] is None

    deleted = got["zendesk:4"]
    assert (deleted["status"], deleted["is_deleted"], deleted["is_merged"]) == ("deleted", True, False)
    # No metric set at all: the counts are 0, the times NULL.
    assert (deleted["reply_count"], deleted["reopen_count"], deleted["first_reply_minutes_calendar"]) == (0, 0, None)

    unreplied = got["zendesk:5"]
    assert unreplied["reply_count"] == 0
    assert unreplied["first_reply_minutes_calendar"] is None
    assert unreplied["first_reply_minutes_business"] is None
    assert unreplied["created_at"] == naive("2024-03-01T09:00:00+00:00")
    assert (unreplied["status"], unreplied["is_resolved"], unreplied["resolved_at"]) == ("open", False, None)
    assert unreplied["channel_group"] == "other"

    case = got["salesforce:5001x000001AbcDAAS"]
    assert case == {
        **case,
        "source_system": "salesforce",
        "account_key": "salesforce:0011x000003DGb2AAG",
        "assignee_agent_key": "salesforce:0051x000000AAAAAA2",
        "group_key": None,
        "channel_group": "phone",
        "priority": "high",
        "status": "closed",
        "first_solved_at": naive("2024-03-01T13:30:00+00:00"),
        "closed_at": naive("2024-03-01T13:30:00+00:00"),
        "resolved_at": naive("2024-03-01T13:30:00+00:00"),
        # No comments: a true zero; no CaseHistory at all: reopens and escalations unknowable.
        "reply_count": 0,
        "reopen_count": None,
        "escalation_count": None,
        "is_escalated_before_first_solve": None,
        "first_reply_minutes_calendar": None,
        "first_resolution_minutes_calendar": 210.0,
        "full_resolution_minutes_calendar": 210.0,
        "is_merged": False,
        "is_deleted": False,
        "is_resolved": True,
    }
    merged_case = got["salesforce:5001x000001AbcEAAS"]
    assert (merged_case["is_merged"], merged_case["status"], merged_case["is_resolved"]) == (True, "pending", False)
    assert (merged_case["group_key"], merged_case["support_tier"]) == ("salesforce:00G1x000000QQQQEA4", "Tier 3")
    assert (merged_case["assignee_agent_key"], merged_case["channel_group"]) == (None, "portal")
    deleted_case = got["salesforce:5001x000001AbcFAAS"]
    assert (deleted_case["status"], deleted_case["is_deleted"], deleted_case["channel_group"]) == (
        "deleted",
        True,
        "social",
    )


def test_core_tickets_is_empty_when_nothing_is_synced(warehouse_url: str) -> None:
    results = build(parse_target(warehouse_url))

    assert {r.model: r.rows for r in results}["core.tickets"] == 0


AGENTS = {
    "zendesk.users": [
        {"id": 501, "name": "Ana", "email": "Ana@Acme.com ", "role": "agent", "active": True, "default_group_id": 11},
        {"id": 502, "name": "Bo", "email": "bo@acme.com", "role": "admin", "active": True},
        {"id": 503, "name": "Customer", "email": "c@client.io", "role": "end-user", "active": True},
    ],
    "zendesk.groups": [{"id": 11, "name": "Tier 2 Support"}],
    "salesforce.user": [
        # Ana in Salesforce, upper-cased email: matches Zendesk 501.
        {
            "id": "0051",
            "system_modstamp": ts(T0),
            "created_date": ts(T0),
            "name": "Ana S",
            "email": "ANA@acme.com",
            "is_active": True,
            "user_type": "Standard",
        },
        # An inactive duplicate of Ana's email: not matched, kept on its own.
        {
            "id": "0052",
            "system_modstamp": ts(T0),
            "created_date": ts(T0),
            "name": "Ana old",
            "email": "ana@acme.com",
            "is_active": False,
            "user_type": "Standard",
        },
        {
            "id": "0053",
            "system_modstamp": ts(T0),
            "created_date": ts(T0),
            "name": "Sam",
            "email": "sam@acme.com",
            "is_active": True,
            "user_type": "Standard",
        },
        # A portal (community) user is no agent.
        {
            "id": "0054",
            "system_modstamp": ts(T0),
            "created_date": ts(T0),
            "name": "Portal",
            "email": "p@client.io",
            "is_active": True,
            "user_type": "PowerCustomerSuccess",
        },
    ],
}


def test_core_agents_match_by_lower_cased_email(warehouse_url: str) -> None:
    seed_raw(warehouse_url, AGENTS)
    build(parse_target(warehouse_url))

    rows = query(
        warehouse_url,
        "select agent_key, zendesk_user_id, salesforce_user_id, name, email, is_active, support_tier, is_matched "
        "from core.agents order by agent_key",
    )

    assert sorted(rows) == [
        ("salesforce:0052", None, "0052", "Ana old", "ana@acme.com", False, None, False),
        ("salesforce:0053", None, "0053", "Sam", "sam@acme.com", True, None, False),
        ("zendesk:501", 501, "0051", "Ana", "ana@acme.com", True, "Tier 2", True),
        ("zendesk:502", 502, None, "Bo", "bo@acme.com", True, None, False),
    ]


def sf18(id15: str) -> str:
    """Salesforce's 18-character id: the 15-character one plus a case checksum of each 5-character chunk."""
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if "A" <= ch <= "Z")
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


ACME = "0011x000003DGb2AAG"
BETA15 = "001Ab00000XyZ12"
BETA = sf18(BETA15)
GLOBEX, INITECH, INITECH_EMEA, UMBRELLA = (
    "001000000000G1oAAA",
    "001000000000I1aAAA",
    "001000000000I2aAAA",
    "001000000000U1mAAA",
)


def sf_account(id: str, name: str, website: str | None = None) -> dict[str, Any]:
    return {"id": id, "system_modstamp": ts(T0), "created_date": ts(T0), "name": name, "website": website}


def zd_org(id: int, name: str, external_id: str | None = None, domains: str = "[]") -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "external_id": external_id,
        "domain_names": domains,
        "created_at": ts(T0),
        "updated_at": ts(T0),
    }


ACCOUNTS = {
    "salesforce.account": [
        sf_account(ACME, "Acme Corp", "https://www.acme.com/about"),
        sf_account(BETA, "Beta Ltd"),
        sf_account(GLOBEX, "Globex", "globex.io"),
        sf_account(INITECH, "Initech", "http://initech.com"),
        sf_account(INITECH_EMEA, "Initech EMEA", "https://www.initech.com:443/emea"),
        sf_account(UMBRELLA, "Umbrella, Inc."),
    ],
    "zendesk.organizations": [
        zd_org(10, "Acme", external_id=ACME, domains='["acme.com"]'),
        zd_org(20, "Beta", external_id=BETA15),
        zd_org(30, "Globex Support", domains='["Globex.io"]'),
        zd_org(40, "Initech Holdings", domains='["initech.com"]'),
        zd_org(50, "UMBRELLA", external_id="not an id"),
    ],
    "zendesk.tickets": [zd_ticket(1, "open", organization_id=20), zd_ticket(2, "open", organization_id=40)],
}


def test_sf18_matches_a_real_pair() -> None:
    assert sf18("0016G00000zsHG3") == "0016G00000zsHG3QAM"


def test_core_accounts_match_organizations_in_order(warehouse_url: str) -> None:
    seed_raw(warehouse_url, ACCOUNTS)
    build(parse_target(warehouse_url))

    identity = query(
        warehouse_url,
        "select identity_key, account_key, match_method, match_value from core.account_identity "
        "where source_system = 'zendesk' order by identity_key",
    )
    accounts = query(
        warehouse_url,
        "select account_key, source_system, salesforce_account_id, zendesk_organization_id, name, "
        "zendesk_organization_count from core.accounts order by account_key",
    )
    tickets = query(warehouse_url, "select ticket_key, account_key from core.tickets order by ticket_key")

    assert sorted(identity) == [  # already in sorted order
        ("zendesk:10", f"salesforce:{ACME}", "external_id", ACME),
        # The 15-character id, normalised to 18 with its checksum.
        ("zendesk:20", f"salesforce:{BETA}", "external_id", BETA),
        ("zendesk:30", f"salesforce:{GLOBEX}", "email_domain", "globex.io"),
        # initech.com is the website of two Accounts: ambiguous, so left unmatched.
        ("zendesk:40", "zendesk:40", "unmatched", None),
        ("zendesk:50", f"salesforce:{UMBRELLA}", "normalized_name", "umbrella"),
    ]
    assert sorted(accounts) == sorted(
        [
            (f"salesforce:{ACME}", "salesforce", ACME, None, "Acme Corp", 1),
            (f"salesforce:{BETA}", "salesforce", BETA, None, "Beta Ltd", 1),
            (f"salesforce:{GLOBEX}", "salesforce", GLOBEX, None, "Globex", 1),
            (f"salesforce:{INITECH}", "salesforce", INITECH, None, "Initech", 0),
            (f"salesforce:{INITECH_EMEA}", "salesforce", INITECH_EMEA, None, "Initech EMEA", 0),
            (f"salesforce:{UMBRELLA}", "salesforce", UMBRELLA, None, "Umbrella, Inc.", 1),
            ("zendesk:40", "zendesk", None, 40, "Initech Holdings", 1),
        ]
    )
    assert sorted(tickets) == [("zendesk:1", f"salesforce:{BETA}"), ("zendesk:2", "zendesk:40")]


BODY = (
    "See https://acme.atlassian.net/wiki/spaces/SUP/pages/98412439/Setting+up+SSO and our help center: "
    "https://acme.zendesk.com/hc/en-us/articles/360042413066-slow-dashboards (and again "
    "https://acme.atlassian.net/wiki/spaces/SUP/pages/98412439/Setting+up+SSO)."
)

COMMENTS = {
    "zendesk.tickets": [zd_ticket(1, "open", requester_id=900)],
    "zendesk.users": [
        {
            "id": 900,
            "name": "Req",
            "email": "r@client.io",
            "role": "end-user",
            "created_at": ts(T0),
            "updated_at": ts(T0),
        },
        {
            "id": 501,
            "name": "Ana",
            "email": "ana@acme.com",
            "role": "agent",
            "created_at": ts(T0),
            "updated_at": ts(T0),
        },
    ],
    "zendesk.ticket_comments": [
        {"id": 71, "ticket_id": 1, "author_id": 900, "public": True, "body": "Help", "created_at": ts(T0)},
        {
            "id": 72,
            "ticket_id": 1,
            "author_id": 501,
            "public": True,
            "body": BODY,
            "created_at": ts("2024-03-01T10:00:00+00:00"),
        },
        {
            "id": 73,
            "ticket_id": 1,
            "author_id": 501,
            "public": False,
            "body": "internal: https://acme.zendesk.com/hc/de/articles/1234",
            "created_at": ts("2024-03-01T11:00:00+00:00"),
        },
    ],
    "confluence.pages": [
        {
            "id": "98412439",
            "status": "current",
            "title": "Setting up SSO",
            "space_key": "SUP",
            "version__number": 3,
            "version__created_at": ts(T0),
            "web_url": "https://acme.atlassian.net/wiki/spaces/SUP/pages/98412439/Setting+up+SSO",
        }
    ],
    "salesforce.knowledge_kav": [
        {
            "id": "ka0v1",
            "system_modstamp": ts(T0),
            "knowledge_article_id": "kA01",
            "title": "Old",
            "version_number": 1,
            "is_latest_version": False,
            "publish_status": "Archived",
        },
        {
            "id": "ka0v2",
            "system_modstamp": ts(T0),
            "knowledge_article_id": "kA01",
            "title": "Reset MFA",
            "version_number": 2,
            "is_latest_version": True,
            "publish_status": "Online",
        },
    ],
    "salesforce.case_article": [
        {
            "id": "CA1",
            "system_modstamp": ts(T0),
            "case_id": "5001",
            "knowledge_article_id": "kA01",
            "is_shared_by_email": True,
            "created_date": ts("2024-03-02T08:00:00+00:00"),
        },
    ],
}


def test_core_comments_articles_and_links(warehouse_url: str) -> None:
    seed_raw(warehouse_url, COMMENTS)
    build(parse_target(warehouse_url))

    comments = query(
        warehouse_url,
        "select comment_key, ticket_key, author_key, author_agent_key, author_role, is_public "
        "from core.ticket_comments",
    )
    links = query(
        warehouse_url,
        "select link_key, ticket_key, article_key, link_source, comment_key, is_public, linked_at "
        "from core.ticket_article_links",
    )
    articles = query(
        warehouse_url,
        "select article_key, source_system, article_type, title, url, status, version_number, is_deleted "
        "from core.articles",
    )

    assert sorted(comments) == [
        ("zendesk:71", "zendesk:1", "zendesk:900", None, "requester", True),
        ("zendesk:72", "zendesk:1", "zendesk:501", "zendesk:501", "agent", True),
        ("zendesk:73", "zendesk:1", "zendesk:501", "zendesk:501", "agent", False),
    ]
    # The Confluence and the Guide URL of one comment are two links; the repeated URL is one.
    assert sorted(links) == [
        (
            "salesforce:CA1",
            "salesforce:5001",
            "salesforce:kA01",
            "salesforce_case_article",
            None,
            True,
            naive("2024-03-02T08:00:00+00:00"),
        ),
        (
            "zendesk:72|confluence:98412439",
            "zendesk:1",
            "confluence:98412439",
            "confluence_url",
            "zendesk:72",
            True,
            naive("2024-03-01T10:00:00+00:00"),
        ),
        (
            "zendesk:72|zendesk:360042413066",
            "zendesk:1",
            "zendesk:360042413066",
            "guide_url",
            "zendesk:72",
            True,
            naive("2024-03-01T10:00:00+00:00"),
        ),
        (
            "zendesk:73|zendesk:1234",
            "zendesk:1",
            "zendesk:1234",
            "guide_url",
            "zendesk:73",
            False,
            naive("2024-03-01T11:00:00+00:00"),
        ),
    ]
    assert sorted(articles) == [
        (
            "confluence:98412439",
            "confluence",
            "page",
            "Setting up SSO",
            "https://acme.atlassian.net/wiki/spaces/SUP/pages/98412439/Setting+up+SSO",
            "current",
            3,
            False,
        ),
        ("salesforce:kA01", "salesforce", "knowledge", "Reset MFA", None, "Online", 2, False),
        ("zendesk:1234", "zendesk", "guide", None, "https://acme.zendesk.com/hc/de/articles/1234", None, None, False),
        (
            "zendesk:360042413066",
            "zendesk",
            "guide",
            None,
            "https://acme.zendesk.com/hc/en-us/articles/360042413066",
            None,
            None,
            False,
        ),
    ]


REVENUE_AND_SURVEYS = {
    "salesforce.opportunity": [
        {
            "id": "006A",
            "system_modstamp": ts(T0),
            "created_date": ts(T0),
            "account_id": ACME,
            "type": "Expansion",
            "stage_name": "Closed Won",
            "amount": 1200.5,
            "close_date": dt.date(2024, 2, 29),
            "is_closed": True,
            "is_won": True,
        },
    ],
    "zendesk.satisfaction_ratings": [
        {"id": 81, "ticket_id": 1, "score": "offered", "created_at": ts(T0), "assignee_id": 501, "group_id": 11},
        {
            "id": 82,
            "ticket_id": 2,
            "score": "good",
            "created_at": ts(T0),
            "updated_at": ts("2024-03-02T00:00:00+00:00"),
            "assignee_id": 501,
        },
        {"id": 83, "ticket_id": 3, "score": "bad", "created_at": ts(T0)},
    ],
}


def test_core_opportunities_and_survey_responses(warehouse_url: str) -> None:
    seed_raw(warehouse_url, REVENUE_AND_SURVEYS)
    build(parse_target(warehouse_url))

    opportunities = query(
        warehouse_url,
        "select opportunity_key, account_key, opportunity_type, amount, close_date, is_won, is_deleted "
        "from core.opportunities",
    )
    surveys = query(
        warehouse_url,
        "select survey_key, ticket_key, assignee_agent_key, group_key, score, is_response, is_positive, responded_at "
        "from core.survey_responses",
    )

    assert opportunities == [
        ("salesforce:006A", f"salesforce:{ACME}", "Expansion", 1200.5, dt.date(2024, 2, 29), True, False)
    ]
    assert sorted(surveys) == [
        ("zendesk:81", "zendesk:1", "zendesk:501", "zendesk:11", None, False, None, None),
        ("zendesk:82", "zendesk:2", "zendesk:501", None, 5.0, True, True, naive("2024-03-02T00:00:00+00:00")),
        ("zendesk:83", "zendesk:3", None, None, 1.0, True, False, naive(T0)),
    ]


def tme(id: int, ticket: int, metric: str, instance: int, kind: str, at: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": id,
        "ticket_id": ticket,
        "metric": metric,
        "instance_id": instance,
        "type": kind,
        "time": ts(at),
        **kw,
    }


SLA = {
    "zendesk.ticket_metric_events": [
        # Reply 1: fulfilled at 10:00, before the breach scheduled at 17:00 -> achieved.
        tme(1, 1, "reply_time", 1, "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=480, sla__policy__id=7),
        tme(2, 1, "reply_time", 1, "fulfill", "2024-03-01T10:00:00+00:00"),
        tme(3, 1, "reply_time", 1, "breach", "2024-03-01T17:00:00+00:00"),
        # Reply 2: breached at 12:00, fulfilled at 13:00 -> breached.
        tme(4, 1, "reply_time", 2, "apply_sla", "2024-03-01T11:00:00+00:00", sla__target=60, sla__policy__id=7),
        tme(5, 1, "reply_time", 2, "breach", "2024-03-01T12:00:00+00:00"),
        tme(6, 1, "reply_time", 2, "fulfill", "2024-03-01T13:00:00+00:00"),
        # Requester wait: fulfilled, reopened, breached, fulfilled again -> breached.
        tme(7, 1, "requester_wait_time", 0, "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=1440),
        tme(8, 1, "requester_wait_time", 0, "fulfill", "2024-03-02T09:00:00+00:00"),
        tme(9, 1, "requester_wait_time", 0, "breach", "2024-03-03T09:00:00+00:00"),
        tme(10, 1, "requester_wait_time", 0, "fulfill", "2024-03-04T09:00:00+00:00"),
        # Reply 3: applied, neither fulfilled nor breached -> running.
        tme(11, 1, "reply_time", 3, "apply_sla", "2024-03-05T09:00:00+00:00", sla__target=60),
        # No SLA applied to this instance: not a target.
        tme(12, 1, "agent_work_time", 1, "fulfill", "2024-03-05T09:00:00+00:00"),
    ],
    "salesforce.case_milestone": [
        {
            "id": "CM1",
            "system_modstamp": ts(T0),
            "case_id": "5001",
            "milestone_type_id": "557A",
            "start_date": ts(T0),
            "target_date": ts("2024-03-01T13:00:00+00:00"),
            "completion_date": ts("2024-03-01T14:00:00+00:00"),
            "is_completed": True,
            "is_violated": True,
            "target_response_in_mins": 240,
        },
        {
            "id": "CM2",
            "system_modstamp": ts(T0),
            "case_id": "5001",
            "milestone_type_id": "557B",
            "start_date": ts(T0),
            "completion_date": ts("2024-03-01T10:00:00+00:00"),
            "is_completed": True,
            "is_violated": False,
        },
    ],
    # 557B is not (yet) synced: its milestones keep the type Id as their metric.
    "salesforce.milestone_type": [{"id": "557A", "system_modstamp": ts(T0), "name": "First Response"}],
}


def test_core_sla_targets_fold_events(warehouse_url: str) -> None:
    seed_raw(warehouse_url, SLA)
    build(parse_target(warehouse_url))

    rows = query(
        warehouse_url,
        "select sla_target_key, ticket_key, target_minutes, fulfilled_at, breached_at, status from core.sla_targets",
    )

    assert sorted(rows) == [
        (
            "salesforce:CM1",
            "salesforce:5001",
            240,
            naive("2024-03-01T14:00:00+00:00"),
            naive("2024-03-01T13:00:00+00:00"),
            "breached",
        ),
        ("salesforce:CM2", "salesforce:5001", None, naive("2024-03-01T10:00:00+00:00"), None, "achieved"),
        ("zendesk:1:reply_time:1", "zendesk:1", 480, naive("2024-03-01T10:00:00+00:00"), None, "achieved"),
        (
            "zendesk:1:reply_time:2",
            "zendesk:1",
            60,
            naive("2024-03-01T13:00:00+00:00"),
            naive("2024-03-01T12:00:00+00:00"),
            "breached",
        ),
        ("zendesk:1:reply_time:3", "zendesk:1", 60, None, None, "running"),
        (
            "zendesk:1:requester_wait_time:0",
            "zendesk:1",
            1440,
            naive("2024-03-04T09:00:00+00:00"),
            naive("2024-03-03T09:00:00+00:00"),
            "breached",
        ),
    ]
    metrics = query(
        warehouse_url,
        "select sla_target_key, metric, policy_id from core.sla_targets where source_system = 'salesforce'",
    )
    assert sorted(metrics) == [("salesforce:CM1", "First Response", "557A"), ("salesforce:CM2", "557B", "557B")]


CONTACTS = {
    "zendesk.calls": [
        {
            "id": 61,
            "created_at": ts(T0),
            "agent_id": 501,
            "ticket_id": 1,
            "talk_time": 300,
            "hold_time": 30,
            "wrap_up_time": 60,
            "completion_status": "completed",
            "direction": "inbound",
        },
        {
            "id": 62,
            "created_at": ts(T0),
            "talk_time": 0,
            "completion_status": "abandoned_in_queue",
            "direction": "inbound",
        },
    ],
    "salesforce.agent_work": [
        {
            "id": "0Bz1",
            "system_modstamp": ts(T0),
            "user_id": "0051",
            "work_item_id": "5001x000001AbcDAAS",
            "status": "Closed",
            "accept_date_time": ts(T0),
            "handle_time": 420,
        },
        {
            "id": "0Bz2",
            "system_modstamp": ts(T0),
            "user_id": "0053",
            "work_item_id": "5001x000001AbcDAAS",
            "status": "Declined",
            "request_date_time": ts(T0),
        },
    ],
    "zendesk.users": AGENTS["zendesk.users"],
    "salesforce.user": AGENTS["salesforce.user"],
    "salesforce.case": SALESFORCE["salesforce.case"][:1],
}


def test_core_contacts_handled(warehouse_url: str) -> None:
    seed_raw(warehouse_url, CONTACTS)
    build(parse_target(warehouse_url))

    rows = query(
        warehouse_url,
        "select contact_key, channel_group, ticket_key, agent_key, handle_seconds, is_handled, started_at "
        "from core.contacts_handled",
    )

    assert sorted(rows) == [
        ("salesforce:0Bz1", "phone", "salesforce:5001x000001AbcDAAS", "zendesk:501", 420, True, naive(T0)),
        ("salesforce:0Bz2", "phone", "salesforce:5001x000001AbcDAAS", "salesforce:0053", None, False, naive(T0)),
        ("zendesk:61", "phone", "zendesk:1", "zendesk:501", 390, True, naive(T0)),
        ("zendesk:62", "phone", None, None, None, False, naive(T0)),
    ]


# --- Escalations, support tiers, Salesforce replies and reopens -------------------------------------

SETTINGS = parse_settings(
    {
        "accounts": {
            "zendesk_organization_field": "salesforce_account_id",
            "zendesk_ticket_field": "custom_salesforce_account",
        },
        "tiers": {"salesforce_case_field": "Tier__c"},
    }
)
"""The configured fields the tests below fill: an organization field and a ticket field holding the
Account Id, and the Case field holding the support tier."""

CUSTOM_COLUMNS = {
    "zendesk.organizations": {"organization_fields__salesforce_account_id": "text"},
    "zendesk.tickets": {"custom_salesforce_account": "text"},
    "salesforce.case": {"tier_c": "text"},
}

Q1, Q2, Q3, QX = "00G000000000Q01", "00G000000000Q02", "00G000000000Q03", "00G000000000QXX"
AGENT, PORTAL, CONTACT = "005000000000U01", "005000000000P01", "003000000000C01"


def sf_case(id: str, created: str = T0, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "system_modstamp": ts(created),
        "created_date": ts(created),
        "status": "New",
        "is_closed": False,
        "origin": "Email",
        "contact_id": CONTACT,
        "is_deleted": False,
    }
    row.update(kw)
    return row


def closed(at: str, status: str = "Closed") -> dict[str, Any]:
    return {"status": status, "is_closed": True, "closed_date": ts(at)}


_HISTORY_IDS = iter(range(1, 1000))


def history(case: str, at: str, field: str, old: str | None, new: str | None, kind: str = "Text") -> dict[str, Any]:
    return {
        "id": f"017H{next(_HISTORY_IDS):011d}",
        "case_id": case,
        "created_date": ts(at),
        "field": field,
        "data_type": kind,
        "old_value": old,
        "new_value": new,
        "is_deleted": False,
    }


def owner(case: str, at: str, old: tuple[str, str], new: tuple[str, str]) -> list[dict[str, Any]]:
    """An owner change as Salesforce writes it: a row of Ids and a row of names, at the same moment."""
    return [
        history(case, at, "Owner", old[0], new[0], kind="EntityId"),
        history(case, at, "Owner", old[1], new[1]),
    ]


def comment(id: str, case: str, at: str, by: str, published: bool = True, **kw: Any) -> dict[str, Any]:
    return {
        "id": id,
        "parent_id": case,
        "created_by_id": by,
        "is_published": published,
        "created_date": ts(at),
        "system_modstamp": ts(at),
        "comment_body": "…",
        "is_deleted": False,
        **kw,
    }


TIER1, TIER2, TIER3, USER = (Q1, "Tier 1 Support"), (Q2, "Tier 2 Support"), (Q3, "L3 Experts"), (AGENT, "Ana")

ESCALATIONS = {
    "zendesk.tickets": [
        zd_ticket(11, "solved", group_id=21),
        zd_ticket(12, "open", group_id=22),
        zd_ticket(13, "open", group_id=23),
        zd_ticket(14, "open", group_id=24),
    ],
    "zendesk.ticket_metrics": [
        # Three groups passed through: two moves, taken as escalations before the first solve.
        zd_metrics(11, group_stations=3, first_resolution_time_in_minutes__calendar=60),
        zd_metrics(12, group_stations=1),
        zd_metrics(14, group_stations=0),
        # Ticket 13 has no metric set: its escalations are unknowable.
    ],
    "zendesk.groups": [
        {"id": 21, "name": "T3 Escalations"},
        {"id": 22, "name": "Billing"},
        {"id": 23, "name": "emea-l2"},
        {"id": 24, "name": "Tier_1_Support"},
    ],
    "salesforce.group": [
        {"id": Q1, "system_modstamp": ts(T0), "name": TIER1[1], "type": "Queue"},
        {"id": Q2, "system_modstamp": ts(T0), "name": TIER2[1], "type": "Queue"},
        {"id": Q3, "system_modstamp": ts(T0), "name": TIER3[1], "type": "Queue"},
        {"id": QX, "system_modstamp": ts(T0), "name": "Billing Queue", "type": "Queue"},
    ],
    "salesforce.user": [
        {"id": AGENT, "system_modstamp": ts(T0), "name": "Ana", "user_type": "Standard", "is_active": True},
        {"id": PORTAL, "system_modstamp": ts(T0), "name": "Customer", "user_type": "PowerCustomerSuccess"},
    ],
    "salesforce.case": [
        # Escalated Tier 1 -> Tier 2 queue at 10:00, handed to an agent, reopened once, closed at 15:00;
        # escalated again (Tier 3) after that close. The tier field says 'T2'.
        sf_case("500A", owner_id=AGENT, tier_c="T2", **closed("2024-03-01T15:00:00+00:00")),
        # Owned by the Tier 1 queue, an unreadable tier field, no history at all.
        sf_case("500B", owner_id=Q1, tier_c="Premium"),
        # Only its 'created' history row: 0 escalations, 0 reopens. Tier field '3'. Purged.
        sf_case("500C", owner_id=QX, tier_c="3"),
        # Down to Tier 1, back up to Tier 2 (one escalation), never solved; reopened from a custom
        # closed status ('Done', which closed case 500E has).
        sf_case("500D", owner_id=Q2, tier_c="L2", status="In Progress"),
        sf_case("500E", owner_id=AGENT, **closed("2024-03-01T12:00:00+00:00", status="Done")),
        # Closed at 12:00, escalated only at 13:00: not before the first solve.
        sf_case("500F", owner_id=Q2, **closed("2024-03-01T12:00:00+00:00")),
    ],
    "salesforce.case_history": [
        history("500A", T0, "created", None, None),
        *owner("500A", "2024-03-01T10:00:00+00:00", TIER1, TIER2),
        *owner("500A", "2024-03-01T11:00:00+00:00", TIER2, USER),
        history("500A", "2024-03-01T10:00:00+00:00", "Status", "New", "Working"),
        history("500A", "2024-03-01T13:00:00+00:00", "Status", "Working", "Closed"),
        history("500A", "2024-03-01T14:00:00+00:00", "Status", "Closed", "Working"),
        history("500A", "2024-03-01T15:00:00+00:00", "Status", "Working", "Closed"),
        *owner("500A", "2024-03-01T16:00:00+00:00", USER, TIER3),
        history("500C", T0, "created", None, None),
        *owner("500D", "2024-03-01T10:00:00+00:00", TIER2, TIER1),
        history("500D", "2024-03-01T11:00:00+00:00", "ownerAssignment", Q1, Q2, kind="EntityId"),
        history("500D", "2024-03-01T11:30:00+00:00", "Status", "Done", "In Progress"),
        history("500D", "2024-03-01T11:45:00+00:00", "Status", "Closed", "Closed - Duplicate"),
        *owner("500F", "2024-03-01T13:00:00+00:00", TIER1, TIER2),
    ],
    "salesforce.case_comment": [
        comment("00aA1", "500A", "2024-03-01T09:30:00+00:00", AGENT),
        # A portal user, an internal note, a deleted and a purged comment: no replies.
        comment("00aA2", "500A", "2024-03-01T09:10:00+00:00", PORTAL),
        comment("00aA3", "500A", "2024-03-01T09:20:00+00:00", AGENT, published=False),
        comment("00aA4", "500A", "2024-03-01T09:25:00+00:00", AGENT, is_deleted=True),
        comment("00aA5", "500A", "2024-03-01T09:26:00+00:00", AGENT),
        comment("00aA6", "500A", "2024-03-01T12:30:00+00:00", AGENT),
        # Written in the name of someone who is no User (the contact itself).
        comment("00aC1", "500C", "2024-03-01T09:05:00+00:00", CONTACT),
    ],
    "salesforce.deleted_records": [
        {"object": "Case", "id": "500C", "deleted_date": ts("2024-03-03T00:00:00+00:00")},
        {"object": "CaseComment", "id": "00aA5", "deleted_date": ts("2024-03-03T00:00:00+00:00")},
    ],
}

ESCALATION_COLUMNS = (
    "ticket_key, support_tier, escalation_count, highest_tier, is_escalated_before_first_solve, reply_count, "
    "reopen_count, first_reply_minutes_calendar, first_reply_minutes_business, status, is_deleted"
)


def test_core_tickets_escalations_tiers_replies_and_reopens(warehouse_url: str) -> None:
    # deleted_records as the connector loads it, with its object column (the models read only the Id).
    purged = {"salesforce.deleted_records": {"object": "text"}}
    seed_raw(warehouse_url, ESCALATIONS, extra_columns={**CUSTOM_COLUMNS, **purged})
    build(parse_target(warehouse_url), settings=SETTINGS)

    rows = query(warehouse_url, f"select {ESCALATION_COLUMNS} from core.tickets order by ticket_key")

    assert rows == [
        # Tier field 'T2'; Tier 1 -> Tier 2 queue, then (after the 15:00 close) user -> Tier 3 queue: 2.
        ("salesforce:500A", "Tier 2", 2, "Tier 3", True, 2, 1, 30.0, None, "closed", False),
        # 'Premium' names no tier: the owning queue's. No history: escalations and reopens unknown.
        ("salesforce:500B", "Tier 1", None, "Tier 1", None, 0, None, None, None, "new", False),
        # In deleted_records while the row says IsDeleted = false: deleted.
        ("salesforce:500C", "Tier 3", 0, "Tier 3", False, 0, 0, None, None, "deleted", True),
        # Tier 2 -> 1 is no escalation, 1 -> 2 is; 'Done' (a closed status) -> 'In Progress' reopens,
        # 'Closed' -> 'Closed - Duplicate' does not.
        ("salesforce:500D", "Tier 2", 1, "Tier 2", True, 0, 1, None, None, "open", False),
        ("salesforce:500E", None, None, None, None, 0, None, None, None, "closed", False),
        ("salesforce:500F", "Tier 2", 1, "Tier 2", False, 0, 0, None, None, "closed", False),
        ("zendesk:11", "Tier 3", 2, "Tier 3", True, 1, 0, None, None, "solved", False),
        ("zendesk:12", None, 0, None, False, 1, 0, None, None, "open", False),
        ("zendesk:13", "Tier 2", None, "Tier 2", None, 0, 0, None, None, "open", False),
        ("zendesk:14", "Tier 1", 0, "Tier 1", False, 1, 0, None, None, "open", False),
    ]


def milestone(id: str, case: str, type_id: str, completed: str | None, **kw: Any) -> dict[str, Any]:
    return {
        "id": id,
        "system_modstamp": ts(T0),
        "case_id": case,
        "milestone_type_id": type_id,
        "start_date": ts(T0),
        "completion_date": ts(completed) if completed else None,
        "is_completed": completed is not None,
        "is_violated": False,
        "is_deleted": False,
        **kw,
    }


FR, RES = "557000000000FR1", "557000000000RS1"

FIRST_RESPONSES = {
    "salesforce.case": [sf_case("500M"), sf_case("500N"), sf_case("500P")],
    "salesforce.milestone_type": [
        # Matched case-insensitively.
        {"id": FR, "system_modstamp": ts(T0), "name": "FIRST RESPONSE"},
        {"id": RES, "system_modstamp": ts(T0), "name": "Resolution Time"},
    ],
    "salesforce.case_milestone": [
        # Completed at 09:45: wins over the comment published at 09:20.
        milestone("5MsM1", "500M", FR, "2024-03-01T09:45:00+00:00"),
        # Not a First Response milestone: ignored.
        milestone("5MsN1", "500N", RES, "2024-03-01T09:05:00+00:00"),
        # Still running, and a completed one that was deleted: the comment counts.
        milestone("5MsP1", "500P", FR, None),
        milestone("5MsP2", "500P", FR, "2024-03-01T09:01:00+00:00", is_deleted=True),
    ],
    "salesforce.case_comment": [
        comment("00aM1", "500M", "2024-03-01T09:20:00+00:00", AGENT),
        comment("00aN1", "500N", "2024-03-01T09:30:00+00:00", AGENT),
        comment("00aP1", "500P", "2024-03-01T09:10:00+00:00", AGENT),
    ],
}


def test_salesforce_first_reply_prefers_the_first_response_milestone(warehouse_url: str) -> None:
    seed_raw(warehouse_url, FIRST_RESPONSES)
    build(parse_target(warehouse_url))

    rows = query(
        warehouse_url, "select ticket_key, reply_count, first_reply_minutes_calendar from core.tickets order by 1"
    )

    assert rows == [
        ("salesforce:500M", 1, 45.0),
        ("salesforce:500N", 1, 30.0),
        ("salesforce:500P", 1, 10.0),
    ]


def test_support_tiers_read_from_names_and_configured_values(warehouse_url: str) -> None:
    names = [
        "Tier 2 Support", "tier2", "T2 Escalations", "EMEA-L2", "Tier_2_Support", "Level 2", "l2",
        "Billing", "Platform 2", "T10 Team", "Retail", "Tier 4", "html2 widgets", None,
    ]  # fmt: skip
    seed_raw(
        warehouse_url,
        {
            "zendesk.groups": [{"id": i, "name": n} for i, n in enumerate(names)],
            "salesforce.case": [
                sf_case(f"500V{i}", tier_c=v)
                for i, v in enumerate(["Tier 2", "2", "2.0", "T2", "L2", " tier 3 ", "1", "4", "Gold"])
            ],
        },
        extra_columns=CUSTOM_COLUMNS,
    )
    build(parse_target(warehouse_url), settings=SETTINGS)

    tiers = query(
        warehouse_url,
        "select tier_source, name, support_tier, tier_number from intermediate.int_support_tiers order by 1, source_id",
    )

    assert [(n, t) for s, n, t, _ in tiers if s == "salesforce_case_field"] == [
        ("Tier 2", "Tier 2"), ("2", "Tier 2"), ("2.0", "Tier 2"), ("T2", "Tier 2"), ("L2", "Tier 2"),
        ("tier 3", "Tier 3"), ("1", "Tier 1"), ("4", None), ("Gold", None),
    ]  # fmt: skip
    zendesk = {n: t for s, n, t, _ in tiers if s == "zendesk_group"}
    assert zendesk == {
        "Tier 2 Support": "Tier 2", "tier2": "Tier 2", "T2 Escalations": "Tier 2", "EMEA-L2": "Tier 2",
        "Tier_2_Support": "Tier 2", "Level 2": "Tier 2", "l2": "Tier 2",
        "Billing": None, "Platform 2": None, "T10 Team": None, "Retail": None, "Tier 4": None,
        "html2 widgets": None, None: None,
    }  # fmt: skip
    assert {t: n for _, _, t, n in tiers if t} == {"Tier 1": 1, "Tier 2": 2, "Tier 3": 3}


# --- Deletions ------------------------------------------------------------------------------------

DELTA = sf18("001Dd00000AbCdE")

DELETIONS = {
    "salesforce.account": [sf_account(ACME, "Acme Corp"), sf_account(DELTA, "Delta")],
    "zendesk.organizations": [zd_org(10, "Delta GmbH", external_id=DELTA)],
    "confluence.pages": [
        {"id": "P1", "status": "current", "title": "Purged page"},
        {"id": "P2", "status": "current", "title": "Live page"},
        {"id": "P3", "status": "trashed", "title": "Trashed page"},
    ],
    "confluence.blogposts": [
        {"id": "B1", "status": "current", "title": "Purged post"},
        # Listed in deleted_content as a page of the same id: the post itself is live.
        {"id": "B2", "status": "current", "title": "Live post"},
    ],
    "confluence.deleted_content": [
        {"id": "P1", "content_type": "page", "detected_at": ts(T0)},
        {"id": "B1", "content_type": "blogpost", "detected_at": ts(T0)},
        {"id": "B2", "content_type": "page", "detected_at": ts(T0)},
    ],
    "salesforce.knowledge_kav": [
        {"id": "ka0A1", "system_modstamp": ts(T0), "knowledge_article_id": "kA0A", "version_number": 1},
        {"id": "ka0B1", "system_modstamp": ts(T0), "knowledge_article_id": "kA0B", "version_number": 1},
        {"id": "ka0C1", "system_modstamp": ts(T0), "knowledge_article_id": "kA0C", "version_number": 1},
    ],
    "salesforce.deleted_records": [
        {"id": DELTA, "deleted_date": ts(T0)},
        # A purged version, and a purged article.
        {"id": "ka0A1", "deleted_date": ts(T0)},
        {"id": "kA0B", "deleted_date": ts(T0)},
    ],
}


def test_purged_records_are_deleted(warehouse_url: str) -> None:
    seed_raw(warehouse_url, DELETIONS)
    build(parse_target(warehouse_url))

    accounts = query(warehouse_url, "select account_key, is_deleted from core.accounts order by 1")
    identity = query(
        warehouse_url, "select identity_key, account_key, match_method from core.account_identity order by 1"
    )
    articles = query(warehouse_url, "select article_key, is_deleted from core.articles order by 1")

    assert accounts == [(f"salesforce:{ACME}", False), (f"salesforce:{DELTA}", True), ("zendesk:10", False)]
    # A purged Account is no match target: the organization naming it stays on its own.
    assert identity == [
        (f"salesforce:{ACME}", f"salesforce:{ACME}", "salesforce_account"),
        (f"salesforce:{DELTA}", f"salesforce:{DELTA}", "salesforce_account"),
        ("zendesk:10", "zendesk:10", "unmatched"),
    ]
    assert articles == [
        ("confluence:B1", True),
        ("confluence:B2", False),
        ("confluence:P1", True),
        ("confluence:P2", False),
        ("confluence:P3", True),
        ("salesforce:kA0A", True),
        ("salesforce:kA0B", True),
        ("salesforce:kA0C", False),
    ]


# --- Account matching: configured organization and ticket fields ------------------------------------------

EPSILON, ZETA, GONE, NOWHERE = (
    sf18(i) for i in ("001Ep00000Eps01", "001Ze00000Zet01", "001Go00000Gon01", "001No00000Non01")
)

MATCHING = {
    "salesforce.account": [
        sf_account(ACME, "Acme Corp"),
        sf_account(BETA, "Beta Ltd"),
        sf_account(DELTA, "Delta"),
        sf_account(EPSILON, "Epsilon"),
        sf_account(ZETA, "Zeta"),
        {**sf_account(GONE, "Deleted Co"), "is_deleted": True},
    ],
    "zendesk.organizations": [
        # The organization field holds a 15-character id: normalised to 18.
        {**zd_org(60, "Sixty"), "organization_fields__salesforce_account_id": DELTA[:15]},
        # external_id and the field agree.
        {**zd_org(70, "Seventy", external_id=EPSILON), "organization_fields__salesforce_account_id": EPSILON},
        # They disagree: neither wins, and no weaker rule (here the name) is tried.
        {**zd_org(80, "Zeta", external_id=EPSILON), "organization_fields__salesforce_account_id": ZETA},
        # Not an id: the other rules apply (the name).
        {**zd_org(90, "Acme Corp."), "organization_fields__salesforce_account_id": "see contract"},
    ],
    "zendesk.tickets": [
        # The ticket field names Beta (15 characters): Beta, whatever the organization.
        zd_ticket(1, "open", organization_id=80, custom_salesforce_account=BETA15),
        # A deleted Account, or one Salesforce does not have: the organization's account.
        zd_ticket(2, "open", organization_id=60, custom_salesforce_account=GONE),
        zd_ticket(3, "open", organization_id=90, custom_salesforce_account=NOWHERE),
        zd_ticket(4, "open", custom_salesforce_account=ACME),
        zd_ticket(5, "open", organization_id=70),
    ],
}


def test_accounts_match_by_configured_organization_and_ticket_fields(warehouse_url: str) -> None:
    seed_raw(warehouse_url, MATCHING, extra_columns=CUSTOM_COLUMNS)
    build(parse_target(warehouse_url), settings=SETTINGS)

    identity = query(
        warehouse_url,
        "select identity_key, account_key, match_method, match_value from core.account_identity "
        "where source_system = 'zendesk' order by 1",
    )
    tickets = query(warehouse_url, "select ticket_key, account_key from core.tickets order by 1")
    alone = query(warehouse_url, "select account_key from core.accounts where source_system = 'zendesk'")

    assert identity == [
        ("zendesk:60", f"salesforce:{DELTA}", "organization_field", DELTA),
        ("zendesk:70", f"salesforce:{EPSILON}", "external_id", EPSILON),
        ("zendesk:80", "zendesk:80", "conflicting_ids", f"external_id={EPSILON}; organization_field={ZETA}"),
        ("zendesk:90", f"salesforce:{ACME}", "normalized_name", "acme"),
    ]
    assert tickets == [
        ("zendesk:1", f"salesforce:{BETA}"),
        ("zendesk:2", f"salesforce:{DELTA}"),
        ("zendesk:3", f"salesforce:{ACME}"),
        ("zendesk:4", f"salesforce:{ACME}"),
        ("zendesk:5", f"salesforce:{EPSILON}"),
    ]
    assert alone == [("zendesk:80",)]


# --- Account matching: overrides (inputs.input_account_overrides) ----------------------------------------


def override(org: int, account: str | None, loaded: str = T0) -> dict[str, Any]:
    return {
        "zendesk_organization_id": org,
        "salesforce_account_id": account,
        "note": "checked with the account team",
        "source_file": "overrides.csv",
        "loaded_at": naive(loaded),
    }


OVERRIDES = {
    "salesforce.account": [
        sf_account(ACME, "Acme Corp"),
        sf_account(BETA, "Beta Ltd"),
        sf_account(DELTA, "Delta"),
        {**sf_account(GONE, "Deleted Co"), "is_deleted": True},
    ],
    "zendesk.organizations": [
        zd_org(10, "Ten", external_id=ACME),
        zd_org(20, "Twenty", external_id=BETA15),
        zd_org(30, "Thirty", external_id=DELTA),
        zd_org(40, "Forty"),
        zd_org(50, "Fifty"),
        zd_org(60, "Sixty"),
        zd_org(70, "Acme Corp"),
        zd_org(80, "Eighty", external_id=ACME),
    ],
    "inputs.input_account_overrides": [
        # Beats the external_id.
        override(10, BETA),
        # Never match: an empty Account Id, whether NULL or blank.
        override(20, None),
        override(30, " "),
        # A deleted Account, chosen by a person: kept.
        override(40, GONE),
        # An Account Salesforce does not have: no match, and no other rule either.
        override(50, NOWHERE[:15]),
        # The latest row decides.
        override(60, ACME, loaded="2024-03-01T09:00:00+00:00"),
        override(60, DELTA, loaded="2024-03-02T09:00:00+00:00"),
        # Its name would match Acme Corp.
        override(70, None),
    ],
    "zendesk.tickets": [zd_ticket(1, "open", organization_id=10), zd_ticket(2, "open", organization_id=20)],
}


def test_account_overrides_take_precedence(warehouse_url: str) -> None:
    seed_raw(warehouse_url, OVERRIDES)
    build(parse_target(warehouse_url))

    identity = query(
        warehouse_url,
        "select identity_key, account_key, match_method, match_value from core.account_identity "
        "where source_system = 'zendesk' order by 1",
    )
    tickets = query(warehouse_url, "select ticket_key, account_key from core.tickets order by 1")
    alone = query(warehouse_url, "select account_key from core.accounts where source_system = 'zendesk' order by 1")

    assert identity == [
        ("zendesk:10", f"salesforce:{BETA}", "override", BETA),
        ("zendesk:20", "zendesk:20", "override_unmatched", None),
        ("zendesk:30", "zendesk:30", "override_unmatched", None),
        ("zendesk:40", f"salesforce:{GONE}", "override", GONE),
        ("zendesk:50", "zendesk:50", "override_unmatched", NOWHERE),
        ("zendesk:60", f"salesforce:{DELTA}", "override", DELTA),
        ("zendesk:70", "zendesk:70", "override_unmatched", None),
        ("zendesk:80", f"salesforce:{ACME}", "external_id", ACME),
    ]
    assert tickets == [("zendesk:1", f"salesforce:{BETA}"), ("zendesk:2", "zendesk:20")]
    assert alone == [("zendesk:20",), ("zendesk:30",), ("zendesk:50",), ("zendesk:70",)]
