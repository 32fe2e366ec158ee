"""The simulated endpoints: query parameters in, ``(status, JSON body)`` out.

Each function names the Zendesk reference page it follows. Pagination styles:

* cursor-based incremental exports — ``after_cursor``/``after_url``/``end_of_stream``
  (Incremental Exports: "Cursor-based incremental exports");
* time-based incremental exports — ``next_page``/``count``/``end_time``/``end_of_stream``:
  items with a time ``>= start_time``, oldest first (ties by id), up to ``per_page`` (1,000)
  a page but never splitting a group of equal times, ``end_time`` = the last item's time and
  ``next_page`` starting at ``end_time`` (so the items at ``end_time`` come again, as the
  real API repeats them); Talk's export has no ``end_of_stream`` and always a ``next_page``:
  the docs say to stop on ``count``. ``Store.time_exports = "faithful"`` follows the documented
  form instead: at most ``per_page`` items a page even inside one second, ``next_page`` always at
  ``end_time``, so a second holding more than a page cannot be paged through (the time-based
  form resumes at a second, not an item);
* cursor pagination — ``page[size]`` (at most 100), ``page[after]``, ``meta.has_more``,
  ``meta.after_cursor``, ``links.next`` (API reference: Pagination); without ``page[size]``
  the list endpoints use offset pagination (``page``, ``per_page``, ``next_page``), refused
  past 10,000 records as Zendesk does.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from . import catalog as cat
from ._util import decode_cursor, encode_cursor
from .store import EVENT_SHIFT, TICKET_MASK, TICKET_SHIFT, EventIndex, Store, public
from .views import audit_json, call_json, metric_event_json, metric_set_json, rating_json, ticket_json

Params = dict[str, str]
Result = tuple[int, dict[str, Any]]

LIST_PAGE = 100
OFFSET_LIMIT = 10_000


class BadRequest(Exception):
    """A 400 answer: ``error`` and ``description`` as Zendesk words them."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _int(params: Params, name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("InvalidValue", f"{name} must be an integer") from None


def _per_page(params: Params, default: int, maximum: int) -> int:
    value = _int(params, "per_page", default) or default
    return max(1, min(value, maximum))


def _url(base: str, path: str, params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None}, safe="[]")
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def _carry(params: Params, *names: str) -> dict[str, str]:
    return {n: params[n] for n in names if n in params}


# ----------------------------------------------------------------------------------------------
# Cursor-based incremental exports


def _cursor_start(params: Params) -> tuple[int, int]:
    """The position after which the page starts, as ``(time, id)``."""
    cursor = params.get("cursor")
    if cursor:
        position = decode_cursor(cursor, 2)
        if position is None:
            raise BadRequest("InvalidPaginationParameter", "cursor is invalid")
        return position[0], position[1]
    start = _int(params, "start_time")
    if start is None:
        raise BadRequest("InvalidValue", "start_time or cursor is required")
    return start, -1


def incremental_tickets_cursor(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/incremental/tickets/cursor — Incremental Ticket Export, Cursor Based.

    ``include=metric_sets`` puts each ticket's metric set in the ticket as ``metric_set`` (the
    export's shape, read so by singer-io/tap-zendesk), or, with ``store.metric_sets_shape =
    "top_level"``, in a ``metric_sets`` array beside ``tickets`` (the list side-loading shape);
    ``"missing"`` ignores the side-load (a fault for tests of the client's warning).
    """
    after_time, after_id = _cursor_start(params)
    per_page = _per_page(params, store.export_page, store.export_page)
    includes = set(params.get("include", "").split(","))
    exclude_deleted = params.get("exclude_deleted", "").lower() == "true"
    key = (after_time << TICKET_SHIFT) + after_id + 1 if after_id >= 0 else after_time << TICKET_SHIFT
    tickets: list[dict[str, Any]] = []
    metric_sets: list[dict[str, Any]] = []
    last = (after_time, max(after_id, 0))
    more = False
    examined = 0
    for k in store.ticket_keys_from(max(key, 0)):
        if examined >= per_page:
            more = True
            break
        examined += 1
        tid = k & TICKET_MASK
        last = (k >> TICKET_SHIFT, tid)
        h = store.history(tid)
        if exclude_deleted and h.status == "deleted":
            continue
        ticket = ticket_json(h)
        tickets.append(ticket)
        if "metric_sets" in includes:
            if store.metric_sets_shape == "embedded":
                ticket["metric_set"] = metric_set_json(h)
            elif store.metric_sets_shape == "top_level":
                metric_sets.append(metric_set_json(h))
    after = encode_cursor(*last)
    body: dict[str, Any] = {"tickets": tickets}
    if "metric_sets" in includes and store.metric_sets_shape == "top_level":
        body["metric_sets"] = metric_sets
    carry = _carry(params, "per_page", "include", "exclude_deleted")
    body.update(
        after_url=_url(base, "/api/v2/incremental/tickets/cursor.json", {**carry, "cursor": after}),
        after_cursor=after,
        before_url=None,
        before_cursor=None,
        end_of_stream=not more,
    )
    return 200, body


def incremental_users_cursor(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/incremental/users/cursor — Incremental User Export, Cursor Based."""
    after_time, after_id = _cursor_start(params)
    per_page = _per_page(params, store.export_page, store.export_page)
    order = store.sorted_by_update(store.users)
    pos = (
        bisect.bisect_right(order, (after_time, after_id))
        if after_id >= 0
        else bisect.bisect_left(order, (after_time, -1))
    )
    page = order[pos : pos + per_page]
    last = page[-1] if page else (after_time, max(after_id, 0))
    after = encode_cursor(*last)
    return 200, {
        "users": [public(store.users[uid]) for _, uid in page],
        "after_url": _url(
            base, "/api/v2/incremental/users/cursor.json", {**_carry(params, "per_page"), "cursor": after}
        ),
        "after_cursor": after,
        "before_url": None,
        "before_cursor": None,
        "end_of_stream": pos + per_page >= len(order),
    }


# ----------------------------------------------------------------------------------------------
# Time-based incremental exports


def _time_page(times: Sequence[int], start: int, per_page: int, split: bool = False) -> tuple[int, int]:
    """``[first, stop)`` of the page in ``times`` (sorted): from the first time ``>= start``,
    ``per_page`` items, extended so a group of equal times is never split — unless ``split``
    (the faithful mode, :attr:`Store.time_exports`): then a page holds at most ``per_page``."""
    first = bisect.bisect_left(times, start)
    stop = min(first + per_page, len(times))
    if not split and stop > first and stop < len(times):
        stop = bisect.bisect_right(times, times[stop - 1])
    return first, stop


class _IndexTimes(Sequence[int]):
    """The times of an :class:`EventIndex`, as a sorted sequence (for :mod:`bisect`)."""

    def __init__(self, index: EventIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, pos: Any) -> Any:
        return self._index[pos] >> EVENT_SHIFT


def _time_body(
    items: list[dict[str, Any]],
    key: str,
    start: int,
    last_time: int | None,
    more: bool,
    base: str,
    path: str,
    carry: dict[str, str],
    end_of_stream: bool = True,
    exact: bool = False,
) -> dict[str, Any]:
    end_time = start if last_time is None else last_time
    # Faithful (``exact``): next_page starts at end_time, whatever the page held, so a full page
    # inside one second comes back as it was; the default moves past such a second.
    next_start = end_time + 1 if (more and end_time == start and not exact) else end_time
    body: dict[str, Any] = {
        key: items,
        "next_page": _url(base, path, {**carry, "start_time": next_start}),
        "count": len(items),
        "end_time": end_time,
    }
    if end_of_stream:
        body["end_of_stream"] = not more
    return body


def _start_time(params: Params) -> int:
    start = _int(params, "start_time")
    if start is None:
        raise BadRequest("InvalidValue", "start_time is required")
    return max(start, 0)


def _event_export(
    store: Store,
    params: Params,
    base: str,
    index_name: str,
    key: str,
    path: str,
    render: Callable[[int, int], dict[str, Any]],
    end_of_stream: bool = True,
    carry_names: tuple[str, ...] = ("per_page",),
) -> Result:
    start = _start_time(params)
    per_page = _per_page(params, store.export_page, store.export_page)
    index = store.index(index_name)
    times = _IndexTimes(index)
    exact = store.time_exports == "faithful"
    first, stop = _time_page(times, start, per_page, split=exact)
    items = [render((index[p] >> 10) & ((1 << 22) - 1), index[p] & 1023) for p in range(first, stop)]
    last_time = times[stop - 1] if stop > first else None
    carry = _carry(params, *carry_names)
    return 200, _time_body(items, key, start, last_time, stop < len(times), base, path, carry, end_of_stream, exact)


def incremental_ticket_events(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/incremental/ticket_events — Incremental Ticket Event Export (``include=comment_events``)."""
    comments = "comment_events" in params.get("include", "").split(",")

    def render(tid: int, seq: int) -> dict[str, Any]:
        h = store.history(tid)
        return audit_json(h, h.audits[seq], comments)

    return _event_export(
        store, params, base, "ticket_events", "ticket_events", "/api/v2/incremental/ticket_events.json", render,
        carry_names=("per_page", "include"),
    )  # fmt: skip


def incremental_ticket_metric_events(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/incremental/ticket_metric_events — List Ticket Metric Events.

    With ``page[size]`` (at most 100) or ``page[after]``: cursor pagination from ``start_time``
    (``meta.has_more``, ``meta.after_cursor``, ``links.next``), which can split a second holding
    many events; the cursor is the position of the last event, so a later request with the last
    page's ``after_cursor`` returns the events added since. Without them ("if the results are not
    paginated"): the time-based incremental export.
    """

    def render(tid: int, seq: int) -> dict[str, Any]:
        return metric_event_json(tid, store.metric_events(tid)[seq])

    path = "/api/v2/incremental/ticket_metric_events.json"
    if "page[size]" in params or "page[after]" in params:
        size = _int(params, "page[size]", LIST_PAGE) or LIST_PAGE
        if size > LIST_PAGE:
            raise BadRequest("InvalidPaginationParameter", f"page[size] must be less than or equal to {LIST_PAGE}")
        size = max(size, 1)
        index = store.index("metric_events")
        after = params.get("page[after]")
        if after:
            position = decode_cursor(after, 1)
            if position is None:
                raise BadRequest("InvalidPaginationParameter", "page[after] is invalid")
            first = index.first_at_or_after(position[0] + 1)
        else:
            first = index.first_at_or_after(_start_time(params) << EVENT_SHIFT)
        stop = min(first + size, len(index))
        keys = [index[p] for p in range(first, stop)]
        items = [render((k >> 10) & ((1 << 22) - 1), k & 1023) for k in keys]
        has_more = stop < len(index)
        after_cursor = encode_cursor(keys[-1]) if keys else None
        before_cursor = encode_cursor(keys[0]) if keys else None
        carry = _carry(params, "start_time")
        links = {
            "prev": _url(base, path, {**carry, "page[size]": size, "page[before]": before_cursor})
            if before_cursor
            else None,
            "next": _url(base, path, {**carry, "page[size]": size, "page[after]": after_cursor}) if has_more else None,
        }
        meta = {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor}
        return 200, {"ticket_metric_events": items, "meta": meta, "links": links}
    return _event_export(store, params, base, "metric_events", "ticket_metric_events", path, render)


def talk_incremental_calls(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/channels/voice/stats/incremental/calls — Talk Incremental Calls Export.

    ``next_page`` is always a URL (start_time = end_time) and there is no ``end_of_stream``:
    the Talk docs say to use ``count`` to decide whether more items are available.
    """

    def render(tid: int, k: int) -> dict[str, Any]:
        h = store.history(tid)
        return call_json(h, next(c for c in h.calls if c.k == k))

    return _event_export(
        store,
        params,
        base,
        "calls",
        "calls",
        "/api/v2/channels/voice/stats/incremental/calls.json",
        render,
        end_of_stream=False,
    )


def show_many_tickets(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/tickets/show_many?ids=1,2,3 — Show Multiple Tickets: at most 100 ids; ids of
    tickets that do not exist (or are deleted) are left out; ``include=metric_sets`` side-loads the
    metric sets as a top-level array (Side-loading)."""
    histories = [store.history(i) for i in _ids(params, "ticket") if 1 <= i <= store.n_tickets]
    histories = [h for h in histories if h.status != "deleted"]
    body: dict[str, Any] = {"tickets": [ticket_json(h) for h in histories]}
    if "metric_sets" in params.get("include", "").split(","):
        body["metric_sets"] = [metric_set_json(h) for h in histories]
    return 200, body


def _ids(params: Params, what: str) -> list[int]:
    raw = [p for p in params.get("ids", "").split(",") if p.strip()]
    if not raw or len(raw) > LIST_PAGE or not all(p.strip().isdigit() for p in raw):
        raise BadRequest("InvalidValue", f"ids must be 1 to {LIST_PAGE} comma-separated {what} ids")
    return [int(p) for p in raw]


def _list_body(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A one-page list answer (``next_page`` null), as Show Many answers."""
    return {key: items, "next_page": None, "previous_page": None, "count": len(items)}


def show_many_users(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/users/show_many?ids=1,2,3 — Show Many Users: at most 100 ids; unknown ids are
    left out, and so are deleted (inactive) users unless ``include_deleted=true``."""
    deleted = params.get("include_deleted", "").lower() == "true"
    found = [store.users[i] for i in _ids(params, "user") if i in store.users]
    return 200, _list_body("users", [public(u) for u in found if deleted or u.get("active", True)])


def show_many_organizations(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/organizations/show_many?ids=1,2,3 — Show Many Organizations: at most 100 ids;
    unknown ids are left out."""
    found = [store.organizations[i] for i in _ids(params, "organization") if i in store.organizations]
    return 200, _list_body("organizations", [public(o) for o in found])


def incremental_organizations(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/incremental/organizations — Incremental Organization Export (time-based)."""
    start = _start_time(params)
    per_page = _per_page(params, store.export_page, store.export_page)
    order = store.sorted_by_update(store.organizations)
    times = [t for t, _ in order]
    exact = store.time_exports == "faithful"
    first, stop = _time_page(times, start, per_page, split=exact)
    items = [public(store.organizations[oid]) for _, oid in order[first:stop]]
    last_time = times[stop - 1] if stop > first else None
    path = "/api/v2/incremental/organizations.json"
    carry = _carry(params, "per_page")
    return 200, _time_body(items, "organizations", start, last_time, stop < len(times), base, path, carry, True, exact)


# ----------------------------------------------------------------------------------------------
# Lists with cursor (or offset) pagination


def _static_position(records: Sequence[dict[str, Any]]) -> Callable[[int], int]:
    ids = [r["id"] for r in records]
    return lambda record_id: bisect.bisect_right(ids, record_id)


def _list_page(
    records: Sequence[dict[str, Any]],
    key: str,
    params: Params,
    base: str,
    path: str,
    extra: dict[str, str] | None = None,
    position_after: Callable[[int], int] | None = None,
) -> Result:
    """Cursor pagination over ``records`` (already in order, each with an ``id``); the cursor
    holds the id of the last record, ``position_after`` finds where the next page starts."""
    extra = extra or {}
    if "page[size]" in params or "page[after]" in params:
        size = _int(params, "page[size]", LIST_PAGE) or LIST_PAGE
        if size > LIST_PAGE:
            raise BadRequest("InvalidPaginationParameter", f"page[size] must be less than or equal to {LIST_PAGE}")
        size = max(size, 1)
        after = params.get("page[after]")
        first = 0
        if after:
            position = decode_cursor(after, 1)
            if position is None:
                raise BadRequest("InvalidPaginationParameter", "page[after] is invalid")
            first = (position_after or _static_position(records))(position[0])
        page = list(records[first : first + size])
        has_more = first + size < len(records)
        after_cursor = encode_cursor(page[-1]["id"]) if page else None
        before_cursor = encode_cursor(page[0]["id"]) if page else None
        links = {
            "prev": _url(base, path, {**extra, "page[size]": size, "page[before]": before_cursor})
            if before_cursor
            else None,
            "next": _url(base, path, {**extra, "page[size]": size, "page[after]": after_cursor}) if has_more else None,
        }
        meta = {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor}
        return 200, {key: page, "meta": meta, "links": links}
    number = max(_int(params, "page", 1) or 1, 1)
    per_page = _per_page(params, LIST_PAGE, LIST_PAGE)
    if number * per_page > OFFSET_LIMIT:
        raise BadRequest(
            "InvalidPaginationParameter",
            "Offset pagination is limited to the first 10,000 records. Use cursor pagination instead.",
        )
    first = (number - 1) * per_page
    page = list(records[first : first + per_page])
    has_more = first + per_page < len(records)
    return 200, {
        key: page,
        "next_page": _url(base, path, {**extra, "page": number + 1, "per_page": per_page}) if has_more else None,
        "previous_page": _url(base, path, {**extra, "page": number - 1, "per_page": per_page}) if number > 1 else None,
        "count": len(records),
    }


def groups(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/groups — List Groups (cursor pagination)."""
    return _list_page(cat.GROUPS, "groups", params, base, "/api/v2/groups.json")


def ticket_fields(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/ticket_fields — List Ticket Fields (cursor pagination)."""
    return _list_page(cat.TICKET_FIELDS, "ticket_fields", params, base, "/api/v2/ticket_fields.json")


def sla_policies(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/slas/policies — List SLA Policies (one page: ``next_page`` and ``previous_page`` null)."""
    return 200, {
        "sla_policies": list(cat.SLA_POLICIES),
        "next_page": None,
        "previous_page": None,
        "count": len(cat.SLA_POLICIES),
    }


_SCORES: dict[str, tuple[tuple[str, ...], bool | None]] = {
    "offered": (("offered",), None),
    "unoffered": (("unoffered",), None),
    "received": (("good", "bad"), None),
    "received_with_comment": (("good", "bad"), True),
    "received_without_comment": (("good", "bad"), False),
    "good": (("good",), None),
    "good_with_comment": (("good",), True),
    "good_without_comment": (("good",), False),
    "bad": (("bad",), None),
    "bad_with_comment": (("bad",), True),
    "bad_without_comment": (("bad",), False),
}


def satisfaction_ratings(store: Store, params: Params, base: str) -> Result:
    """GET /api/v2/satisfaction_ratings — List Satisfaction Ratings.

    ``start_time``/``end_time`` bound the rating's creation time ("time of the oldest / most
    recent satisfaction rating"); ratings are listed oldest first. A changed rating is a new
    rating record, so a ``start_time`` poll returns it.
    """
    score = params.get("score")
    if score is not None and score not in _SCORES:
        raise BadRequest("InvalidValue", f"score {score!r} is not one of {', '.join(_SCORES)}")
    start = _int(params, "start_time", 0) or 0
    end = _int(params, "end_time")
    records = _RatingList(store, start, end, _SCORES[score] if score else None)
    extra = _carry(params, "score", "start_time", "end_time")
    path = "/api/v2/satisfaction_ratings.json"
    return _list_page(records, "satisfaction_ratings", params, base, path, extra, records.position_after)


class _RatingList(Sequence[dict[str, Any]]):
    """The ratings that pass the filters, oldest first, rendered only when a page reads them."""

    def __init__(
        self, store: Store, start: int, end: int | None, score: tuple[tuple[str, ...], bool | None] | None
    ) -> None:
        self.store = store
        index = store.index("ratings")
        first = index.first_at_or_after(start << EVENT_SHIFT)
        stop = len(index) if end is None else index.first_at_or_after((end + 1) << EVENT_SHIFT)
        keys: Iterable[int] = (index[p] for p in range(first, stop))
        if score is not None:
            keys = (k for k in keys if _score_matches(self._rating(k), score))
        self.keys = list(keys)

    def _rating(self, key: int) -> Any:
        h = self.store.history((key >> 10) & ((1 << 22) - 1))
        return h, h.ratings[key & 1023]

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, pos: Any) -> Any:
        if isinstance(pos, slice):
            return [self[i] for i in range(*pos.indices(len(self.keys)))]
        h, r = self._rating(self.keys[pos])
        return rating_json(h, r)

    def position_after(self, rating_id: int) -> int:
        """Where the ratings after ``rating_id`` start."""
        tid, k = (rating_id - cat.RATING_BASE) >> 3, (rating_id - cat.RATING_BASE) & 7
        if not 0 < tid <= self.store.n_tickets:
            return len(self.keys)
        ratings = self.store.history(tid).ratings
        if k >= len(ratings):
            return len(self.keys)
        key = (ratings[k].time << EVENT_SHIFT) | (tid << 10) | k
        return bisect.bisect_right(self.keys, key)


def _score_matches(hr: Any, score: tuple[tuple[str, ...], bool | None]) -> bool:
    _, r = hr
    scores, with_comment = score
    if r.score not in scores:
        return False
    return with_comment is None or bool(r.comment) == with_comment
