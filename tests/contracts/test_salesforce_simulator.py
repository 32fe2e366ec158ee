"""The Salesforce simulator answers every endpoint with the published shape.

Each response of the simulator (served on a loopback port) is compared with the fixture of
``tests/contracts/salesforce`` for the same endpoint: every key path and nesting the published
response has must appear, with the same kind of value (:func:`assert_same_shape`). Bulk result sets
are CSV: the header row, quoting and the ``Sforce-Locator`` / ``Sforce-NumberOfRecords`` headers are
compared instead.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from connectors.salesforce.auth import JWT_GRANT, jwt_assertion
from simulators.salesforce import SalesforceSimulator
from tests.contracts.shapes import assert_same_shape, load

TOKEN_PATH = "/services/oauth2/token"


def fixture(name: str) -> Any:
    return load("salesforce", name)


@pytest.fixture(scope="module")
def sim() -> Iterator[SalesforceSimulator]:
    simulator = SalesforceSimulator(seed=11, n_cases=300, batch_size=200)
    with simulator.serve():
        yield simulator


def _token(sim: SalesforceSimulator, **form: str) -> requests.Response:
    assert sim.base_url is not None
    return requests.post(sim.base_url + TOKEN_PATH, data=form, timeout=10)


def _client_credentials(sim: SalesforceSimulator) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": sim.client_id, "client_secret": sim.client_secret}


class Api:
    def __init__(self, sim: SalesforceSimulator) -> None:
        assert sim.base_url is not None
        self.base = sim.base_url
        self.version = sim.api_version
        self.token = _token(sim, **_client_credentials(sim)).json()["access_token"]

    def get(self, resource: str, token: str | None = None, **kw: Any) -> requests.Response:
        url = resource if resource.startswith("/") else f"/services/data/{self.version}/{resource}"
        headers = {"Authorization": f"Bearer {token or self.token}", **kw.pop("headers", {})}
        return requests.get(self.base + url, headers=headers, timeout=30, **kw)

    def post(self, resource: str, payload: dict[str, Any]) -> requests.Response:
        return requests.post(
            f"{self.base}/services/data/{self.version}/{resource}",
            json=payload,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def api(sim: SalesforceSimulator) -> Api:
    return Api(sim)


# --------------------------------------------------------------------------------------------
# OAuth
# --------------------------------------------------------------------------------------------


def test_token_responses_of_every_flow(sim: SalesforceSimulator) -> None:
    password = _token(
        sim,
        grant_type="password",
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        username=sim.username,
        password=sim.password + sim.security_token,
    )
    refresh = _token(
        sim,
        grant_type="refresh_token",
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        refresh_token=sim.refresh_token,
    )
    assert sim.base_url is not None
    assertion = jwt_assertion(sim.client_id, sim.username, sim.base_url, sim.private_key_pem)
    jwt = _token(sim, grant_type=JWT_GRANT, assertion=assertion)
    client = _token(sim, **_client_credentials(sim))

    for response, name in [
        (password, "token_password"),
        (refresh, "token_refresh"),
        (jwt, "token_jwt"),
        (client, "token_client_credentials"),
    ]:
        assert response.status_code == 200, response.text
        assert_same_shape(fixture(name), response.json())
    # The JWT bearer flow's response is not signed (no signature, no issued_at), as published.
    assert "signature" not in fixture("token_jwt")
    assert "signature" not in jwt.json()


def test_refused_grants(sim: SalesforceSimulator) -> None:
    wrong = _token(
        sim,
        grant_type="password",
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        username=sim.username,
        password="wrong",
    )
    assert wrong.status_code == 400
    assert_same_shape(fixture("oauth_error_authentication_failure"), wrong.json())
    assert wrong.json() == fixture("oauth_error_authentication_failure")


# --------------------------------------------------------------------------------------------
# REST
# --------------------------------------------------------------------------------------------


def test_query_pages(api: Api) -> None:
    first = api.get(
        "query",
        params={
            "q": "SELECT Id, SystemModstamp, CaseNumber, Status, IsDeleted, "
            "IsEscalated, ClosedDate, AccountId FROM Case"
        },
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["done"] is False
    assert_same_shape(fixture("query_case_page1"), page)
    while not page["done"]:
        response = api.get(page["nextRecordsUrl"])
        assert response.status_code == 200, response.text
        page = response.json()
    assert "nextRecordsUrl" not in page
    assert_same_shape(fixture("query_case_page2"), page)
    # REST datetimes are written like the published ones (2024-05-20T20:49:32.000+0000), and the
    # next-page link is a relative URL under the same API version.
    published = fixture("query_case_page1")
    assert _same_datetime_form(page["records"][0]["SystemModstamp"], published["records"][0]["SystemModstamp"])
    assert first.json()["nextRecordsUrl"].startswith(f"/services/data/{api.version}/query/")


def test_query_all_and_count(api: Api, sim: SalesforceSimulator) -> None:
    soql = "SELECT Id, SystemModstamp, CaseNumber, Status, IsDeleted, IsEscalated, ClosedDate, AccountId FROM Case"
    response = api.get("queryAll", params={"q": soql + " WHERE IsDeleted = true"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["records"], "the simulated org has soft-deleted cases"
    assert_same_shape(fixture("queryall_case"), body)
    count = api.get("queryAll", params={"q": "SELECT COUNT() FROM Case"})
    assert_same_shape(fixture("query_count"), count.json())
    assert count.json()["records"] == []


def test_describe_global_and_describe(api: Api) -> None:
    assert_same_shape(fixture("describe_global"), api.get("sobjects").json())
    describe = api.get("sobjects/Case/describe").json()
    # describe_case.json's fields include a custom compound address and custom fields; the
    # simulated Case has custom fields and compound fields elsewhere (Account), and every field
    # describe carries the same properties: the paths compare item by item.
    assert_same_shape(fixture("describe_case"), describe)


def test_deleted(sim: SalesforceSimulator) -> None:
    fresh = SalesforceSimulator(seed=12, n_cases=200)
    with fresh.serve():
        api = Api(fresh)
        fresh.mutate(seed=2, delete_count=3)
        end = fresh.now + timedelta(minutes=2)  # the simulator keeps its own clock
        start = end - timedelta(days=1)
        params = {"start": start.strftime("%Y-%m-%dT%H:%M:00+00:00"), "end": end.strftime("%Y-%m-%dT%H:%M:00+00:00")}
        response = api.get("sobjects/Case/deleted/", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deletedRecords"]
    assert_same_shape(fixture("deleted"), body)
    published = fixture("deleted")
    assert _same_datetime_form(body["deletedRecords"][0]["deletedDate"], published["deletedRecords"][0]["deletedDate"])
    assert _same_datetime_form(body["latestDateCovered"], published["latestDateCovered"])
    assert _same_datetime_form(body["earliestDateAvailable"], published["earliestDateAvailable"])


def test_limits(api: Api) -> None:
    assert_same_shape(fixture("limits"), api.get("limits").json())


# --------------------------------------------------------------------------------------------
# Bulk API 2.0
# --------------------------------------------------------------------------------------------


def test_bulk_job_and_result_sets(api: Api) -> None:
    soql = "SELECT Id, SystemModstamp, CaseNumber, Status, IsDeleted, IsEscalated, ClosedDate, AccountId FROM Case"
    created = api.post(
        "jobs/query",
        {"operation": "queryAll", "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"},
    )
    assert created.status_code == 200, created.text
    assert_same_shape(fixture("bulk_job_created"), created.json())
    job = created.json()["id"]
    info: dict[str, Any] = {}
    for _ in range(20):
        info = api.get(f"jobs/query/{job}").json()
        if info["state"] == "JobComplete":
            break
        time.sleep(0.05)
    assert info["state"] == "JobComplete"
    assert_same_shape(fixture("bulk_job_complete"), info)

    headers = fixture("bulk_results_headers")
    published_header = fixture("bulk_results_first.csv").splitlines()[0]
    first = api.get(f"jobs/query/{job}/results", params={"maxRecords": 200}, headers={"Accept": "text/csv"})
    assert first.status_code == 200, first.text
    for name in headers["first"]:
        assert name in first.headers
    assert first.headers["Content-Type"].startswith(headers["first"]["Content-Type"])
    assert first.headers["Sforce-Locator"] not in ("", "null")
    # The header row is quoted like the published one, with the SELECT list's names in order.
    assert first.text.splitlines()[0] == published_header
    rows = list(csv.reader(io.StringIO(first.text)))
    assert int(first.headers["Sforce-NumberOfRecords"]) == len(rows) - 1
    last = first
    ours = list(csv.DictReader(io.StringIO(first.text)))
    while last.headers["Sforce-Locator"] != "null":
        last = api.get(
            f"jobs/query/{job}/results",
            params={"maxRecords": 200, "locator": last.headers["Sforce-Locator"]},
            headers={"Accept": "text/csv"},
        )
        assert last.status_code == 200, last.text
        ours += list(csv.DictReader(io.StringIO(last.text)))
    assert last.headers["Sforce-Locator"] == headers["last"]["Sforce-Locator"]
    # Values: booleans as true/false, datetimes as ISO 8601 with Z, empty for null, like the published rows.
    published = list(csv.DictReader(io.StringIO(fixture("bulk_results_first.csv"))))
    assert {r["IsDeleted"] for r in ours} <= {"true", "false"}
    assert all(_same_datetime_form(r["SystemModstamp"], published[0]["SystemModstamp"]) for r in ours)
    assert any(r["ClosedDate"] == "" for r in ours)


def _same_datetime_form(ours: str, published: str) -> bool:
    def form(text: str) -> str:
        return "".join("9" if c.isdigit() else c for c in text)

    return form(ours) == form(published)


# --------------------------------------------------------------------------------------------
# Error bodies
# --------------------------------------------------------------------------------------------


def test_error_bodies(api: Api) -> None:
    expired = api.get("sobjects", token="00Dexpired!AQ")
    assert expired.status_code == 401
    assert_same_shape(fixture("error_invalid_session_id"), expired.json())
    assert expired.json() == fixture("error_invalid_session_id")

    malformed = api.get("query", params={"q": "SELEC Id FROM Case"})
    assert malformed.status_code == 400
    assert_same_shape(fixture("error_malformed_query"), malformed.json())
    assert malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"

    invalid_type = api.get("query", params={"q": "SELECT Id FROM Nope__c"})
    assert invalid_type.status_code == 400
    assert_same_shape(fixture("error_invalid_type"), invalid_type.json())
    assert invalid_type.json()[0]["errorCode"] == "INVALID_TYPE"

    not_found = api.get("sobjects/Nope__c/describe")
    assert not_found.status_code == 404
    assert not_found.json() == fixture("error_not_found")


def test_request_limit_exceeded() -> None:
    limited = SalesforceSimulator(seed=13, n_cases=50, daily_limit=2)
    with limited.serve():
        api = Api(limited)
        responses = [api.get("limits") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 403]
    assert_same_shape(fixture("error_request_limit_exceeded"), responses[2].json())
    assert responses[2].json() == fixture("error_request_limit_exceeded")
