"""``ZendeskSimulator``: a seeded, deterministic local Zendesk Support API.

    sim = ZendeskSimulator(seed=1, n_tickets=2000)
    with sim.serve() as base_url:
        ...                      # point a client at base_url
        sim.mutate(seed=1)       # the clock moves on an hour; tickets change
        sim.records("tickets")   # what the endpoints now serve, record by record

Faults and limits can be set at construction and changed at any time: ``error_rate``,
``drop_rate``, ``truncate_rate``, ``latency_ms``, ``export_rpm``, ``account_rpm``,
``rate_window_seconds``, ``disabled``, ``metric_sets`` (``embedded``, the default, or ``top_level``:
how the ticket export side-loads metric sets) and :meth:`ZendeskSimulator.inject`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from simulators.clock import NOW
from simulators.shared import (
    JSON,
    TEXT,
    FaultQueue,
    HttpSimulator,
    RateWindow,
    Request,
    Response,
    Stats,
    basic_credentials,
    bearer_token,
    dumps,
    roll_fault,
)
from simulators.world import World, build_world

from . import catalog as cat
from . import endpoints as ep
from .errors import (
    ACCOUNT_LIMITED,
    BAD_JSON,
    EXPORT_LIMITED,
    FORBIDDEN,
    INVALID_TOKEN,
    NOT_FOUND,
    UNAUTHORIZED,
    error_response,
    limit_headers,
)
from .store import Store, public
from .views import audit_json, call_json, comment_record, metric_event_json, metric_set_json, rating_json, ticket_json

log = logging.getLogger(__name__)

DEFAULT_NOW = NOW
"""The simulators' shared clock (:mod:`simulators.clock`)."""
RECORD_KINDS = (
    "tickets",
    "metric_sets",
    "users",
    "organizations",
    "groups",
    "ticket_fields",
    "sla_policies",
    "satisfaction_ratings",
    "ticket_metric_events",
    "comments",
    "calls",
    "ticket_events",
)
FAULT_KINDS = ("drop", "truncate", "429", "badjson")
METRIC_SET_SHAPES = ("embedded", "top_level", "missing")
TIME_EXPORT_MODES = ("whole_seconds", "faithful")

Endpoint = Callable[[Store, dict[str, str], str], tuple[int, dict[str, Any]]]
# normalized path -> (endpoint, is an incremental export, feature that can be disabled)
ROUTES: dict[str, tuple[Endpoint, bool, str | None]] = {
    "/api/v2/incremental/tickets/cursor": (ep.incremental_tickets_cursor, True, None),
    "/api/v2/incremental/users/cursor": (ep.incremental_users_cursor, True, None),
    "/api/v2/incremental/organizations": (ep.incremental_organizations, True, None),
    "/api/v2/incremental/ticket_events": (ep.incremental_ticket_events, True, None),
    "/api/v2/incremental/ticket_metric_events": (ep.incremental_ticket_metric_events, True, None),
    "/api/v2/channels/voice/stats/incremental/calls": (ep.talk_incremental_calls, True, "talk"),
    "/api/v2/satisfaction_ratings": (ep.satisfaction_ratings, False, "csat"),
    "/api/v2/groups": (ep.groups, False, None),
    "/api/v2/ticket_fields": (ep.ticket_fields, False, None),
    "/api/v2/slas/policies": (ep.sla_policies, False, "slas"),
    "/api/v2/tickets/show_many": (ep.show_many_tickets, False, None),
    "/api/v2/users/show_many": (ep.show_many_users, False, None),
    "/api/v2/organizations/show_many": (ep.show_many_organizations, False, None),
}
# How Zendesk answers for a plan without the feature.
DISABLED_ANSWERS = {"talk": (404, NOT_FOUND), "slas": (403, FORBIDDEN), "csat": (403, FORBIDDEN)}


def _epoch(value: dt.datetime | int) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp())
    return int(value)


class ZendeskSimulator(HttpSimulator):
    """A local Zendesk Support API over generated data.

    ``seed`` fixes everything (the same seed and the same calls give byte-identical responses);
    ``n_tickets`` (up to a million and more) are created over the two years before ``now``, the
    simulated clock; ``page_size`` is the incremental exports' page (1,000 as in Zendesk).
    Credentials, faults and limits are attributes that can be changed while serving; ``stats``
    counts what was served.
    """

    server_name = "zendesk-simulator"

    def __init__(
        self,
        seed: int = 1,
        n_tickets: int = 2000,
        now: dt.datetime | int = DEFAULT_NOW,
        page_size: int = 1000,
        *,
        email: str = "admin@example.com",
        api_token: str = "sim-token",  # noqa: S107 - a fake credential of a local simulator
        oauth_token: str = "sim-oauth-token",  # noqa: S107
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        truncate_rate: float = 0.0,
        latency_ms: float = 0.0,
        export_rpm: int = 10,
        account_rpm: int = 700,
        rate_window_seconds: float = 60.0,
        disabled: Iterable[str] = (),
        n_accounts: int = 300,
        cache_mb: int = 64,
        metric_sets: str = "embedded",
        time_exports: str = "whole_seconds",
        crowd: int = 0,
    ) -> None:
        self.seed = seed
        self.world: World = build_world(seed, n_accounts)
        self.store = Store(seed, self.world, n_tickets, _epoch(now), crowd=crowd)
        self.page_size = page_size
        self.email = email
        self.api_token = api_token
        self.oauth_token = oauth_token
        self.error_rate = error_rate
        self.drop_rate = drop_rate
        self.truncate_rate = truncate_rate
        self.latency_ms = latency_ms
        self.export_rpm = export_rpm
        self.account_rpm = account_rpm
        self.rate_window_seconds = rate_window_seconds
        self.disabled: set[str] = set(disabled)
        if metric_sets not in METRIC_SET_SHAPES:
            raise ValueError(f"metric_sets must be one of {', '.join(METRIC_SET_SHAPES)}, got {metric_sets!r}")
        self.metric_sets = metric_sets
        if time_exports not in TIME_EXPORT_MODES:
            raise ValueError(f"time_exports must be one of {', '.join(TIME_EXPORT_MODES)}, got {time_exports!r}")
        self.time_exports = time_exports
        """``whole_seconds`` (a time-export page never splits a second) or ``faithful`` (at most a
        page of items even inside one second, next_page at end_time, as Zendesk documents)."""
        """How ``include=metric_sets`` is answered by the ticket export: ``embedded`` (each ticket's
        ``metric_set``, the documented shape), ``top_level`` (a ``metric_sets`` array) or ``missing``
        (a fault: the side-load is ignored, so a client must notice it got none)."""
        self.stats = Stats()
        self._lock = threading.Lock()
        self._fault_rng = random.Random(f"zendesk-faults:{seed}")
        self._injected: FaultQueue[str] = FaultQueue(_valid_fault)
        self._account_window = RateWindow()
        self._export_window = RateWindow()
        self._pages = PageCache(cache_mb * 1024 * 1024)

    # ------------------------------------------------------------------------------------------
    # lifecycle

    @property
    def now(self) -> dt.datetime:
        """The simulated clock (it only moves when :meth:`mutate` is called)."""
        return dt.datetime.fromtimestamp(self.store.now, tz=dt.UTC)

    @property
    def n_tickets(self) -> int:
        return self.store.n_tickets

    @property
    def credentials(self) -> dict[str, str]:
        """What the simulator accepts: Basic ``{email}/token:{api_token}`` or ``Bearer {oauth_token}``."""
        return {"email": self.email, "api_token": self.api_token, "oauth_token": self.oauth_token}

    @credentials.setter
    def credentials(self, value: dict[str, str]) -> None:
        self.email = value.get("email", self.email)
        self.api_token = value.get("api_token", self.api_token)
        self.oauth_token = value.get("oauth_token", self.oauth_token)

    # ------------------------------------------------------------------------------------------
    # data

    def mutate(
        self,
        seed: int = 0,
        update_fraction: float = 0.05,
        insert_count: int | None = None,
        delete_count: int | None = None,
        advance_seconds: int = 3600,
    ) -> dict[str, int]:
        """Advance the clock by ``advance_seconds`` and change data: update tickets (replies,
        solves, reopens, closes, new metric events), change a rating, delete tickets (status
        ``deleted``), insert tickets, users and an organization, deactivate a user, update an
        organization. Everything changed gets times after the previous clock. Returns counts."""
        return self.store.mutate(seed, update_fraction, insert_count, delete_count, advance_seconds)

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        """The latest API representation of every record of ``kind`` (see ``RECORD_KINDS``),
        exactly as the endpoints serve them."""
        if kind not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {kind!r}; one of {', '.join(RECORD_KINDS)}")
        static = {"groups": cat.GROUPS, "ticket_fields": cat.TICKET_FIELDS, "sla_policies": cat.SLA_POLICIES}
        if kind in static:
            yield from (dict(r) for r in static[kind])
            return
        store = self.store
        if kind in ("users", "organizations"):
            with store.lock:
                table = store.users if kind == "users" else store.organizations
                rows = [public(table[i]) for i in sorted(table)]
            yield from rows
            return
        for tid in range(1, store.n_tickets + 1):
            with store.lock:
                rows = list(self._ticket_records(kind, tid))
            yield from rows

    def _ticket_records(self, kind: str, tid: int) -> Iterator[dict[str, Any]]:
        h = self.store.history(tid)
        if kind == "tickets":
            yield ticket_json(h)
        elif kind == "metric_sets":
            yield metric_set_json(h)
        elif kind == "satisfaction_ratings":
            yield from (rating_json(h, r) for r in h.ratings)
        elif kind == "ticket_metric_events":
            yield from (metric_event_json(tid, e) for e in self.store.metric_events(tid))
        elif kind == "comments":
            yield from (comment_record(h, c) for c in h.comments)
        elif kind == "calls":
            yield from (call_json(h, c) for c in h.calls)
        elif kind == "ticket_events":
            yield from (audit_json(h, a, True) for a in h.audits)

    # ------------------------------------------------------------------------------------------
    # faults

    def inject(self, path_prefix: str, faults: Iterable[str]) -> None:
        """Queue faults for the next requests whose path starts with ``path_prefix``, one each:
        an HTTP status (``"503"``, ``"500"``, ``"429"``, ...), ``"drop"`` (close the connection
        without answering), ``"truncate"`` (close half-way through the body) or ``"badjson"``."""
        self._injected.inject(path_prefix, faults)

    def reset_stats(self) -> None:
        self.stats = Stats()

    # ------------------------------------------------------------------------------------------
    # requests

    def respond(self, request: Request) -> Response:
        return self.handle(request.target, dict(request.headers.items()), request.host_url)

    def handle(self, path: str, headers: dict[str, str], base_url: str) -> Response:
        """Answer one GET request (transport-independent; :meth:`respond` calls this)."""
        parts = urlsplit(path)
        raw_path = parts.path
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        route_key = raw_path.rstrip("/").removesuffix(".json")
        self.stats.count_request(raw_path)
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        return self._route(raw_path, route_key, params, headers, base_url)

    def _route(
        self, raw_path: str, route_key: str, params: dict[str, str], headers: dict[str, str], base: str
    ) -> Response:
        route = ROUTES.get(route_key)
        export = bool(route and route[1])
        response = self._respond(route, raw_path, params, headers, base)
        if response.status != 429 and response.action != "drop":
            self._add_limit_headers(response, export)
        return response

    def _respond(
        self,
        route: tuple[Endpoint, bool, str | None] | None,
        raw_path: str,
        params: dict[str, str],
        headers: dict[str, str],
        base: str,
    ) -> Response:
        """Scripted fault, authentication, routing, plan features, rate limit, random fault, data."""
        export = bool(route and route[1])
        injected = self._injected.take(raw_path)
        if injected is not None and injected not in ("429", "truncate"):
            return self._fault(injected)
        auth_failure = self._authenticate(headers)
        if auth_failure is not None:
            return auth_failure
        if route is None:
            return Response(404, NOT_FOUND)
        endpoint, _, feature = route
        if feature in self.disabled:
            status, body = DISABLED_ANSWERS[str(feature)]
            return Response(status, body)
        limited = self._rate_limit(export, forced=injected == "429")
        if limited is not None:
            return limited
        fault = injected if injected == "truncate" else self._random_fault()
        if fault is not None and fault != "truncate":
            return self._fault(fault)
        response = self._call(endpoint, params, base)
        if fault == "truncate":
            response.action = "truncate"
            self.stats.count_fault("truncate")
        return response

    def _call(self, endpoint: Endpoint, params: dict[str, str], base: str) -> Response:
        store = self.store
        with store.lock:
            key = (
                endpoint.__name__,
                tuple(sorted(params.items())),
                base,
                store.mutations,
                self.page_size,
                self.metric_sets,
                self.time_exports,
            )
            cached = self._pages.get(key)
            if cached is not None:
                return Response(200, cached)
            try:
                store.export_page = self.page_size
                store.metric_sets_shape = self.metric_sets
                store.time_exports = self.time_exports
                with _gc_paused():
                    status, body = endpoint(store, params, base)
            except ep.BadRequest as exc:
                return Response(400, dumps({"error": exc.error, "description": exc.description}))
            encoded = dumps(body)
            if status == 200:
                self._pages.put(key, encoded)
        return Response(status, encoded)

    def _authenticate(self, headers: dict[str, str]) -> Response | None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = bearer_token(auth)
        if token is not None:
            return None if token == self.oauth_token else Response(401, INVALID_TOKEN)
        basic = basic_credentials(auth)
        if basic is not None and basic == (f"{self.email}/token", self.api_token):
            return None
        return Response(401, UNAUTHORIZED, headers=[("WWW-Authenticate", 'Basic realm="Web Password"')])

    def _random_fault(self) -> str | None:
        with self._lock:
            fault = roll_fault(
                self._fault_rng,
                drop_rate=self.drop_rate,
                truncate_rate=self.truncate_rate,
                error_rate=self.error_rate,
            )
        return None if fault is None else str(fault)

    def _fault(self, fault: str) -> Response:
        self.stats.count_fault(fault)
        if fault == "drop":
            return Response(0, action="drop")
        if fault == "truncate":
            return Response(
                200, dumps({"tickets": [{"id": i} for i in range(200)], "end_of_stream": True}), action="truncate"
            )
        if fault == "badjson":
            return Response(200, BAD_JSON)
        return error_response(int(fault))

    # ------------------------------------------------------------------------------------------
    # rate limits

    def _limits(self, export: bool) -> tuple[RateWindow, int]:
        if export:
            return self._export_window, self.export_rpm
        return self._account_window, self.account_rpm

    def _rate_limit(self, export: bool, forced: bool) -> Response | None:
        """Take a slot of the account limit (and the export limit); a 429 when none is free."""
        now = time.monotonic()
        window = self.rate_window_seconds
        with self._lock:
            if forced:
                self.stats.count_fault("429")
                return self._too_many(export, 1)
            ok, _, retry = self._account_window.acquire(now, self.account_rpm, window)
            if ok and export:
                ok, _, retry = self._export_window.acquire(now, self.export_rpm, window)
                if not ok:  # give the account slot back: a refused request does not count
                    self._account_window.release()
            if ok:
                return None
            self.stats.count_rate_limited()
        return self._too_many(export, retry)

    def _too_many(self, export: bool, retry_after: int) -> Response:
        body = EXPORT_LIMITED if export else ACCOUNT_LIMITED
        response = Response(429, body, TEXT, [("Retry-After", str(retry_after))])
        limit = self.export_rpm if export else self.account_rpm
        response.headers += limit_headers(limit, 0, retry_after)
        return response

    def _add_limit_headers(self, response: Response, export: bool) -> None:
        window, limit = self._limits(export)
        with self._lock:
            remaining, reset = window.peek(time.monotonic(), limit, self.rate_window_seconds)
        response.headers += limit_headers(limit, remaining, reset)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page is generated.

    A page of 1,000 tickets allocates tens of thousands of short-lived objects; none of them form
    reference cycles (reference counting frees them), but each automatic collection would also
    traverse the cached ticket histories, which more than doubles the cost of a page.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class PageCache:
    """Response bodies already generated, zlib-compressed, least recently used evicted.

    Generating a page of 1,000 tickets costs tens of milliseconds; a repeated walk (a benchmark's
    warm-up, a client's retry) costs a decompression instead. Keys include the data version,
    so a mutation never serves a stale page.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.size = 0
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        packed = self._items.get(key)
        if packed is None:
            return None
        self._items.move_to_end(key)
        return zlib.decompress(packed)

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        if self.budget <= 0 or len(body) < 4096:
            return
        packed = zlib.compress(body, 1)
        if len(packed) > self.budget:
            return
        self._items[key] = packed
        self.size += len(packed)
        while self.size > self.budget:
            _, old = self._items.popitem(last=False)
            self.size -= len(old)


def _valid_fault(fault: str) -> bool:
    return fault in FAULT_KINDS or (fault.isdigit() and len(fault) == 3)


__all__ = ["DEFAULT_NOW", "FAULT_KINDS", "JSON", "RECORD_KINDS", "ZendeskSimulator"]
