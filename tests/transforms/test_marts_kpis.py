"""Given/expect tests of the KPI marts on DuckDB and PostgreSQL: a tiny support organisation seeded as
raw rows, built end to end, and every expected number worked out by hand (the arithmetic is in the
comments, so a reader can check it without running anything).

The organisation (times UTC; March 2024 unless said otherwise; settings: Mid-Market from $100K ARR):

- Salesforce Account A (won New Business $120K on 2023-03-15, Renewal $120K on 2024-03-10, Expansion
  $60K on 2024-03-20) and Account B (New Business $24K on 2023-03-10; its renewal was lost, so it
  churns in March 2024). ARR counts a won amount for 12 months: A has $120K from 2023-03 to 2024-02,
  then $180K; B has $24K from 2023-03 to 2024-02, then 0. A is Mid-Market, B Commercial.
- Zendesk organizations 7 (external_id = A) and 8 (external_id = B). Groups 11 "Tier 1 Support" and
  12 "Tier 2 Support".
- Tickets (created 2024-03-01 09:00 unless said):
  T1 org 7, Tier 1, email, tag onboarding: 1 reply after 30 min, solved 11:00 (120 min), a Confluence
     link at 10:00; rated bad, then good (rated twice: only the latest counts).
  T2 org 7, Tier 2, email: 2 replies, first after 300 min, solved 10:00, reopened once, solved again
     2024-03-03 11:00 (3,000 min); a KB link only after its first solve; rated bad.
  T3 org 8, Tier 1, web: never replied, closed without ever being solved on 2024-03-02 09:00 (1,440 min).
  T4 merged away (closed_by_merge), rated good, an achieved SLA: excluded everywhere.
  T5 deleted: excluded everywhere.
  T6 no organization, Tier 1, email, created 2024-03-10: open, never replied.
  T7 org 7, Tier 2, voice, created 2024-05-02 09:00: 1 reply after 10 min, solved after 30 min.
  T8 org 7, created 2024-05-03 09:00, escalated from Tier 1 to Tier 2 (2 group stations): 1 reply
     after 20 min, solved after 60 min: one reply, but escalated, so not resolved at first contact.
  April 2024 has no tickets.
  June 2024, two Salesforce phone cases of A, each with two published agent comments: C1 closed on
  creation (IsClosedOnCreate: resolved at first contact whatever the comments), C2 closed later (two
  replies: not at first contact).
- One handled call of 300 s talk + 60 s hold + 120 s wrap-up on T1 (8 min), one abandoned call, and a
  handled 10-minute call on T4 (merged away: excluded from handle time like its ticket).
- SLA: T1 reply achieved; T1 agent work breached at 10:00 but Zendesk marked that breach deleted, then
  fulfilled at 11:00 (achieved); T2 reply breached; T2 requester wait still running.
- T3 was offered a survey it never answered.
- Support cost $1,200 for March 2024. No NPS responses loaded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from transforms.runner import build
from transforms.settings import parse_settings
from warehouse.target import parse_target

from .conftest import query
from .test_core_models import seed_raw, sf18, ts, zd_metrics, zd_ticket

A = sf18("001000000000Aaa")
B = sf18("001000000000Bbb")
MARCH, APRIL, MAY = dt.date(2024, 3, 1), dt.date(2024, 4, 1), dt.date(2024, 5, 1)
SETTINGS = parse_settings({"segments": {"mid_market_min_arr": 100_000}})
CONFLUENCE_URL = "https://acme.atlassian.net/wiki/spaces/SUP/pages/98412439/Setting+up+SSO"


def _opp(id: str, account: str, kind: str, amount: float, close: dt.date, won: bool = True) -> dict[str, Any]:
    return {
        "id": id,
        "system_modstamp": ts("2024-01-01T00:00:00+00:00"),
        "created_date": ts("2023-01-01T00:00:00+00:00"),
        "account_id": account,
        "type": kind,
        "stage_name": "Closed Won" if won else "Closed Lost",
        "amount": amount,
        "close_date": close,
        "is_closed": True,
        "is_won": won,
    }


def _tme(id: int, ticket: int, metric: str, kind: str, at: str, **kw: Any) -> dict[str, Any]:
    return {"id": id, "ticket_id": ticket, "metric": metric, "instance_id": 1, "type": kind, "time": ts(at), **kw}


def _comment(id: int, ticket: int, at: str, body: str) -> dict[str, Any]:
    return {"id": id, "ticket_id": ticket, "author_id": 501, "public": True, "body": body, "created_at": ts(at)}


def _rating(id: int, ticket: int, score: str, at: str, group: int) -> dict[str, Any]:
    return {
        "id": id,
        "ticket_id": ticket,
        "score": score,
        "created_at": ts(at),
        "updated_at": ts(at),
        "group_id": group,
    }


ORG = {
    "salesforce.account": [
        {"id": A, "system_modstamp": ts("2023-01-01T00:00:00+00:00"), "name": "Acme"},
        {"id": B, "system_modstamp": ts("2023-01-01T00:00:00+00:00"), "name": "Beta"},
    ],
    "salesforce.opportunity": [
        _opp("006O1", A, "New Business", 120_000, dt.date(2023, 3, 15)),
        _opp("006O2", A, "Renewal", 120_000, dt.date(2024, 3, 10)),
        _opp("006O3", A, "Expansion", 60_000, dt.date(2024, 3, 20)),
        _opp("006O4", B, "New Business", 24_000, dt.date(2023, 3, 10)),
        _opp("006O5", B, "Renewal", 24_000, dt.date(2024, 3, 5), won=False),
    ],
    "zendesk.organizations": [
        {"id": 7, "name": "Acme", "external_id": A, "domain_names": "[]"},
        {"id": 8, "name": "Beta", "external_id": B, "domain_names": "[]"},
    ],
    "zendesk.groups": [{"id": 11, "name": "Tier 1 Support"}, {"id": 12, "name": "Tier 2 Support"}],
    "zendesk.tickets": [
        zd_ticket(1, "solved", organization_id=7, group_id=11, tags='["onboarding"]'),
        zd_ticket(2, "solved", organization_id=7, group_id=12),
        zd_ticket(3, "closed", organization_id=8, group_id=11, via__channel="web"),
        zd_ticket(4, "closed", organization_id=7, group_id=11, tags='["closed_by_merge"]'),
        zd_ticket(5, "deleted", organization_id=7, group_id=11),
        zd_ticket(6, "open", group_id=11, created_at=ts("2024-03-10T09:00:00+00:00")),
        zd_ticket(
            7,
            "solved",
            organization_id=7,
            group_id=12,
            via__channel="voice",
            created_at=ts("2024-05-02T09:00:00+00:00"),
            updated_at=ts("2024-05-10T00:00:00+00:00"),
        ),
        zd_ticket(8, "solved", organization_id=7, group_id=12, created_at=ts("2024-05-03T09:00:00+00:00")),
    ],
    "zendesk.ticket_metrics": [
        zd_metrics(
            1,
            replies=1,
            solved_at=ts("2024-03-01T11:00:00+00:00"),
            status_updated_at=ts("2024-03-01T11:00:00+00:00"),
            reply_time_in_minutes__calendar=30,
            first_resolution_time_in_minutes__calendar=120,
            full_resolution_time_in_minutes__calendar=120,
        ),
        zd_metrics(
            2,
            replies=2,
            reopens=1,
            solved_at=ts("2024-03-03T11:00:00+00:00"),
            status_updated_at=ts("2024-03-03T11:00:00+00:00"),
            reply_time_in_minutes__calendar=300,
            first_resolution_time_in_minutes__calendar=60,
            full_resolution_time_in_minutes__calendar=3000,
        ),
        zd_metrics(3, replies=0, status_updated_at=ts("2024-03-02T09:00:00+00:00")),
        zd_metrics(4, replies=0, status_updated_at=ts("2024-03-01T10:00:00+00:00")),
        zd_metrics(6, replies=0),
        zd_metrics(
            7,
            replies=1,
            solved_at=ts("2024-05-02T09:30:00+00:00"),
            status_updated_at=ts("2024-05-02T09:30:00+00:00"),
            reply_time_in_minutes__calendar=10,
            first_resolution_time_in_minutes__calendar=30,
            full_resolution_time_in_minutes__calendar=30,
        ),
        zd_metrics(
            8,
            replies=1,
            group_stations=2,
            solved_at=ts("2024-05-03T10:00:00+00:00"),
            status_updated_at=ts("2024-05-03T10:00:00+00:00"),
            reply_time_in_minutes__calendar=20,
            first_resolution_time_in_minutes__calendar=60,
            full_resolution_time_in_minutes__calendar=60,
        ),
    ],
    "salesforce.case": [
        {
            "id": f"500C{n}",
            "system_modstamp": ts("2024-06-05T00:00:00+00:00"),
            "created_date": ts("2024-06-03T09:00:00+00:00"),
            "closed_date": ts("2024-06-03T09:00:00+00:00" if n == 1 else "2024-06-04T09:00:00+00:00"),
            "status": "Closed",
            "is_closed": True,
            "is_closed_on_create": n == 1,
            "origin": "Phone",
            "account_id": A,
            "owner_id": "005AGENT",
        }
        for n in (1, 2)
    ],
    "salesforce.case_comment": [
        {
            "id": f"00a{n}{k}",
            "system_modstamp": ts("2024-06-05T00:00:00+00:00"),
            "parent_id": f"500C{n}",
            "is_published": True,
            "created_by_id": "005AGENT",
            "created_date": ts(f"2024-06-03T0{k}:30:00+00:00" if n == 1 else f"2024-06-03T1{k}:00:00+00:00"),
        }
        for n in (1, 2)
        for k in (8, 9)
    ],
    "zendesk.ticket_comments": [
        _comment(71, 1, "2024-03-01T10:00:00+00:00", f"Please follow {CONFLUENCE_URL}"),
        _comment(72, 2, "2024-03-04T09:00:00+00:00", f"For next time: {CONFLUENCE_URL}"),
    ],
    "confluence.pages": [
        {
            "id": "98412439",
            "status": "current",
            "title": "Setting up SSO",
            "space_key": "SUP",
            "version__number": 1,
            "version__created_at": ts("2024-01-01T00:00:00+00:00"),
            "web_url": CONFLUENCE_URL,
        }
    ],
    "zendesk.satisfaction_ratings": [
        _rating(91, 1, "bad", "2024-03-02T00:00:00+00:00", 11),
        _rating(92, 1, "good", "2024-03-03T00:00:00+00:00", 11),
        _rating(93, 2, "bad", "2024-03-05T00:00:00+00:00", 12),
        _rating(94, 4, "good", "2024-03-05T00:00:00+00:00", 11),
        _rating(95, 3, "offered", "2024-03-02T10:00:00+00:00", 11),
    ],
    "zendesk.ticket_metric_events": [
        _tme(1, 1, "reply_time", "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=60, sla__policy__id=5),
        _tme(2, 1, "reply_time", "fulfill", "2024-03-01T09:30:00+00:00"),
        _tme(3, 2, "reply_time", "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=60, sla__policy__id=5),
        _tme(4, 2, "reply_time", "breach", "2024-03-01T10:00:00+00:00"),
        _tme(5, 2, "reply_time", "fulfill", "2024-03-01T14:00:00+00:00"),
        _tme(6, 2, "requester_wait_time", "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=1440),
        _tme(7, 4, "reply_time", "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=60, sla__policy__id=5),
        _tme(8, 4, "reply_time", "fulfill", "2024-03-01T09:10:00+00:00"),
        _tme(9, 1, "agent_work_time", "apply_sla", "2024-03-01T09:00:00+00:00", sla__target=60, sla__policy__id=5),
        _tme(10, 1, "agent_work_time", "breach", "2024-03-01T10:00:00+00:00", deleted=True),
        _tme(11, 1, "agent_work_time", "fulfill", "2024-03-01T11:00:00+00:00"),
    ],
    "zendesk.calls": [
        {
            "id": 61,
            "created_at": ts("2024-03-01T09:00:00+00:00"),
            "agent_id": 501,
            "ticket_id": 1,
            "talk_time": 300,
            "hold_time": 60,
            "wrap_up_time": 120,
            "completion_status": "completed",
            "direction": "inbound",
        },
        {
            "id": 62,
            "created_at": ts("2024-03-01T09:05:00+00:00"),
            "talk_time": 0,
            "completion_status": "abandoned_in_queue",
            "direction": "inbound",
        },
        {
            "id": 63,
            "created_at": ts("2024-03-01T09:10:00+00:00"),
            "agent_id": 501,
            "ticket_id": 4,
            "talk_time": 600,
            "completion_status": "completed",
            "direction": "inbound",
        },
    ],
    "inputs.input_support_cost_monthly": [
        {
            "month": MARCH,
            "cost": 1200.0,
            "currency": "USD",
            "source_file": "cost.csv",
            "loaded_at": dt.datetime(2024, 4, 1),
        }
    ],
}

Key = tuple[dt.date, str, str, str, str]


def kpis(url: str) -> dict[Key, tuple[float, float, float]]:
    rows = query(
        url,
        "select month_start, kpi_name, segment, channel_group, support_tier, numerator, denominator, value "
        "from marts.agg_kpi_monthly",
    )
    out: dict[Key, tuple[float, float, float]] = {}
    for month, name, segment, channel, tier, num, den, value in rows:
        key = (month, name, segment, channel, tier)
        assert key not in out, f"two rows for {key}"
        out[key] = (num, den, value)
    return out


ALL = ("all", "all", "all")

# (month, kpi, segment, channel group, tier) → (numerator, denominator), worked out by hand.
EXPECTED: dict[Key, tuple[float, float]] = {
    # FCR, March (by resolved_at): T1 yes (1 reply), T2 no (reopened), T3 yes (0 replies) = 2/3;
    # T4/T5 excluded. Tier 1 = T1, T3: 2/2; Tier 2 = T2: 0/1; Mid-Market = T1, T2: 1/2; Commercial = T3.
    (MARCH, "fcr_rate", *ALL): (2, 3),
    (MARCH, "fcr_rate", "all", "all", "Tier 1"): (2, 2),
    (MARCH, "fcr_rate", "all", "all", "Tier 2"): (0, 1),
    (MARCH, "fcr_rate", "Mid-Market", "all", "all"): (1, 2),
    (MARCH, "fcr_rate", "Commercial", "all", "all"): (1, 1),
    (MARCH, "fcr_rate", "all", "email_chat", "all"): (1, 2),
    (MARCH, "fcr_rate", "all", "portal", "all"): (1, 1),
    (MARCH, "fcr_rate", "Commercial", "portal", "Tier 1"): (1, 1),
    # May: T7 yes; T8 no (one reply, but escalated between tiers).
    (MAY, "fcr_rate", *ALL): (1, 2),
    # June: C1 closed on creation (FCR despite two comments), C2 two replies (not).
    (dt.date(2024, 6, 1), "fcr_rate", *ALL): (1, 2),
    # CSAT: T1's latest rating (good = 5) and T2's (bad = 1); T1's earlier bad and T4's good do not count.
    (MARCH, "csat_avg_5pt", *ALL): (6, 2),
    (MARCH, "csat_pct_positive", *ALL): (1, 2),
    (MARCH, "csat_pct_positive", "all", "all", "Tier 1"): (1, 1),
    # SLA: T1's two targets achieved (its agent-work breach was deleted by Zendesk: ignored), T2
    # breached; T2's running target and T4's (merged) do not count.
    (MARCH, "sla_compliance", *ALL): (2, 3),
    (MARCH, "sla_compliance", "all", "all", "Tier 2"): (0, 1),
    # Resolved within 24 h (by final resolution): T1 120 min yes, T2 3,000 no, T3 1,440 yes (closed
    # without a solve: created → closed).
    (MARCH, "resolution_within_24h_rate", *ALL): (2, 3),
    (MAY, "resolution_within_24h_rate", *ALL): (2, 2),
    # Median full resolution hours: T1 2, T2 50, T3 24 → 24; Tier 1 (T1, T3): (2 + 24) / 2 = 13;
    # May: T7 0.5, T8 1 → 0.75.
    (MARCH, "median_resolution_hours", *ALL): (24, 1),
    (MARCH, "median_resolution_hours", "all", "all", "Tier 1"): (13, 1),
    (MAY, "median_resolution_hours", *ALL): (0.75, 1),
    # First reply within 4 h (by creation): T1 30 min yes, T2 300 no, T3 and T6 unreplied and older: no.
    (MARCH, "first_reply_within_4h_rate", *ALL): (1, 4),
    (MAY, "first_reply_within_4h_rate", *ALL): (2, 2),
    # Self-service: resolved with no public reply: T3 of T1, T2, T3.
    (MARCH, "self_service_rate", *ALL): (1, 3),
    # KB: T1 linked at 10:00, before its 11:00 solve; T2's link came after its first solve.
    (MARCH, "kb_utilization_rate", *ALL): (1, 3),
    # AHT: one handled call, 300 + 60 + 120 s = 8 min; the abandoned call and the call on merged T4
    # are excluded.
    (MARCH, "aht_minutes", *ALL): (8, 1),
    (MARCH, "aht_minutes", "Mid-Market", "phone", "all"): (8, 1),
    # Retention (trailing 12 months): active 2023-03: A (Mid-Market), B (Commercial); 2024-03: A only.
    (MARCH, "retention_rate", *ALL): (1, 2),
    (MARCH, "retention_rate", "Mid-Market", "all", "all"): (1, 1),
    (MARCH, "retention_rate", "Commercial", "all", "all"): (0, 1),
    (APRIL, "retention_rate", *ALL): (1, 2),
    # NRR: (A $180K + B 0) / (A $120K + B $24K) = 1.25.
    (MARCH, "net_revenue_retention", *ALL): (180_000, 144_000),
    # Expansion: O3, $60K, A in March (Mid-Market).
    (MARCH, "expansion_revenue", *ALL): (60_000, 1),
    (MARCH, "expansion_revenue", "Mid-Market", "all", "all"): (60_000, 1),
    # Support cost: $1,200 / (ARR $180K / 12 = $15,000 recognised in March) = 0.08.
    (MARCH, "support_cost_pct_revenue", *ALL): (1200, 15_000),
    # CLV: average ARR of active accounts ($180K, A) × 0.8 = $144K, over the logo churn rate 1/2.
    (MARCH, "customer_lifetime_value", *ALL): (144_000, 0.5),
    # Time to value: A's contract 2023-03-15 → T1 (onboarding) resolved 2024-03-01 = 352 days.
    (dt.date(2023, 3, 1), "time_to_value_days", *ALL): (352, 1),
    (dt.date(2023, 3, 1), "time_to_value_days", "Mid-Market", "all", "all"): (352, 1),
    # Secondary measures. CSAT response rate: T1, T2, T3 offered (T4 excluded), T1 and T2 answered.
    (MARCH, "csat_response_rate", *ALL): (2, 3),
    (MARCH, "csat_response_rate", "Commercial", "all", "all"): (0, 1),
    # Ticket-level SLA: T1 (two targets achieved, no breach) of T1, T2 (breached).
    (MARCH, "sla_ticket_rate", *ALL): (1, 2),
    # p90 full resolution hours of 2, 24, 50 (continuous): 24 + 0.8 × (50 − 24) = 44.8.
    (MARCH, "p90_resolution_hours", *ALL): (44.8, 1),
    # Median first reply over replied tickets created in the month: March T1 0.5 h, T2 5 h → 2.75;
    # May T7 10 min, T8 20 min → 0.25 h.
    (MARCH, "median_first_reply_hours", *ALL): (2.75, 1),
    (MAY, "median_first_reply_hours", *ALL): (0.25, 1),
    # Expansion as ARR delta: A from $120K (February) to $180K (March) = $60K, Mid-Market.
    (MARCH, "expansion_arr_delta", *ALL): (60_000, 1),
    (MARCH, "expansion_arr_delta", "Mid-Market", "all", "all"): (60_000, 1),
}


@pytest.fixture
def built(warehouse_url: str) -> str:
    seed_raw(warehouse_url, ORG)
    build(parse_target(warehouse_url), settings=SETTINGS)
    return warehouse_url


def test_every_kpi_matches_the_hand_computed_numbers(built: str) -> None:
    got = kpis(built)
    for key, (num, den) in EXPECTED.items():
        assert key in got, f"no row for {key}"
        assert got[key][:2] == (pytest.approx(num), pytest.approx(den)), key
        assert got[key][2] == pytest.approx(num / den), key


def test_slices_that_should_not_exist(built: str) -> None:
    got = kpis(built)
    # A month with no tickets has no ticket KPI rows (never a silent 0), but accounts still count.
    assert not [
        k
        for k in got
        if k[0] == APRIL and k[1] not in {"retention_rate", "net_revenue_retention", "customer_lifetime_value"}
    ]
    # No NPS was loaded: no rows at all, and kpi_definitions says what is missing.
    assert not [k for k in got if k[1] == "nps"]
    # CLV per segment: Mid-Market lost nobody (churn 0: unbounded), Commercial has no active account.
    assert not [k for k in got if k[1] == "customer_lifetime_value" and k[2] != "all"]
    # Excluded tickets are nowhere: T4 (merged, rated good) would make March CSAT 11/3.
    assert got[(MARCH, "csat_avg_5pt", *ALL)][:2] == (6, 2)


def test_kpi_definitions_say_why_a_kpi_has_no_rows(built: str) -> None:
    rows = dict(query(built, "select kpi_name, availability from marts.kpi_definitions"))
    assert len(rows) == 23  # the 17 KPIs of KPIS.md and its 6 secondary measures
    assert rows["nps"].startswith("no data: needs NPS responses")
    assert rows["fcr_rate"] == "available"
    assert rows["support_cost_pct_revenue"] == "available"


def test_targets_and_their_verdicts(built: str) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            built,
            "select kpi_name, target, is_target_met from marts.agg_kpi_monthly "
            "where month_start = '2024-03-01' and segment = 'all' and channel_group = 'all' and support_tier = 'all'",
        )
    }
    assert rows["fcr_rate"] == (0.75, False)  # 2/3 < 75%
    assert rows["support_cost_pct_revenue"] == (0.08, True)  # 8% ≤ 8% (lower is better)
    assert rows["aht_minutes"] == (8.0, True)  # 8 ≤ 8 minutes
    assert rows["csat_pct_positive"] == (None, None)  # no target set: no verdict


def test_ticket_flags(built: str) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            built,
            "select ticket_key, segment, is_excluded, exclusion_reason, is_fcr, first_reply_minutes, "
            "is_first_reply_within_target, csat_score from marts.fct_tickets",
        )
    }
    assert rows["zendesk:1"] == ("Mid-Market", False, None, True, 30.0, True, 5.0)
    assert rows["zendesk:3"] == ("Commercial", False, None, True, None, False, None)
    assert rows["zendesk:4"][1:3] == (True, "merged")
    assert rows["zendesk:5"][1:3] == (True, "deleted")
    # Unreplied and open: NULL reply minutes (never 0), a miss since it is older than 4 h.
    assert rows["zendesk:6"] == ("Unassigned", False, None, None, None, False, None)


def _nps(email: str, account: str | None, score: int, at: str) -> dict[str, Any]:
    return {
        "respondent_email": email,
        "account_id": account,
        "score": score,
        "responded_at": dt.datetime.fromisoformat(at),
        "source_file": "nps.csv",
        "loaded_at": dt.datetime(2024, 6, 1),
    }


NPS = [
    _nps("a@acme.com", A, 10, "2024-03-02T10:00:00"),  # replaced by a's later answer this month
    _nps("a@acme.com", A, 6, "2024-03-20T10:00:00"),  # detractor
    _nps("b@acme.com", A, 9, "2024-03-05T10:00:00"),  # promoter
    _nps("c@beta.io", B, 7, "2024-03-06T10:00:00"),  # passive
    _nps("d@nowhere.org", None, 3, "2024-03-07T10:00:00"),  # detractor, no account
    _nps("e@acme.com", A, 10, "2024-04-02T10:00:00"),  # promoter, April
]


def test_nps_from_the_input_table(warehouse_url: str) -> None:
    seed_raw(warehouse_url, {**ORG, "inputs.input_nps_responses": NPS})
    build(parse_target(warehouse_url), settings=SETTINGS)
    got = {k: v for k, v in kpis(warehouse_url).items() if k[1] == "nps"}
    # March, latest answer per respondent: a 6, b 9, c 7, d 3 → (1 promoter − 2 detractors) / 4 = −25.
    # Mid-Market (A: a, b): (1 − 1) / 2 = 0; Commercial (B: c): 0 / 1; Unassigned (d): −1 / 1.
    assert got == {
        (MARCH, "nps", "all", "all", "all"): (-100.0, 4.0, -25.0),
        (MARCH, "nps", "Mid-Market", "all", "all"): (0.0, 2.0, 0.0),
        (MARCH, "nps", "Commercial", "all", "all"): (0.0, 1.0, 0.0),
        (MARCH, "nps", "Unassigned", "all", "all"): (-100.0, 1.0, -100.0),
        (APRIL, "nps", "all", "all", "all"): (100.0, 1.0, 100.0),
        (APRIL, "nps", "Mid-Market", "all", "all"): (100.0, 1.0, 100.0),
    }
