"""Issue 13, "never lose a record silently": a 200 page that is not its documented envelope is
retried through the one retry policy, then fails the stream naming the endpoint and what was
missing — never read as an empty or last page that moves the cursor on."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest
import responses
from dlt.pipeline.exceptions import PipelineStepFailed
from responses.registries import OrderedRegistry

from common.errors import RetriesExhausted
from connectors.http import HttpClient, RetryPolicy
from connectors.paginators import (
    BasePaginator,
    ConfluenceCursorPaginator,
    SalesforceQueryPaginator,
    ZendeskCursorExportPaginator,
    ZendeskTimeExportPaginator,
)
from connectors.stats import STATS, StatsRegistry
from connectors.zendesk import zendesk_source
from tests.contracts.shapes import load
from tests.unit.conftest import FakeClock

BASE = "https://acme.zendesk.com"
TICKETS = f"{BASE}/api/v2/incremental/tickets/cursor.json"
FIELDS = f"{BASE}/api/v2/ticket_fields.json"


def client(clock: FakeClock, attempts: int = 3) -> HttpClient:
    return HttpClient(
        BASE,
        name="zendesk",
        sleep=clock.sleep,
        clock=clock,
        stats=StatsRegistry(),
        policy=RetryPolicy(max_attempts=attempts),
    )


def walk(http: HttpClient, path: str, paginator: BasePaginator, params: dict[str, Any]) -> list[Any]:
    return [p.data for p in http.paginate(path, endpoint="tickets", paginator=paginator, params=params)]


def ticket_page(ids: list[int], cursor: str, end: bool) -> dict[str, Any]:
    return {
        "tickets": [{"id": i, "updated_at": "2024-01-01T00:00:00Z"} for i in ids],
        "after_cursor": cursor,
        "after_url": f"{TICKETS}?cursor={cursor}",
        "before_cursor": None,
        "before_url": None,
        "end_of_stream": end,
    }


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        yield mock


# -- the paginators know their envelope ----------------------------------------------------------


def test_zendesk_cursor_export_envelope() -> None:
    p = ZendeskCursorExportPaginator()
    p.records_key = "tickets"
    assert p.envelope_problem(load("zendesk", "tickets_export_embedded_metric_sets")) is None
    assert p.envelope_problem(load("zendesk", "users_export")) is not None  # no "tickets"
    no_records = ticket_page([], "c1", False)
    del no_records["tickets"]
    assert "'tickets'" in (p.envelope_problem(no_records) or "")
    no_end = ticket_page([1], "c1", False)
    del no_end["end_of_stream"]
    assert "'end_of_stream'" in (p.envelope_problem(no_end) or "")
    assert "after_cursor is empty" in (p.envelope_problem(ticket_page([1], "", False)) or "")
    assert "not a JSON object" in (p.envelope_problem([1, 2]) or "")


def test_zendesk_time_export_envelope() -> None:
    documented = ZendeskTimeExportPaginator(end_of_stream=True)
    documented.records_key = "ticket_events"
    page = load("zendesk", "ticket_events_comment_events")
    assert documented.envelope_problem(page) is None
    assert "'end_of_stream'" in (
        documented.envelope_problem({k: v for k, v in page.items() if k != "end_of_stream"}) or ""
    )
    talk = ZendeskTimeExportPaginator()
    talk.records_key = "calls"
    calls = load("zendesk", "talk_calls_export")  # no end_of_stream: count says
    assert talk.envelope_problem(calls) is None
    assert "neither 'end_of_stream' nor 'count'" in (
        talk.envelope_problem({k: v for k, v in calls.items() if k != "count"}) or ""
    )


def test_salesforce_query_envelope() -> None:
    p = SalesforceQueryPaginator()
    assert p.envelope_problem(load("salesforce", "query_case_page1")) is None
    assert p.envelope_problem(load("salesforce", "query_case_page2")) is None
    page = load("salesforce", "query_case_page1")
    assert "'records'" in (p.envelope_problem({k: v for k, v in page.items() if k != "records"}) or "")
    assert "'done'" in (p.envelope_problem({k: v for k, v in page.items() if k != "done"}) or "")
    lost = {k: v for k, v in page.items() if k != "nextRecordsUrl"}
    assert "no nextRecordsUrl" in (p.envelope_problem(lost) or "")


def test_confluence_envelope() -> None:
    p = ConfluenceCursorPaginator()
    page = load("confluence", "pages")
    assert p.envelope_problem(page) is None
    assert "'results'" in (p.envelope_problem({"_links": page["_links"]}) or "")
    assert "'_links'" in (p.envelope_problem({"results": page["results"]}) or "")


# -- the client retries a malformed page, then fails naming it -----------------------------------


def test_a_page_without_its_records_is_retried_and_then_read(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    broken = ticket_page([2], "c2", True)
    del broken["tickets"]
    rsps.get(TICKETS, json=ticket_page([1], "c1", False))
    rsps.get(TICKETS, json=broken)
    rsps.get(TICKETS, json=ticket_page([2], "c2", True))
    http = client(clock)
    paginator = ZendeskCursorExportPaginator()
    paginator.records_key = "tickets"

    pages = walk(http, "/api/v2/incremental/tickets/cursor.json", paginator, {"start_time": 0})

    assert [t["id"] for p in pages for t in p["tickets"]] == [1, 2]
    assert http.stats.get("zendesk", "tickets").retries == 1
    assert paginator.after_cursor == "c2"


@pytest.mark.parametrize("missing", ["tickets", "end_of_stream"])
def test_a_page_that_stays_malformed_fails_naming_endpoint_and_key(
    rsps: responses.RequestsMock, clock: FakeClock, missing: str
) -> None:
    broken = ticket_page([2], "c2", False)
    del broken[missing]
    rsps.get(TICKETS, json=ticket_page([1], "c1", False))
    for _ in range(3):
        rsps.get(TICKETS, json=broken)
    paginator = ZendeskCursorExportPaginator()
    paginator.records_key = "tickets"
    read: list[Any] = []

    pages = client(clock).paginate(
        "/api/v2/incremental/tickets/cursor.json", endpoint="tickets", paginator=paginator, params={"start_time": 0}
    )
    read.append(next(pages))
    with pytest.raises(RetriesExhausted) as err:
        next(pages)

    message = str(err.value)
    assert "zendesk.tickets" in message
    assert "malformed page" in message
    assert f"'{missing}'" in message
    assert len(read) == 1  # the cursor never moved past the malformed page
    assert read[0].position.after_cursor == "c1"
    assert paginator.after_cursor == "c1"


# -- end to end: the export's cursor is not committed past a malformed page ----------------------


@pytest.fixture
def zendesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "CREDENTIALS__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", BASE)
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", "agent@acme.com")
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", "zd-envelope-token")
    monkeypatch.setenv("SOURCES__ZENDESK__MAX_ATTEMPTS", "1")
    STATS.reset()


def test_a_sync_fails_on_a_page_without_tickets_and_keeps_its_cursor(
    zendesk_env: None, rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    """The fault-injection finding: ``tickets`` missing, ``after_cursor`` present — today read as an
    empty page whose cursor is committed, the tickets behind it lost for good with exit 0."""
    p = dlt.pipeline(
        pipeline_name="envelopes",
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "e.duckdb")),
        dataset_name="zendesk",
    )
    rsps.get(FIELDS, json={"ticket_fields": [], "meta": {"has_more": False}, "links": {"next": None}})
    broken = copy.deepcopy(ticket_page([], "c9", True))
    del broken["tickets"]
    rsps.get(TICKETS, json=broken)

    with pytest.raises(PipelineStepFailed) as err:
        p.run(zendesk_source().with_resources("tickets"))

    assert "malformed page" in str(err.value)
    assert "'tickets'" in str(err.value)
    resources = p.state.get("sources", {}).get("zendesk", {}).get("resources", {})
    assert "cursor" not in resources.get("tickets", {})
