"""Confluence connector, one request or edge case at a time (`responses`, strict order, no sleeping)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pytest
import responses
from responses import matchers

from common.dates import parse_start_date
from common.errors import AuthError, ConfigError, RetriesExhausted
from connectors.confluence.credentials import ConfluenceApiTokenCredentials
from connectors.confluence.endpoints import BLOGPOSTS_STREAM, PAGES_STREAM, TABLES
from connectors.confluence.run import ConfluenceContext
from connectors.confluence.settings import START_DATE, make_client, parse_space_keys, resolve_base_url
from connectors.confluence.spaces import SpaceDirectory
from connectors.confluence.walk import ContentWalk
from connectors.http import HttpClient, RetryPolicy
from connectors.paginators import ConfluenceCursorPaginator
from connectors.stats import STATS
from tests.unit.conftest import FakeClock

SITE = "https://acme.atlassian.net"
API = f"{SITE}/wiki/api/v2"
PAGE_STATUSES = "current,archived,trashed,deleted"
SCAN = {"sort": "-modified-date", "body-format": "storage", "status": PAGE_STATUSES, "limit": "250"}
INVENTORY = {"sort": "id", "status": PAGE_STATUSES, "limit": "250"}
NOW = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    STATS.reset()


def credentials() -> ConfluenceApiTokenCredentials:
    creds = ConfluenceApiTokenCredentials()
    creds.email = "agent@acme.test"
    creds.api_token = "cf-secret-token-123"
    return creds


def client(clock: FakeClock, attempts: int = 4) -> HttpClient:
    return make_client(credentials(), SITE, policy=RetryPolicy(max_attempts=attempts), sleep=clock.sleep, clock=clock)


def page(content_id: int, when: str, status: str = "current", version: int = 1) -> dict[str, Any]:
    return {
        "id": str(content_id),
        "status": status,
        "title": f"Page {content_id}",
        "spaceId": "10",
        "parentId": "1" if content_id != 1 else None,
        "parentType": "page",
        "authorId": "acc-1",
        "createdAt": "2024-01-01T00:00:00.000Z",
        "version": {"number": version, "createdAt": when, "authorId": "acc-1", "minorEdit": False},
        "body": {"storage": {"representation": "storage", "value": f"<p>body {content_id} v{version}</p>"}},
        "_links": {"webui": f"/spaces/KB/pages/{content_id}/Page+{content_id}", "tinyui": f"/x/{content_id}"},
    }


def listing(results: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    links: dict[str, Any] = {"base": f"{SITE}/wiki"}
    if next_link:
        links["next"] = next_link
    return {"results": results, "_links": links}


def add_spaces(rsps: responses.RequestsMock) -> None:
    space = {"id": "10", "key": "KB", "name": "Support KB", "type": "global", "status": "current"}
    rsps.get(f"{API}/spaces", json=listing([{**space, "_links": {"webui": "/spaces/KB"}}]))


def add_labels(rsps: responses.RequestsMock, content_id: int, *names: str) -> None:
    labels = [{"id": f"9{i}", "name": n, "prefix": "global"} for i, n in enumerate(names)]
    rsps.get(f"{API}/pages/{content_id}/labels", json=listing(labels))


def context(http: HttpClient, **kw: Any) -> ConfluenceContext:
    kw.setdefault("detect_deletions", False)
    kw.setdefault("detect_label_changes", False)
    return ConfluenceContext(client=http, directory=SpaceDirectory(http, None), now=lambda: NOW, **kw)


def rows(items: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """The yielded Arrow tables, by table name, as lists of rows."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        meta = item.meta
        name = meta.table_name if hasattr(meta, "table_name") else meta.hints["table_name"]
        out.setdefault(name, []).extend(item.data.to_pylist())
    return out


def run(walk: ContentWalk) -> dict[str, list[dict[str, Any]]]:
    return rows(walk.run())


# --------------------------------------------------------------------------------------------
# Cursor pagination
# --------------------------------------------------------------------------------------------


def test_cursor_from_the_body_then_the_last_page(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    nxt = "/wiki/api/v2/pages?cursor=b64%3D%3D&limit=250"
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(SCAN)],
        json=listing([page(2, "2024-03-01T10:00:00.000Z")], nxt),
    )
    add_labels(rsps, 2, "howto")
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher({**SCAN, "cursor": "b64=="})],
        json=listing([page(1, "2024-02-01T10:00:00Z")]),
    )
    add_labels(rsps, 1)
    state: dict[str, Any] = {}

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), state))

    assert [r["id"] for r in out["pages"]] == ["2", "1"]
    assert out["pages"][0]["web_url"] == f"{SITE}/wiki/spaces/KB/pages/2/Page+2"
    assert out["pages"][0]["space_key"] == "KB"
    assert out["pages"][0]["body__storage__value"] == "<p>body 2 v1</p>"
    assert out["pages"][0]["version__number"] == 1
    assert state["watermark"] == "2024-03-01T10:00:00+00:00"
    assert STATS.get("confluence", "pages").pages == 2


def test_cursor_from_the_link_header(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    link = f'</wiki/api/v2/pages?limit=250&cursor=abc>; rel="next", <{SITE}/wiki>; rel="base"'
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(SCAN)],
        json={"results": [page(2, "2024-03-01T10:00:00Z")], "_links": {}},
        headers={"Link": link},
    )
    add_labels(rsps, 2)
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher({**SCAN, "cursor": "abc"})],
        json={"results": [], "_links": {}},
    )

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), {}))

    assert [r["id"] for r in out["pages"]] == ["2"]
    assert out["pages"][0]["web_url"] == f"{SITE}/wiki/spaces/KB/pages/2/Page+2"  # base from rel="base"
    assert str(rsps.calls[-1].request.url).startswith(f"{API}/pages?")  # the second page was asked for


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/wiki/api/v2/pages?page=2", f"{SITE}/wiki/api/v2/pages?page=2"),  # site-relative, as v2 writes them
        ("/api/v2/pages?page=2", f"{SITE}/wiki/api/v2/pages?page=2"),  # relative to _links.base
        (f"{SITE}/wiki/api/v2/pages?page=2", f"{SITE}/wiki/api/v2/pages?page=2"),
    ],
)
def test_a_next_link_without_cursor_is_followed_under_wiki_once(
    rsps: responses.RequestsMock, clock: FakeClock, link: str, expected: str
) -> None:
    http = client(clock)
    rsps.get(f"{API}/pages", json=listing([{"id": "1"}], link))
    rsps.get(expected, match=[matchers.query_string_matcher("page=2")], json=listing([{"id": "2"}]))

    pages = list(http.paginate("/wiki/api/v2/pages", endpoint="pages", paginator=ConfluenceCursorPaginator()))

    assert [p.data["results"][0]["id"] for p in pages] == ["1", "2"]
    assert rsps.calls[1].request.url == expected


def test_the_site_url_may_be_given_with_wiki() -> None:
    assert resolve_base_url("https://acme.atlassian.net/wiki/") == SITE
    assert resolve_base_url("https://wiki") == "https://wiki"  # a host named wiki is not a /wiki path
    assert resolve_base_url("http://127.0.0.1:8090") == "http://127.0.0.1:8090"
    assert resolve_base_url("https://api.atlassian.com/ex/confluence/abc-123") == (
        "https://api.atlassian.com/ex/confluence/abc-123"
    )
    with pytest.raises(ConfigError, match="SOURCES__CONFLUENCE__BASE_URL"):
        resolve_base_url("acme.atlassian.net")
    with pytest.raises(ConfigError, match="SOURCES__CONFLUENCE__BASE_URL"):
        resolve_base_url(None)


# --------------------------------------------------------------------------------------------
# Incremental: newest first, stopped at the watermark
# --------------------------------------------------------------------------------------------


def test_reading_stops_at_the_watermark_minus_the_overlap(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00"}
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(SCAN)],
        json=listing(
            [
                page(5, "2024-03-01T13:00:00Z", version=4),
                page(4, "2024-03-01T11:55:00Z", version=2),  # inside the 10-minute overlap: read again
                page(3, "2024-03-01T11:00:00Z", version=7),  # older: loaded by an earlier run
            ],
            "/wiki/api/v2/pages?cursor=never-requested",
        ),
    )
    add_labels(rsps, 5)
    add_labels(rsps, 4)
    # Nothing else is registered: a request for the next page would fail the test.

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), overlap=dt.timedelta(minutes=10)), state))

    assert [r["id"] for r in out["pages"]] == ["5", "4"]
    assert len(rsps.calls) == 4
    assert state["watermark"] == "2024-03-01T13:00:00+00:00"


def test_the_watermark_does_not_move_when_nothing_changed(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00"}
    rsps.get(f"{API}/pages", json=listing([page(3, "2024-03-01T09:00:00Z")], "/wiki/api/v2/pages?cursor=x"))

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), state))

    assert out == {}
    assert state["watermark"] == "2024-03-01T12:00:00+00:00"


def test_start_date_bounds_the_first_run(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    rsps.get(
        f"{API}/pages",
        json=listing([page(2, "2024-02-10T00:00:00Z"), page(1, "2023-12-31T00:00:00Z")], "/wiki/api/v2/pages?cursor=x"),
    )
    add_labels(rsps, 2)

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), start=parse_start_date("2024-01-01", START_DATE)), {}))

    assert [r["id"] for r in out["pages"]] == ["2"]


# --------------------------------------------------------------------------------------------
# The shared HTTP layer: 429, 5xx, bodies that are not JSON, 401
# --------------------------------------------------------------------------------------------


def test_429_waits_for_retry_after(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(
        f"{API}/spaces",
        status=429,
        headers={"Retry-After": "7", "X-RateLimit-Remaining": "0", "X-RateLimit-NearLimit": "true"},
        json={"message": "Rate limit exceeded"},
    )
    add_spaces(rsps)
    directory = SpaceDirectory(client(clock), None)

    directory.load()

    assert directory.key_of("10") == "KB"
    assert 7.0 <= clock.slept[0] <= 7.25
    stats = STATS.get("confluence", "spaces")
    assert (stats.rate_limited, stats.retries, stats.requests) == (1, 1, 2)


def test_5xx_then_success(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    rsps.get(f"{API}/pages", status=503, body="upstream unavailable")
    rsps.get(f"{API}/pages", status=502, body="bad gateway")
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([page(1, "2024-03-01T00:00Z")]))
    add_labels(rsps, 1)

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), {}))

    assert [r["id"] for r in out["pages"]] == ["1"]
    assert STATS.get("confluence", "pages").retries == 2
    assert len(clock.slept) == 2


def test_a_body_that_is_not_json_is_retried_then_reported(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(f"{API}/spaces", body="<html>maintenance</html>", content_type="text/html")
    add_spaces(rsps)
    SpaceDirectory(client(clock), None).load()
    assert STATS.get("confluence", "spaces").retries == 1

    for _ in range(2):
        rsps.get(f"{API}/spaces", body='{"results": [', content_type="application/json")
    with pytest.raises(RetriesExhausted, match="not valid JSON"):
        SpaceDirectory(client(clock, attempts=2), None).load()


def test_401_names_the_settings_and_hides_the_token(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(f"{API}/pages", status=401, json={"message": "Unauthorized; scope does not match"})

    with pytest.raises(AuthError) as caught:  # pages are the primary object: a 401 there fails
        client(clock).get_json(f"{API}/pages", endpoint="pages")

    message = str(caught.value)
    assert "SOURCES__CONFLUENCE__CREDENTIALS__EMAIL" in message
    assert "SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN" in message
    assert "SOURCES__CONFLUENCE__BASE_URL" in message
    assert "cf-secret-token-123" not in message
    assert len(rsps.calls) == 1  # never retried


# --------------------------------------------------------------------------------------------
# Statuses, purges and the inventory
# --------------------------------------------------------------------------------------------


def test_trashed_archived_and_deleted_are_kept_and_flagged(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(SCAN)],
        json=listing(
            [
                page(4, "2024-03-01T04:00:00Z", status="current"),
                page(3, "2024-03-01T03:00:00Z", status="archived"),
                page(2, "2024-03-01T02:00:00Z", status="trashed"),
                page(1, "2024-03-01T01:00:00Z", status="deleted"),
            ]
        ),
    )
    for content_id in (4, 3, 2, 1):
        add_labels(rsps, content_id)

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), {}))

    flags = {r["id"]: (r["status"], r["is_deleted"]) for r in out["pages"]}
    assert flags == {
        "4": ("current", False),
        "3": ("archived", False),
        "2": ("trashed", True),
        "1": ("deleted", True),
    }


def test_blog_posts_list_the_statuses_blog_posts_have(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    rsps.get(
        f"{API}/blogposts",
        match=[matchers.query_param_matcher({**SCAN, "status": "current,trashed,deleted"})],
        json=listing([]),
    )

    assert run(ContentWalk(BLOGPOSTS_STREAM, context(client(clock)), {})) == {}


def test_a_purge_is_recorded_and_the_page_row_is_left_alone(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {
        "v": 1,
        "watermark": "2024-03-01T12:00:00+00:00",
        "known": {"1": [1, "current"], "2": [3, "trashed"]},
    }
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([page(1, "2024-01-05T00:00Z")]))
    rsps.get(
        f"{API}/pages", match=[matchers.query_param_matcher(INVENTORY)], json=listing([page(1, "2024-01-05T00:00Z")])
    )
    lookup = {"id": "2", "status": PAGE_STATUSES, "body-format": "storage", "limit": "250"}
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(lookup)], json=listing([]))  # found nowhere

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), detect_deletions=True), state))

    assert "pages" not in out  # a row holding only an id would blank the stored row's columns
    assert out["deleted_content"] == [
        {
            "id": "2",
            "content_type": "page",
            "detected_at": NOW,
            "last_version": 3,
            "last_status": "trashed",
            "_sl_seq": 0,
            "_sl_deleted": False,  # the record of a purge is not itself deleted
            "_sl_deleted_at": None,
        }
    ]
    assert state["known"] == {"1": [1, "current"]}


def test_a_page_moved_out_of_scope_is_not_taken_for_purged(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(f"{API}/spaces", json=listing([{"id": "10", "key": "KB", "_links": {"webui": "/spaces/KB"}}]))
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00", "known": {"1": [1, "current"]}}
    scoped = {**SCAN, "space-id": "10"}
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(scoped)], json=listing([]))
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher({**INVENTORY, "space-id": "10"})], json=listing([]))
    moved = {**page(1, "2024-03-01T11:00Z", version=2), "spaceId": "20"}
    lookup = {"id": "1", "status": PAGE_STATUSES, "body-format": "storage", "limit": "250"}  # in every space
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(lookup)], json=listing([moved]))
    add_labels(rsps, 1)
    http = client(clock)
    ctx = ConfluenceContext(
        client=http, directory=SpaceDirectory(http, ("KB",)), detect_deletions=True, detect_label_changes=False
    )

    out = run(ContentWalk(PAGES_STREAM, ctx, state))

    assert [(r["id"], r["space_id"], r["version__number"]) for r in out["pages"]] == [("1", "20", 2)]
    assert "deleted_content" not in out
    assert state["known"] == {}  # out of scope: no longer followed


def test_an_unreadable_inventory_entry_is_not_taken_for_purged(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00", "known": {"1": [1, "current"]}}
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([]))
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(INVENTORY)], json=listing([{"id": "1"}]))

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), detect_deletions=True), state))

    assert out == {}
    assert state["known"] == {"1": [1, "current"]}


def test_the_inventory_finds_a_status_change_without_a_new_version(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00", "known": {"1": [2, "current"]}}
    trashed = page(1, "2024-01-05T00:00Z", status="trashed", version=2)  # trashing kept the version time
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([trashed]))
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(INVENTORY)], json=listing([trashed]))
    refetch = {"id": "1", "status": PAGE_STATUSES, "body-format": "storage", "limit": "250"}
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(refetch)], json=listing([trashed]))
    add_labels(rsps, 1, "obsolete")

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), detect_deletions=True), state))

    assert [(r["id"], r["status"], r["is_deleted"]) for r in out["pages"]] == [("1", "trashed", True)]
    assert [r["name"] for r in out["labels"]] == ["obsolete"]
    assert state["known"] == {"1": [2, "trashed"]}
    assert state["watermark"] == "2024-03-01T12:00:00+00:00"  # an old version does not move it back


def test_turning_deletion_detection_on_starts_from_the_inventory(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00"}  # a run without detection
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([page(1, "2024-01-05T00:00Z")]))
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(INVENTORY)],
        json=listing([page(1, "2024-01-05T00:00Z"), page(2, "2024-01-06T00:00Z", status="trashed")]),
    )
    # Nothing is known to compare with: no page is read again, nothing is taken for purged.

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), detect_deletions=True), state))

    assert out == {}
    assert state["known"] == {"1": [1, "current"], "2": [1, "trashed"]}


def test_only_the_newest_first_read_moves_the_watermark(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00", "known": {"1": [1, "current"]}}
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([page(1, "2024-01-05T00:00Z")]))
    edited = page(1, "2024-03-01T13:00Z", version=2)  # edited after the newest-first read went past it
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(INVENTORY)], json=listing([edited]))
    refetch = {"id": "1", "status": PAGE_STATUSES, "body-format": "storage", "limit": "250"}
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(refetch)], json=listing([edited]))
    add_labels(rsps, 1)

    out = run(ContentWalk(PAGES_STREAM, context(client(clock), detect_deletions=True), state))

    assert [r["version__number"] for r in out["pages"]] == [2]
    # Whatever else changed while the read ran is newer than the old watermark: it stays put.
    assert state["watermark"] == "2024-03-01T12:00:00+00:00"
    assert state["known"] == {"1": [2, "current"]}


def test_label_changes_without_a_new_version_are_found(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    state: dict[str, Any] = {
        "v": 1,
        "watermark": "2024-03-01T12:00:00+00:00",
        "known": {"1": [1, "current"], "2": [1, "current"], "3": [1, "trashed"], "4": [1, "archived"]},
        "labels": {"1": ["90"], "2": [], "3": ["90"], "4": ["91"]},
    }
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher(SCAN)], json=listing([]))
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(INVENTORY)],
        json=listing(
            [
                page(1, "2024-01-05T00:00Z"),
                page(2, "2024-01-05T00:00Z"),
                page(3, "2024-01-05T00:00Z", status="trashed"),
                page(4, "2024-01-05T00:00Z", status="archived"),
            ]
        ),
    )
    rsps.get(
        f"{API}/labels",
        match=[matchers.query_param_matcher({"limit": "250"})],
        json=listing([{"id": "90", "name": "howto", "prefix": "global"}, {"id": "91", "name": "faq"}]),
    )
    # "howto" moved from page 1 to page 2; pages 3 (trashed) and 4 (archived) are read-only, and
    # whether labels list them is not documented: their stored labels stay.
    rsps.get(f"{API}/labels/90/pages", json=listing([page(2, "2024-01-05T00:00Z")]))
    rsps.get(f"{API}/labels/91/pages", json=listing([]))

    ctx = context(client(clock), detect_deletions=True, detect_label_changes=True)
    out = run(ContentWalk(PAGES_STREAM, ctx, state))

    got = [(r["content_id"], r["label_id"], r.get("name"), r.get("_sl_clear")) for r in out["labels"]]
    assert got == [("1", "", None, True), ("2", "90", "howto", None)]
    assert "pages" not in out  # no body read again for a label change
    assert state["labels"] == {"1": [], "2": ["90"], "3": ["90"], "4": ["91"]}


def test_content_without_labels_clears_its_stored_labels(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    add_spaces(rsps)
    rsps.get(f"{API}/pages", json=listing([page(2, "2024-03-01T02:00Z"), page(1, "2024-03-01T01:00Z")]))
    add_labels(rsps, 2, "howto", "billing")
    add_labels(rsps, 1)

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), {}))

    got = [(r["content_id"], r["label_id"], r.get("name"), r.get("_sl_clear")) for r in out["labels"]]
    assert got == [("2", "90", "howto", None), ("2", "91", "billing", None), ("1", "", None, True)]
    # The clearing marker is not the deletion flag, which every label row carries (false).
    assert {r["_sl_deleted"] for r in out["labels"]} == {False}


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("KB", ("KB",)),
        ("KB, RUN,KB", ("KB", "RUN")),
        ('["KB", "RUN"]', ("KB", "RUN")),
        (["KB", "RUN"], ("KB", "RUN")),
    ],
)
def test_space_keys_accept_a_list_or_commas(value: Any, expected: Any) -> None:
    assert parse_space_keys(value) == expected


def test_space_keys_filter_spaces_and_pages(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(
        f"{API}/spaces",
        match=[matchers.query_param_matcher({"keys": "KB,GONE", "limit": "250"})],
        json=listing([{"id": "10", "key": "KB", "_links": {"webui": "/spaces/KB"}}]),
    )
    rsps.get(f"{API}/pages", match=[matchers.query_param_matcher({**SCAN, "space-id": "10"})], json=listing([]))
    http = client(clock)
    ctx = ConfluenceContext(client=http, directory=SpaceDirectory(http, ("KB", "GONE")), detect_deletions=False)

    assert run(ContentWalk(PAGES_STREAM, ctx, {})) == {}


def test_space_keys_that_match_nothing_are_a_config_error(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(f"{API}/spaces", json=listing([]))

    with pytest.raises(ConfigError, match="SOURCES__CONFLUENCE__SPACE_KEYS"):
        SpaceDirectory(client(clock), ("NOPE",)).load()


def test_start_date_must_be_iso() -> None:
    assert parse_start_date("2024-01-31", START_DATE) == dt.datetime(2024, 1, 31, tzinfo=dt.UTC)
    with pytest.raises(ConfigError, match="SOURCES__CONFLUENCE__START_DATE"):
        parse_start_date("last tuesday", START_DATE)


def test_tables_each_resource_fills() -> None:
    assert TABLES == {
        "spaces": ("spaces",),
        "pages": ("pages", "labels", "deleted_content"),
        "blogposts": ("blogposts", "labels", "deleted_content"),
    }


# --------------------------------------------------------------------------------------------
# Content held in quarantine is read again by id
# --------------------------------------------------------------------------------------------


def test_held_pages_are_read_again_by_id(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    from connectors.rejects import REJECTS

    REJECTS.reset()
    REJECTS.hold("confluence", {"pages": ["7", "8"]})
    add_spaces(rsps)
    state: dict[str, Any] = {"v": 1, "watermark": "2024-03-01T12:00:00+00:00"}
    rsps.get(
        f"{API}/pages",
        match=[matchers.query_param_matcher(SCAN)],
        json=listing([page(5, "2024-03-01T13:00:00Z"), page(3, "2024-03-01T09:00:00Z")], "/wiki/api/v2/pages?cursor=x"),
    )
    add_labels(rsps, 5)
    rsps.get(  # the v2 list's id filter
        f"{API}/pages",
        match=[matchers.query_param_matcher({"id": "7,8"}, strict_match=False)],
        json=listing([page(7, "2024-01-05T09:00:00Z", version=3)]),
    )
    add_labels(rsps, 7)

    out = run(ContentWalk(PAGES_STREAM, context(client(clock)), state))

    assert [r["id"] for r in out["pages"]] == ["5", "7"]
    assert state["watermark"] == "2024-03-01T13:00:00+00:00"  # the re-read never moves it
    assert REJECTS.accepted("confluence") == {"pages": {"7"}}
    assert REJECTS.gone("confluence") == {"pages": {"8"}}  # purged: not in the answer, whatever its status
    REJECTS.reset()
