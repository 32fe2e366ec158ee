"""Optional enrichments never fail a run; the primary object does.

``Case`` is the only primary Salesforce object. Every other object (CaseArticle, Knowledge__kav,
AgentWork, MilestoneType, ...) and ``deleted_records`` is optional: a refusal of its describe, query
or Bulk job (401 after one re-authentication, 403, 404, ``INSUFFICIENT_ACCESS``, ``INVALID_TYPE``,
``NOT_FOUND``) marks its table ``skipped`` with the reason. The error bodies are the published ones
of ``tests/contracts/salesforce``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from common.errors import QuotaExhausted
from connectors.salesforce.context import PrimaryObjectUnavailable
from connectors.salesforce.objects import BY_NAME, OBJECTS, PRIMARY
from connectors.salesforce.source import sync_deleted, sync_object
from tests.contracts.shapes import load
from tests.unit.test_salesforce_source import API, INSTANCE, QUERY_ALL, TOKEN_URL, context, describe, rows_of

FIELDS = {"Id": "id", "IsDeleted": "boolean", "SystemModstamp": "datetime"}


def error(name: str) -> Any:
    return load("salesforce", name)


def token(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json={"access_token": "tok", "instance_url": INSTANCE, "token_type": "Bearer"})


def catalog(rsps: responses.RequestsMock, *names: str) -> None:
    rsps.get(f"{API}/sobjects", json={"sobjects": [{"name": n, "queryable": True} for n in names]})


def test_case_is_the_only_primary_object() -> None:
    assert PRIMARY == ("Case",)
    assert [o.name for o in OBJECTS if o.primary] == ["Case"]
    assert not BY_NAME["Knowledge__kav"].primary


# --------------------------------------------------------------------------------------------
# Case: refused means the run fails
# --------------------------------------------------------------------------------------------


def test_case_missing_from_the_org_fails_the_run(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "Account")
    ctx = context()

    with pytest.raises(PrimaryObjectUnavailable, match=r"Case .*primary.*API Enabled and Read on Case"):
        list(sync_object(BY_NAME["Case"], ctx, {}))
    assert ctx.stats.get("salesforce", "case").skipped == ""


def test_case_describe_refused_fails_the_run(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "Case")
    rsps.get(f"{API}/sobjects/Case/describe", status=403, json=error("error_insufficient_access"))
    ctx = context()

    with pytest.raises(PrimaryObjectUnavailable, match="INSUFFICIENT_ACCESS_OR_READONLY"):
        list(sync_object(BY_NAME["Case"], ctx, {}))
    assert ctx.stats.get("salesforce", "case").skipped == ""


def test_case_query_refused_fails_the_run(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "Case")
    rsps.get(f"{API}/sobjects/Case/describe", json=describe("Case", FIELDS))
    rsps.get(QUERY_ALL, status=400, json=error("error_invalid_type"))  # the COUNT() query
    ctx = context()

    with pytest.raises(PrimaryObjectUnavailable, match="INVALID_TYPE"):
        list(sync_object(BY_NAME["Case"], ctx, {}))
    assert ctx.stats.get("salesforce", "case").skipped == ""


# --------------------------------------------------------------------------------------------
# Optional objects: refused means skipped, with the reason
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "code"),
    [
        (400, "error_invalid_type", "INVALID_TYPE"),
        (404, "error_not_found", "NOT_FOUND"),
        (403, "error_insufficient_access", "INSUFFICIENT_ACCESS"),
    ],
)
def test_an_optional_object_whose_query_is_refused_is_skipped(
    rsps: responses.RequestsMock, status: int, fixture: str, code: str
) -> None:
    token(rsps)
    catalog(rsps, "CaseArticle")
    rsps.get(f"{API}/sobjects/CaseArticle/describe", json=describe("CaseArticle", FIELDS))
    rsps.get(QUERY_ALL, status=status, json=error(fixture))
    ctx = context(objects=["CaseArticle"])

    assert rows_of(list(sync_object(BY_NAME["CaseArticle"], ctx, {}))) == []
    skipped = ctx.stats.get("salesforce", "case_article").skipped
    assert skipped is not None
    assert skipped.startswith("skipped: ")
    assert code in skipped


def test_an_optional_object_refused_with_401_after_a_new_token_is_skipped(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "AgentWork")
    rsps.get(f"{API}/sobjects/AgentWork/describe", json=describe("AgentWork", FIELDS))
    rsps.get(QUERY_ALL, status=401, json=error("error_invalid_session_id"))
    token(rsps)  # the HTTP layer re-authenticates once ...
    rsps.get(QUERY_ALL, status=401, json=error("error_invalid_session_id"))  # ... and is refused again
    ctx = context(objects=["AgentWork"])

    assert rows_of(list(sync_object(BY_NAME["AgentWork"], ctx, {}))) == []
    assert "INVALID_SESSION_ID" in (ctx.stats.get("salesforce", "agent_work").skipped or "")


def test_an_optional_object_refused_by_bulk_and_rest_is_skipped(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "AgentWork")
    rsps.get(f"{API}/sobjects/AgentWork/describe", json=describe("AgentWork", FIELDS))
    rsps.post(f"{API}/jobs/query", status=403, json=error("error_insufficient_access"))  # the Bulk job
    rsps.get(QUERY_ALL, status=403, json=error("error_insufficient_access"))  # the REST fallback
    ctx = context(objects=["AgentWork"], bulk_threshold=0)

    assert rows_of(list(sync_object(BY_NAME["AgentWork"], ctx, {}))) == []
    assert "INSUFFICIENT_ACCESS" in (ctx.stats.get("salesforce", "agent_work").skipped or "")


def test_the_spent_allocation_is_never_mistaken_for_a_refusal(rsps: responses.RequestsMock) -> None:
    """REQUEST_LIMIT_EXCEEDED is a 403 too, but skipping would hide it: it stops the run."""
    token(rsps)
    catalog(rsps, "CaseArticle")
    rsps.get(f"{API}/sobjects/CaseArticle/describe", json=describe("CaseArticle", FIELDS))
    rsps.get(QUERY_ALL, status=403, json=error("error_request_limit_exceeded"))
    ctx = context(objects=["CaseArticle"])

    with pytest.raises(QuotaExhausted, match="REQUEST_LIMIT_EXCEEDED"):
        list(sync_object(BY_NAME["CaseArticle"], ctx, {}))
    assert ctx.stats.get("salesforce", "case_article").skipped == ""


# --------------------------------------------------------------------------------------------
# deleted_records is optional too
# --------------------------------------------------------------------------------------------


def test_a_refused_deleted_records_log_is_a_warning_and_the_others_are_listed(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "Case", "CaseComment")
    rsps.get(f"{API}/sobjects/Case/describe", json=describe("Case", FIELDS))
    rsps.get(f"{API}/sobjects/Case/deleted/", json=load("salesforce", "deleted"))
    rsps.get(f"{API}/sobjects/CaseComment/describe", json=describe("CaseComment", FIELDS))
    rsps.get(f"{API}/sobjects/CaseComment/deleted/", status=403, json=error("error_insufficient_access"))
    ctx = context(objects=["Case", "CaseComment"])
    state: dict[str, Any] = {}

    rows = rows_of(list(sync_deleted(ctx, state)))

    assert [(r["object"], r["id"]) for r in rows] == [("Case", "a00D0000008pQRAIA2")]
    stats = ctx.stats.get("salesforce", "deleted_records")
    assert stats.skipped == ""
    assert any("CaseComment" in w and "INSUFFICIENT_ACCESS" in w for w in stats.warnings)


def test_deleted_records_refused_for_every_object_is_skipped(rsps: responses.RequestsMock) -> None:
    token(rsps)
    catalog(rsps, "Case")
    rsps.get(f"{API}/sobjects/Case/describe", json=describe("Case", FIELDS))
    rsps.get(f"{API}/sobjects/Case/deleted/", status=404, json=error("error_not_found"))
    ctx = context(objects=["Case"])

    assert rows_of(list(sync_deleted(ctx, json.loads("{}")))) == []
    assert "NOT_FOUND" in (ctx.stats.get("salesforce", "deleted_records").skipped or "")
