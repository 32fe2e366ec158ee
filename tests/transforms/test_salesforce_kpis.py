"""Given/expect tests of the Salesforce side of the KPI marts (issue 11), on DuckDB and PostgreSQL:
raw Salesforce rows in, the numbers worked out by hand out.

The org (times UTC; Monday 2024-06-03 09:00 unless said; settings: the Case field CSAT_Score__c on a
0–10 scale, segments from the Account field Segment__c):

- Business hours: BH1 "Support Hours" (the default), America/New_York (EDT = UTC−4 in June),
  Monday–Friday 08:00–18:00; BH2 "Paris", Europe/Paris (CEST = UTC+2), Monday–Friday 09:00–17:00.
- Accounts: A (Segment__c "Enterprise"), B (Segment__c "SMB"), C (no Segment__c, won $600K ARR: the
  default ARR bands make it Mid-Market).
- Cases of A, all closed:
  S1 Web, owned by a queue, closed 10:00; no comment, no milestone, no work: self-service.
    CSAT_Score__c 10 (→ 5), no field history: responded at ClosedDate (June).
  S2 Email, a completed First Response milestone at 09:30, closed 12:00, no comment: an agent
    answered, so not self-service. CSAT_Score__c 7.5 (→ 4); the field's history says it was set on
    2024-07-01 10:00: responded in July.
  S3 Phone, closed on creation, owned by a user (agent): an agent took the call.
  S4 Chat, an accepted Omni-Channel AgentWork, closed 11:00. CSAT_Score__c 0 (→ 1), June.
  S5 Email, BusinessHoursId BH2: closed 2024-06-04 09:00 (CaseHistory Status New → Closed), reopened
    2024-06-10 (Closed → Open), closed again 2024-07-02 09:00 (ClosedDate). First solve: June 4.
  S6 Email, created Friday 2024-06-07 20:00 (16:00 EDT), First Response milestone Monday 2024-06-10
    13:00 (09:00 EDT), closed 15:00 (11:00 EDT); default business hours BH1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from transforms.runner import build
from transforms.settings import parse_settings
from warehouse.target import parse_target

from .conftest import query
from .test_core_models import seed_raw, sf18, ts
from .test_marts_kpis import kpis

A, B, C = sf18("001000000000Aaa"), sf18("001000000000Bbb"), sf18("001000000000Ccc")
JUNE, JULY = dt.date(2024, 6, 1), dt.date(2024, 7, 1)
SETTINGS = parse_settings(
    {
        "salesforce": {"csat_field": "CSAT_Score__c", "csat_scale_min": 0, "csat_scale_max": 10},
        "segments": {"account_field": "Segment__c"},
    }
)
MOD = ts("2024-07-05T00:00:00+00:00")
AGENT = "005000000000AGT"
QUEUE = "00G000000000QUE"


def _case(n: int, origin: str, closed: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": f"500S{n}",
        "system_modstamp": MOD,
        "last_modified_date": MOD,
        "created_date": ts("2024-06-03T09:00:00+00:00"),
        "closed_date": ts(closed),
        "status": "Closed",
        "is_closed": True,
        "origin": origin,
        "account_id": A,
        "owner_id": QUEUE,
        **kw,
    }


def _hours(id: str, name: str, tz: str, start: str, end: str, default: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "system_modstamp": MOD,
        "name": name,
        "is_active": True,
        "is_default": default,
        "time_zone_sid_key": tz,
    }
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        row[f"{day}_start_time"] = start
        row[f"{day}_end_time"] = end
    return row


def _history(id: str, case: str, old: str, new: str, at: str, field: str = "Status") -> dict[str, Any]:
    return {"id": id, "case_id": case, "field": field, "old_value": old, "new_value": new, "created_date": ts(at)}


def _milestone(id: str, case: str, done: str) -> dict[str, Any]:
    return {
        "id": id,
        "system_modstamp": MOD,
        "case_id": case,
        "milestone_type_id": "557FR",
        "completion_date": ts(done),
        "is_completed": True,
        "is_violated": False,
    }


ORG: dict[str, list[dict[str, Any]]] = {
    "salesforce.account": [
        {"id": A, "system_modstamp": MOD, "name": "Acme", "segment_c": "Enterprise"},
        {"id": B, "system_modstamp": MOD, "name": "Beta", "segment_c": "SMB"},
        {"id": C, "system_modstamp": MOD, "name": "Gamma"},
    ],
    "salesforce.opportunity": [
        {
            "id": "006C1",
            "system_modstamp": MOD,
            "account_id": C,
            "type": "New Business",
            "amount": 600_000.0,
            "close_date": dt.date(2024, 1, 15),
            "is_closed": True,
            "is_won": True,
        }
    ],
    "salesforce.business_hours": [
        _hours("01mBH1", "Support Hours", "America/New_York", "08:00:00.000Z", "18:00:00.000Z", True),
        _hours("01mBH2", "Paris", "Europe/Paris", "09:00:00.000Z", "17:00:00.000Z", False),
    ],
    "salesforce.case": [
        _case(1, "Web", "2024-06-03T10:00:00+00:00", csat_score_c=10.0),
        _case(2, "Email", "2024-06-03T12:00:00+00:00", csat_score_c=7.5),
        _case(3, "Phone", "2024-06-03T09:00:00+00:00", is_closed_on_create=True, owner_id=AGENT),
        _case(4, "Chat", "2024-06-03T11:00:00+00:00", csat_score_c=0.0),
        _case(5, "Email", "2024-07-02T09:00:00+00:00", business_hours_id="01mBH2"),
        _case(6, "Email", "2024-06-10T15:00:00+00:00", created_date=ts("2024-06-07T20:00:00+00:00")),
    ],
    "salesforce.milestone_type": [{"id": "557FR", "system_modstamp": MOD, "name": "First Response"}],
    "salesforce.case_milestone": [
        _milestone("5lmM2", "500S2", "2024-06-03T09:30:00+00:00"),
        _milestone("5lmM6", "500S6", "2024-06-10T13:00:00+00:00"),
    ],
    "salesforce.agent_work": [
        {
            "id": "0BzW4",
            "system_modstamp": MOD,
            "user_id": AGENT,
            "work_item_id": "500S4",
            "status": "Closed",
            "accept_date_time": ts("2024-06-03T09:05:00+00:00"),
            "handle_time": 600,
        }
    ],
    "salesforce.case_history": [
        _history("017H1", "500S5", "New", "Closed", "2024-06-04T09:00:00+00:00"),
        _history("017H2", "500S5", "Closed", "Open", "2024-06-10T09:00:00+00:00"),
        _history("017H3", "500S5", "Open", "Closed", "2024-07-02T09:00:00+00:00"),
        _history("017H4", "500S2", "", "7.5", "2024-07-01T10:00:00+00:00", field="CSAT_Score__c"),
    ],
}
EXTRA = {"salesforce.case": {"csat_score_c": "double"}, "salesforce.account": {"segment_c": "text"}}
ALL = ("all", "all", "all")


@pytest.fixture
def built(warehouse_url: str) -> str:
    seed_raw(warehouse_url, ORG, extra_columns=EXTRA)
    build(parse_target(warehouse_url), settings=SETTINGS)
    return warehouse_url


def _tickets(url: str, columns: str) -> dict[str, tuple[Any, ...]]:
    return {r[0]: r[1:] for r in query(url, f"select ticket_key, {columns} from marts.fct_tickets")}


def test_self_service_needs_no_sign_of_agent_work(built: str) -> None:
    rows = _tickets(built, "is_self_service, reply_count")
    # No case has a published comment: reply_count 0 everywhere, yet only S1 and S5 are self-service.
    assert {k: v[0] for k, v in rows.items()} == {
        "salesforce:500S1": True,
        "salesforce:500S2": False,  # First Response milestone
        "salesforce:500S3": False,  # agent-owned phone case
        "salesforce:500S4": False,  # accepted AgentWork
        "salesforce:500S5": True,
        "salesforce:500S6": False,  # First Response milestone
    }
    assert {v[1] for v in rows.values()} == {0}
    activity = _tickets(built, "has_agent_activity")
    assert sorted(k for k, v in activity.items() if not v[0]) == ["salesforce:500S1", "salesforce:500S5"]
    # June (by first solve): S1 and S5 of six resolutions.
    assert kpis(built)[(JUNE, "self_service_rate", *ALL)][:2] == (2, 6)


def test_first_solve_is_the_first_change_into_a_closed_status(built: str) -> None:
    rows = _tickets(built, "first_solved_at, resolved_at, final_resolved_at, reopen_count, is_fcr")
    assert rows["salesforce:500S5"] == (
        dt.datetime(2024, 6, 4, 9),
        dt.datetime(2024, 6, 4, 9),
        dt.datetime(2024, 7, 2, 9),
        1,
        False,
    )
    got = kpis(built)
    # FCR and KB utilisation count S5 in June, where it was first solved: FCR S1, S2, S3, S4, S6 of six.
    assert got[(JUNE, "fcr_rate", *ALL)][:2] == (5, 6)
    assert got[(JUNE, "kb_utilization_rate", *ALL)][:2] == (0, 6)
    assert not [k for k in got if k[0] == JULY and k[1] in {"fcr_rate", "self_service_rate", "kb_utilization_rate"}]
    # Resolution time counts the final close: S5 in July.
    assert got[(JULY, "median_resolution_hours", *ALL)][:2] == (pytest.approx(29 * 24), 1)


def test_business_minutes_from_business_hours(built: str) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            built,
            "select ticket_key, first_reply_minutes_calendar, first_reply_minutes_business, "
            "first_resolution_minutes_business, full_resolution_minutes_business from core.tickets",
        )
    }
    # S6 (BH1, New York 08:00–18:00): Friday 16:00–18:00 local (120) + Monday 08:00–09:00 (60) = 180 to
    # the first response; + Monday 08:00–11:00 (180) = 300 to the close.
    assert rows["salesforce:500S6"] == (pytest.approx(3900), pytest.approx(180), pytest.approx(300), pytest.approx(300))
    # S5 (BH2, Paris 09:00–17:00 = 07:00–15:00 UTC): Monday 09:00–15:00 UTC (360) + Tuesday 07:00–09:00
    # (120) = 480 to the first solve. To the final close on Tuesday 2024-07-02 09:00: the 20 weekdays
    # from June 4 to July 1 (480 each) + Monday June 3's 360 + Tuesday July 2's 120 = 10,080.
    assert rows["salesforce:500S5"][2:] == (pytest.approx(480), pytest.approx(10_080))
    # S1: 05:00–06:00 in New York, before opening: 0 business minutes, not NULL.
    assert rows["salesforce:500S1"][3] == 0
    # An unreplied case has no first reply, calendar or business.
    assert rows["salesforce:500S1"][:2] == (None, None)
    got = kpis(built)
    # Median business resolution hours, June (final close): S1, S2, S3, S4 0 and S6 5 h → 0.
    assert got[(JUNE, "median_resolution_business_hours", *ALL)][:2] == (0, 1)
    assert got[(JULY, "median_resolution_business_hours", *ALL)][:2] == (pytest.approx(168), 1)


def test_csat_from_the_configured_case_field(built: str) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            built,
            "select ticket_key, score, responded_date, is_latest_for_ticket from marts.fct_survey_responses "
            "where source_system = 'salesforce'",
        )
    }
    assert rows == {
        "salesforce:500S1": (5.0, dt.date(2024, 6, 3), True),
        "salesforce:500S2": (4.0, dt.date(2024, 7, 1), True),
        "salesforce:500S4": (1.0, dt.date(2024, 6, 3), True),
    }
    got = kpis(built)
    assert got[(JUNE, "csat_avg_5pt", *ALL)][:2] == (6, 2)
    assert got[(JUNE, "csat_pct_positive", *ALL)][:2] == (1, 2)
    assert got[(JULY, "csat_avg_5pt", *ALL)][:2] == (4, 1)
    # A Case field records answers, not invitations: no response rate from Salesforce.
    assert not [k for k in got if k[1] == "csat_response_rate"]


def test_segments_from_an_account_field(built: str) -> None:
    rows = dict(query(built, "select account_key, segment from marts.dim_account"))
    assert rows == {
        f"salesforce:{A}": "Enterprise",  # Segment__c, though A has no ARR
        f"salesforce:{B}": "Commercial",  # 'SMB'
        f"salesforce:{C}": "Mid-Market",  # no Segment__c: $600K ARR, the default bands
    }
    assert _tickets(built, "segment")["salesforce:500S1"] == ("Enterprise",)


def test_default_segment_bands_are_the_seeds() -> None:
    # Enterprise $5M+, Mid-Market $500K–$5M, Commercial below (seeds/support-operations-org.md).
    segments = parse_settings({}).segments
    assert (segments.enterprise_min_arr, segments.mid_market_min_arr, segments.account_field) == (
        5_000_000,
        500_000,
        None,
    )
