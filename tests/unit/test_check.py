"""``supportlake check``: each answer of the three APIs becomes the right verdict and remedy.

The error bodies are the vendors' own, as published or recorded by others:

- Zendesk 401 ``{"error": "Couldn't authenticate you"}`` (Speedygeek/ZendeskApi_v2#505, with
  ``WWW-Authenticate: Basic realm="Web Password"``); 403 ``{"error": "Forbidden", "description":
  "You do not have access to this page. ..."}`` (facetoe/zenpy#336); a 403 on the incremental
  exports for a non-admin (dust-tt/dust#8860).
- Atlassian 401 ``{"code": 401, "message": "Unauthorized; scope does not match"}`` for a scoped
  token without the endpoint's scope (kovetskiy/mark#917); 403 ``{"message": "Current user not
  permitted to use Confluence", "statusCode": 403}`` (kovetskiy/mark#493); v2 404
  ``{"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": null}]}``
  (hunyadi/md2conf#113).
- Salesforce ``[{"message": "sObject type 'ContentHubRepository' is not supported.", "errorCode":
  "INVALID_TYPE"}]`` for an object the user may not read (simple-salesforce/simple-salesforce#287);
  the OAuth token endpoint's ``{"error": "invalid_grant", "error_description": "authentication
  failure"}`` (Salesforce Help, "OAuth 2.0 token endpoint errors"); ``[{"message": "The REST API is
  not enabled for this Organization.", "errorCode": "API_DISABLED_FOR_ORG"}]``
  (wadewegner/Force.com-Toolkit-for-NET#150; on ``/limits``: forceworkbench/forceworkbench#681),
  a 403 ("the logged-in user lacks permissions", REST API Developer Guide, status codes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from connectors import check as c
from connectors.confluence import check as confluence_check
from connectors.confluence.credentials import ConfluenceApiTokenCredentials
from connectors.salesforce import check as salesforce_check
from connectors.salesforce.auth import SalesforceUsernamePasswordCredentials
from connectors.zendesk import check as zendesk_check
from connectors.zendesk.credentials import ZendeskApiTokenCredentials
from connectors.zendesk.endpoints import ENDPOINTS

ZD = "https://acme.zendesk.com"
CF = "https://acme.atlassian.net"
SF_LOGIN = "https://login.salesforce.com"
SF = "https://acme.my.salesforce.com"
FAKE_TOKEN = "FAKE-zd-token-7c1d2e9f4b"

ZD_401 = {"error": "Couldn't authenticate you"}
ZD_403 = {
    "error": "Forbidden",
    "description": "You do not have access to this page. Please contact the account owner of this help desk "
    "for further help.",
}
CF_SCOPE_401 = {"code": 401, "message": "Unauthorized; scope does not match"}
CF_403 = {"message": "Current user not permitted to use Confluence", "statusCode": 403}
CF_404 = {"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]}
SF_INVALID_TYPE = [{"message": "sObject type 'AgentWork' is not supported.", "errorCode": "INVALID_TYPE"}]
SF_API_DISABLED = [
    {"message": "The REST API is not enabled for this Organization.", "errorCode": "API_DISABLED_FOR_ORG"}
]
SF_INVALID_GRANT = {"error": "invalid_grant", "error_description": "authentication failure"}


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


def by_name(results: list[c.Result]) -> dict[str, c.Result]:
    return {r.name: r for r in results}


# --------------------------------------------------------------------------------------------
# Zendesk
# --------------------------------------------------------------------------------------------


def zendesk_plan() -> c.Plan:
    creds = ZendeskApiTokenCredentials()
    creds.email, creds.api_token = "ops@acme.com", FAKE_TOKEN
    return zendesk_check.plan({"credentials": creds, "base_url": ZD})


def zendesk_answers(mock: responses.RequestsMock, **special: tuple[int, Any]) -> None:
    for e in ENDPOINTS:
        status, body = special.get(e.name, (200, {e.data_selector: [{"id": 1}]}))
        mock.get(f"{ZD}{e.path}", status=status, json=body)


def test_zendesk_good_answers_are_ok_with_page_size_one(mock: responses.RequestsMock) -> None:
    zendesk_answers(mock)
    results = c.run(zendesk_plan())
    assert [r.verdict for r in results] == [c.OK] * len(ENDPOINTS)
    assert results[0].name == "tickets"
    assert results[0].primary
    sent = {urlsplit(str(call.request.url)).path: str(call.request.url) for call in mock.calls}
    assert "per_page=1" in sent["/api/v2/incremental/tickets/cursor.json"]
    assert "include=metric_sets" in sent["/api/v2/incremental/tickets/cursor.json"]
    assert "per_page=1" in sent["/api/v2/incremental/ticket_events.json"]
    assert "page%5Bsize%5D=1" in sent["/api/v2/groups.json"]
    assert len(mock.calls) == len(ENDPOINTS)  # one request each, nothing paged


def test_zendesk_401_is_credentials_refused_naming_the_settings_never_the_token(
    mock: responses.RequestsMock,
) -> None:
    mock.get(f"{ZD}/api/v2/incremental/tickets/cursor.json", status=401, json=ZD_401)
    results = c.run(zendesk_plan())
    assert results[0].verdict == c.REFUSED
    assert "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN" in results[0].detail
    assert {r.verdict for r in results[1:]} == {c.NOT_CHECKED}
    assert len(mock.calls) == 1
    table = c.render(results)
    assert FAKE_TOKEN not in table
    assert not c.primaries_readable(results)


def test_zendesk_403_means_what_the_endpoint_needs(mock: responses.RequestsMock) -> None:
    zendesk_answers(mock, sla_policies=(403, ZD_403), satisfaction_ratings=(403, ZD_403), users=(403, ZD_403))
    results = by_name(c.run(zendesk_plan()))
    assert results["sla_policies"].verdict == c.MISSING_SCOPE
    assert "admin role" in results["sla_policies"].detail
    assert results["satisfaction_ratings"].verdict == c.FEATURE_OFF
    assert "CSAT" in results["satisfaction_ratings"].detail
    assert results["users"].verdict == c.MISSING_SCOPE
    assert "admin" in results["users"].detail
    assert c.primaries_readable(results.values())  # optional refusals do not fail the check


def test_zendesk_403_on_tickets_fails_the_check(mock: responses.RequestsMock) -> None:
    zendesk_answers(mock, tickets=(403, ZD_403))
    results = c.run(zendesk_plan())
    assert results[0].verdict == c.MISSING_SCOPE
    assert "admin" in results[0].detail
    assert all(r.verdict == c.OK for r in results[1:])  # the credentials were accepted: go on
    assert not c.primaries_readable(results)


def test_zendesk_talk_404_is_feature_not_enabled(mock: responses.RequestsMock) -> None:
    zendesk_answers(mock, calls=(404, {"error": "InvalidEndpoint", "description": "Not found"}))
    calls = by_name(c.run(zendesk_plan()))["calls"]
    assert calls.verdict == c.FEATURE_OFF
    assert "Talk is not enabled" in calls.detail


def test_primary_first_moves_only_the_primary_object() -> None:
    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

    for source, names, primary in [
        ("zendesk", ["users", "groups", "tickets", "calls"], "tickets"),
        ("confluence", ["spaces", "pages", "blogposts"], "pages"),
        ("salesforce", ["Account", "Contact", "Case"], "Case"),
    ]:
        ordered = [n.name for n in c.primary_first(source, [Named(x) for x in names])]
        assert ordered == [primary, *(x for x in names if x != primary)]
    assert [n.name for n in c.primary_first("zendesk", [Named("users"), Named("groups")])] == ["users", "groups"]


def test_connection_refused_is_unreachable_naming_the_address(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{ZD}/api/v2/incremental/tickets/cursor.json", body=requests.ConnectionError("[Errno 111] Connection refused")
    )
    results = c.run(zendesk_plan())
    assert results[0].verdict == c.UNREACHABLE
    assert "SOURCES__ZENDESK__BASE_URL" in results[0].detail
    assert {r.verdict for r in results[1:]} == {c.NOT_CHECKED}


# --------------------------------------------------------------------------------------------
# Confluence
# --------------------------------------------------------------------------------------------


def confluence_plan() -> c.Plan:
    creds = ConfluenceApiTokenCredentials()
    creds.email, creds.api_token = "bot@acme.com", "FAKE-cf-token-5e6f7a"
    return confluence_check.plan({"credentials": creds, "base_url": CF})


def confluence_answers(mock: responses.RequestsMock, **special: tuple[int, Any]) -> None:
    page = {"results": [{"id": "98765"}], "_links": {}}
    bodies: dict[str, tuple[int, Any]] = {
        "pages": (200, page),
        "spaces": (200, {"results": [{"id": "1", "key": "KB"}], "_links": {}}),
        "blogposts": (200, {"results": [{"id": "555"}], "_links": {}}),
        "page_labels": (200, {"results": [], "_links": {}}),
        "blogpost_labels": (200, {"results": [], "_links": {}}),
        "labels": (200, {"results": [{"id": "42", "name": "howto"}], "_links": {}}),
        "label_pages": (200, page),
    }
    bodies.update(special)
    paths = {
        "pages": "/wiki/api/v2/pages",
        "spaces": "/wiki/api/v2/spaces",
        "blogposts": "/wiki/api/v2/blogposts",
        "page_labels": "/wiki/api/v2/pages/98765/labels",
        "blogpost_labels": "/wiki/api/v2/blogposts/555/labels",
        "labels": "/wiki/api/v2/labels",
        "label_pages": "/wiki/api/v2/labels/42/pages",
    }
    for key, path in paths.items():
        status, body = bodies[key]
        mock.get(f"{CF}{path}", status=status, json=body)


def test_confluence_scope_401_on_the_label_sweep_names_read_label(mock: responses.RequestsMock) -> None:
    confluence_answers(mock, labels=(401, CF_SCOPE_401))
    results = by_name(c.run(confluence_plan()))
    sweep = results["label sweep"]
    assert sweep.verdict == c.MISSING_SCOPE
    assert "read:label:confluence" in sweep.detail
    assert results["page labels"].verdict == c.OK
    assert c.primaries_readable(results.values())


def test_confluence_scope_401_on_pages_is_a_scope_not_the_credentials(mock: responses.RequestsMock) -> None:
    confluence_answers(mock, pages=(401, CF_SCOPE_401))
    results = by_name(c.run(confluence_plan()))
    assert results["pages"].verdict == c.MISSING_SCOPE
    assert "read:page:confluence" in results["pages"].detail
    assert results["spaces"].verdict == c.OK
    assert not c.primaries_readable(results.values())


def test_confluence_403_and_404(mock: responses.RequestsMock) -> None:
    confluence_answers(mock, pages=(403, CF_403), blogposts=(404, CF_404))
    results = by_name(c.run(confluence_plan()))
    assert results["pages"].verdict == c.MISSING_SCOPE
    assert results["blogposts"].verdict == c.NOT_FOUND
    assert "SOURCES__CONFLUENCE__BASE_URL" in results["blogposts"].detail


def test_confluence_401_without_a_scope_message_is_credentials_refused(mock: responses.RequestsMock) -> None:
    mock.get(f"{CF}/wiki/api/v2/pages", status=401, body="")
    results = c.run(confluence_plan())
    assert results[0].verdict == c.REFUSED
    assert "SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN" in results[0].detail
    assert "FAKE-cf-token-5e6f7a" not in c.render(results)


# --------------------------------------------------------------------------------------------
# Salesforce
# --------------------------------------------------------------------------------------------


def salesforce_plan(objects: str = "Case,AgentWork") -> c.Plan:
    creds = SalesforceUsernamePasswordCredentials(
        client_id="cid", client_secret="FAKE-sf-secret-11aa", username="int@acme.com", password="FAKE-sf-pass-22bb"
    )
    return salesforce_check.plan({"credentials": creds, "base_url": SF_LOGIN, "objects": objects})


def describe(name: str) -> dict[str, Any]:
    return {"name": name, "replicateable": True, "fields": [{"name": "Id", "type": "id"}]}


def test_salesforce_invalid_type_names_the_permission(mock: responses.RequestsMock) -> None:
    data = f"{SF}/services/data/v62.0"
    mock.post(f"{SF_LOGIN}/services/oauth2/token", json={"access_token": "FAKE-sf-access-33cc", "instance_url": SF})
    mock.get(f"{data}/limits", json={"DailyApiRequests": {"Max": 15000, "Remaining": 14990}})
    catalog = [{"name": n, "queryable": True} for n in ("Case", "AgentWork")]
    mock.get(f"{data}/sobjects", json={"sobjects": catalog})
    mock.get(f"{data}/sobjects/Case/describe", json=describe("Case"))
    mock.get(f"{data}/sobjects/AgentWork/describe", json=describe("AgentWork"))

    def query(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if "AgentWork" in str(request.url):
            return 400, {}, json.dumps(SF_INVALID_TYPE)
        return 200, {}, json.dumps({"totalSize": 1, "done": True, "records": [{"Id": "500000000000001AAA"}]})

    mock.add_callback(responses.GET, f"{data}/queryAll", callback=query)
    mock.get(f"{data}/sobjects/Case/deleted/", json={"deletedRecords": [], "latestDateCovered": None})
    mock.get(f"{data}/jobs/query", json={"done": True, "records": []})
    results = by_name(c.run(salesforce_plan()))
    assert results["limits"].detail == "14,990 of 15,000 daily API requests left"
    assert results["Case"].verdict == c.OK
    assert results["Case"].primary
    assert results["AgentWork"].verdict == c.MISSING_SCOPE
    assert "read access to AgentWork (Omni-Channel)" in results["AgentWork"].detail
    assert results["Bulk API 2.0"].verdict == c.OK
    assert c.primaries_readable(results.values())


def test_salesforce_object_missing_from_describe_global(mock: responses.RequestsMock) -> None:
    data = f"{SF}/services/data/v62.0"
    mock.post(f"{SF_LOGIN}/services/oauth2/token", json={"access_token": "FAKE-sf-access-33cc", "instance_url": SF})
    mock.get(f"{data}/limits", json={})
    mock.get(f"{data}/sobjects", json={"sobjects": [{"name": "AgentWork", "queryable": True}]})
    results = by_name(c.run(salesforce_plan("Case")))
    assert results["Case"].verdict == c.MISSING_SCOPE
    assert "Case is not in describe global" in results["Case"].detail
    assert not c.primaries_readable(results.values())


def test_salesforce_403_without_api_enabled(mock: responses.RequestsMock) -> None:
    data = f"{SF}/services/data/v62.0"
    mock.post(f"{SF_LOGIN}/services/oauth2/token", json={"access_token": "FAKE-sf-access-33cc", "instance_url": SF})
    for path in ("limits", "sobjects", "sobjects/Case/describe", "sobjects/Case/deleted/", "jobs/query"):
        mock.get(f"{data}/{path}", status=403, json=SF_API_DISABLED)
    results = by_name(c.run(salesforce_plan("Case")))
    assert results["login"].verdict == c.OK
    assert results["limits"].verdict == c.MISSING_SCOPE
    assert "'API Enabled'" in results["limits"].detail
    assert "View Setup and Configuration" in results["limits"].detail
    assert results["Case"].verdict == c.MISSING_SCOPE
    assert "Read on Cases" in results["Case"].detail
    assert not c.primaries_readable(results.values())


def test_salesforce_refused_login_names_the_settings_never_the_secrets(mock: responses.RequestsMock) -> None:
    mock.post(f"{SF_LOGIN}/services/oauth2/token", status=400, json=SF_INVALID_GRANT)
    results = c.run(salesforce_plan())
    assert results[0].name == "login"
    assert results[0].verdict == c.REFUSED
    assert "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD" in results[0].detail
    assert {r.verdict for r in results[1:]} == {c.NOT_CHECKED}
    table = c.render(results)
    assert "FAKE-sf-pass-22bb" not in table
    assert "FAKE-sf-secret-11aa" not in table


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def test_render_redacts_a_secret_that_reached_a_note() -> None:
    from common.secrets import register_secret

    register_secret("FAKE-leaky-secret-9q8w")
    table = c.render([c.Result("zendesk", "tickets", c.OK, "oops FAKE-leaky-secret-9q8w", primary=True)])
    assert "FAKE-leaky-secret-9q8w" not in table
    assert "primary" in table
    assert "***" in table


def test_a_401_after_a_403_is_not_about_the_credentials(mock: responses.RequestsMock) -> None:
    """A 403 means the API knew who was asking: a later 401 is that endpoint's scope."""
    zendesk_answers(mock, tickets=(403, ZD_403), users=(401, ZD_401))
    results = by_name(c.run(zendesk_plan()))
    assert results["users"].verdict == c.MISSING_SCOPE
    assert results["organizations"].verdict == c.OK
