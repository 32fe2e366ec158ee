"""The Salesforce connector reads each published response of ``tests/contracts/salesforce``.

Token responses of every OAuth flow (``instance_url`` serves every later call), ``query`` and
``queryAll`` pages followed to the end, ``describe`` into typed columns, ``/deleted`` into rows of
``deleted_records``, ``/limits`` into the quota guard, a Bulk API 2.0 job and its CSV result sets
paged by ``Sforce-Locator``, and each published error body into the behaviour it calls for.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from responses import matchers
from responses.registries import OrderedRegistry

from common.errors import AuthError, FatalAPIError, NotAvailableError, QuotaExhausted
from connectors.http import RetryPolicy
from connectors.salesforce.auth import (
    CredentialsRejected,
    SalesforceClientCredentials,
    SalesforceJwtBearerCredentials,
    SalesforceRefreshTokenCredentials,
    SalesforceUsernamePasswordCredentials,
)
from connectors.salesforce.bulk import bulk_pages
from connectors.salesforce.context import SalesforceContext, make_context
from connectors.salesforce.describe import ObjectSchema, schema_from_describe
from connectors.salesforce.objects import BY_NAME
from connectors.salesforce.query import QueryTimeout
from connectors.salesforce.quota import QuotaGuard, RequestLimitExceeded, reading_from_limits
from connectors.salesforce.source import STATE_KEY, sync_deleted, sync_object
from connectors.stats import StatsRegistry
from tests.contracts.shapes import load

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
INSTANCE = "https://na1.salesforce.com"  # token_password.json's instance_url
API = f"{INSTANCE}/services/data/v62.0"


def fixture(name: str) -> Any:
    return load("salesforce", name)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def context(credentials: Any = None, **kw: Any) -> SalesforceContext:
    settings: dict[str, Any] = {
        "policy": RetryPolicy(max_attempts=3, backoff_initial=0, jitter=0),
        "stats": StatsRegistry(),
        "sleep": lambda _s: None,
        "bulk_poll_seconds": 0,
        "objects": ["Case"],
    }
    settings.update(kw)
    creds = credentials or SalesforceClientCredentials(client_id="cid", client_secret="csecret")
    return make_context(creds, LOGIN, **settings)


def login(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=fixture("token_password"))


# --------------------------------------------------------------------------------------------
# OAuth token responses
# --------------------------------------------------------------------------------------------


def _credentials(flow: str, pem: str) -> Any:
    if flow == "password":
        return SalesforceUsernamePasswordCredentials(
            client_id="cid", client_secret="csecret", username="u@example.com", password="pw", security_token="st"
        )
    if flow == "jwt":
        return SalesforceJwtBearerCredentials(client_id="cid", username="u@example.com", private_key=pem)
    if flow == "refresh":
        return SalesforceRefreshTokenCredentials(client_id="cid", client_secret="csecret", refresh_token="rt")
    return SalesforceClientCredentials(client_id="cid", client_secret="csecret")


@pytest.mark.parametrize("flow", ["password", "jwt", "refresh", "client_credentials"])
def test_each_flows_token_response_sends_every_call_to_its_instance_url(
    rsps: responses.RequestsMock, pem: str, flow: str
) -> None:
    body = fixture(f"token_{flow}")
    rsps.post(TOKEN_URL, json=body)
    rsps.get(
        f"{body['instance_url']}/services/data/v62.0/sobjects",
        json=fixture("describe_global"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {body['access_token']}"})],
    )
    ctx = context(_credentials(flow, pem))

    catalog = ctx.catalog()

    assert ctx.auth.instance_url == body["instance_url"].rstrip("/")
    assert catalog["case"]["queryable"] is True
    assert catalog["case"]["replicateable"] is True


@pytest.mark.parametrize("name", ["oauth_error_invalid_grant", "oauth_error_authentication_failure"])
def test_a_refused_grant_names_the_settings_and_the_reason_never_the_secret(
    rsps: responses.RequestsMock, pem: str, name: str
) -> None:
    body = fixture(name)
    rsps.post(TOKEN_URL, status=400, json=body)
    creds = _credentials("password", pem)

    with pytest.raises(CredentialsRejected) as caught:
        context(creds).catalog()

    text = str(caught.value)
    assert body["error"] in text
    assert body["error_description"] in text
    assert "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD" in text
    assert "csecret" not in text
    assert "pwst" not in text


# --------------------------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------------------------


def test_describe_gives_typed_columns_the_cursor_and_the_object_flags() -> None:
    schema = schema_from_describe(BY_NAME["Case"], fixture("describe_case"))

    assert schema.name == "Case"
    assert schema.cursor_field == "SystemModstamp"
    assert schema.replicateable is True
    assert schema.field_names[:2] == ["Id", "SystemModstamp"]
    assert schema.kinds() == {
        "Id": "text",
        "SystemModstamp": "timestamp",
        "IsDeleted": "bool",
        "CaseNumber": "text",
        "AccountId": "text",
        "Status": "text",
        "IsEscalated": "bool",
        "ClosedDate": "timestamp",
        "Tier__c": "text",
        "Sla_Hours__c": "double",
    }
    assert schema.columns()["Sla_Hours__c"] == "sla_hours_c"
    assert "Address__c" in schema.excluded  # compound: never selected


# --------------------------------------------------------------------------------------------
# query / queryAll
# --------------------------------------------------------------------------------------------


def _describe_case(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/sobjects", json=fixture("describe_global"))
    rsps.get(f"{API}/sobjects/Case/describe", json=fixture("describe_case"))


def test_query_pages_are_followed_to_the_end(rsps: responses.RequestsMock) -> None:
    login(rsps)
    _describe_case(rsps)
    rsps.get(f"{API}/queryAll", json=fixture("query_count"))  # SELECT COUNT(): below the Bulk threshold
    rsps.get(f"{API}/queryAll", json=fixture("query_case_page1"))
    page1 = fixture("query_case_page1")
    rsps.get(f"{INSTANCE}{page1['nextRecordsUrl']}", json=fixture("query_case_page2"))
    ctx = context()
    state: dict[str, Any] = {}

    rows = _rows(sync_object(BY_NAME["Case"], ctx, state))

    assert [r["id"] for r in rows] == ["500D000000IRFmaIAH", "500D000000IomazIAB", "500D000000IqP2bIAF"]
    assert rows[1]["closed_date"] == dt.datetime(2024, 5, 21, 8, 2, 10, tzinfo=dt.UTC)
    assert rows[1]["is_escalated"] is True
    assert rows[1]["account_id"] is None
    assert "attributes" not in rows[0]
    assert state[STATE_KEY]["cursor"] == "2024-05-22T11:15:00.000000Z"
    assert ctx.stats.get("salesforce", "case").records == 3


def test_query_all_keeps_soft_deleted_records(rsps: responses.RequestsMock) -> None:
    login(rsps)
    _describe_case(rsps)
    rsps.get(f"{API}/queryAll", json={**fixture("query_count"), "totalSize": 2})
    rsps.get(f"{API}/queryAll", json=fixture("queryall_case"))

    rows = _rows(sync_object(BY_NAME["Case"], context(), {}))

    assert [(r["id"], r["is_deleted"]) for r in rows] == [
        ("500D000000IRFmaIAH", False),
        ("500D000000IomazIAB", True),
    ]


def _rows(items: Iterator[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        table = getattr(item, "arrow", None)
        table = getattr(item, "data", item) if table is None else table
        assert isinstance(table, pa.Table)
        out.extend(table.to_pylist())
    return out


# --------------------------------------------------------------------------------------------
# /deleted and /limits
# --------------------------------------------------------------------------------------------


def test_deleted_records_become_rows_and_the_window_moves_to_latest_date_covered(
    rsps: responses.RequestsMock,
) -> None:
    login(rsps)
    _describe_case(rsps)
    rsps.get(f"{API}/sobjects/Case/deleted/", json=fixture("deleted"))
    state: dict[str, Any] = {}

    rows = _rows(sync_deleted(context(), state))

    assert [(r["object"], r["id"], r["deleted_date"]) for r in rows] == [
        ("Case", "a00D0000008pQRAIA2", dt.datetime(2013, 5, 7, 22, 7, 19, tzinfo=dt.UTC))
    ]
    assert state[STATE_KEY]["deleted"]["Case"] == "2013-05-08T21:20:00.000000Z"


def test_limits_feed_the_quota_guard() -> None:
    assert reading_from_limits(fixture("limits")) == (2, 15000)
    guard = QuotaGuard(share=0.5)
    guard.observe_limits(fixture("limits"))
    assert guard.budget == 7499  # half of the 14,998 requests that remain
    assert reading_from_limits({"DataStorageMB": {"Max": 5, "Remaining": 5}}) is None


# --------------------------------------------------------------------------------------------
# Bulk API 2.0
# --------------------------------------------------------------------------------------------


def _bulk_schema() -> ObjectSchema:
    return schema_from_describe(BY_NAME["Case"], fixture("describe_case"))


@pytest.mark.parametrize("last_locator", ["null", "", None], ids=["null", "empty", "absent"])
def test_bulk_job_and_csv_result_sets_paged_by_locator(rsps: responses.RequestsMock, last_locator: str | None) -> None:
    headers = fixture("bulk_results_headers")
    created = fixture("bulk_job_created")
    job = created["id"]
    done = {**fixture("bulk_job_complete"), "id": job}
    login(rsps)
    rsps.post(f"{API}/jobs/query", json=created)
    rsps.get(f"{API}/jobs/query/{job}", json={**done, "state": "InProgress"})
    rsps.get(f"{API}/jobs/query/{job}", json=done)
    rsps.get(
        f"{API}/jobs/query/{job}/results",
        body=fixture("bulk_results_first.csv"),
        headers={k: v for k, v in headers["first"].items() if k != "Content-Type"},
        content_type=headers["first"]["Content-Type"],
        match=[matchers.query_param_matcher({"maxRecords": "50000"})],
    )
    last = {k: v for k, v in headers["last"].items() if k not in ("Sforce-Locator", "Content-Type")}
    if last_locator is not None:
        last["Sforce-Locator"] = last_locator
    rsps.get(
        f"{API}/jobs/query/{job}/results",
        body=fixture("bulk_results_last.csv"),
        headers=last,
        content_type="text/csv",
        match=[matchers.query_param_matcher({"maxRecords": "50000", "locator": headers["first"]["Sforce-Locator"]})],
    )
    ctx = context()

    pages = list(bulk_pages(ctx.api(), "case", _bulk_schema(), lower=None, poll_seconds=0))

    rows = [r for p in pages for r in p.table.to_pylist()]  # type: ignore[union-attr]
    assert [r["Id"] for r in rows] == ["500D000000IRFmaIAH", "500D000000IomazIAB", "500D000000IqP2bIAF"]
    assert rows[1]["ClosedDate"] == dt.datetime(2024, 5, 21, 8, 2, 10, tzinfo=dt.UTC)
    assert (rows[1]["IsEscalated"], rows[0]["ClosedDate"], rows[1]["AccountId"]) == (True, None, None)
    assert [p.newest is None for p in pages] == [True, False]  # the cursor moves after the last set only
    sent = json.loads(rsps.calls[1].request.body)
    assert sent["operation"] == "queryAll"
    assert sent["contentType"] == "CSV"


# --------------------------------------------------------------------------------------------
# Error bodies
# --------------------------------------------------------------------------------------------


def _get(ctx: SalesforceContext, path: str = "sobjects") -> Any:
    return ctx.api().client.get_json(ctx.api().path(path), endpoint="probe")


@pytest.mark.parametrize("shape", ["list", "object"])
def test_invalid_session_id_gets_a_new_token_once_and_repeats(rsps: responses.RequestsMock, shape: str) -> None:
    body = fixture("error_invalid_session_id")
    login(rsps)
    rsps.get(f"{API}/sobjects", status=401, json=body if shape == "list" else body[0])
    login(rsps)
    rsps.get(f"{API}/sobjects", json=fixture("describe_global"))
    ctx = context()

    assert _get(ctx).data["sobjects"][0]["name"] == "Case"
    assert ctx.auth.fetches == 2


def test_invalid_session_id_after_the_new_token_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    login(rsps)
    rsps.get(f"{API}/sobjects", status=401, json=fixture("error_invalid_session_id"))
    login(rsps)
    rsps.get(f"{API}/sobjects", status=401, json=fixture("error_invalid_session_id"))

    with pytest.raises(AuthError, match="INVALID_SESSION_ID"):
        _get(context())


def test_request_limit_exceeded_stops_at_once_without_retrying(rsps: responses.RequestsMock) -> None:
    login(rsps)
    rsps.get(f"{API}/sobjects", status=403, json=fixture("error_request_limit_exceeded"))

    with pytest.raises(RequestLimitExceeded, match="TotalRequests Limit exceeded") as caught:
        _get(context())
    assert isinstance(caught.value, QuotaExhausted)
    assert len(rsps.calls) == 2  # the token and the one refused request


@pytest.mark.parametrize(
    ("name", "status"),
    [("error_invalid_type", 400), ("error_not_found", 404), ("error_insufficient_access", 403)],
)
def test_refusals_are_not_available_errors(rsps: responses.RequestsMock, name: str, status: int) -> None:
    login(rsps)
    rsps.get(f"{API}/sobjects", status=status, json=fixture(name))

    with pytest.raises(NotAvailableError, match=fixture(name)[0]["errorCode"]):
        _get(context())


def test_malformed_query_fails_without_retrying(rsps: responses.RequestsMock) -> None:
    login(rsps)
    rsps.get(f"{API}/sobjects", status=400, json=fixture("error_malformed_query"))

    with pytest.raises(FatalAPIError, match="MALFORMED_QUERY") as caught:
        _get(context())
    assert not isinstance(caught.value, NotAvailableError | QueryTimeout)
    assert len(rsps.calls) == 2
