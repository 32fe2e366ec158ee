"""Salesforce objects: the SOQL sent, nextRecordsUrl paging, Bulk API 2.0 jobs and their fallback
to REST, QUERY_TIMEOUT, 414, the quota guard, REQUEST_LIMIT_EXCEEDED, skipped objects, purged
records, and a dlt pipeline into DuckDB with an incremental second run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dlt
import duckdb
import pyarrow as pa
import pytest
import requests
import responses
from responses import matchers

from common.errors import QuotaExhausted
from connectors.http import RetryPolicy
from connectors.salesforce.auth import SalesforceClientCredentials
from connectors.salesforce.context import SalesforceContext, make_context
from connectors.salesforce.objects import BY_NAME, SObject, resolve, table_name
from connectors.salesforce.query import QueryTimeout
from connectors.salesforce.source import STATE_KEY, salesforce_source, sync_deleted, sync_object
from connectors.stats import StatsRegistry

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
INSTANCE = "https://acme.my.salesforce.com"
API = f"{INSTANCE}/services/data/v62.0"
QUERY_ALL = f"{API}/queryAll"

CASE_FIELDS = {
    "Id": "id",
    "IsDeleted": "boolean",
    "CaseNumber": "string",
    "Status": "picklist",
    "SystemModstamp": "datetime",
    "ClosedDate": "datetime",
    "Amount__c": "currency",
    "Seats__c": "int",
    "Renewal__c": "date",
    "Tier__c": "picklist",
    "BillingAddress__c": "address",
}
SELECT_CASE = "Id, SystemModstamp, IsDeleted, CaseNumber, Status, ClosedDate, Amount__c, Seats__c, Renewal__c, Tier__c"


def describe(name: str, fields: dict[str, str], replicateable: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "replicateable": replicateable,
        "queryable": True,
        "fields": [{"name": n, "type": t} for n, t in fields.items()],
    }


def case(i: int, stamp: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attributes": {"type": "Case", "url": f"/services/data/v62.0/sobjects/Case/500{i:015d}"},
        "Id": f"500{i:015d}",
        "IsDeleted": False,
        "CaseNumber": f"{i:08d}",
        "Status": "New",
        "SystemModstamp": stamp,
        "ClosedDate": None,
        "Amount__c": 12.5,
        "Seats__c": 3,
        "Renewal__c": "2024-06-30",
        "Tier__c": "Gold",
    }
    row.update(kw)
    return row


def context(**kw: Any) -> SalesforceContext:
    settings: dict[str, Any] = {
        "policy": RetryPolicy(max_attempts=2, backoff_initial=0, jitter=0),
        "stats": StatsRegistry(),
        "sleep": lambda _s: None,
        "bulk_poll_seconds": 0,
        "objects": ["Case"],
    }
    settings.update(kw)
    return make_context(SalesforceClientCredentials(client_id="cid", client_secret="csecret"), LOGIN, **settings)


def login(rsps: responses.RequestsMock, *objects: tuple[str, dict[str, str]]) -> None:
    """Token, describe global, and describe of each object, in that order."""
    rsps.post(TOKEN_URL, json={"access_token": "tok", "instance_url": INSTANCE, "token_type": "Bearer"})
    rsps.get(f"{API}/sobjects", json={"sobjects": [{"name": n, "queryable": True} for n, _ in objects]})
    for name, fields in objects:
        rsps.get(f"{API}/sobjects/{name}/describe", json=describe(name, fields))


def q(soql: str) -> Any:
    return matchers.query_param_matcher({"q": soql})


def rows_of(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        table = getattr(item, "arrow", None)
        table = getattr(item, "data", item) if table is None else table
        assert isinstance(table, pa.Table)
        out.extend(table.to_pylist())
    return out


def collect(ctx: SalesforceContext, obj: SObject, state: dict[str, Any]) -> list[dict[str, Any]]:
    return rows_of(list(sync_object(obj, ctx, state)))


STATE = {STATE_KEY: {"cursor": "2024-03-01T10:00:00.000000Z", "cursor_field": "SystemModstamp"}}
SINCE = "2024-03-01T09:50:00Z"  # the stored cursor minus the 10-minute lookback


# --------------------------------------------------------------------------------------------
# REST: the SOQL sent and nextRecordsUrl paging
# --------------------------------------------------------------------------------------------


def test_rest_soql_and_next_records_url_to_the_end(rsps: responses.RequestsMock) -> None:
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(
        QUERY_ALL,
        json={"totalSize": 3, "done": True, "records": []},
        match=[q(f"SELECT COUNT() FROM Case WHERE SystemModstamp >= {SINCE}")],
    )
    rsps.get(
        QUERY_ALL,
        json={
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": "/services/data/v62.0/query/01gD0000002HU6KIAW-2",
            "records": [case(1, "2024-03-01T09:55:00.000+0000"), case(2, "2024-03-01T10:00:00.000+0000")],
        },
        match=[q(f"SELECT {SELECT_CASE} FROM Case WHERE SystemModstamp >= {SINCE} ORDER BY SystemModstamp, Id")],
    )
    rsps.get(
        f"{API}/query/01gD0000002HU6KIAW-2",
        json={"totalSize": 3, "done": True, "records": [case(3, "2024-03-01T11:30:00.000+0000", IsDeleted=True)]},
    )
    state = json.loads(json.dumps(STATE))
    ctx = context()

    rows = collect(ctx, BY_NAME["Case"], state)

    assert [r["id"] for r in rows] == ["500000000000000001", "500000000000000002", "500000000000000003"]
    assert rows[2]["is_deleted"] is True
    assert (rows[0]["amount_c"], rows[0]["seats_c"]) == (12.5, 3)
    assert rows[0]["renewal_c"] == dt.date(2024, 6, 30)
    assert rows[0]["system_modstamp"] == dt.datetime(2024, 3, 1, 9, 55, tzinfo=dt.UTC)
    assert "billing_address_c" not in rows[0]  # compound: its components are fields of their own
    assert [r["_sl_seq"] for r in rows] == [0, 1, 2]
    assert state[STATE_KEY]["cursor"] == "2024-03-01T11:30:00.000000Z"
    assert all(c.request.url.startswith((INSTANCE, LOGIN)) for c in rsps.calls)
    assert ctx.stats.get("salesforce", "case").records == 3


def test_first_run_reads_all_history_and_history_objects_use_created_date(rsps: responses.RequestsMock) -> None:
    fields = {"Id": "id", "CaseId": "reference", "Field": "string", "OldValue": "anyType", "CreatedDate": "datetime"}
    login(rsps, ("CaseHistory", fields))
    rsps.get(
        QUERY_ALL, json={"totalSize": 1, "done": True, "records": []}, match=[q("SELECT COUNT() FROM CaseHistory")]
    )
    rsps.get(
        QUERY_ALL,
        json={
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "Id": "017000000000000001",
                    "CaseId": "500000000000000001",
                    "Field": "Status",
                    "OldValue": True,
                    "CreatedDate": "2024-01-02T03:04:05.000+0000",
                }
            ],
        },
        match=[q("SELECT Id, CreatedDate, CaseId, Field, OldValue FROM CaseHistory ORDER BY CreatedDate, Id")],
    )
    state: dict[str, Any] = {}

    rows = collect(context(objects=["CaseHistory"]), BY_NAME["CaseHistory"], state)

    assert rows[0]["old_value"] == "true"  # anyType is text
    assert state[STATE_KEY] == {"cursor_field": "CreatedDate", "cursor": "2024-01-02T03:04:05.000000Z"}


def test_missing_object_is_skipped_not_failed(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json={"access_token": "tok", "instance_url": INSTANCE})
    rsps.get(f"{API}/sobjects", json={"sobjects": [{"name": "Case", "queryable": True}]})
    ctx = context(objects=["AgentWork"])

    assert collect(ctx, BY_NAME["AgentWork"], {}) == []
    assert "AgentWork does not exist" in ctx.stats.get("salesforce", "agent_work").skipped


def test_object_the_user_may_not_describe_is_skipped(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json={"access_token": "tok", "instance_url": INSTANCE})
    rsps.get(f"{API}/sobjects", json={"sobjects": [{"name": "Tier__c", "queryable": True}]})
    rsps.get(
        f"{API}/sobjects/Tier__c/describe",
        status=404,
        json=[{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
    )
    ctx = context(objects=["Tier__c"])
    obj = resolve(["Tier__c"])[0]

    assert collect(ctx, obj, {}) == []
    assert "NOT_FOUND" in ctx.stats.get("salesforce", "tier_c").skipped


# --------------------------------------------------------------------------------------------
# Bulk API 2.0
# --------------------------------------------------------------------------------------------

JOBS = f"{API}/jobs/query"
BULK_QUERY = f"SELECT {SELECT_CASE} FROM Case WHERE SystemModstamp >= {SINCE}"


def csv_body(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    names = SELECT_CASE.split(", ")
    writer.writerow(names)
    for r in rows:
        writer.writerow(
            [
                "" if r.get(n) is None else str(r.get(n)).lower() if isinstance(r.get(n), bool) else r.get(n)
                for n in names
            ]
        )
    return out.getvalue()


def test_bulk_csv_pages_by_locator_and_types_values(rsps: responses.RequestsMock) -> None:
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(QUERY_ALL, json={"totalSize": 25000, "done": True, "records": []})
    rsps.post(
        JOBS,
        json={"id": "750R0000000zxr8IAA", "state": "UploadComplete"},
        match=[
            matchers.json_params_matcher(
                {
                    "operation": "queryAll",
                    "query": BULK_QUERY,
                    "contentType": "CSV",
                    "columnDelimiter": "COMMA",
                    "lineEnding": "LF",
                }
            )
        ],
    )
    rsps.get(f"{JOBS}/750R0000000zxr8IAA", json={"id": "750R0000000zxr8IAA", "state": "InProgress"})
    rsps.get(f"{JOBS}/750R0000000zxr8IAA", json={"id": "750R0000000zxr8IAA", "state": "JobComplete"})
    rsps.get(
        f"{JOBS}/750R0000000zxr8IAA/results",
        body=csv_body(
            [
                case(
                    1,
                    "2024-03-02T08:00:00.000Z",
                    ClosedDate="2024-03-02T09:00:00.000Z",
                    Status='Waiting, "on" customer',
                ),
                case(2, "2024-03-05T08:00:00.000Z", IsDeleted=True),
            ]
        ),
        content_type="text/csv",
        headers={"Sforce-Locator": "MTAwMDA", "Sforce-NumberOfRecords": "2"},
        match=[matchers.query_param_matcher({"maxRecords": "2"}), matchers.header_matcher({"Accept": "text/csv"})],
    )
    rsps.get(
        f"{JOBS}/750R0000000zxr8IAA/results",
        body=csv_body(
            [case(3, "2024-03-03T08:00:00.000Z", Amount__c=None, Seats__c=None, Renewal__c=None, Tier__c="")]
        ),
        content_type="text/csv",
        headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"},
        match=[matchers.query_param_matcher({"maxRecords": "2", "locator": "MTAwMDA"})],
    )
    state = json.loads(json.dumps(STATE))
    items = sync_object(BY_NAME["Case"], context(bulk_max_records=2), state)

    first = rows_of([next(items)])
    assert state[STATE_KEY]["cursor"] == STATE[STATE_KEY]["cursor"]  # Bulk rows are unordered: not yet
    rows = first + rows_of(list(items))

    assert [r["id"][-1] for r in rows] == ["1", "2", "3"]
    one, two, three = rows
    assert one["status"] == 'Waiting, "on" customer'
    assert one["closed_date"] == dt.datetime(2024, 3, 2, 9, tzinfo=dt.UTC)
    assert (one["is_deleted"], two["is_deleted"]) == (False, True)
    assert (one["amount_c"], one["seats_c"], one["renewal_c"]) == (12.5, 3, dt.date(2024, 6, 30))
    assert (three["amount_c"], three["seats_c"], three["renewal_c"], three["tier_c"]) == (None, None, None, None)
    assert [r["_sl_seq"] for r in rows] == [0, 1, 2]
    assert state[STATE_KEY]["cursor"] == "2024-03-05T08:00:00.000000Z"


def test_a_bulk_row_that_does_not_fit_is_held_in_quarantine_not_only_counted(rsps: responses.RequestsMock) -> None:
    """A Bulk CSV row whose value does not fit its describe type is rejected like a REST record:
    kept with its Id, the field named and the row as sent, for the quarantine (where later runs
    read it again by Id); the set's other rows load."""
    from connectors.rejects import REJECTS

    REJECTS.reset()
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(QUERY_ALL, json={"totalSize": 25000, "done": True, "records": []})
    rsps.post(JOBS, json={"id": "750R0000000zxr8IAA", "state": "UploadComplete"})
    rsps.get(f"{JOBS}/750R0000000zxr8IAA", json={"id": "750R0000000zxr8IAA", "state": "JobComplete"})
    rsps.get(
        f"{JOBS}/750R0000000zxr8IAA/results",
        body=csv_body(
            [
                case(1, "2024-03-02T08:00:00.000Z"),
                case(2, "2024-03-05T08:00:00.000Z", Renewal__c="soon"),
                {**case(3, "2024-03-03T08:00:00.000Z"), "Id": None},
            ]
        ),
        content_type="text/csv",
        headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "3"},
    )
    ctx = context()
    state = json.loads(json.dumps(STATE))

    rows = collect(ctx, BY_NAME["Case"], state)

    assert [r["id"] for r in rows] == ["500000000000000001"]
    bad, no_id = sorted(REJECTS.take("salesforce"), key=lambda r: r.record_id is None)
    assert (bad.table, bad.record_id) == ("case", "500000000000000002")
    assert bad.problems.startswith("Renewal__c: value 'soon' does not fit date")
    assert (bad.payload["Id"], bad.payload["Renewal__c"]) == ("500000000000000002", "soon")
    assert (no_id.table, no_id.record_id, no_id.problems) == ("case", None, "Id: the row has no value")
    assert no_id.payload["CaseNumber"] == "00000003"
    assert ctx.stats.get("salesforce", "case").rejected == 2
    assert state[STATE_KEY]["cursor"] == "2024-03-02T08:00:00.000000Z"  # the newest row loaded
    REJECTS.reset()


def test_failed_bulk_job_falls_back_to_rest(rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(QUERY_ALL, json={"totalSize": 25000, "done": True, "records": []})
    rsps.post(JOBS, json={"id": "750A", "state": "UploadComplete"})
    rsps.get(f"{JOBS}/750A", json={"id": "750A", "state": "Failed", "errorMessage": "InternalServerError"})
    rsps.get(
        QUERY_ALL,
        json={"totalSize": 1, "done": True, "records": [case(1, "2024-03-02T08:00:00.000+0000")]},
        match=[q(f"SELECT {SELECT_CASE} FROM Case WHERE SystemModstamp >= {SINCE} ORDER BY SystemModstamp, Id")],
    )
    state = json.loads(json.dumps(STATE))

    with caplog.at_level(logging.WARNING, logger="supportlake"):
        rows = collect(context(), BY_NAME["Case"], state)

    assert [r["id"] for r in rows] == ["500000000000000001"]
    assert "ended Failed: InternalServerError" in caplog.text
    assert "reading through REST" in caplog.text
    assert state[STATE_KEY]["cursor"] == "2024-03-02T08:00:00.000000Z"


def test_object_bulk_cannot_serve_falls_back_to_rest(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(QUERY_ALL, json={"totalSize": 25000, "done": True, "records": []})
    rsps.post(
        JOBS,
        status=400,
        json=[{"errorCode": "INVALIDENTITY", "message": "Entity 'Case' is not supported by the Bulk API."}],
    )
    rsps.get(QUERY_ALL, json={"totalSize": 1, "done": True, "records": [case(1, "2024-03-02T08:00:00.000+0000")]})

    with caplog.at_level(logging.WARNING, logger="supportlake"):
        rows = collect(context(), BY_NAME["Case"], json.loads(json.dumps(STATE)))

    assert len(rows) == 1
    assert "is not supported by the Bulk API" in caplog.text


# --------------------------------------------------------------------------------------------
# QUERY_TIMEOUT
# --------------------------------------------------------------------------------------------

TIMEOUT = [{"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for too long."}]


def test_query_timeout_is_retried_through_bulk(rsps: responses.RequestsMock) -> None:
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(QUERY_ALL, json={"totalSize": 12, "done": True, "records": []})
    rsps.get(QUERY_ALL, status=400, json=TIMEOUT)
    rsps.post(
        JOBS,
        json={"id": "750B", "state": "UploadComplete"},
        match=[matchers.json_params_matcher({"operation": "queryAll", "query": BULK_QUERY}, strict_match=False)],
    )
    rsps.get(f"{JOBS}/750B", json={"id": "750B", "state": "JobComplete"})
    rsps.get(
        f"{JOBS}/750B/results",
        body=csv_body([case(1, "2024-03-02T08:00:00.000Z")]),
        headers={"Sforce-Locator": "null"},
    )
    state = json.loads(json.dumps(STATE))

    rows = collect(context(), BY_NAME["Case"], state)

    assert len(rows) == 1
    assert state[STATE_KEY]["cursor"] == "2024-03-02T08:00:00.000000Z"


KAV_FIELDS = {"Id": "id", "Title": "string", "SystemModstamp": "datetime"}


def test_query_timeout_without_bulk_narrows_the_window(rsps: responses.RequestsMock) -> None:
    login(rsps, ("Knowledge__kav", KAV_FIELDS))
    rsps.get(QUERY_ALL, status=400, json=TIMEOUT)
    seen: list[str] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append(parse_qs(urlsplit(str(request.url)).query)["q"][0])
        n = len(seen)
        record = {"Id": f"ka0{n:015d}", "Title": f"T{n}", "SystemModstamp": f"2024-03-0{n}T00:00:00.000+0000"}
        return 200, {}, json.dumps({"totalSize": 1, "done": True, "records": [record]})

    rsps.add_callback(responses.GET, QUERY_ALL, callback=answer)
    rsps.add_callback(responses.GET, QUERY_ALL, callback=answer)
    state = {STATE_KEY: {"cursor": "2024-03-01T00:10:00.000000Z", "cursor_field": "SystemModstamp"}}
    ctx = context(objects=["Knowledge__kav"])
    ctx.set_clock(dt.datetime(2024, 3, 5, tzinfo=dt.UTC))

    rows = collect(ctx, BY_NAME["Knowledge__kav"], state)

    assert len(rows) == 2
    middle = "2024-03-03T00:00:00Z"
    assert seen[0].endswith(
        f"WHERE SystemModstamp >= 2024-03-01T00:00:00Z AND SystemModstamp < {middle} ORDER BY SystemModstamp, Id"
    )
    assert seen[1].endswith(f"WHERE SystemModstamp >= {middle} ORDER BY SystemModstamp, Id")
    assert state[STATE_KEY]["cursor"] == "2024-03-02T00:00:00.000000Z"


def test_persistent_query_timeout_fails_with_a_clear_error(rsps: responses.RequestsMock) -> None:
    login(rsps, ("Knowledge__kav", KAV_FIELDS))
    for _ in range(9):
        rsps.get(QUERY_ALL, status=400, json=TIMEOUT)
    ctx = context(objects=["Knowledge__kav"])

    with pytest.raises(QueryTimeout, match="QUERY_TIMEOUT persists on Knowledge__kav"):
        collect(ctx, BY_NAME["Knowledge__kav"], {})


# --------------------------------------------------------------------------------------------
# Quota
# --------------------------------------------------------------------------------------------


def usage(n: int, limit: int = 1000) -> dict[str, str]:
    return {"Sforce-Limit-Info": f"api-usage={n}/{limit}"}


def test_quota_guard_stops_cleanly_with_consistent_state(rsps: responses.RequestsMock) -> None:
    # 990 of 1000 used when the run starts: 10 remain, a share of 0.5 allows 5 requests.
    rsps.post(TOKEN_URL, json={"access_token": "tok", "instance_url": INSTANCE})
    rsps.get(f"{API}/sobjects", json={"sobjects": [{"name": "Case"}, {"name": "Contact"}]}, headers=usage(991))
    rsps.get(f"{API}/sobjects/Case/describe", json=describe("Case", CASE_FIELDS), headers=usage(992))
    rsps.get(QUERY_ALL, json={"totalSize": 9, "done": True, "records": []}, headers=usage(993))
    for page in range(1, 3):  # page 2 links to a page 3 that the guard never asks for
        rsps.get(
            QUERY_ALL if page == 1 else f"{API}/query/LOC-{page}",
            json={
                "totalSize": 9,
                "done": False,
                "nextRecordsUrl": f"/services/data/v62.0/query/LOC-{page + 1}",
                "records": [case(page, f"2024-03-0{page + 1}T00:00:00.000+0000")],
            },
            headers=usage(993 + page),
        )
    ctx = context(quota_share=0.5, objects=["Case", "Contact"])
    state = json.loads(json.dumps(STATE))

    rows = collect(ctx, BY_NAME["Case"], state)
    contact_rows = collect(ctx, BY_NAME["Contact"], {})

    assert [r["id"][-1] for r in rows] == ["1", "2"]  # the page bought with the 5th request is kept
    assert state[STATE_KEY]["cursor"] == "2024-03-03T00:00:00.000000Z"  # matches the last page loaded
    assert contact_rows == []
    assert "quota guard" in ctx.stats.get("salesforce", "case").stopped
    assert "50%" in ctx.stats.get("salesforce", "case").stopped
    assert ctx.stats.get("salesforce", "contact").stopped  # later resources stop at once
    assert len(rsps.calls) == 6  # the token and 5 API requests: the guard never sent a 6th


def test_request_limit_exceeded_fails_the_run(rsps: responses.RequestsMock) -> None:
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(
        QUERY_ALL,
        status=403,
        json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}],
    )

    with pytest.raises(QuotaExhausted, match=r"REQUEST_LIMIT_EXCEEDED.*QUOTA_SHARE"):
        collect(context(), BY_NAME["Case"], json.loads(json.dumps(STATE)))


# --------------------------------------------------------------------------------------------
# A fake org for the remaining tests: SOQL subset, paging, Bulk jobs, 414, deleted records
# --------------------------------------------------------------------------------------------


class FakeOrg:
    """Enough of Salesforce's REST and Bulk 2.0 APIs to run the source end to end."""

    def __init__(self, objects: dict[str, dict[str, str]], page_size: int = 2, uri_limit: int = 100_000) -> None:
        self.fields = objects
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in objects}
        self.deleted: dict[str, list[dict[str, str]]] = {name: [] for name in objects}
        self.page_size = page_size
        self.uri_limit = uri_limit
        self.queries: list[str] = []
        self.deleted_calls: list[dict[str, str]] = []
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        self.too_long = 0
        self.now = dt.datetime(2024, 3, 20, 12, 0, tzinfo=dt.UTC)

    def put(self, name: str, **row: Any) -> None:
        self.rows[name].setdefault(row["Id"], {}).update(row)

    def install(self, mock: responses.RequestsMock) -> None:
        routes = [
            (responses.POST, TOKEN_URL, self._token),
            (responses.GET, re.compile(rf"{API}/sobjects$"), self._global),
            (responses.GET, re.compile(rf"{API}/sobjects/\w+/describe$"), self._describe),
            (responses.GET, re.compile(rf"{API}/sobjects/\w+/deleted/.*"), self._deleted),
            (responses.GET, re.compile(rf"{API}/queryAll\?.*"), self._query),
            (responses.GET, re.compile(rf"{API}/query/.*"), self._more),
            (responses.POST, re.compile(rf"{API}/jobs/query$"), self._create_job),
            (responses.GET, re.compile(rf"{API}/jobs/query/\w+$"), self._job),
            (responses.GET, re.compile(rf"{API}/jobs/query/\w+/results.*"), self._results),
        ]
        for method, url, handler in routes:
            mock.add_callback(method, url, callback=self._dated(handler))

    def _dated(self, handler: Any) -> Any:
        """Every answer carries the org's clock in ``Date``, as Salesforce's do."""

        def answer(request: requests.PreparedRequest) -> Any:
            status, headers, body = handler(request)
            return status, {**headers, "Date": format_datetime(self.now, usegmt=True)}, body

        return answer

    # -- endpoints ----------------------------------------------------------------------------

    def _token(self, _r: requests.PreparedRequest) -> Any:
        return 200, {}, json.dumps({"access_token": "tok", "instance_url": INSTANCE})

    def _global(self, _r: requests.PreparedRequest) -> Any:
        return 200, {}, json.dumps({"sobjects": [{"name": n, "queryable": True} for n in self.fields]})

    def _describe(self, r: requests.PreparedRequest) -> Any:
        name = str(r.path_url).split("/")[-2]
        return 200, {}, json.dumps(describe(name, self.fields[name]))

    def _deleted(self, r: requests.PreparedRequest) -> Any:
        name = str(r.path_url).split("/")[-3]
        params = {k: v[0] for k, v in parse_qs(urlsplit(str(r.url)).query).items()}
        self.deleted_calls.append({"object": name, **params})
        start, end = (dt.datetime.fromisoformat(params[k]) for k in ("start", "end"))
        hits = [d for d in self.deleted[name] if start <= dt.datetime.fromisoformat(d["deletedDate"]) < end]
        body = {
            "deletedRecords": hits,
            "earliestDateAvailable": "2024-01-01T00:00:00.000+0000",
            "latestDateCovered": end.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        }
        return 200, {}, json.dumps(body)

    def _query(self, r: requests.PreparedRequest) -> Any:
        if len(str(r.url)) > self.uri_limit:
            self.too_long += 1
            return 414, {}, "URI Too Long"
        soql = parse_qs(urlsplit(str(r.url)).query)["q"][0]
        self.queries.append(soql)
        fields, name, rows = self._run(soql)
        if fields == ["COUNT()"]:
            return 200, {}, json.dumps({"totalSize": len(rows), "done": True, "records": []})
        records = [{"attributes": {"type": name}, **{f: row.get(f) for f in fields}} for row in rows]
        key = f"01g{len(self.cursors)}"
        self.cursors[key] = records
        return 200, {}, json.dumps(self._page(key, 0))

    def _more(self, r: requests.PreparedRequest) -> Any:
        key, offset = str(r.path_url).rsplit("/", 1)[-1].split("-")
        return 200, {}, json.dumps(self._page(key, int(offset)))

    def _page(self, key: str, offset: int) -> dict[str, Any]:
        records = self.cursors[key]
        page = records[offset : offset + self.page_size]
        body: dict[str, Any] = {
            "totalSize": len(records),
            "done": offset + self.page_size >= len(records),
            "records": page,
        }
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/v62.0/query/{key}-{offset + self.page_size}"
        return body

    def _create_job(self, r: requests.PreparedRequest) -> Any:
        spec = json.loads(r.body or b"{}")
        assert spec["operation"] == "queryAll"
        assert "ORDER BY" not in spec["query"]
        self.queries.append(spec["query"])
        fields, _name, rows = self._run(spec["query"])
        job_id = f"750{len(self.jobs):015d}"
        self.jobs[job_id] = [{f: row.get(f) for f in fields} for row in rows]
        return 200, {}, json.dumps({"id": job_id, "state": "UploadComplete", "operation": "queryAll"})

    def _job(self, r: requests.PreparedRequest) -> Any:
        return 200, {}, json.dumps({"id": str(r.path_url).rsplit("/", 1)[-1], "state": "JobComplete"})

    def _results(self, r: requests.PreparedRequest) -> Any:
        job_id = urlsplit(str(r.url)).path.split("/")[-2]
        params = {k: v[0] for k, v in parse_qs(urlsplit(str(r.url)).query).items()}
        rows = self.jobs[job_id]
        size = int(params.get("maxRecords", 1_000_000))
        start = int(params.get("locator", "0"))
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        names = list(rows[0]) if rows else ["Id"]
        writer.writerow(names)
        for row in rows[start : start + size]:
            writer.writerow(["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row.values()])
        nxt = str(start + size) if start + size < len(rows) else "null"
        return 200, {"Sforce-Locator": nxt, "Content-Type": "text/csv"}, out.getvalue()

    # -- SOQL ---------------------------------------------------------------------------------

    def _run(self, soql: str) -> tuple[list[str], str, list[dict[str, Any]]]:
        match = re.fullmatch(r"SELECT (.+?) FROM (\w+)(?: WHERE (.+?))?(?: ORDER BY (.+))?", soql)
        assert match, soql
        fields = [f.strip() for f in match.group(1).split(",")]
        name = match.group(2)
        rows = list(self.rows[name].values())
        for clause in (match.group(3) or "").split(" AND ") if match.group(3) else []:
            ids = re.fullmatch(r"Id IN \((.*)\)", clause)
            if ids:
                wanted = {i.strip().strip("'") for i in ids.group(1).split(",")}
                rows = [r for r in rows if r["Id"] in wanted]
                continue
            field, op, value = clause.split(" ")
            bound = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            rows = [r for r in rows if _cmp(stamp(r[field]), op, bound)]
        if match.group(4):
            cursor = match.group(4).split(",")[0].strip()
            rows.sort(key=lambda r: (stamp(r[cursor]), r["Id"]))
        return fields, name, rows


def stamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))


def _cmp(a: dt.datetime, op: str, b: dt.datetime) -> bool:
    return a >= b if op == ">=" else a < b


@pytest.fixture
def org_mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --------------------------------------------------------------------------------------------
# 414: a SELECT list too long for a URI is split into field chunks joined on Id
# --------------------------------------------------------------------------------------------


def test_uri_too_long_splits_the_select_list_and_joins_on_id(org_mock: responses.RequestsMock) -> None:
    wide = {"Id": "id", "SystemModstamp": "datetime"} | {f"Custom_Field_Number_{i:03d}__c": "string" for i in range(60)}
    org = FakeOrg({"Wide__c": wide}, page_size=2, uri_limit=1500)
    for i in range(3):
        org.put(
            "Wide__c",
            Id=f"a00{i:015d}",
            SystemModstamp=f"2024-03-0{i + 1}T00:00:00.000+0000",
            **{f"Custom_Field_Number_{j:03d}__c": f"v{i}-{j}" for j in range(60)},
        )
    org.install(org_mock)
    ctx = context(objects=["Wide__c"])
    obj = resolve(["Wide__c"])[0]
    state: dict[str, Any] = {}

    rows = collect(ctx, obj, state)

    assert org.too_long >= 1  # the server said 414 ...
    assert any(" IN (" in s for s in org.queries)  # ... and the other fields were read by Id
    assert len(rows) == 3
    assert all(r[f"custom_field_number_{j:03d}_c"] == f"v{i}-{j}" for i, r in enumerate(rows) for j in range(60))
    assert state[STATE_KEY]["cursor"] == "2024-03-03T00:00:00.000000Z"


# --------------------------------------------------------------------------------------------
# Purged records
# --------------------------------------------------------------------------------------------


def test_purged_records_go_to_deleted_records_and_the_window_moves_on(org_mock: responses.RequestsMock) -> None:
    org = FakeOrg({"Case": CASE_FIELDS, "CaseHistory": {"Id": "id", "CreatedDate": "datetime"}})
    org.deleted["Case"].append({"id": "500000000000000009", "deletedDate": "2024-03-19T08:30:00+00:00"})
    org.install(org_mock)
    ctx = context(objects=["Case", "CaseHistory"])
    state: dict[str, Any] = {}

    rows = rows_of(list(sync_deleted(ctx, state)))

    assert rows == [
        {
            "object": "Case",
            "id": "500000000000000009",
            "deleted_date": dt.datetime(2024, 3, 19, 8, 30, tzinfo=dt.UTC),
            "_sl_seq": 0,
            "_sl_deleted": False,
            "_sl_deleted_at": None,
        }
    ]
    # First run: as far back as Salesforce lists deletions (15 days); CaseHistory too, on its own.
    assert org.deleted_calls == [
        {"object": "Case", "start": "2024-03-05T12:00:00+00:00", "end": "2024-03-20T12:00:00+00:00"},
        {"object": "CaseHistory", "start": "2024-03-05T12:00:00+00:00", "end": "2024-03-20T12:00:00+00:00"},
    ]
    assert state[STATE_KEY]["deleted"]["Case"] == "2024-03-20T12:00:00.000000Z"  # latestDateCovered

    org.now += dt.timedelta(hours=1)  # the next run
    assert rows_of(list(sync_deleted(context(objects=["Case", "CaseHistory"]), state))) == []
    assert org.deleted_calls[2] == {
        "object": "Case",
        "start": "2024-03-20T12:00:00+00:00",
        "end": "2024-03-20T13:00:00+00:00",
    }


def test_a_deleted_window_older_than_30_days_is_clamped(org_mock: responses.RequestsMock) -> None:
    org = FakeOrg({"Case": CASE_FIELDS})
    org.install(org_mock)
    ctx = context()
    state = {STATE_KEY: {"deleted": {"Case": "2024-01-01T00:00:00.000000Z"}}}

    list(sync_deleted(ctx, state))

    assert org.deleted_calls[0]["start"] == "2024-02-19T12:05:00+00:00"


# --------------------------------------------------------------------------------------------
# A dlt pipeline into DuckDB: full sync through Bulk, then an incremental run through REST
# --------------------------------------------------------------------------------------------


def test_pipeline_full_then_incremental_into_duckdb(
    org_mock: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "CREDENTIALS__CLIENT_ID": "cid",
        "CREDENTIALS__CLIENT_SECRET": "csecret",
        "BASE_URL": LOGIN,
        "BULK_THRESHOLD": "4",
        "BULK_POLL_SECONDS": "0",
        "OBJECTS": "Case,AgentWork",
        "EXTRA_OBJECTS": '["Tier__c"]',
    }.items():
        monkeypatch.setenv(f"SOURCES__SALESFORCE__{name}", value)
    tier = {"Id": "id", "Name": "string", "SystemModstamp": "datetime", "Discount__c": "percent"}
    org = FakeOrg({"Case": CASE_FIELDS, "Tier__c": tier})  # no AgentWork: skipped, not failed
    for i in range(1, 5):
        org.put("Case", **{k: v for k, v in case(i, f"2024-03-01T0{i}:00:00.000+0000").items() if k != "attributes"})
    org.put(
        "Tier__c", Id="a01000000000000001", Name="Gold", SystemModstamp="2024-03-01T00:00:00.000+0000", Discount__c=12.5
    )
    org.install(org_mock)
    pipeline = dlt.pipeline(
        pipeline_name="sf_unit",
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "x.duckdb")),
        dataset_name="salesforce",
    )

    pipeline.run(salesforce_source())

    assert any(s.startswith("SELECT Id, SystemModstamp") and "ORDER BY" not in s for s in org.queries)  # Bulk
    # Changes: an update, an insert, a soft delete and a purge.
    org.put("Case", Id=case(2, "")["Id"], Status="Closed", SystemModstamp="2024-03-02T00:00:00.000+0000")
    org.put("Case", **{k: v for k, v in case(5, "2024-03-02T01:00:00.000+0000").items() if k != "attributes"})
    org.put("Case", Id=case(3, "")["Id"], IsDeleted=True, SystemModstamp="2024-03-02T02:00:00.000+0000")
    purged = case(4, "")["Id"]
    del org.rows["Case"][purged]
    org.deleted["Case"].append({"id": purged, "deletedDate": (org.now + dt.timedelta(minutes=30)).isoformat()})
    org.now += dt.timedelta(hours=1)
    org.queries.clear()

    pipeline.run(salesforce_source())

    assert (
        f"SELECT {SELECT_CASE} FROM Case WHERE SystemModstamp >= 2024-03-01T03:50:00Z ORDER BY SystemModstamp, Id"
        in org.queries
    )  # REST, from the stored cursor (04:00) minus the lookback
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        cases = con.sql("select id, status, is_deleted, seats_c, renewal_c from salesforce.case order by id").fetchall()
        deleted = con.sql("select object, id from salesforce.deleted_records").fetchall()
        tiers = con.sql("select name, discount_c from salesforce.tier_c").fetchall()
        columns = {
            r[0]: r[1]
            for r in con.sql(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'salesforce' and table_name = 'case'"
            ).fetchall()
        }
    ids = [c[0] for c in cases]
    assert len(ids) == len(set(ids)) == 5  # merged on id: no duplicates from the lookback
    by_id = {c[0]: c for c in cases}
    assert by_id[case(2, "")["Id"]][1] == "Closed"
    assert by_id[case(3, "")["Id"]][2] is True
    assert by_id[case(5, "")["Id"]][3:] == (3, dt.date(2024, 6, 30))
    assert (("Case", purged)) in deleted
    assert tiers == [("Gold", 12.5)]
    assert columns["system_modstamp"].startswith("TIMESTAMP")
    assert (columns["renewal_c"], columns["seats_c"], columns["is_deleted"]) == ("DATE", "BIGINT", "BOOLEAN")
    assert table_name("AgentWork") not in pipeline.default_schema.data_table_names()


# --------------------------------------------------------------------------------------------
# Records held in quarantine: read again by Id, and a bad value rejects its record only
# --------------------------------------------------------------------------------------------


def test_held_cases_are_read_again_by_id(rsps: responses.RequestsMock) -> None:
    from connectors.rejects import REJECTS

    REJECTS.reset()
    REJECTS.hold("salesforce", {"case": ["500000000000000002", "500000000000000003", "bad id'); DELETE"]})
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(
        QUERY_ALL,
        json={"totalSize": 1, "done": True, "records": []},
        match=[q(f"SELECT COUNT() FROM Case WHERE SystemModstamp >= {SINCE}")],
    )
    rsps.get(
        QUERY_ALL,
        json={"totalSize": 1, "done": True, "records": [case(1, "2024-03-01T10:05:00.000+0000")]},
        match=[q(f"SELECT {SELECT_CASE} FROM Case WHERE SystemModstamp >= {SINCE} ORDER BY SystemModstamp, Id")],
    )
    rsps.get(  # SOQL WHERE Id IN (…): only well-formed ids reach the query
        QUERY_ALL,
        json={"totalSize": 1, "done": True, "records": [case(2, "2024-02-01T08:00:00.000+0000")]},
        match=[q(f"SELECT {SELECT_CASE} FROM Case WHERE Id IN ('500000000000000002', '500000000000000003')")],
    )
    state = json.loads(json.dumps(STATE))

    rows = collect(context(), BY_NAME["Case"], state)

    assert [r["id"] for r in rows] == ["500000000000000001", "500000000000000002"]
    assert state[STATE_KEY]["cursor"] == "2024-03-01T10:05:00.000000Z"  # the re-read never moves it
    assert REJECTS.accepted("salesforce") == {"case": {"500000000000000002"}}
    # queryAll returns deleted rows too: an Id it leaves out is purged (resolved as gone); the
    # malformed key was never asked for, so nothing is said of it
    assert REJECTS.gone("salesforce") == {"case": {"500000000000000003"}}
    REJECTS.reset()


def test_a_value_its_column_cannot_hold_rejects_the_case_not_the_page(rsps: responses.RequestsMock) -> None:
    from connectors.rejects import REJECTS

    REJECTS.reset()
    login(rsps, ("Case", CASE_FIELDS))
    rsps.get(QUERY_ALL, json={"totalSize": 2, "done": True, "records": []})
    rsps.get(
        QUERY_ALL,
        json={
            "totalSize": 2,
            "done": True,
            "records": [
                case(1, "2024-03-01T10:05:00.000+0000"),
                case(2, "2024-03-01T10:06:00.000+0000", Renewal__c="soon"),
            ],
        },
    )
    ctx = context()

    rows = collect(ctx, BY_NAME["Case"], json.loads(json.dumps(STATE)))

    assert [r["id"] for r in rows] == ["500000000000000001"]
    (rejection,) = REJECTS.take("salesforce")
    assert rejection.record_id == "500000000000000002"
    assert "Renewal__c" in rejection.problems
    assert ctx.stats.get("salesforce", "case").rejected == 1
