"""End to end: the three simulators synced into DuckDB (as ``supportlake demo`` does), then the
whole build; the core tables hold every synced ticket and case exactly once."""

from __future__ import annotations

import re

import pytest

from transforms.runner import build
from warehouse.demo import run_demo
from warehouse.sql import connection
from warehouse.target import parse_target


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('core_e2e') / 'wh.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUPPORTLAKE_HOME", str(tmp_path_factory.mktemp("home")))
        mp.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        assert run_demo(url, tickets=300, seed=11) == 0
        build(parse_target(url))
    return url


def test_every_ticket_and_case_once(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        raw = {
            "zendesk": {str(r[0]) for r in con.query("select id from zendesk.tickets")},
            "salesforce": {str(r[0]) for r in con.query('select id from salesforce."case"')},
        }
        rows = con.query("select source_system, source_ticket_id, ticket_key from core.tickets")
    assert len(raw["zendesk"]) == 300
    assert len(raw["salesforce"]) > 0
    keys = [r[2] for r in rows]
    assert len(keys) == len(set(keys))
    assert {s: {r[1] for r in rows if r[0] == s} for s in ("zendesk", "salesforce")} == raw
    assert len(rows) == len(raw["zendesk"]) + len(raw["salesforce"])
    assert all(k == f"{s}:{i}" for s, i, k in rows)


def test_ticket_rules_hold_on_simulated_data(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        zero_replies = con.query(
            "select count(*) from core.tickets where source_system = 'zendesk' and reply_count = 0 "
            "and first_reply_minutes_calendar is not null"
        )[0][0]
        unresolved_with_time = con.query(
            "select count(*) from core.tickets where not is_resolved and resolved_at is not null"
        )[0][0]
        closed_unsolved = con.query(
            "select count(*) from core.tickets where status = 'closed' and first_solved_at is null and not is_resolved"
        )[0][0]
        statuses = {r[0] for r in con.query("select distinct status from core.tickets")}
        groups = {r[0] for r in con.query("select distinct channel_group from core.tickets")}
    assert (zero_replies, unresolved_with_time, closed_unsolved) == (0, 0, 0)
    assert statuses <= {"new", "open", "pending", "hold", "solved", "closed", "deleted"}
    assert groups <= {"phone", "email_chat", "social", "portal", "other"}


def test_organizations_link_to_their_accounts(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        accounts = {str(r[0])[:15]: str(r[0]) for r in con.query("select id from salesforce.account")}
        orgs = con.query("select id, external_id from zendesk.organizations")
        identity = dict(con.query("select identity_key, account_key from core.account_identity"))
        ticket_accounts = con.query(
            "select t.organization_id, c.account_key from zendesk.tickets as t "
            "join core.tickets as c on c.ticket_key = 'zendesk:' || t.id::VARCHAR where t.organization_id is not null"
        )
        known_accounts = {r[0] for r in con.query("select account_key from core.accounts")}
    by_external_id = {org: accounts[ext[:15]] for org, ext in orgs if ext and ext[:15] in accounts}
    assert by_external_id, "the simulator's organizations carry Account Ids"
    assert any(len(ext or "") == 15 for _, ext in orgs), "and some are 15-character ids"
    for org, account in by_external_id.items():
        assert identity[f"zendesk:{org}"] == f"salesforce:{account}"
    for org, account_key in ticket_accounts:
        assert account_key == identity[f"zendesk:{org}"]
        assert account_key in known_accounts


def test_every_article_url_in_a_comment_is_a_link(synced: str) -> None:
    pattern = re.compile(r"/wiki/spaces/[A-Za-z0-9_~-]+/pages/([0-9]+)|/hc/[A-Za-z-]+/articles/([0-9]+)")
    with connection(parse_target(synced)) as con:
        bodies = con.query("select 'zendesk:' || id::VARCHAR, body from zendesk.ticket_comments")
        bodies += con.query(
            "select 'salesforce:' || id, comment_body from salesforce.case_comment "
            "where not coalesce(is_deleted, false)"
        )
        links = {
            (r[0], r[1])
            for r in con.query(
                "select comment_key, article_key from core.ticket_article_links where comment_key is not null"
            )
        }
        case_articles = con.query("select count(*) from salesforce.case_article where not coalesce(is_deleted, false)")
        case_links = con.query(
            "select count(*) from core.ticket_article_links where link_source = 'salesforce_case_article'"
        )
    expected = set()
    for key, body in bodies:
        for confluence, guide in pattern.findall(body or ""):
            expected.add((key, f"confluence:{confluence}" if confluence else f"zendesk:{guide}"))
    assert expected
    assert links == expected
    assert case_links == case_articles


def test_core_tables_keep_their_contract_on_simulated_data(synced: str) -> None:
    from schemas.core import CORE_TABLES

    from .conftest import columns
    from .test_core_contract import expected_columns

    with connection(parse_target(synced)) as con:
        for cls in CORE_TABLES:
            table = str(cls.__tablename__)
            assert columns(con, "core", table) == expected_columns(cls, con.kind), table
            key = cls.__grain__[0]  # type: ignore[attr-defined]
            total, distinct, nulls = con.query(
                f"select count(*), count(distinct {key}), count(*) - count({key}) from core.{table}"
            )[0]
            assert total > 0, table
            assert (distinct, nulls) == (total, 0), table


def test_escalation_reply_and_deletion_rules_hold_on_simulated_data(synced: str) -> None:
    with connection(parse_target(synced)) as con:
        broken = {
            # NULL only when unknowable, and then the flag is unknown too; never negative.
            "negative escalations": "escalation_count < 0",
            "flag without count": "(escalation_count is null) <> (is_escalated_before_first_solve is null)",
            "escalated without a count": "is_escalated_before_first_solve and escalation_count = 0",
            # 'Tier 1' < 'Tier 2' < 'Tier 3' as text.
            "highest below current": "highest_tier < support_tier "
            "or (support_tier is not null and highest_tier is null)",
            # A Salesforce case's completed 'First Response' milestone times its first reply even when
            # no published agent comment was written (the agent answered by phone or email).
            "reply time without a reply": "reply_count = 0 and first_reply_minutes_calendar is not null "
            "and not exists (select 1 from intermediate.int_salesforce_first_responses as f "
            "where 'salesforce:' || f.case_id = core.tickets.ticket_key)",
            "reply without a reply time": "source_system = 'salesforce' and reply_count > 0 "
            "and first_reply_minutes_calendar is null",
            "business minutes beyond calendar minutes": "first_reply_minutes_business > first_reply_minutes_calendar "
            "+ 0.001 or full_resolution_minutes_business > full_resolution_minutes_calendar + 0.001 "
            "or first_reply_minutes_business < 0 or full_resolution_minutes_business < 0",
            "salesforce resolution without business minutes": "source_system = 'salesforce' "
            "and full_resolution_minutes_calendar is not null and full_resolution_minutes_business is null",
            "count missing": "reply_count is null",
        }
        counts = {
            name: con.query(f"select count(*) from core.tickets where {condition}")[0][0]
            for name, condition in broken.items()
        }
        # Salesforce reopens are known exactly for the cases with history.
        history_mismatch = con.query(
            "select count(*) from core.tickets as t where t.source_system = 'salesforce' and "
            "(t.reopen_count is null) = exists (select 1 from salesforce.case_history as h "
            "where 'salesforce:' || h.case_id = t.ticket_key)"
        )[0][0]
        # Tier__c (the default tier field) is filled on every simulated case.
        tiers = con.query(
            "select count(*), count(*) filter (where t.support_tier = c.tier_c) from core.tickets as t "
            "join salesforce.\"case\" as c on t.ticket_key = 'salesforce:' || c.id"
        )[0]
        purged = con.query(
            "select count(*), count(*) filter (where t.is_deleted and t.status = 'deleted') "
            "from salesforce.deleted_records as d join core.tickets as t on t.ticket_key = 'salesforce:' || d.id"
        )[0]
        replied = con.query("select count(*) from core.tickets where source_system = 'salesforce' and reply_count > 0")
    assert counts == dict.fromkeys(broken, 0)
    assert history_mismatch == 0
    assert tiers[0] > 0
    assert tiers[0] == tiers[1]
    assert purged[0] == purged[1]
    assert replied[0][0] > 0
