"""The Salesforce simulator, exercised over HTTP the way a client would use the real API."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulators.salesforce import SalesforceSimulator
from simulators.world import build_world, salesforce_id18

TOKEN_PATH = "/services/oauth2/token"


@pytest.fixture(scope="module")
def sim() -> Iterator[SalesforceSimulator]:
    """A shared org for tests that only read."""
    simulator = SalesforceSimulator(seed=5, n_cases=1200)
    with simulator.serve():
        yield simulator


@pytest.fixture
def fresh() -> Iterator[SalesforceSimulator]:
    """An org of its own, for tests that change data or limits."""
    simulator = SalesforceSimulator(seed=9, n_cases=600)
    with simulator.serve():
        yield simulator


class Api:
    """A minimal client: one token, JSON GETs, full query paging, Bulk jobs."""

    def __init__(self, sim: SalesforceSimulator) -> None:
        assert sim.base_url is not None
        self.sim = sim
        self.base = sim.base_url
        self.http = requests.Session()
        self.version = sim.api_version
        self.token = self.login()

    def close(self) -> None:
        self.http.close()

    def login(self) -> str:
        r = self.http.post(
            self.base + TOKEN_PATH,
            data={
                "grant_type": "client_credentials",
                "client_id": self.sim.client_id,
                "client_secret": self.sim.client_secret,
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def url(self, resource: str) -> str:
        return f"{self.base}/services/data/{self.version}/{resource.lstrip('/')}"

    def get(self, resource: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.get(self.url(resource), headers=headers, **kwargs)

    def query(self, soql: str, all_rows: bool = False, batch: int | None = None) -> list[dict[str, Any]]:
        headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else {}
        r = self.get("queryAll" if all_rows else "query", params={"q": soql}, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        records = list(page["records"])
        while not page["done"]:
            r = self.http.get(self.base + page["nextRecordsUrl"], headers={"Authorization": f"Bearer {self.token}"})
            assert r.status_code == 200, r.text
            page = r.json()
            records.extend(page["records"])
        for rec in records:
            rec.pop("attributes")
        return records

    def post(self, resource: str, payload: dict[str, Any]) -> requests.Response:
        return self.http.post(self.url(resource), json=payload, headers={"Authorization": f"Bearer {self.token}"})

    def bulk(self, soql: str, operation: str = "query", max_records: int = 500) -> tuple[list[str], list[list[str]]]:
        r = self.post("jobs/query", {"operation": operation, "query": soql})
        assert r.status_code == 200, r.text
        job = r.json()["id"]
        for _ in range(10):
            state = self.get(f"jobs/query/{job}").json()["state"]
            if state == "JobComplete":
                break
        header: list[str] = []
        rows: list[list[str]] = []
        locator = None
        while locator != "null":
            params: dict[str, Any] = {"maxRecords": max_records}
            if locator:
                params["locator"] = locator
            r = self.get(f"jobs/query/{job}/results", params=params)
            assert r.status_code == 200, r.text
            parsed = list(csv.reader(io.StringIO(r.text)))
            header = parsed[0]
            rows.extend(parsed[1:])
            assert int(r.headers["Sforce-NumberOfRecords"]) == len(parsed) - 1
            locator = r.headers["Sforce-Locator"]
        return header, rows


@pytest.fixture
def api(sim: SalesforceSimulator) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(private_pem: str, claims: dict[str, Any]) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    head = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64url(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64url(signature)}"


def _token(base: str, **form: str) -> requests.Response:
    return requests.post(base + TOKEN_PATH, data=form, timeout=10)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(api: Api, obj: str, compound: bool = True) -> list[str]:
    described = api.get(f"sobjects/{obj}/describe").json()["fields"]
    return [f["name"] for f in described if compound or f["type"] not in ("address", "location")]


# --------------------------------------------------------------------------- OAuth


def test_client_credentials_grant_and_wrong_secrets(sim: SalesforceSimulator) -> None:
    base = sim.base_url
    assert base
    r = _token(base, grant_type="client_credentials", client_id=sim.client_id, client_secret=sim.client_secret)
    assert r.status_code == 200
    body = r.json()
    assert body["instance_url"] == base
    assert body["token_type"] == "Bearer"
    assert body["id"].startswith(f"{base}/id/00D")
    assert body["issued_at"].isdigit()
    expected = hmac.new(sim.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
    assert base64.b64decode(body["signature"]) == expected.digest()
    # the client may authenticate with HTTP Basic instead of form fields
    basic = requests.post(
        base + TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    )
    assert basic.status_code == 200

    wrong = _token(base, grant_type="client_credentials", client_id=sim.client_id, client_secret="nope")
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}
    unknown = _token(base, grant_type="client_credentials", client_id="3MVGnope", client_secret=sim.client_secret)
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}
    unsupported = _token(base, grant_type="authorization_code", client_id=sim.client_id)
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_password_grant_needs_the_security_token(sim: SalesforceSimulator) -> None:
    base = sim.base_url
    assert base
    form = {"grant_type": "password", "client_id": sim.client_id, "client_secret": sim.client_secret}
    ok = _token(base, **form, username=sim.username, password=sim.password + sim.security_token)
    assert ok.status_code == 200
    assert ok.json()["instance_url"] == base
    without_token = _token(base, **form, username=sim.username, password=sim.password)
    assert without_token.status_code == 400
    assert without_token.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    wrong_user = _token(base, **form, username="someone@else.com", password=sim.password + sim.security_token)
    assert wrong_user.json()["error"] == "invalid_grant"


def test_refresh_token_grant(sim: SalesforceSimulator) -> None:
    base = sim.base_url
    assert base
    form = {"grant_type": "refresh_token", "client_id": sim.client_id, "client_secret": sim.client_secret}
    ok = _token(base, **form, refresh_token=sim.refresh_token)
    assert ok.status_code == 200
    assert "refresh_token" not in ok.json()
    bad = _token(base, **form, refresh_token="5Aep861stale")
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def test_jwt_bearer_grant_verifies_claims_and_signature(sim: SalesforceSimulator) -> None:
    base = sim.base_url
    assert base
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = {"iss": sim.client_id, "sub": sim.username, "aud": base, "exp": int(time.time()) + 180}

    ok = _token(base, grant_type=grant, assertion=_jwt(sim.private_key_pem, claims))
    assert ok.status_code == 200, ok.text
    assert ok.json()["instance_url"] == base
    login_host = _token(
        base, grant_type=grant, assertion=_jwt(sim.private_key_pem, {**claims, "aud": "https://login.salesforce.com"})
    )
    assert login_host.status_code == 200

    cases = {
        "audience is invalid": {**claims, "aud": "https://example.com"},
        "expired authorization code": {**claims, "exp": int(time.time()) - 10},
        "user hasn't approved this consumer": {**claims, "sub": "nobody@example.com"},
    }
    for description, bad_claims in cases.items():
        r = _token(base, grant_type=grant, assertion=_jwt(sim.private_key_pem, bad_claims))
        assert r.status_code == 400
        assert r.json() == {"error": "invalid_grant", "error_description": description}
    wrong_iss = _token(base, grant_type=grant, assertion=_jwt(sim.private_key_pem, {**claims, "iss": "3MVGother"}))
    assert wrong_iss.json()["error"] == "invalid_client_id"
    # a token whose payload was changed after signing
    head, _, signature = _jwt(sim.private_key_pem, claims).split(".")
    forged = _b64url(json.dumps({**claims, "sub": sim.username.upper()}).encode())
    r = _token(base, grant_type=grant, assertion=f"{head}.{forged}.{signature}")
    assert r.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_expired_tokens_get_invalid_session_id(fresh: SalesforceSimulator) -> None:
    api = Api(fresh)
    try:
        assert api.get("limits").status_code == 200
        fresh.expire_tokens()
        r = api.get("query", params={"q": "SELECT Id FROM Account"})
        assert r.status_code == 401
        assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        api.token = api.login()
        assert api.get("query", params={"q": "SELECT Id FROM Account LIMIT 1"}).status_code == 200
    finally:
        api.close()


# --------------------------------------------------------------------------- describe


def test_describe_global_and_objects(api: Api) -> None:
    r = api.get("sobjects")
    assert r.status_code == 200
    names = {o["name"]: o for o in r.json()["sobjects"]}
    for name in (
        "Account",
        "Contact",
        "User",
        "Group",
        "Case",
        "CaseComment",
        "CaseHistory",
        "CaseMilestone",
        "CaseArticle",
        "Knowledge__kav",
        "Opportunity",
        "AgentWork",
        "BusinessHours",
        "Support_Escalation__c",
    ):
        assert name in names
    assert names["Support_Escalation__c"]["custom"] is True
    assert names["Case"]["keyPrefix"] == "500"

    types: set[str] = set()
    for name in names:
        described = api.get(f"sobjects/{name}/describe").json()
        assert described["name"] == name
        fields = {f["name"]: f for f in described["fields"]}
        types |= {f["type"] for f in fields.values()}
        for f in fields.values():
            assert {"name", "type", "label", "custom", "nillable", "compoundFieldName", "referenceTo"} <= set(f)
    assert {
        "id",
        "string",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "picklist",
        "reference",
        "textarea",
        "email",
        "phone",
        "url",
        "address",
        "location",
    } <= types

    account = {f["name"]: f for f in api.get("sobjects/Account/describe").json()["fields"]}
    assert account["BillingAddress"]["type"] == "address"
    assert account["BillingCity"]["compoundFieldName"] == "BillingAddress"
    assert account["HQ_Location__c"]["type"] == "location"
    assert account["HQ_Location__Latitude__s"]["compoundFieldName"] == "HQ_Location__c"
    assert account["Segment__c"]["custom"] is True
    assert account["Name"]["custom"] is False
    case = {f["name"]: f for f in api.get("sobjects/Case/describe").json()["fields"]}
    assert case["OwnerId"]["referenceTo"] == ["Group", "User"]
    assert {v["value"] for v in case["Origin"]["picklistValues"]} >= {"Phone", "Email", "Web", "Chat", "Social"}
    assert "Tier__c" in case
    assert "Product_Area__c" in case
    history = {f["name"] for f in api.get("sobjects/CaseHistory/describe").json()["fields"]}
    assert "CreatedDate" in history
    assert "SystemModstamp" not in history
    assert "LastModifiedDate" not in history

    missing = api.get("sobjects/Nope__c/describe")
    assert missing.status_code == 404
    assert missing.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


# --------------------------------------------------------------------------- query


def test_query_paging_sees_every_record_once(api: Api, sim: SalesforceSimulator) -> None:
    live = [r["Id"] for r in sim.records("CaseComment") if not r["IsDeleted"]]
    r = api.get("query", params={"q": "SELECT Id FROM CaseComment"}, headers={"Sforce-Query-Options": "batchSize=500"})
    first = r.json()
    assert first["totalSize"] == len(live)
    assert first["done"] is False
    assert len(first["records"]) == 500
    assert first["nextRecordsUrl"].startswith(f"/services/data/{sim.api_version}/query/01g")
    assert first["nextRecordsUrl"].endswith("-500")
    assert first["records"][0]["attributes"]["type"] == "CaseComment"

    ids = [rec["Id"] for rec in api.query("SELECT Id FROM CaseComment", batch=500)]
    assert len(ids) == len(set(ids)) == len(live)
    assert set(ids) == set(live)
    default_pages = api.query("SELECT Id, ParentId FROM CaseComment")
    assert len(default_pages) == len(live)
    everything = api.query("SELECT Id FROM CaseComment", all_rows=True, batch=2000)
    assert len(everything) == len(sim.records("CaseComment"))


def test_where_order_by_limit_and_count(api: Api, sim: SalesforceSimulator) -> None:
    cases = [r for r in sim.records("Case") if not r["IsDeleted"]]
    stamps = sorted(r["SystemModstamp"] for r in cases)
    cutoff = stamps[len(stamps) // 2]
    literal = cutoff.replace(".000+0000", "Z")
    want = sorted(
        ((r["SystemModstamp"], r["Id"]) for r in cases if r["SystemModstamp"] >= cutoff), key=lambda p: (p[0], p[1])
    )
    got = api.query(
        f"SELECT Id, SystemModstamp FROM Case WHERE SystemModstamp >= {literal} ORDER BY SystemModstamp, Id"
    )
    assert [(r["SystemModstamp"], r["Id"]) for r in got] == want
    count = api.get("query", params={"q": f"SELECT COUNT() FROM Case WHERE SystemModstamp >= {literal}"}).json()
    assert count == {"totalSize": len(want), "done": True, "records": []}

    # the connector's tie-break: strictly later, or the same instant and a greater Id
    stamp, rid = want[len(want) // 2]
    tie = stamp.replace(".000+0000", ".000+00:00")
    after = api.query(
        "SELECT Id FROM Case WHERE (SystemModstamp > "
        f"{tie} OR (SystemModstamp = {tie} AND Id > '{rid}')) ORDER BY SystemModstamp, Id"
    )
    assert [r["Id"] for r in after] == [p[1] for p in want if p > (stamp, rid)]

    newest = api.query("SELECT Id, CreatedDate FROM Case ORDER BY CreatedDate DESC, Id LIMIT 7")
    assert len(newest) == 7
    assert [r["CreatedDate"] for r in newest] == sorted((r["CreatedDate"] for r in cases), reverse=True)[:7]

    phone_or_email = api.query("SELECT Id, Origin FROM Case WHERE Origin IN ('phone', 'EMAIL')")
    assert len(phone_or_email) == sum(r["Origin"] in ("Phone", "Email") for r in cases)
    onboarding = api.query("SELECT Id FROM Case WHERE Subject LIKE 'onboarding:%' AND Type = 'Onboarding'")
    assert len(onboarding) == sum(r["Type"] == "Onboarding" for r in cases) > 0
    open_cases = api.query("SELECT Id FROM Case WHERE NOT (IsClosed = true)")
    assert len(open_cases) == sum(not r["IsClosed"] for r in cases)
    no_csat = api.query("SELECT Id FROM Case WHERE CSAT_Score__c = null")
    rated = api.query("SELECT Id FROM Case WHERE CSAT_Score__c != null AND CSAT_Score__c >= 4")
    assert len(no_csat) == sum(r["CSAT_Score__c"] is None for r in cases)
    assert len(rated) == sum((r["CSAT_Score__c"] or 0) >= 4 for r in cases)
    day = cases[0]["CreatedDate"][:10]
    won = api.query(f"SELECT Id, CloseDate FROM Opportunity WHERE IsWon = true AND CloseDate >= {day}")
    assert all(r["CloseDate"] >= day for r in won)


def test_soql_errors_are_salesforce_errors(api: Api) -> None:
    def error(q: str) -> dict[str, str]:
        r = api.get("query", params={"q": q})
        assert r.status_code == 400, r.text
        body = r.json()
        assert isinstance(body, list)
        assert set(body[0]) == {"message", "errorCode"}
        return dict(body[0])

    assert error("SELECT Id, Nope__c FROM Case")["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on entity 'Case'" in error("SELECT Id, Nope__c FROM Case")["message"]
    assert error("SELECT Id FROM Nope__c")["errorCode"] == "INVALID_TYPE"
    assert error("SELECT * FROM Case")["errorCode"] == "MALFORMED_QUERY"
    assert (
        error("SELECT Id FROM Case WHERE IsClosed = true AND Origin = 'Phone' OR Priority = 'High'")["errorCode"]
        == "MALFORMED_QUERY"
    )
    quoted = error("SELECT Id FROM Case WHERE SystemModstamp >= '2024-01-01T00:00:00Z'")
    assert quoted["errorCode"] == "INVALID_FIELD"
    assert "must be of type dateTime and should not be enclosed in quotes" in quoted["message"]
    assert error("SELECT Id, Account.Name FROM Case")["errorCode"] == "INVALID_FIELD"
    assert error("SELECT Id FROM CaseComment WHERE CommentBody = 'x'")["errorCode"] == "INVALID_FIELD"
    assert error("SELECT Id FROM Case GROUP BY Origin")["errorCode"] == "MALFORMED_QUERY"
    assert api.get("query").json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_query_hides_soft_deleted_rows_and_query_all_shows_them(api: Api, sim: SalesforceSimulator) -> None:
    recycled = {r["Id"]: r for r in sim.records("Case") if r["IsDeleted"]}
    assert recycled, "the org starts with cases in the recycle bin"
    assert api.query("SELECT Id FROM Case WHERE IsDeleted = true") == []
    rows = api.query("SELECT Id, IsDeleted, MasterRecordId FROM Case WHERE IsDeleted = true", all_rows=True)
    assert {r["Id"] for r in rows} == set(recycled)
    assert any(r["MasterRecordId"] for r in rows), "merged cases point at their master record"
    # their comments went to the recycle bin with them
    comments = api.query("SELECT Id, ParentId FROM CaseComment WHERE IsDeleted = true", all_rows=True)
    assert {c["ParentId"] for c in comments} <= set(recycled) | {r["Id"] for r in sim.records("Case")}
    total = len(api.query("SELECT Id FROM Case", all_rows=True))
    assert total == len(sim.records("Case"))
    purged = sim.deleted("Case")
    assert purged
    assert not set(purged) & {r["Id"] for r in api.query("SELECT Id FROM Case", all_rows=True)}


def test_rest_records_match_the_simulators_records(api: Api, sim: SalesforceSimulator) -> None:
    for obj in (
        "Account",
        "Contact",
        "User",
        "Group",
        "BusinessHours",
        "Knowledge__kav",
        "Opportunity",
        "Support_Escalation__c",
        "CaseMilestone",
        "CaseHistory",
    ):
        fields = _fields(api, obj)
        got = {r["Id"]: r for r in api.query(f"SELECT {', '.join(fields)} FROM {obj}", all_rows=True)}
        want = {r["Id"]: r for r in sim.records(obj)}
        assert got == want, obj
    one = sim.records("Case")[3]
    r = api.get(f"sobjects/Case/{one['Id']}")
    assert r.status_code == 200
    assert {k: v for k, v in r.json().items() if k != "attributes"} == one
    assert api.get(f"sobjects/Case/{one['Id']}", params={"fields": "Id,Status"}).json()["Status"] == one["Status"]


# --------------------------------------------------------------------------- Bulk API 2.0


def test_bulk_job_lifecycle_and_csv_pages(api: Api, sim: SalesforceSimulator) -> None:
    soql = "SELECT Id, CaseNumber, Subject, IsDeleted, IsClosed, ClosedDate, CreatedDate, CSAT_Score__c FROM Case"
    created = api.post("jobs/query", {"operation": "queryAll", "query": soql})
    assert created.status_code == 200
    job = created.json()
    assert job["state"] == "UploadComplete"
    assert job["object"] == "Case"
    assert job["operation"] == "queryAll"
    assert job["contentType"] == "CSV"
    early = api.get(f"jobs/query/{job['id']}/results")
    assert early.status_code == 400
    states = [api.get(f"jobs/query/{job['id']}").json()["state"] for _ in range(3)]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    info = api.get(f"jobs/query/{job['id']}").json()
    assert info["numberRecordsProcessed"] == len(sim.records("Case"))

    first = api.get(f"jobs/query/{job['id']}/results", params={"maxRecords": 400})
    assert first.headers["Content-Type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "400"
    assert first.headers["Sforce-Locator"] not in ("", "null")
    assert first.text.startswith('"Id","CaseNumber","Subject"')

    header, rows = api.bulk(soql, operation="queryAll", max_records=400)
    assert header == [
        "Id",
        "CaseNumber",
        "Subject",
        "IsDeleted",
        "IsClosed",
        "ClosedDate",
        "CreatedDate",
        "CSAT_Score__c",
    ]
    want = {r["Id"]: r for r in sim.records("Case")}
    assert len(rows) == len(want) == len({row[0] for row in rows})
    for row in rows:
        rec = dict(zip(header, row, strict=True))
        expected = want[rec["Id"]]
        assert rec["IsDeleted"] == ("true" if expected["IsDeleted"] else "false")
        assert rec["CreatedDate"] == expected["CreatedDate"].replace("+0000", "Z")
        assert rec["ClosedDate"] == (expected["ClosedDate"] or "").replace("+0000", "Z")
        assert rec["CSAT_Score__c"] == ("" if expected["CSAT_Score__c"] is None else str(expected["CSAT_Score__c"]))
    _, live_rows = api.bulk("SELECT Id FROM Case", max_records=5000)
    assert len(live_rows) == sum(not r["IsDeleted"] for r in want.values())


def test_bulk_rejects_what_bulk_cannot_serve_and_jobs_can_fail(api: Api, sim: SalesforceSimulator) -> None:
    compound = api.post("jobs/query", {"operation": "query", "query": "SELECT Id, BillingAddress FROM Account"})
    assert compound.status_code == 400
    assert compound.json() == [
        {"message": "Selecting compound data not supported in Bulk Query", "errorCode": "API_ERROR"}
    ]
    components = api.post("jobs/query", {"operation": "query", "query": "SELECT Id, BillingCity FROM Account"})
    assert components.status_code == 200
    knowledge = api.post("jobs/query", {"operation": "query", "query": "SELECT Id FROM Knowledge__kav"})
    assert knowledge.status_code == 400
    assert knowledge.json()[0]["errorCode"] == "INVALIDENTITY"
    assert api.post("jobs/query", {"operation": "query", "query": "SELECT COUNT() FROM Case"}).status_code == 400
    bad_field = api.post("jobs/query", {"operation": "query", "query": "SELECT Nope__c FROM Case"})
    assert bad_field.json()[0]["errorCode"] == "INVALID_FIELD"

    sim.fail_bulk_jobs("Opportunity", message="InternalServerError: simulated failure")
    job = api.post("jobs/query", {"operation": "query", "query": "SELECT Id FROM Opportunity"}).json()
    for _ in range(3):
        info = api.get(f"jobs/query/{job['id']}").json()
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InternalServerError: simulated failure"
    assert api.get(f"jobs/query/{job['id']}/results").status_code == 400
    again = api.bulk("SELECT Id FROM Opportunity")[1]
    assert len(again) == sum(not r["IsDeleted"] for r in sim.records("Opportunity"))
    assert sim.stats.bulk_jobs_failed >= 1


# --------------------------------------------------------------------------- deletes and mutation


def test_deleted_endpoint_lists_hard_deletes(fresh: SalesforceSimulator) -> None:
    api = Api(fresh)
    try:
        start = fresh.now - timedelta(days=14)
        before = set(fresh.deleted("Case"))
        changes = fresh.mutate(seed=3)
        assert changes["Case.purged"] >= 1
        assert changes["Case.recycled"] >= 1
        purged = set(fresh.deleted("Case"))
        assert purged > before
        end = fresh.now + timedelta(minutes=1)
        r = api.get("sobjects/Case/deleted/", params={"start": _iso(start), "end": _iso(end)})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
        listed = {d["id"] for d in body["deletedRecords"]}
        recycled = {rec["Id"] for rec in fresh.records("Case") if rec["IsDeleted"]}
        assert purged <= listed, "purged records are in the delete log"
        assert recycled <= listed, "records in the recycle bin are in the delete log too"
        assert all(d["deletedDate"].endswith(".000+0000") for d in body["deletedRecords"])
        in_query_all = {rec["Id"] for rec in api.query("SELECT Id FROM Case", all_rows=True)}
        assert not purged & in_query_all
        assert recycled <= in_query_all

        comments = api.get("sobjects/CaseComment/deleted", params={"start": _iso(start), "end": _iso(end)}).json()
        assert set(fresh.deleted("CaseComment")) <= {d["id"] for d in comments["deletedRecords"]}

        backwards = api.get("sobjects/Case/deleted", params={"start": _iso(end), "end": _iso(start)})
        assert backwards.status_code == 400
        assert backwards.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
        too_old = api.get("sobjects/Case/deleted", params={"start": _iso(end - timedelta(days=45)), "end": _iso(end)})
        assert too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    finally:
        api.close()


def test_mutate_changes_queries_and_records_agree(fresh: SalesforceSimulator) -> None:
    api = Api(fresh)
    try:
        objects = [o["name"] for o in api.get("sobjects").json()["sobjects"]]
        cursor_field = {"CaseHistory": "CreatedDate"}
        fields = {obj: _fields(api, obj) for obj in objects}
        warehouse: dict[str, dict[str, dict[str, Any]]] = {}
        marks: dict[str, str] = {}
        for obj in objects:
            rows = api.query(f"SELECT {', '.join(fields[obj])} FROM {obj}", all_rows=True)
            warehouse[obj] = {r["Id"]: r for r in rows}
            assert warehouse[obj] == {r["Id"]: r for r in fresh.records(obj)}, obj
            marks[obj] = max(r[cursor_field.get(obj, "SystemModstamp")] for r in rows)
        before = {obj: dict(rows) for obj, rows in warehouse.items()}
        sync_started = fresh.now - timedelta(minutes=1)

        changes = fresh.mutate(seed=1)
        assert changes["Case.updated"] > 0
        assert changes["Case.inserted"] > 0
        assert changes["CaseComment.inserted"] > 0

        changed_stamps: Counter[str] = Counter()
        for obj in objects:
            field = cursor_field.get(obj, "SystemModstamp")
            since = datetime.strptime(marks[obj], "%Y-%m-%dT%H:%M:%S.%f%z") - timedelta(minutes=10)
            rows = api.query(
                f"SELECT {', '.join(fields[obj])} FROM {obj} WHERE {field} >= {_iso(since)} ORDER BY {field}, Id",
                all_rows=True,
            )
            for r in rows:
                if r != before[obj].get(r["Id"]) and field == "SystemModstamp":
                    changed_stamps[r[field]] += 1
                warehouse[obj][r["Id"]] = r
            end = fresh.now + timedelta(minutes=1)
            gone = api.get(f"sobjects/{obj}/deleted", params={"start": _iso(sync_started), "end": _iso(end)}).json()
            live = {r["Id"] for r in api.query(f"SELECT Id FROM {obj}", all_rows=True)}
            for d in gone["deletedRecords"]:
                if d["id"] not in live:  # purged: gone from queryAll too
                    warehouse[obj].pop(d["id"], None)
            # A record that was already in the recycle bin (so loaded with IsDeleted = true) and is purged
            # later stays in the delete log at its first deletion date: its row keeps IsDeleted = true.
            leftovers = set(fresh.deleted(obj)) & set(warehouse[obj])
            assert all(warehouse[obj][rid]["IsDeleted"] for rid in leftovers), obj
            kept = {rid: r for rid, r in warehouse[obj].items() if rid not in leftovers}
            assert kept == {r["Id"]: r for r in fresh.records(obj)}, obj

        assert max(changed_stamps.values()) > 1, "several records share one SystemModstamp"
        automated = [
            rid
            for obj in ("Case", "Account", "CaseMilestone")
            for rid, r in warehouse[obj].items()
            if rid in before[obj]
            and r["SystemModstamp"] != before[obj][rid]["SystemModstamp"]
            and r["LastModifiedDate"] == before[obj][rid]["LastModifiedDate"]
        ]
        assert automated, "automation moves SystemModstamp without touching LastModifiedDate"
        statuses = {
            (before["Case"][rid]["Status"], r["Status"])
            for rid, r in warehouse["Case"].items()
            if rid in before["Case"] and before["Case"][rid]["Status"] != r["Status"]
        }
        assert statuses, "some cases moved on in their lifecycle"
    finally:
        api.close()


# --------------------------------------------------------------------------- limits and faults


def test_limit_info_header_counts_requests_and_the_limit_is_enforced(fresh: SalesforceSimulator) -> None:
    api = Api(fresh)
    try:
        first = api.get("limits")
        n, m = first.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
        assert int(m) == fresh.daily_limit
        assert first.json()["DailyApiRequests"] == {"Max": int(m), "Remaining": int(m) - int(n)}
        api.login()  # token requests do not count
        second = api.get("sobjects")
        assert second.headers["Sforce-Limit-Info"] == f"api-usage={int(n) + 1}/{m}"
        assert fresh.stats.api_usage == int(n) + 1

        fresh.daily_limit = fresh.api_usage + 1
        assert api.get("limits").status_code == 200
        blocked = api.get("query", params={"q": "SELECT Id FROM Case"})
        assert blocked.status_code == 403
        assert blocked.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        assert blocked.headers["Sforce-Limit-Info"].startswith("api-usage=")
        assert fresh.stats.limit_exceeded == 1
    finally:
        api.close()


def test_a_request_uri_past_the_limit_gets_414(api: Api, sim: SalesforceSimulator) -> None:
    usage = sim.api_usage
    ids = ", ".join(f"'{r['Id']}'" for r in sim.records("Case")[:1000])
    r = api.get("query", params={"q": f"SELECT Id FROM Case WHERE Id IN ({ids})"})
    assert r.status_code == 414
    assert "URI Too Long" in r.text
    assert sim.api_usage == usage, "the load balancer answers; the API call is not counted"
    short = api.get("query", params={"q": f"SELECT Id FROM Case WHERE Id IN ({ids[:2000].rsplit(',', 1)[0]})"})
    assert short.status_code == 200


def test_injected_faults_query_timeouts_and_rate_limits(fresh: SalesforceSimulator) -> None:
    api = Api(fresh)
    try:
        fresh.inject(fresh.data_path("query"), ["503", "drop", 429, "truncate"])
        unavailable = api.get("query", params={"q": "SELECT Id FROM Account"})
        assert unavailable.status_code == 503
        with pytest.raises(requests.ConnectionError):
            api.get("query", params={"q": "SELECT Id FROM Account"})
        limited = api.get("query", params={"q": "SELECT Id FROM Account"})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == str(fresh.retry_after)
        with pytest.raises(requests.RequestException):
            api.get("query", params={"q": "SELECT Id FROM Account"}).json()
        assert api.get("query", params={"q": "SELECT Id FROM Account"}).status_code == 200
        assert fresh.stats.faults == Counter({"503": 1, "drop": 1, "429": 1, "truncate": 1})
        assert fresh.stats.rate_limited == 1

        fresh.fail_queries("Case")
        assert api.get("query", params={"q": "SELECT Id FROM Account"}).status_code == 200
        timeout = api.get("query", params={"q": "SELECT Id FROM Case"})
        assert timeout.status_code == 400
        assert timeout.json() == [
            {"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}
        ]
        assert api.get("query", params={"q": "SELECT Id FROM Case"}).status_code == 200
        with pytest.raises(ValueError, match="unknown fault"):
            fresh.inject("/", ["explode"])
    finally:
        api.close()


# --------------------------------------------------------------------------- the data


def test_data_is_the_shared_world(sim: SalesforceSimulator) -> None:
    world = build_world(5)
    accounts = {r["Id"]: r for r in sim.records("Account")}
    assert set(accounts) == {a.salesforce_id for a in world.accounts}
    for a in world.accounts[:20]:
        assert accounts[a.salesforce_id]["Name"] == a.name
        assert accounts[a.salesforce_id]["Website"].endswith(a.domain)
        assert accounts[a.salesforce_id]["Segment__c"] == a.segment
    users = {r["Email"]: r for r in sim.records("User")}
    for agent in world.agents:
        assert users[agent.email]["Tier__c"] == f"Tier {agent.tier}"
    assert {c.email for c in world.customers} == {r["Email"] for r in sim.records("Contact")}
    assert {"Tier 1 Support", "Tier 2 Support", "Tier 3 Support"} <= {r["Name"] for r in sim.records("Group")}
    links = [r["CommentBody"] for r in sim.records("CaseComment") if "atlassian.net/wiki" in r["CommentBody"]]
    assert links, "comments link Confluence articles"
    assert any(r["Source_URL__c"].startswith("https://acme.atlassian.net/wiki") for r in sim.records("Knowledge__kav"))


def test_cases_spread_like_the_support_organisation(sim: SalesforceSimulator) -> None:
    cases = sim.records("Case")
    origins = Counter(r["Origin"] for r in cases)
    assert 0.5 < origins["Phone"] / len(cases) < 0.7
    assert 0.2 < (origins["Email"] + origins["Chat"] + origins["Web"]) / len(cases) < 0.4
    assert 0.02 < origins["Social"] / len(cases) < 0.09
    assert {r["Tier__c"] for r in cases} == {"Tier 1", "Tier 2", "Tier 3"}
    assert any(r["IsClosedOnCreate"] for r in cases)
    assert any(not r["IsClosed"] for r in cases)
    assert all(r["ClosedDate"] for r in cases if r["IsClosed"])
    milestones = sim.records("CaseMilestone")
    assert any(m["IsViolated"] for m in milestones)
    assert any(m["IsCompleted"] for m in milestones)
    assert {r["Name"] for r in sim.records("MilestoneType")} == {"First Response", "Resolution Time"}
    fields = Counter(r["Field"] for r in sim.records("CaseHistory"))
    assert fields["Status"]
    assert fields["Owner"]
    assert fields["created"]
    opportunities = sim.records("Opportunity")
    assert {r["Type"] for r in opportunities} == {"New Business", "Renewal", "Expansion"}
    assert {"Closed Won", "Closed Lost"} <= {r["StageName"] for r in opportunities}
    assert all(w["HandleTime"] > 0 and w["WorkItemId"].startswith("500") for w in sim.records("AgentWork"))
    assert sim.records("CaseArticle")
    assert sim.records("Support_Escalation__c")
    for obj in sim.objects:
        for r in sim.records(obj)[:50]:
            assert len(r["Id"]) == 18
            assert salesforce_id18(r["Id"][:15]) == r["Id"]


def test_same_seed_and_clock_give_the_same_org() -> None:
    now = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
    a = SalesforceSimulator(seed=2, n_cases=300, now=now)
    b = SalesforceSimulator(seed=2, n_cases=300, now=now)
    for obj in ("Case", "CaseComment", "Opportunity"):
        assert a.records(obj) == b.records(obj)
    assert a.mutate(seed=4) == b.mutate(seed=4)
    assert a.now == now + timedelta(hours=1)
    assert a.records("Case") == b.records("Case")
    assert a.deleted("Case") == b.deleted("Case")
    with pytest.raises(ValueError, match="unknown object"):
        a.records("Nope")


def test_objects_the_user_cannot_see_and_api_versions() -> None:
    simulator = SalesforceSimulator(seed=3, n_cases=100, hidden_objects=("AgentWork",), api_version="v61.0")
    with simulator.serve():
        api = Api(simulator)
        try:
            names = {o["name"] for o in api.get("sobjects").json()["sobjects"]}
            assert "AgentWork" not in names
            assert "Case" in names
            assert api.get("sobjects/AgentWork/describe").status_code == 404
            hidden = api.get("query", params={"q": "SELECT Id FROM AgentWork"})
            assert hidden.status_code == 400
            assert hidden.json()[0]["errorCode"] == "INVALID_TYPE"
            versions = api.http.get(f"{api.base}/services/data", timeout=10).json()
            assert versions[-1] == {"label": versions[-1]["label"], "url": "/services/data/v61.0", "version": "61.0"}
            api.version = "v58.0"
            assert api.get("limits").status_code == 200
            api.version = "v62.0"
            newer = api.get("limits")
            assert newer.status_code == 404
            assert newer.json()[0]["errorCode"] == "NOT_FOUND"
            api.version = "v61.0"
            case = simulator.records("Case")[0]
            assert api.get(f"sobjects/Case/{case['Id'][:15]}").json()["Id"] == case["Id"]
            assert api.get("sobjects/Case/500Hs0000000zzzIAA").status_code == 404
        finally:
            api.close()
