"""What the Salesforce simulator's org holds for the KPIs: reopened cases, escalations through the
tier queues, CSAT scores, and accounts whose ARR (won Opportunities) puts them in all three
segments, consistent with their ``Segment__c``."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import pytest

from simulators import clock
from simulators.salesforce import SalesforceSimulator

ENTERPRISE_MIN_ARR, MID_MARKET_MIN_ARR = 5_000_000, 500_000  # the seeds' bands (transforms/settings.py)


@pytest.fixture(scope="module")
def org() -> SalesforceSimulator:
    return SalesforceSimulator(seed=12, n_cases=1500)


def _t(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")


def _history(org: SalesforceSimulator, field: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(org.records("CaseHistory"), key=lambda r: (r["CreatedDate"], r["Id"])):
        if row["Field"] == field:
            out[row["CaseId"]].append(row)
    return out


def test_reopened_cases_were_first_closed_before_their_closed_date(org: SalesforceSimulator) -> None:
    cases = {c["Id"]: c for c in org.records("Case")}
    statuses = _history(org, "Status")
    reopened = {cid for cid, rows in statuses.items() if any(r["OldValue"] == "Closed" for r in rows)}
    assert len(reopened) >= 0.03 * len(cases), f"only {len(reopened)} reopened cases of {len(cases)}"
    closed_again = 0
    for cid in reopened:
        rows = statuses[cid]
        closes = [_t(r["CreatedDate"]) for r in rows if r["NewValue"] == "Closed"]
        reopen = next(r for r in rows if r["OldValue"] == "Closed")
        assert reopen["NewValue"] in ("New", "Working", "Waiting on Customer", "Escalated")
        assert closes[0] < _t(reopen["CreatedDate"])
        case = cases[cid]
        if case["IsClosed"]:
            closed_again += 1
            assert len(closes) >= 2
            assert _t(case["ClosedDate"]) == closes[-1] > closes[0], "ClosedDate is the final close"
            assert not case["First_Contact_Resolution__c"]
        else:
            assert case["ClosedDate"] is None
    assert closed_again >= len(reopened) // 2
    # a case closed once has its ClosedDate at that close
    once = [cid for cid, rows in statuses.items() if cid not in reopened and cases[cid]["IsClosed"]]
    assert once
    assert all(
        _t(cases[cid]["ClosedDate"]) == max(_t(r["CreatedDate"]) for r in statuses[cid] if r["NewValue"] == "Closed")
        for cid in once
    )


def test_escalations_move_cases_into_the_tier_2_and_tier_3_queues(org: SalesforceSimulator) -> None:
    queues = {g["Id"]: g["Name"] for g in org.records("Group") if g["Type"] == "Queue"}
    assert set(queues.values()) == {"Tier 1 Support", "Tier 2 Support", "Tier 3 Support"}
    tier_of_user = {u["Id"]: u["Tier__c"] for u in org.records("User")}
    cases = {c["Id"]: c for c in org.records("Case")}
    moves: Counter[str] = Counter()
    for cid, rows in _history(org, "Owner").items():
        for k, row in enumerate(rows):
            queue = queues.get(row["NewValue"])
            if queue not in ("Tier 2 Support", "Tier 3 Support"):
                continue
            moves[queue] += 1
            tier = queue.removesuffix(" Support")
            before = queues.get(row["OldValue"], tier_of_user.get(row["OldValue"]) or "")
            assert before.removesuffix(" Support") < tier, "moved up a tier"
            assert cases[cid]["IsEscalated"]
            after = rows[k + 1]["NewValue"] if k + 1 < len(rows) else None
            if after is not None and after not in queues:
                assert tier_of_user[after] == tier, "picked up by an agent of the queue's tier"
    assert moves["Tier 2 Support"] >= 20, moves
    assert moves["Tier 3 Support"] >= 5, moves
    escalated = [c for c in cases.values() if c["IsEscalated"]]
    assert escalated
    assert all(c["Tier__c"] in ("Tier 2", "Tier 3") for c in escalated)
    assert len(org.records("Support_Escalation__c")) == len(escalated)


def test_csat_scores_on_a_share_of_closed_cases(org: SalesforceSimulator) -> None:
    cases = org.records("Case")
    scored = [c for c in cases if c["CSAT_Score__c"] is not None]
    closed = [c for c in cases if c["IsClosed"]]
    assert all(c["IsClosed"] for c in scored)
    assert {c["CSAT_Score__c"] for c in scored} == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 0.15 <= len(scored) / len(closed) <= 0.5


def _segment(arr: float) -> str:
    return "Enterprise" if arr >= ENTERPRISE_MIN_ARR else "Mid-Market" if arr >= MID_MARKET_MIN_ARR else "Commercial"


def test_arr_puts_accounts_in_all_three_segments_as_their_segment_field_says(org: SalesforceSimulator) -> None:
    """ARR as marts/fct_account_monthly computes it: each won Opportunity's Amount for the 12 months
    from its close date, summed per account at every month's end of the window."""
    accounts = {a["Id"]: a["Segment__c"] for a in org.records("Account")}
    won = [o for o in org.records("Opportunity") if o["IsWon"] and not o["IsDeleted"]]
    by_month: Counter[str] = Counter()
    for month in clock.months():
        end = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        start = dt.date(end.year - 1, end.month, 1)
        arr: Counter[str] = Counter()
        for o in won:
            if start <= dt.date.fromisoformat(o["CloseDate"]) < end:
                arr[o["AccountId"]] += o["Amount"]
        for account, value in arr.items():
            assert _segment(value) == accounts[account], (month, account, value, accounts[account])
        if month == clock.months()[-1]:
            by_month.update(_segment(v) for v in arr.values())
    assert set(by_month) == {"Enterprise", "Mid-Market", "Commercial"}, by_month
    assert by_month["Commercial"] > by_month["Mid-Market"] > by_month["Enterprise"] > 10
