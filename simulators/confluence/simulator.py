"""``ConfluenceSimulator``: the site behind HTTP: authentication, scopes, the rate limit, faults,
error bodies, and the command line."""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from simulators.shared import (
    FaultQueue,
    HttpSimulator,
    RateWindow,
    Request,
    Response,
    basic_credentials,
    bearer_token,
    dumps,
    roll_fault,
)

from .model import DEFAULT_START, SCOPE_MISMATCH, SCOPED_ROUTES, ApiError, Fault, SimulatorStats, scope_name
from .mutate import Mutations
from .routes import Routes


class ConfluenceSimulator(Routes, Mutations, HttpSimulator):
    """A seeded Confluence Cloud site. ``serve()`` puts it on a loopback port.

    ``n_extra_pages`` generated pages come on top of the world's 220 articles and the fixed
    structure (homepages, sections, a legacy space, a few trashed and deleted pages); 20,000 is
    fine: bodies are generated on demand. ``rate_limit`` requests per ``rate_window`` seconds are
    answered, the rest get 429 (``None``: no limit). ``site_url`` is what ``_links.base`` names
    (default: the world's ``https://acme.atlassian.net``, so web links equal the URLs in Zendesk
    comments); next links are site-relative and work against the loopback URL.
    """

    server_name = "confluence-simulator"
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    server_version = "AtlassianEdge"
    json_type = "application/json;charset=UTF-8"

    def __init__(
        self,
        seed: int = 1,
        n_extra_pages: int = 600,
        n_blogposts: int = 30,
        *,
        email: str = "sync-bot@supportlake-demo.com",
        api_token: str = "confluence-sim-token",  # noqa: S107 - a fake credential of a local simulator
        oauth_token: str = "confluence-sim-oauth",  # noqa: S107 - a fake credential of a local simulator
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        error_rate: float = 0.0,
        latency_ms: float = 0.0,
        site_url: str | None = None,
        start: dt.datetime = DEFAULT_START,
        without_scopes: Iterable[str] = (),
    ) -> None:
        self.without_scopes = frozenset(scope_name(s) for s in without_scopes)
        self.email = email
        self.api_token = api_token
        self.oauth_token = oauth_token
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.error_rate = error_rate
        self.latency_ms = latency_ms
        self.stats: SimulatorStats = SimulatorStats()
        self._faults: FaultQueue[Fault] = FaultQueue(_valid_fault)
        self._fault_rng = random.Random(f"confluence-faults:{seed}")
        self._budget = RateWindow()
        super().__init__(seed, n_extra_pages, n_blogposts, site_url, start)

    # ---------------------------------------------------------------- public API

    def inject(self, path_prefix: str, faults: Iterable[Fault]) -> None:
        """Queue faults for requests whose path starts with ``path_prefix`` (e.g.
        ``/wiki/api/v2/pages``): each such request takes the next one, in order, until the queue
        is empty. Checked before authentication and rate limits. ``ValueError`` for an unknown one."""
        self._faults.inject(path_prefix, faults)

    # ---------------------------------------------------------------- request plumbing

    def respond(self, request: Request) -> Response:
        """Faults, authentication, scopes, the rate limit, then the route."""
        path = urlsplit(request.target).path
        v1 = path.startswith("/wiki/rest/")
        if request.method != "GET":
            return _error(405, "Method Not Allowed", "The simulator is read-only.", v1=v1)
        self.stats.count_request(path)
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        cut = False
        fault = self._take_fault(path)
        if isinstance(fault, float):
            time.sleep(fault)
        elif fault is not None and fault != "ok":
            self.stats.count_fault(str(fault))
            if fault == "drop":
                return Response(0, action="drop")
            if fault == "bad_json":
                return Response(200, b'{"results": [{"id": "1", "status": "current", "title": <html>Service')
            if fault == "truncate":
                cut = True
            else:
                return self._fault_status(int(fault), v1)
        if not self._authorized(request.headers.get("Authorization")):
            self.stats.count_unauthorized()
            return _error(401, "Unauthorized", "Client must be authenticated to access this resource.", v1=v1)
        if self._missing_scope(path) is not None:
            self.stats.count_unauthorized(scope=True)
            return Response(401, dumps(SCOPE_MISMATCH))
        allowed, rate_headers = self._take_budget()
        if not allowed:
            self.stats.count_rate_limited()
            return _error(429, "Too Many Requests", "Rate limit exceeded.", rate_headers, v1=v1)
        try:
            status, payload, headers = self.handle(path, urlsplit(request.target).query)
        except ApiError as exc:
            return _error(exc.status, exc.title, exc.detail, rate_headers, v1=v1, code=exc.code)
        response = Response(status, dumps(payload), headers=list({**rate_headers, **headers}.items()))
        if cut:
            response.action = "truncate"
        return response

    def _take_fault(self, path: str) -> Fault | None:
        queued: Fault | None = self._faults.take(path)
        if queued is not None:
            return queued
        with self._lock:
            return roll_fault(self._fault_rng, error_rate=self.error_rate)

    def _authorized(self, header: str | None) -> bool:
        token = bearer_token(header)
        if token is not None:
            return token == self.oauth_token
        return basic_credentials(header) == (self.email, self.api_token)

    def _missing_scope(self, path: str) -> str | None:
        """The scope ``path`` needs that the token lacks (see ``without_scopes``), if any."""
        if not self.without_scopes:
            return None
        for pattern, scope in SCOPED_ROUTES:
            if scope in self.without_scopes and pattern.match(path):
                return scope
        return None

    def _take_budget(self) -> tuple[bool, dict[str, str]]:
        """Spend one request of the budget (a sliding window): (allowed, rate-limit headers)."""
        limit = self.rate_limit
        if limit is None:
            return True, {}
        with self._lock:
            allowed, remaining, reset_in = self._budget.acquire(time.monotonic(), limit, self.rate_window)
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < 0.2 * limit:
            headers["X-RateLimit-NearLimit"] = "true"
        if not allowed:
            headers["Retry-After"] = str(reset_in)
            headers["X-RateLimit-Reset"] = _reset_at(reset_in)
        return allowed, headers

    def _fault_status(self, status: int, v1: bool) -> Response:
        if status in (502, 504):
            reason = _REASONS[status]
            page = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
            return Response(status, page.encode(), "text/html")
        if status in (429, 503):
            headers = {"Retry-After": "1"}
            if status == 429:
                headers.update(
                    {
                        "X-RateLimit-Limit": str(self.rate_limit or 100),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": _reset_at(1),
                    }
                )
            return _error(status, _REASONS[status], None, headers, v1=v1)
        return _error(status, _REASONS.get(status, "Error"), None, v1=v1)


def _valid_fault(fault: Fault) -> bool:
    return isinstance(fault, int | float) or fault in ("drop", "truncate", "bad_json", "ok")


def _reset_at(seconds: int) -> str:
    """``X-RateLimit-Reset``: when the budget frees, as Atlassian writes it (UTC, to the minute)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%MZ")


# --------------------------------------------------------------------------------------------
# error bodies


def _error(
    status: int,
    title: str,
    detail: str | None,
    headers: dict[str, str] | None = None,
    v1: bool = False,
    code: str | None = None,
) -> Response:
    if v1:
        body = _v1_error(status, title, _REASONS.get(status, "Error"))
    else:
        body = _v2_error(status, code or _CODES.get(status, "ERROR"), title, detail)
    return Response(status, body, headers=list((headers or {}).items()))


def _v2_error(status: int, code: str, title: str, detail: str | None = None) -> bytes:
    return dumps({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]})


def _v1_error(status: int, message: str, reason: str) -> bytes:
    body = {
        "statusCode": status,
        "data": {
            "authorized": status not in (401, 403),
            "valid": status != 400,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": message,
        "reason": reason,
    }
    return dumps(body)


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


# --------------------------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulators.confluence [--port 0] [--seed 1] [--pages N] …``: the same as
    ``python -m simulators confluence …`` (see :mod:`simulators.__main__`)."""
    from simulators.__main__ import main as run

    return run(["confluence", *(argv if argv is not None else sys.argv[1:])])
