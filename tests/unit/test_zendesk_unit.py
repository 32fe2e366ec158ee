"""The Zendesk source end to end on `responses`, into a temporary DuckDB through a dlt pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import dlt
import pytest
import responses
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.extract.exceptions import ResourceExtractionError
from dlt.pipeline.exceptions import PipelineStepFailed
from responses import matchers

from common.dates import epoch, parse_start_date
from common.errors import AuthError, ConfigError, NotAvailableError
from connectors.stats import STATS
from connectors.zendesk import zendesk_source
from connectors.zendesk.endpoints import _metric_sets_missing, _tickets_and_metrics
from connectors.zendesk.source import START_DATE, resolve_base_url

E = TypeVar("E", bound=BaseException)

BASE = "https://acme.zendesk.com"
TICKETS = f"{BASE}/api/v2/incremental/tickets/cursor.json"
FIELDS = f"{BASE}/api/v2/ticket_fields.json"
CALLS = f"{BASE}/api/v2/channels/voice/stats/incremental/calls.json"
GROUPS = f"{BASE}/api/v2/groups.json"


@pytest.fixture(autouse=True)
def zendesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "CREDENTIALS__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", BASE)
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", "agent@acme.com")
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", "zd-unit-token-0a1b2c")
    # The source's client sleeps for real: one attempt, so an unmatched request fails at once.
    monkeypatch.setenv("SOURCES__ZENDESK__MAX_ATTEMPTS", "1")
    STATS.reset()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """First-match registry: resources may interleave, so each page is told apart by its query."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def pipeline(tmp_path: Path, name: str = "zendesk_unit") -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "x.duckdb")),
        dataset_name="zendesk",
    )


def rows(p: dlt.Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with p.sql_client() as client:
        return [tuple(r) for r in client.execute_sql(sql)]


def columns(p: dlt.Pipeline, table: str) -> dict[str, str]:
    found = rows(
        p,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = 'zendesk' and table_name = '{table}'",
    )
    return {name: typ for name, typ in found}


def find_cause(exc: BaseException, kind: type[E]) -> E:
    """The first ``kind`` in the chain of causes of an error dlt wrapped."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    raise AssertionError(f"no {kind.__name__} among the causes of {exc!r}")


def query(**params: Any) -> list[Any]:
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()})]


def ticket(i: int, subject: str = "", updated: str = "2024-02-01T10:00:00Z", **extra: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": i,
        "created_at": "2024-01-15T08:30:00Z",
        "updated_at": updated,
        "status": "open",
        "subject": subject or f"ticket {i}",
        "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
        "tags": ["vip", "billing"],
        "custom_fields": [{"id": 360001, "value": "billing"}, {"id": 360002, "value": True}],
        "fields": [{"id": 360001, "value": "billing"}, {"id": 360002, "value": True}],
    }
    t.update(extra)
    return t


def add_ticket_fields(mock: responses.RequestsMock) -> None:
    mock.get(
        FIELDS,
        json={
            "ticket_fields": [
                {"id": 1, "type": "subject", "title": "Subject", "removable": False},
                {"id": 360001, "type": "tagger", "title": "Product Area", "removable": True},
                {"id": 360002, "type": "checkbox", "title": "Escalated?", "removable": True},
                {"id": 360003, "type": "decimal", "title": "Hours spent", "removable": True},
                {"id": 360004, "type": "text", "title": "Product area", "removable": True},
            ],
            "meta": {"has_more": False, "after_cursor": None},
            "links": {"next": None},
        },
        match=query(**{"page[size]": 100}),
    )


def add_two_export_pages(
    mock: responses.RequestsMock, page1: list[dict[str, Any]], page2: list[dict[str, Any]], start_time: int = 0
) -> None:
    mock.get(
        TICKETS,
        json={
            "tickets": page1,
            "metric_sets": [{"id": 9000 + t["id"], "ticket_id": t["id"], "replies": 1} for t in page1],
            "after_cursor": "cur-1",
            "after_url": f"{TICKETS}?cursor=cur-1&include=metric_sets&per_page=1000",
            "before_cursor": None,
            "end_of_stream": False,
        },
        match=query(include="metric_sets", per_page=1000, start_time=start_time),
    )
    mock.get(
        TICKETS,
        json={
            "tickets": page2,
            "metric_sets": [{"id": 9000 + t["id"], "ticket_id": t["id"], "replies": 2} for t in page2],
            "after_cursor": "cur-2",
            "after_url": f"{TICKETS}?cursor=cur-2&include=metric_sets&per_page=1000",
            "end_of_stream": True,
        },
        match=query(include="metric_sets", per_page=1000, cursor="cur-1"),
    )


# -- tickets ------------------------------------------------------------------------------------


def test_tickets_over_two_export_pages_with_side_loaded_metric_sets(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    add_ticket_fields(mock)
    add_two_export_pages(mock, [ticket(1), ticket(2)], [ticket(3)])
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    # The field lookup, then exactly two export requests (matchers checked their parameters).
    assert [c.request.url.split("?")[0] for c in mock.calls] == [FIELDS, TICKETS, TICKETS]
    assert all(c.request.headers["Authorization"].startswith("Basic ") for c in mock.calls)
    assert rows(p, "select id, status, subject, via__channel, tags from tickets order by id") == [
        (1, "open", "ticket 1", "email", '["vip","billing"]'),
        (2, "open", "ticket 2", "email", '["vip","billing"]'),
        (3, "open", "ticket 3", "email", '["vip","billing"]'),
    ]
    assert rows(p, "select id, ticket_id, replies from ticket_metrics order by id") == [
        (9001, 1, 1),
        (9002, 2, 1),
        (9003, 3, 2),
    ]
    assert columns(p, "tickets")["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert p.state["sources"]["zendesk"]["resources"]["tickets"]["cursor"] == "cur-2"
    stats = STATS.get("zendesk", "tickets")
    assert (stats.requests, stats.pages, stats.records) == (2, 2, 3)  # 3 tickets
    assert STATS.get("zendesk", "ticket_metrics").records == 3  # the metric sets, under their own table


def test_the_same_ticket_on_two_pages_keeps_the_later_version(mock: responses.RequestsMock, tmp_path: Path) -> None:
    add_ticket_fields(mock)
    add_two_export_pages(
        mock,
        [ticket(1, "first version", "2024-02-01T10:00:00Z"), ticket(2)],
        [ticket(1, "second version", "2024-02-03T12:00:00Z", status="solved")],
    )
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(p, "select id, subject, status, cast(updated_at as varchar) from tickets order by id") == [
        (1, "second version", "solved", "2024-02-03 12:00:00+00"),
        (2, "ticket 2", "open", "2024-02-01 10:00:00+00"),
    ]
    assert rows(p, "select id, replies from ticket_metrics order by id") == [(9001, 2), (9002, 1)]


def test_custom_fields_are_pivoted_into_typed_columns(mock: responses.RequestsMock, tmp_path: Path) -> None:
    add_ticket_fields(mock)
    add_two_export_pages(
        mock,
        [
            ticket(
                1,
                custom_fields=[
                    {"id": 360001, "value": "billing"},
                    {"id": 360002, "value": True},
                    {"id": 360003, "value": 1.5},
                    {"id": 360004, "value": "Widgets"},
                    {"id": 999999, "value": "a field deleted since"},
                ],
            )
        ],
        [ticket(2, custom_fields=[{"id": 360002, "value": False}])],
    )
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(
        p,
        "select id, custom_product_area, custom_escalated, custom_hours_spent, custom_product_area_360004 "
        "from tickets order by id",
    ) == [(1, "billing", True, 1.5, "Widgets"), (2, None, False, None, None)]
    cols = columns(p, "tickets")
    assert cols["custom_product_area"] == "VARCHAR"
    assert cols["custom_escalated"] == "BOOLEAN"
    assert cols["custom_hours_spent"] == "DOUBLE"
    assert "custom_subject" not in cols  # system fields are ticket columns already
    assert "fields" not in cols  # the API's duplicate of custom_fields is dropped
    assert "custom_fields" in cols  # the raw JSON stays


def test_a_record_missing_updated_at_is_rejected_while_its_page_loads(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    broken = ticket(2)
    del broken["updated_at"]
    add_ticket_fields(mock)
    add_two_export_pages(mock, [ticket(1), broken, ticket(3)], [ticket(4)])
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(p, "select id from tickets order by id") == [(1,), (3,), (4,)]
    assert STATS.get("zendesk", "tickets").rejected == 1


def test_second_run_sends_the_stored_cursor(mock: responses.RequestsMock, tmp_path: Path) -> None:
    add_ticket_fields(mock)
    add_two_export_pages(mock, [ticket(1)], [ticket(2)])
    p = pipeline(tmp_path)
    p.run(zendesk_source().with_resources("tickets"))
    assert p.state["sources"]["zendesk"]["resources"]["tickets"]["cursor"] == "cur-2"

    add_ticket_fields(mock)
    mock.get(
        TICKETS,
        json={
            "tickets": [ticket(2, "edited", "2024-03-01T00:00:00Z")],
            "metric_sets": [],
            "after_cursor": "cur-3",
            "end_of_stream": True,
        },
        # The stored cursor and no start_time: strict matching fails the request otherwise.
        match=query(include="metric_sets", per_page=1000, cursor="cur-2"),
    )
    p.run(zendesk_source().with_resources("tickets"))

    assert len(mock.calls) == 5  # 3 on the first run, 2 on the second
    assert p.state["sources"]["zendesk"]["resources"]["tickets"]["cursor"] == "cur-3"
    assert rows(p, "select id, subject from tickets order by id") == [(1, "ticket 1"), (2, "edited")]


def test_start_date_is_sent_as_start_time(
    mock: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__ZENDESK__START_DATE", "2024-01-31")
    add_ticket_fields(mock)
    add_two_export_pages(mock, [ticket(1)], [], start_time=1706659200)

    pipeline(tmp_path).run(zendesk_source().with_resources("tickets"))

    assert len(mock.calls) == 3


# -- optional and required endpoints ------------------------------------------------------------


def test_optional_endpoint_answering_404_is_skipped_not_failed(mock: responses.RequestsMock, tmp_path: Path) -> None:
    mock.get(CALLS, status=404, json={"error": "InvalidEndpoint", "description": "Talk is not enabled"})
    mock.get(
        GROUPS,
        json={"groups": [{"id": 7, "name": "Support"}], "meta": {"has_more": False}, "links": {"next": None}},
        match=query(**{"page[size]": 100}),
    )
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("calls", "groups"))

    assert rows(p, "select id, name from groups") == [(7, "Support")]
    assert "calls" not in p.default_schema.data_table_names()
    skipped = STATS.get("zendesk", "calls").skipped
    assert "HTTP 404" in skipped
    assert "zendesk.calls" in skipped
    assert len([c for c in mock.calls if c.request.url.startswith(CALLS)]) == 1  # not retried


FORBIDDEN = {
    "error": "Forbidden",
    "description": "You do not have access to this page. Please contact the account owner.",
}


def test_optional_endpoint_answering_403_is_skipped_with_the_reason(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    mock.get(GROUPS, status=403, json=FORBIDDEN)
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("groups"))

    assert "groups" not in p.default_schema.data_table_names()
    skipped = STATS.get("zendesk", "groups").skipped
    assert "HTTP 403" in skipped
    assert "zendesk.groups" in skipped


def test_tickets_answering_403_fail_the_run(mock: responses.RequestsMock, tmp_path: Path) -> None:
    add_ticket_fields(mock)
    mock.get(TICKETS, status=403, json=FORBIDDEN)

    with pytest.raises(PipelineStepFailed) as info:
        pipeline(tmp_path).run(zendesk_source().with_resources("tickets"))

    cause = find_cause(info.value, NotAvailableError)
    assert cause.endpoint == "zendesk.tickets"
    assert cause.status == 403
    assert not STATS.get("zendesk", "tickets").skipped


def test_refused_ticket_fields_load_tickets_without_the_pivot_and_warn(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    mock.get(FIELDS, status=403, json=FORBIDDEN)
    add_two_export_pages(mock, [ticket(1), ticket(2)], [ticket(3)])
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(p, "select id from tickets order by id") == [(1,), (2,), (3,)]
    cols = columns(p, "tickets")
    assert not [c for c in cols if c.startswith("custom_") and c != "custom_fields"]
    assert "custom_fields" in cols  # the raw values stay
    warnings = STATS.get("zendesk", "tickets").warnings
    assert len(warnings) == 1
    assert "ticket fields" in warnings[0]
    assert "HTTP 403" in warnings[0]


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "subdomain", "expected"),
    [
        ("https://acme.zendesk.com", None, "https://acme.zendesk.com"),
        ("https://acme.zendesk.com/", None, "https://acme.zendesk.com"),
        ("  https://acme.zendesk.com/  ", None, "https://acme.zendesk.com"),
        ("http://127.0.0.1:8123/zendesk/", None, "http://127.0.0.1:8123/zendesk"),
        ("https://support.acme.com", "ignored", "https://support.acme.com"),
        (None, "acme", "https://acme.zendesk.com"),
        ("", " acme-eu ", "https://acme-eu.zendesk.com"),
    ],
)
def test_resolve_base_url(base_url: str | None, subdomain: str | None, expected: str) -> None:
    assert resolve_base_url(base_url, subdomain) == expected


@pytest.mark.parametrize("bad", ["acme.zendesk.com", "ftp://acme.zendesk.com", "https://"])
def test_resolve_base_url_rejects_what_is_not_a_url(bad: str) -> None:
    with pytest.raises(ConfigError, match="SOURCES__ZENDESK__BASE_URL") as info:
        resolve_base_url(bad, None)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", ["acme.zendesk.com", "https://acme", "-acme", "ac me"])
def test_resolve_base_url_rejects_a_bad_subdomain(bad: str) -> None:
    with pytest.raises(ConfigError, match="SOURCES__ZENDESK__SUBDOMAIN"):
        resolve_base_url(None, bad)


def test_resolve_base_url_without_either_names_both_settings() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_base_url(None, None)
    assert "SOURCES__ZENDESK__BASE_URL" in str(info.value)
    assert "SOURCES__ZENDESK__SUBDOMAIN" in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("", 0),
        ("2024-01-31", 1706659200),
        ("2024-01-31T12:00:00", 1706702400),
        ("2024-01-31T12:00:00Z", 1706702400),
        ("2024-01-31T14:00:00+02:00", 1706702400),
        ("1706659200", 1706659200),
        (1706659200, 1706659200),
        ("1960-01-01", 0),
    ],
)
def test_parse_start_date(value: str | int | None, expected: int) -> None:
    assert epoch(parse_start_date(value, START_DATE)) == expected


@pytest.mark.parametrize("bad", ["yesterday", "31/01/2024", "2024-13-01"])
def test_parse_start_date_rejects_with_the_setting_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="SOURCES__ZENDESK__START_DATE") as info:
        parse_start_date(bad, START_DATE)
    assert repr(bad) in str(info.value)


def test_missing_credentials_error_names_the_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL")
    monkeypatch.delenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN")

    with pytest.raises(ConfigFieldMissingException) as info:
        zendesk_source()

    message = str(info.value)
    for name in (
        "SOURCES__ZENDESK__CREDENTIALS__EMAIL",
        "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN",
        "SOURCES__ZENDESK__CREDENTIALS__OAUTH_TOKEN",
    ):
        assert name in message


def test_missing_base_url_error_names_the_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__ZENDESK__BASE_URL")

    with pytest.raises(ConfigError) as info:
        zendesk_source()

    assert "SOURCES__ZENDESK__BASE_URL" in str(info.value)
    assert "SOURCES__ZENDESK__SUBDOMAIN" in str(info.value)


def test_oauth_credentials_send_a_bearer_token(
    mock: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL")
    monkeypatch.delenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN")
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__OAUTH_TOKEN", "zd-oauth-token-3d4e5f")
    mock.get(
        GROUPS,
        json={"groups": [], "meta": {"has_more": False}},
        match=[matchers.header_matcher({"Authorization": "Bearer zd-oauth-token-3d4e5f"})],
    )

    pipeline(tmp_path).run(zendesk_source().with_resources("groups"))

    assert len(mock.calls) == 1


def test_a_refused_token_names_the_settings_and_hides_the_token(mock: responses.RequestsMock) -> None:
    # tickets, the primary object (an optional table refused with 401 is skipped instead); the
    # ticket-fields read before it is refused too, and only warns.
    refused = {"error": "Couldn't authenticate you: zd-unit-token-0a1b2c"}
    mock.get(FIELDS, status=401, json=refused)
    mock.get(TICKETS, status=401, json=refused)
    source = zendesk_source().with_resources("tickets")

    with pytest.raises(ResourceExtractionError) as info:
        list(source)

    cause = find_cause(info.value, AuthError)
    assert "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN" in str(cause)
    assert "zd-unit-token-0a1b2c" not in str(cause)
    assert "zd-unit-token-0a1b2c" not in str(info.value)
    assert not any("zd-unit-token-0a1b2c" in w for w in STATS.get("zendesk", "tickets").warnings)
    assert len(mock.calls) == 2  # a 401 is not retried


@pytest.mark.parametrize(
    ("tickets", "side_loaded", "warned"),
    [
        ([{"id": 1, "status": "open"}], [], True),  # live tickets, no metric set in either shape
        ([{"id": 1, "status": "open", "metric_set": {"id": 9}}], [], False),  # embedded
        ([{"id": 1, "status": "open"}], [{"id": 9, "ticket_id": 1}], False),  # side-loaded
        ([{"id": 1, "status": "deleted"}], [], False),  # deleted tickets carry none
        ([], [], False),
    ],
)
def test_a_page_of_live_tickets_without_metric_sets_is_a_warning(
    tickets: list[dict[str, Any]], side_loaded: list[dict[str, Any]], warned: bool
) -> None:
    data = {"tickets": tickets, "metric_sets": side_loaded}
    warning = _metric_sets_missing(data, _tickets_and_metrics(data))
    assert (warning is not None) == warned
    if warned:
        assert warning is not None
        assert "zendesk.ticket_metrics misses those tickets" in warning
