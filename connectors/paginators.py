"""Paginators: small named classes behind one protocol.

The walk (:func:`connectors.http.HttpClient.paginate`) calls, for each endpoint:

``init_request(request)``      once, to put the first page's parameters in place;
``update_state(response, data)`` after each page, to read where the next page is;
``has_next_page``               to decide whether to go on;
``update_request(request)``     to point the request at the next page.

A paginator holds only where it is, never the records. Vendor-specific ones live here too, so a
new connector reuses them: Zendesk's cursor exports, time-based exports and cursor pagination,
``next_page`` URLs; Salesforce's ``nextRecordsUrl``; Confluence's ``_links.next`` and ``Link``.

The four methods are those of dlt's paginator protocol
(``dlt.sources.helpers.rest_client.paginators.BasePaginator``), deliberately not its class: dlt
hands ``update_state`` the records its ``data_selector`` picked and its paginators read the page's
metadata with ``response.json()``, a second parse of bodies of up to 2.6 MB (a quarter of the
cost of the bare fetch loop); ours receive the body parsed once. A server link is also resolved
against the site (``server_link``), which dlt's ``requests.Request`` cannot say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from common.dates import parse_time


@dataclass
class Request:
    """The next request to make: a path or absolute URL and its query parameters."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)
    # A link the server sent (next page) is resolved as RFC 3986 says, against the site: a
    # "/wiki/api/v2/..." link must not be put under a base URL's path a second time.
    server_link: bool = False


@dataclass(frozen=True)
class Position:
    """Where a paginator stands after a page: what an incremental stream keeps in its state
    (:mod:`connectors.incremental`) once the page is loaded."""

    after_cursor: str | None = None
    end_time: int | None = None
    more: bool = True
    """Whether a next page follows (a chunked sync only stops a stream where one does)."""


class BasePaginator:
    """The protocol. Subclasses override :meth:`update_state` (and, when needed, the others).

    :meth:`envelope_problem` says what a page lacks of its documented envelope (the records key,
    the keys the paginator reads to go on); the client retries such a page and then fails the
    stream (:meth:`connectors.http.HttpClient.paginate`): a page that did not parse as its
    envelope never moves a cursor.
    """

    required: tuple[str, ...] = ()
    """Keys every page has (the documentation says so); the records key comes on top."""

    def __init__(self) -> None:
        self.has_next_page = True
        self._next_url: str | None = None
        self.records_key: str | None = None
        """The key of the page's records (set by the walk from the endpoint's ``data_selector``)."""

    def envelope_problem(self, data: Any) -> str | None:
        """What ``data`` lacks of the documented page envelope, or ``None`` when it is whole."""
        if not isinstance(data, dict):
            return f"the body is {type(data).__name__}, not a JSON object"
        wanted = (self.records_key, *self.required) if self.records_key else self.required
        missing = [k for k in wanted if k not in data]
        if missing:
            return "the page has no " + ", ".join(repr(k) for k in missing) + _keys(data)
        if self.records_key and not isinstance(data[self.records_key], list):
            return f"{self.records_key!r} is {type(data[self.records_key]).__name__}, not a list"
        return None

    def position(self) -> Position:
        """A snapshot of where the walk is (read while later pages may already be fetched)."""
        return Position(
            after_cursor=getattr(self, "after_cursor", None),
            end_time=getattr(self, "end_time", None),
            more=self.has_next_page,
        )

    def init_request(self, request: Request) -> None:
        """Adjust the first request (page size, ...). Default: leave it as declared."""

    def update_state(self, response: requests.Response, data: Any) -> None:
        raise NotImplementedError

    def update_request(self, request: Request) -> None:
        """Point ``request`` at the next page. Default: follow the absolute next URL as is."""
        assert self._next_url is not None
        request.url = self._next_url
        request.params = {}
        request.server_link = True

    def _follow(self, next_url: str | None) -> None:
        self._next_url = next_url or None
        self.has_next_page = self._next_url is not None


def _keys(data: dict[str, Any]) -> str:
    names = sorted(str(k) for k in data)[:8]
    return f" (its keys: {', '.join(names)})" if names else " (an empty object)"


class SinglePage(BasePaginator):
    """An endpoint that is not paginated."""

    def update_state(self, response: requests.Response, data: Any) -> None:
        self.has_next_page = False


class ZendeskCursorExportPaginator(BasePaginator):
    """Zendesk cursor-based incremental exports: ``after_url``/``after_cursor``/``end_of_stream``.

    ``after_cursor`` is kept after the last page: it is where the next run starts. Every page has
    ``end_of_stream`` and ``after_cursor`` (Incremental Exports, "Cursor-based Pagination JSON
    Format"); a page without them, or one that says the stream goes on without a cursor to go on
    from, is malformed: never read as the end of the export.
    """

    required = ("end_of_stream", "after_cursor")

    def __init__(self) -> None:
        super().__init__()
        self.after_cursor: str | None = None

    def envelope_problem(self, data: Any) -> str | None:
        problem = super().envelope_problem(data)
        if problem is None and data["end_of_stream"] is False and not data["after_cursor"]:
            return "end_of_stream is false but after_cursor is empty: no way to the next page"
        return problem

    def update_state(self, response: requests.Response, data: Any) -> None:
        if data.get("after_cursor"):
            self.after_cursor = data["after_cursor"]
        done = data.get("end_of_stream", True) or not data.get("after_cursor")
        self._follow(None if done else data.get("after_url") or "cursor")

    def update_request(self, request: Request) -> None:
        # Same path and parameters (include=metric_sets, per_page), the new cursor instead of
        # start_time: robust whether or not after_url repeats every parameter.
        request.params.pop("start_time", None)
        request.params["cursor"] = self.after_cursor


class ZendeskTimeExportPaginator(BasePaginator):
    """Zendesk time-based incremental exports: ``next_page``, ``end_time``, ``end_of_stream``.

    Where an export has no ``end_of_stream`` (Talk's calls), the docs say to stop on ``count``: a
    page with fewer than ``page_size`` items is the last. A ``next_page`` whose ``start_time`` does
    not move forward is also the end (no progress is possible: the same page would come back).

    A *full* page whose items all share the request's second (``end_time`` is the ``start_time``
    asked for) cannot be paged through: the time form resumes at a second, not an item, so the API
    sends that page again or moves on, and the items of the second past the page are out of reach.
    Where the endpoint has no other pagination (ticket events), the paginator goes on from the next
    second and records the second in :attr:`truncated`: the walk makes it a warning and the table's
    status ``partial`` — never a silent success.
    """

    def __init__(self, page_size: int = 1000, *, end_of_stream: bool = False) -> None:
        super().__init__()
        self.page_size = page_size
        # An export documented with end_of_stream (``end_of_stream=True``) must carry it on every
        # page; others (Talk's calls) stop on count, so a page needs one of the two.
        self.required = ("end_of_stream", "end_time") if end_of_stream else ("end_time",)
        self.end_time: int | None = None
        self._next_start: str | None = None
        self._start: str | None = None
        self.truncated: list[tuple[int, int]] = []
        """``(second, items read)`` of each full page inside one second (possibly more items)."""

    def init_request(self, request: Request) -> None:
        start = request.params.get("start_time")
        self._start = None if start is None else str(start)

    def envelope_problem(self, data: Any) -> str | None:
        problem = super().envelope_problem(data)
        if problem is None and "end_of_stream" not in data and "count" not in data:
            return "the page has neither 'end_of_stream' nor 'count': no way to tell the last page" + _keys(data)
        return problem

    def update_state(self, response: requests.Response, data: Any) -> None:
        end_time = data.get("end_time")
        previous = self.end_time
        if end_time is not None:
            self.end_time = int(end_time)
        next_page = data.get("next_page")
        if "end_of_stream" in data:
            done = bool(data["end_of_stream"])
        else:
            done = int(data.get("count") or 0) < self.page_size
        records = data.get(self.records_key) if self.records_key else None
        n = len(records) if isinstance(records, list) else int(data.get("count") or 0)
        self._next_start = None
        if (
            not done
            and n == self.page_size  # an API that sends a whole crowded second sends more than a page
            and self.end_time is not None
            and self._start is not None
            and self.end_time <= int(self._start)
        ):
            # A full page inside one second: go on from the next second, and say so.
            self.truncated.append((self.end_time, n))
            self._next_start = str(self.end_time + 1)
            self._follow(next_page or "time")
            return
        if not done and next_page:
            start = dict(parse_qsl(urlsplit(next_page).query)).get("start_time")
            if start is not None and previous is not None and int(start) <= previous:
                done = True
            self._next_start = start
        self._follow(None if done else next_page)

    def update_request(self, request: Request) -> None:
        if self._next_start is None:  # no start_time in next_page: follow it as it is
            super().update_request(request)
            return
        request.params["start_time"] = self._next_start
        self._start = self._next_start


class ZendeskCrowdedSecondPaginator(BasePaginator):
    """Zendesk's time-based export (1,000 a page) that pages through a crowded second by cursor.

    The time-based form resumes at the last item's second, so it cannot get past a second that
    holds a full page of items: the API either sends the same page again or moves on and the
    excess is lost. Ticket metric events also have cursor pagination (``page[size]`` ≤ 100,
    ``meta.has_more``, ``links.next``), which can split a second but costs ten requests where the
    time form costs one, and the export's rate limit is 10 requests a minute. So: the time form
    while it makes progress; on a full page whose items all share one second, the cursor form
    from that second until an item is past it (or the stream ends), then the time form again
    from there. Every item is read; items read twice are merged on their key.

    ``end_time`` is the position a run can resume from (what :func:`connectors.endpoints.walk`
    stores for ``start_time`` endpoints): inside a crowded second it stays at that second, so a
    run stopped there reads the second again, whole.
    """

    def __init__(self, records_key: str, time_field: str = "time", page_size: int = 1000, cursor_page: int = 100):
        super().__init__()
        self.records_key: str | None = records_key
        self.time_field = time_field
        self.page_size = page_size
        self.cursor_page = cursor_page
        self.end_time: int | None = None
        self.crowded: int | None = None  # the second being paged by cursor, if any
        self.crowded_seconds = 0  # how many seconds needed the cursor form (for the run's notes)
        self._next: dict[str, Any] = {}

    def init_request(self, request: Request) -> None:
        self._next = {"start_time": request.params.get("start_time")}

    def envelope_problem(self, data: Any) -> str | None:
        problem = super().envelope_problem(data)
        if problem is None and self.crowded is not None and not isinstance(data.get("meta"), dict):
            return "the cursor page has no 'meta' (has_more, after_cursor)" + _keys(data)
        if problem is None and self.crowded is None and "end_time" not in data and "end_of_stream" not in data:
            return "the time-based page has neither 'end_time' nor 'end_of_stream'" + _keys(data)
        return problem

    def update_state(self, response: requests.Response, data: Any) -> None:
        records = [r for r in (data.get(self.records_key or "") or []) if isinstance(r, dict)]
        times = [t for t in (_epoch(r.get(self.time_field)) for r in records) if t is not None]
        if self.crowded is not None:
            self._cursor_page(data, times)
        else:
            self._time_page(data, times)

    def _time_page(self, data: Any, times: list[int]) -> None:
        start = self._next.get("start_time")
        done = bool(data.get("end_of_stream")) if "end_of_stream" in data else len(times) < self.page_size
        end_time = data.get("end_time")
        if end_time is not None:
            self.end_time = int(end_time)
        if len(times) >= self.page_size and min(times) == max(times):
            # A full page inside one second: the time form cannot get past it.
            self.crowded = times[0]
            self.crowded_seconds += 1
            self.end_time = self.crowded
            self._next = {"start_time": self.crowded, "page[size]": self.cursor_page}
            self._follow("crowded")
            return
        nxt = dict(parse_qsl(urlsplit(data.get("next_page") or "").query)).get("start_time")
        if nxt is None and self.end_time is not None:
            nxt = str(self.end_time)
        if nxt is not None and start is not None and int(nxt) <= int(start):
            done = True  # no progress possible: the same page would come back
        self._next = {"start_time": nxt}
        self._follow(None if done or nxt is None else "time")

    def _cursor_page(self, data: Any, times: list[int]) -> None:
        meta = data.get("meta") or {}
        assert self.crowded is not None
        if times and max(times) > self.crowded:
            # Past the crowded second: the time form again, from the newest second read.
            self.crowded, self.end_time = None, max(times)
            self._next = {"start_time": max(times)}
            self._follow("time")
            return
        after = meta.get("after_cursor")
        if not meta.get("has_more") or not after:
            self.end_time = max(times) if times else self.end_time
            self._follow(None)
            return
        self._next = {"start_time": self.crowded, "page[size]": self.cursor_page, "page[after]": after}
        self._follow("cursor")

    def update_request(self, request: Request) -> None:
        keep = {k: v for k, v in request.params.items() if k not in ("start_time", "page[size]", "page[after]")}
        request.params = {**keep, **self._next}
        request.server_link = False


def _epoch(value: Any) -> int | None:
    """A record's time as Unix seconds; ``None`` when absent or unreadable (the stream writer's
    validation rejects such a record by name; paging goes by the records that have a time)."""
    try:
        parsed = parse_time(value)
    except (TypeError, ValueError):
        return None
    return None if parsed is None else int(parsed.timestamp())


class ZendeskLinksPaginator(BasePaginator):
    """Zendesk cursor pagination: ``meta.has_more`` and ``links.next``; ``page[size]`` ≤ 100."""

    required = ("meta",)

    def __init__(self, page_size: int = 100) -> None:
        super().__init__()
        self.page_size = page_size
        self._after: str | None = None
        self._last_after: str | None = None

    def init_request(self, request: Request) -> None:
        request.params.setdefault("page[size]", self.page_size)

    @property
    def after_cursor(self) -> str | None:
        """The newest ``meta.after_cursor`` seen (kept after the last page, where an incremental
        endpoint such as ticket metric events resumes on the next run)."""
        return self._last_after

    def update_state(self, response: requests.Response, data: Any) -> None:
        meta = data.get("meta") or {}
        links = data.get("links") or {}
        self._after = meta.get("after_cursor")
        if self._after:
            self._last_after = self._after
        self._follow(links.get("next") if meta.get("has_more") else None)

    def update_request(self, request: Request) -> None:
        if not self._after:
            super().update_request(request)
            return
        request.params["page[after]"] = self._after


class NextPageUrlPaginator(BasePaginator):
    """An absolute next-page URL in a body field (Zendesk ``next_page``, null on the last page)."""

    def __init__(self, field_name: str = "next_page") -> None:
        super().__init__()
        self.field_name = field_name

    def update_state(self, response: requests.Response, data: Any) -> None:
        self._follow(data.get(self.field_name))


class JsonPathNextPaginator(BasePaginator):
    """A next link inside the body at a dotted path (Salesforce ``nextRecordsUrl``,
    Confluence ``_links.next``); relative links are resolved against the client's base URL."""

    def __init__(self, path: str, *, required: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.path = path.split(".")
        self.required = required

    def update_state(self, response: requests.Response, data: Any) -> None:
        value: Any = data
        for part in self.path:
            value = value.get(part) if isinstance(value, dict) else None
        self._follow(value if isinstance(value, str) else None)


class SalesforceQueryPaginator(JsonPathNextPaginator):
    """Salesforce REST ``query``/``queryAll`` results: ``records``, ``done``, ``totalSize`` on every
    page and ``nextRecordsUrl`` while ``done`` is false (REST API Developer Guide, "Execute a SOQL
    Query": "If the initial query returns only part of the results, the end of the response will
    contain a field called nextRecordsUrl")."""

    def __init__(self) -> None:
        super().__init__("nextRecordsUrl", required=("done", "totalSize"))
        self.records_key = "records"

    def envelope_problem(self, data: Any) -> str | None:
        problem = super().envelope_problem(data)
        if problem is None and data["done"] is False and not isinstance(data.get("nextRecordsUrl"), str):
            return "done is false but there is no nextRecordsUrl: no way to the next page"
        return problem


class LinkHeaderPaginator(BasePaginator):
    """RFC 8288 ``Link: <url>; rel="next"`` header (Confluence v2 also sends it)."""

    def update_state(self, response: requests.Response, data: Any) -> None:
        nxt = response.links.get("next", {}).get("url")
        self._follow(nxt)


class ConfluenceCursorPaginator(BasePaginator):
    """Confluence Cloud REST v2 cursor pagination: ``limit`` (at most 250) and an opaque ``cursor``.

    The next page is announced twice, as the body's ``_links.next`` and as the ``Link`` header's
    ``rel="next"``; either may be missing (the body's wins when both are there), and the last page
    has neither. Both are *site*-relative and already start with ``/wiki``
    (``/wiki/api/v2/pages?cursor=…&limit=250``), so the client's base URL is the site (or the
    ``api.atlassian.com/ex/confluence/{cloudId}`` gateway), never ``…/wiki``.

    The ``cursor`` of the link is put on the declared path and parameters, which is robust whether
    or not the link repeats every parameter (``body-format``, ``sort``, ``status``). A link without
    a ``cursor`` is followed as it is. ``base`` (``https://acme.atlassian.net/wiki``, from
    ``_links.base`` or ``rel="base"``) is kept for building web links.
    """

    required = ("_links",)

    def __init__(self, page_size: int = 250) -> None:
        super().__init__()
        self.page_size = page_size
        self.records_key = "results"
        self.base: str | None = None
        self._cursor: str | None = None

    def init_request(self, request: Request) -> None:
        request.params.setdefault("limit", self.page_size)

    def update_state(self, response: requests.Response, data: Any) -> None:
        links = data.get("_links") if isinstance(data, dict) else None
        links = links if isinstance(links, dict) else {}
        nxt = links.get("next")
        if not isinstance(nxt, str) or not nxt:
            nxt = response.links.get("next", {}).get("url")
        base = links.get("base") or response.links.get("base", {}).get("url")
        if isinstance(base, str) and base:
            self.base = base
        self._cursor = None
        if nxt:
            self._cursor = dict(parse_qsl(urlsplit(nxt).query)).get("cursor") or None
            nxt = confluence_site_path(nxt)
        self._follow(nxt)

    def update_request(self, request: Request) -> None:
        if not self._cursor:
            super().update_request(request)
            return
        request.params["cursor"] = self._cursor


def confluence_site_path(link: str) -> str:
    """A Confluence link made relative to the site: v2 links start with ``/wiki/``; a link relative
    to ``_links.base`` (``/api/v2/…``, as v1 wrote them) gets the ``/wiki`` prefix it lacks."""
    if link.startswith(("http://", "https://")) or link.startswith("/wiki/"):
        return link
    return "/wiki/" + link.lstrip("/")
