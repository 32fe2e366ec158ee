"""Each paginator's middle and last page, walked by `HttpClient.paginate` on `responses`."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from responses import matchers

from common.errors import FatalAPIError
from connectors.http import HttpClient, RetryPolicy
from connectors.paginators import (
    BasePaginator,
    JsonPathNextPaginator,
    LinkHeaderPaginator,
    NextPageUrlPaginator,
    SinglePage,
    ZendeskCursorExportPaginator,
    ZendeskLinksPaginator,
    ZendeskTimeExportPaginator,
)
from connectors.stats import StatsRegistry
from tests.unit.conftest import FakeClock

BASE = "https://acme.zendesk.com"


def query(**params: Any) -> list[Any]:
    """A strict matcher: exactly these query parameters, no others."""
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()})]


def walk(
    clock: FakeClock, path: str, paginator: BasePaginator, params: dict[str, Any] | None = None, base: str = BASE
) -> list[Any]:
    client = HttpClient(
        base, name="zendesk", sleep=clock.sleep, clock=clock, stats=StatsRegistry(), policy=RetryPolicy(max_attempts=1)
    )
    return [page.data for page in client.paginate(path, endpoint="e", paginator=paginator, params=params)]


# -- Zendesk cursor export ----------------------------------------------------------------------

TICKETS = f"{BASE}/api/v2/incremental/tickets/cursor.json"


def test_cursor_export_follows_after_cursor_keeping_the_parameters(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    rsps.get(
        TICKETS,
        json={
            "tickets": [{"id": 1}],
            "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njd8",
            "after_url": f"{TICKETS}?cursor=MTU3NjYxMzUzOS4wfHw0Njd8&include=metric_sets&per_page=1000",
            "end_of_stream": False,
        },
        match=query(include="metric_sets", per_page=1000, start_time=1700000000),
    )
    rsps.get(
        TICKETS,
        json={"tickets": [{"id": 2}], "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njh8", "end_of_stream": True},
        match=query(include="metric_sets", per_page=1000, cursor="MTU3NjYxMzUzOS4wfHw0Njd8"),
    )
    paginator = ZendeskCursorExportPaginator()

    pages = walk(
        clock,
        "/api/v2/incremental/tickets/cursor.json",
        paginator,
        {"include": "metric_sets", "per_page": 1000, "start_time": 1700000000},
    )

    assert [p["tickets"][0]["id"] for p in pages] == [1, 2]
    assert paginator.has_next_page is False
    # Kept after the last page: where the next run starts.
    assert paginator.after_cursor == "MTU3NjYxMzUzOS4wfHw0Njh8"


def test_cursor_export_last_page_without_a_cursor_stops(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, json={"tickets": [], "after_cursor": None, "end_of_stream": True})
    paginator = ZendeskCursorExportPaginator()

    pages = walk(clock, "/api/v2/incremental/tickets/cursor.json", paginator, {"start_time": 0})

    assert len(pages) == 1
    assert paginator.has_next_page is False
    assert paginator.after_cursor is None


def test_cursor_export_without_after_cursor_stops_even_if_not_at_end(clock: FakeClock) -> None:
    paginator = ZendeskCursorExportPaginator()
    paginator.update_state(None, {"tickets": [], "after_cursor": None, "end_of_stream": False})  # type: ignore[arg-type]
    assert paginator.has_next_page is False


# -- Zendesk time-based export ------------------------------------------------------------------

ORGS = f"{BASE}/api/v2/incremental/organizations.json"


def test_time_export_moves_start_time_to_next_page(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(
        ORGS,
        json={
            "organizations": [{"id": 1}],
            "next_page": f"{ORGS}?start_time=1700000500",
            "end_time": 1700000500,
            "end_of_stream": False,
            "count": 1000,
        },
        match=query(start_time=1700000000),
    )
    rsps.get(
        ORGS,
        json={
            "organizations": [{"id": 2}],
            "next_page": f"{ORGS}?start_time=1700000900",
            "end_time": 1700000900,
            "end_of_stream": True,
            "count": 1,
        },
        match=query(start_time=1700000500),
    )
    paginator = ZendeskTimeExportPaginator(page_size=1000)

    pages = walk(clock, "/api/v2/incremental/organizations.json", paginator, {"start_time": 1700000000})

    assert [p["organizations"][0]["id"] for p in pages] == [1, 2]
    assert paginator.end_time == 1700000900
    assert paginator.has_next_page is False


def test_time_export_keeps_other_parameters(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    events = f"{BASE}/api/v2/incremental/ticket_events.json"
    rsps.get(
        events,
        json={"ticket_events": [], "next_page": f"{events}?start_time=20", "end_time": 20, "end_of_stream": False},
        match=query(include="comment_events", start_time=10),
    )
    rsps.get(
        events,
        json={"ticket_events": [], "next_page": None, "end_time": 30, "end_of_stream": True},
        match=query(include="comment_events", start_time=20),
    )

    pages = walk(
        clock,
        "/api/v2/incremental/ticket_events.json",
        ZendeskTimeExportPaginator(),
        {"include": "comment_events", "start_time": 10},
    )

    assert len(pages) == 2


def test_talk_export_ends_on_count_below_page_size(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    calls = f"{BASE}/api/v2/channels/voice/stats/incremental/calls.json"
    # No end_of_stream in Talk: a full page means more, a short one is the last.
    rsps.get(
        calls,
        json={"calls": [{"id": 1}, {"id": 2}], "count": 2, "next_page": f"{calls}?start_time=50", "end_time": 50},
        match=query(start_time=0),
    )
    rsps.get(
        calls,
        json={"calls": [{"id": 3}], "count": 1, "next_page": f"{calls}?start_time=60", "end_time": 60},
        match=query(start_time=50),
    )
    paginator = ZendeskTimeExportPaginator(page_size=2)

    pages = walk(clock, "/api/v2/channels/voice/stats/incremental/calls.json", paginator, {"start_time": 0})

    assert [c["id"] for p in pages for c in p["calls"]] == [1, 2, 3]
    assert paginator.has_next_page is False
    assert paginator.end_time == 60


def test_time_export_stops_when_start_time_does_not_move(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    # More than a page of records sharing one second: Zendesk would send the same page forever.
    rsps.get(
        ORGS,
        json={"organizations": [], "next_page": f"{ORGS}?start_time=100", "end_time": 100, "end_of_stream": False},
        match=query(start_time=0),
    )
    rsps.get(
        ORGS,
        json={"organizations": [], "next_page": f"{ORGS}?start_time=100", "end_time": 100, "end_of_stream": False},
        match=query(start_time=100),
    )
    paginator = ZendeskTimeExportPaginator()

    pages = walk(clock, "/api/v2/incremental/organizations.json", paginator, {"start_time": 0})

    assert len(pages) == 2
    assert paginator.has_next_page is False


# -- Zendesk cursor pagination (links/meta) -----------------------------------------------------

GROUPS = f"{BASE}/api/v2/groups.json"


def test_links_paginator_sends_page_after(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(
        GROUPS,
        json={
            "groups": [{"id": 1}],
            "meta": {"has_more": True, "after_cursor": "xyz", "before_cursor": "abc"},
            "links": {"next": f"{GROUPS}?page%5Bafter%5D=xyz&page%5Bsize%5D=100", "prev": None},
        },
        match=query(**{"page[size]": 100}),
    )
    rsps.get(
        GROUPS,
        json={"groups": [{"id": 2}], "meta": {"has_more": False, "after_cursor": "uvw"}, "links": {"next": None}},
        match=query(**{"page[size]": 100, "page[after]": "xyz"}),
    )
    paginator = ZendeskLinksPaginator()

    pages = walk(clock, "/api/v2/groups.json", paginator)

    assert [p["groups"][0]["id"] for p in pages] == [1, 2]
    assert paginator.has_next_page is False
    assert paginator.after_cursor == "uvw"  # the last page's cursor: where a next run resumes


def test_links_paginator_keeps_the_last_cursor_past_an_empty_last_page(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    rsps.get(
        GROUPS,
        json={"groups": [{"id": 1}], "meta": {"has_more": True, "after_cursor": "k1"}, "links": {"next": "x"}},
        match=query(**{"page[size]": 100}),
    )
    rsps.get(
        GROUPS,
        json={"groups": [], "meta": {"has_more": False, "after_cursor": None}, "links": {"next": None}},
        match=query(**{"page[size]": 100, "page[after]": "k1"}),
    )
    paginator = ZendeskLinksPaginator()

    assert len(walk(clock, "/api/v2/groups.json", paginator)) == 2
    assert paginator.after_cursor == "k1"


def test_links_paginator_stops_when_has_more_is_false_even_with_a_next_link(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    rsps.get(
        GROUPS,
        json={"groups": [], "meta": {"has_more": False}, "links": {"next": f"{GROUPS}?page%5Bafter%5D=q"}},
        match=query(**{"page[size]": 25}),
    )

    pages = walk(clock, "/api/v2/groups.json", ZendeskLinksPaginator(page_size=25))

    assert len(pages) == 1


def test_links_paginator_follows_next_link_without_a_cursor(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(
        GROUPS,
        json={"groups": [], "meta": {"has_more": True}, "links": {"next": f"{GROUPS}?page%5Bafter%5D=k2"}},
        match=query(**{"page[size]": 100}),
    )
    rsps.get(GROUPS, json={"groups": [], "meta": {"has_more": False}}, match=query(**{"page[after]": "k2"}))

    assert len(walk(clock, "/api/v2/groups.json", ZendeskLinksPaginator())) == 2


# -- next_page URL ------------------------------------------------------------------------------

SLAS = f"{BASE}/api/v2/slas/policies.json"


def test_next_page_url_is_followed_until_null(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(SLAS, json={"sla_policies": [{"id": 1}], "next_page": f"{SLAS}?page=2"}, match=query())
    rsps.get(SLAS, json={"sla_policies": [{"id": 2}], "next_page": None}, match=query(page=2))
    paginator = NextPageUrlPaginator()

    pages = walk(clock, "/api/v2/slas/policies.json", paginator)

    assert [p["sla_policies"][0]["id"] for p in pages] == [1, 2]
    assert paginator.has_next_page is False


def test_next_page_missing_means_last_page(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(SLAS, json={"sla_policies": []})

    assert len(walk(clock, "/api/v2/slas/policies.json", NextPageUrlPaginator())) == 1


# -- next link at a JSON path -------------------------------------------------------------------

SF = "https://acme.my.salesforce.com"


def test_json_path_next_link_relative_to_base(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    q = f"{SF}/services/data/v59.0/query"
    rsps.get(
        q,
        json={"records": [{"Id": "a"}], "done": False, "nextRecordsUrl": "/services/data/v59.0/query/01gD-2000"},
        match=query(q="SELECT Id FROM Case"),
    )
    rsps.get(
        f"{q}/01gD-2000",
        json={"records": [{"Id": "b"}], "done": True},
        match=query(),
    )
    paginator = JsonPathNextPaginator("nextRecordsUrl")

    pages = walk(clock, "/services/data/v59.0/query", paginator, {"q": "SELECT Id FROM Case"}, base=SF)

    assert [p["records"][0]["Id"] for p in pages] == ["a", "b"]
    assert paginator.has_next_page is False


def test_json_path_next_link_nested(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    wiki = "https://acme.atlassian.net"
    pages_url = f"{wiki}/wiki/api/v2/pages"
    rsps.get(pages_url, json={"results": [1], "_links": {"next": f"{pages_url}?cursor=c2"}}, match=query(limit=250))
    rsps.get(pages_url, json={"results": [2], "_links": {}}, match=query(cursor="c2"))

    pages = walk(clock, "/wiki/api/v2/pages", JsonPathNextPaginator("_links.next"), {"limit": 250}, base=wiki)

    assert [p["results"] for p in pages] == [[1], [2]]


def test_json_path_next_link_not_a_string_is_the_end() -> None:
    paginator = JsonPathNextPaginator("_links.next")
    paginator.update_state(None, {"_links": {"next": {"href": "x"}}})  # type: ignore[arg-type]
    assert paginator.has_next_page is False
    paginator.update_state(None, {"_links": None})  # type: ignore[arg-type]
    assert paginator.has_next_page is False


# -- Link header --------------------------------------------------------------------------------


def test_link_header_next_is_followed(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    wiki = "https://acme.atlassian.net"
    spaces = f"{wiki}/wiki/api/v2/spaces"
    rsps.get(
        spaces,
        json={"results": [1]},
        headers={"Link": f'<{spaces}?cursor=n2&limit=2>; rel="next", <{spaces}>; rel="base"'},
        match=query(limit=2),
    )
    rsps.get(spaces, json={"results": [2]}, match=query(cursor="n2", limit=2))
    paginator = LinkHeaderPaginator()

    pages = walk(clock, "/wiki/api/v2/spaces", paginator, {"limit": 2}, base=wiki)

    assert [p["results"] for p in pages] == [[1], [2]]
    assert paginator.has_next_page is False


def test_relative_link_header_is_resolved_against_the_base_url(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    wiki = "https://acme.atlassian.net"
    pages_url = f"{wiki}/wiki/api/v2/pages"
    rsps.get(pages_url, json={"results": [1]}, headers={"Link": '</wiki/api/v2/pages?cursor=r2>; rel="next"'})
    rsps.get(pages_url, json={"results": [2]}, match=query(cursor="r2"))

    pages = walk(clock, "/wiki/api/v2/pages", LinkHeaderPaginator(), base=wiki)

    assert [p["results"] for p in pages] == [[1], [2]]


def test_single_page_makes_one_request(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(GROUPS, json={"groups": [], "next_page": f"{GROUPS}?page=2"})

    assert len(walk(clock, "/api/v2/groups.json", SinglePage())) == 1


# -- the endless-loop guard ---------------------------------------------------------------------


def test_same_next_page_twice_is_fatal(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(SLAS, json={"sla_policies": [{"id": 1}], "next_page": f"{SLAS}?page=2"}, match=query())
    rsps.get(SLAS, json={"sla_policies": [{"id": 2}], "next_page": f"{SLAS}?page=2"}, match=query(page=2))
    client = HttpClient(BASE, name="zendesk", sleep=clock.sleep, clock=clock, stats=StatsRegistry())
    pages = client.paginate("/api/v2/slas/policies.json", endpoint="sla_policies", paginator=NextPageUrlPaginator())

    # Both pages are handed over before the guard stops the walk.
    assert [p["sla_policies"][0]["id"] for p in (next(pages).data, next(pages).data)] == [1, 2]
    with pytest.raises(FatalAPIError) as info:
        next(pages)

    assert len(rsps.calls) == 2  # the repeated page was not requested again
    assert "same next page twice" in str(info.value)
    assert info.value.endpoint == "zendesk.sla_policies"
    assert f"{SLAS}?page=2" in str(info.value)


def test_same_cursor_twice_is_fatal(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    page = {"tickets": [], "after_cursor": "same", "end_of_stream": False}
    rsps.get(TICKETS, json=page, match=query(start_time=0))
    rsps.get(TICKETS, json=page, match=query(cursor="same"))

    with pytest.raises(FatalAPIError, match="endless loop"):
        walk(clock, "/api/v2/incremental/tickets/cursor.json", ZendeskCursorExportPaginator(), {"start_time": 0})

    assert len(rsps.calls) == 2


def test_server_link_with_absolute_path_is_not_nested_under_the_base_path(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    """Confluence sends next links as "/wiki/api/v2/...": with a base URL ending in /wiki they
    resolve against the site (RFC 3986), while declared paths stay under the base path."""
    base = "https://acme.atlassian.net/wiki"
    rsps.get(
        f"{base}/api/v2/pages",
        json={"results": [{"id": "1"}], "_links": {"next": "/wiki/api/v2/pages?cursor=abc"}},
        match=query(limit=250),
    )
    rsps.get(f"{base}/api/v2/pages", json={"results": [{"id": "2"}], "_links": {}}, match=query(cursor="abc"))

    pages = walk(clock, "/api/v2/pages", JsonPathNextPaginator("_links.next"), {"limit": 250}, base=base)

    assert [p["results"][0]["id"] for p in pages] == ["1", "2"]
