"""Salesforce objects as data: table names, describe → columns and types, CSV typing, the
resource → tables map for the CLI, resource selection and the quota guard's arithmetic."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import requests

from common.errors import ConfigError, RetriableAPIError
from connectors.salesforce import TABLES, configured_tables
from connectors.salesforce.bulk import parse_csv
from connectors.salesforce.describe import schema_from_describe
from connectors.salesforce.objects import BY_NAME, OBJECTS, parse_names, resolve, table_name
from connectors.salesforce.query import classifier, soql
from connectors.salesforce.quota import QuotaGuard, QuotaReserved, RequestLimitExceeded, parse_limit_info
from connectors.salesforce.source import select_resources


def test_table_names_follow_dlt_snake_case() -> None:
    assert [o.table for o in OBJECTS] == [
        "case",
        "case_comment",
        "case_history",
        "case_milestone",
        "case_article",
        "account",
        "contact",
        "user",
        "group",
        "opportunity",
        "knowledge_kav",
        "agent_work",
        "business_hours",
        "milestone_type",
    ]
    assert table_name("Tier__c") == "tier_c"
    assert TABLES["case"] == ("case",)
    assert TABLES["deleted_records"] == ("deleted_records",)


def test_history_objects_fall_back_to_created_date() -> None:
    history = schema_from_describe(
        BY_NAME["CaseHistory"],
        {"name": "CaseHistory", "fields": [{"name": "Id", "type": "id"}, {"name": "CreatedDate", "type": "datetime"}]},
    )
    assert history.cursor_field == "CreatedDate"
    case = schema_from_describe(
        BY_NAME["Case"],
        {
            "name": "Case",
            "fields": [
                {"name": "Id", "type": "id"},
                {"name": "LastModifiedDate", "type": "datetime"},
                {"name": "SystemModstamp", "type": "datetime"},
            ],
        },
    )
    assert case.cursor_field == "SystemModstamp"
    assert case.field_names[:2] == ["Id", "SystemModstamp"]


def test_describe_types_columns_and_exclusions() -> None:
    schema = schema_from_describe(
        BY_NAME["Account"],
        {
            "name": "Account",
            "replicateable": True,
            "fields": [
                {"name": "Id", "type": "id"},
                {"name": "SystemModstamp", "type": "datetime"},
                {"name": "IsDeleted", "type": "boolean"},
                {"name": "NumberOfEmployees", "type": "int"},
                {"name": "AnnualRevenue", "type": "currency"},
                {"name": "Share__c", "type": "percent"},
                {"name": "Since__c", "type": "date"},
                {"name": "Opens__c", "type": "time"},
                {"name": "BillingAddress", "type": "address"},
                {"name": "BillingCity", "type": "string", "compoundFieldName": "BillingAddress"},
                {"name": "Spot__c", "type": "location"},
                {"name": "Logo__c", "type": "base64"},
                {"name": "Tier__c", "type": "picklist"},
                {"name": "Tier_c", "type": "string"},
            ],
        },
    )
    kinds = {f.column: f.kind for f in schema.fields}
    assert kinds == {
        "id": "text",
        "system_modstamp": "timestamp",
        "is_deleted": "bool",
        "number_of_employees": "bigint",
        "annual_revenue": "double",
        "share_c": "double",
        "since_c": "date",
        "opens_c": "text",
        "billing_city": "text",
        "tier_c": "text",
        "tier_c_2": "text",  # folded into a taken name: kept under another one
    }
    assert set(schema.excluded) == {"BillingAddress", "Spot__c", "Logo__c"}
    assert schema.dlt_columns()["since_c"] == {"data_type": "date", "nullable": True}


def test_bulk_csv_typing_rejects_only_rows_that_do_not_fit() -> None:
    schema = schema_from_describe(
        BY_NAME["Account"],
        {
            "name": "Account",
            "fields": [
                {"name": "Id", "type": "id"},
                {"name": "SystemModstamp", "type": "datetime"},
                {"name": "NumberOfEmployees", "type": "int"},
            ],
        },
    )
    body = (
        b'"Id","SystemModstamp","NumberOfEmployees"\n'
        b'"001A","2024-01-01T00:00:00.000Z","12"\n'
        b'"001B","2024-01-02T00:00:00.000Z","many"\n'
        b'"","2024-01-03T00:00:00.000Z","3"\n'
    )
    table, rejected = parse_csv(body, schema)
    assert table.to_pylist() == [
        {"Id": "001A", "SystemModstamp": dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "NumberOfEmployees": 12}
    ]
    assert table.schema.field("NumberOfEmployees").type == pa.int64()
    many, no_id = rejected
    assert (many.record_id, many.payload["NumberOfEmployees"]) == ("001B", "many")
    assert many.problems.startswith("NumberOfEmployees: value 'many' does not fit bigint")
    assert (no_id.record_id, no_id.problems) == (None, "Id: the row has no value")
    assert no_id.payload["NumberOfEmployees"] == 3


def test_configured_tables_add_extra_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__SALESFORCE__EXTRA_OBJECTS", '["Tier__c", "Survey_Response__c"]')
    tables = configured_tables()
    assert tables["tier_c"] == ("tier_c",)
    assert tables["survey_response_c"] == ("survey_response_c",)
    assert "case" in tables
    monkeypatch.setenv("SOURCES__SALESFORCE__OBJECTS", "Case, Account")
    assert list(configured_tables()) == ["case", "account", "tier_c", "survey_response_c", "deleted_records"]


def test_names_from_configuration() -> None:
    assert parse_names("Case, Tier__c") == ["Case", "Tier__c"]
    assert parse_names('["Case"]') == ["Case"]
    assert parse_names(None) == []
    assert [o.name for o in resolve(["case", "Tier__c"])] == ["Case", "Tier__c"]  # declared objects win
    with pytest.raises(ValueError, match="both load table"):
        resolve(["Tier__c", "Tier_c"])


def test_resources_are_selected_by_resource_table_or_object_name() -> None:
    objects = resolve(None, ["Tier__c"])
    assert select_resources(objects, ["case", "Knowledge__kav", "TIER__C", "deleted_records"]) == {
        "case",
        "knowledge_kav",
        "tier_c",
        "deleted_records",
    }
    with pytest.raises(ConfigError, match="not a Salesforce resource"):
        select_resources(objects, ["tickets"])


def test_soql_shapes() -> None:
    assert soql(["Id"], "Case") == "SELECT Id FROM Case"
    assert (
        soql(["Id", "Name"], "Account", cursor="SystemModstamp", lower=dt.datetime(2024, 1, 2, 3, 4, 5, 999, dt.UTC))
        == "SELECT Id, Name FROM Account WHERE SystemModstamp >= 2024-01-02T03:04:05Z ORDER BY SystemModstamp, Id"
    )
    assert soql(["Id"], "Case", ids=["500000000000000001", "x'; DROP"], order=False) == (
        "SELECT Id FROM Case WHERE Id IN ('500000000000000001')"
    )


def test_quota_guard_budget_is_a_share_of_what_remained() -> None:
    guard = QuotaGuard(0.5)
    assert parse_limit_info("api-usage=18/5000; per-app-api-usage=17/250(appName=x)") == (18, 5000)

    def seen(used: int) -> None:
        response = requests.Response()
        response.headers["Sforce-Limit-Info"] = f"api-usage={used}/1000"
        guard.observe(response)

    seen(801)  # 800 used before this run: 200 remain, the run may spend 100
    assert guard.budget == 100
    seen(899)
    guard.check()  # 99 spent: one more request is allowed
    seen(900)
    with pytest.raises(QuotaReserved, match="budget of 100"):
        guard.check()


def _response(status: int, body: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.url = "https://acme.my.salesforce.com/services/data/v62.0/queryAll?q=x"
    return response


def test_request_limit_exceeded_is_a_quota_error_but_concurrency_limits_are_retried() -> None:
    classify = classifier("settings")
    daily = classify(
        _response(403, '[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]'), "sf.x"
    )
    assert isinstance(daily, RequestLimitExceeded)
    concurrent = classify(
        _response(
            403, '[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "ConcurrentPerOrgLongTxn Limit exceeded."}]'
        ),
        "sf.x",
    )
    assert isinstance(concurrent, RetriableAPIError)
    assert classify(_response(400, '[{"errorCode": "MALFORMED_QUERY", "message": "unexpected token"}]'), "sf.x") is None
