"""``ConfluenceSimulator``: the site behind HTTP: authentication, scopes, the rate limit, faults,
error bodies, and the command line."""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import math
import random
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .model import DEFAULT_START, SCOPE_MISMATCH, SCOPED_ROUTES, ApiError, Fault, SimulatorStats, scope_name
from .mutate import Mutations
from .routes import Routes


class ConfluenceSimulator(Routes, Mutations):
    """A seeded Confluence Cloud site. ``serve()`` puts it on a loopback port.

    ``n_extra_pages`` generated pages come on top of the world's 220 articles and the fixed
    structure (homepages, sections, a legacy space, a few trashed and deleted pages); 20,000 is
    fine: bodies are generated on demand. ``rate_limit`` requests per ``rate_window`` seconds are
    answered, the rest get 429 (``None``: no limit). ``site_url`` is what ``_links.base`` names
    (default: the world's ``https://acme.atlassian.net``, so web links equal the URLs in Zendesk
    comments); next links are site-relative and work against the loopback URL.
    """

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
        latency_ms: int = 0,
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
        self.base_url: str | None = None
        self.stats = SimulatorStats()
        self._faults: list[tuple[str, deque[Fault]]] = []
        self._fault_rng = random.Random(f"confluence-faults:{seed}")
        self._budget_start = time.monotonic()
        self._budget_used = 0
        super().__init__(seed, n_extra_pages, n_blogposts, site_url, start)

    # ---------------------------------------------------------------- public API

    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve on ``host:port`` (0: a free port) in a daemon thread; yields the site URL
        (``http://127.0.0.1:PORT``, without ``/wiki``), also kept as ``base_url``."""
        server = _Server((host, port), self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="confluence-simulator"
        )
        thread.start()
        self.base_url = f"http://{host}:{server.server_address[1]}"
        try:
            yield self.base_url
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def inject(self, path_prefix: str, faults: Iterable[Fault]) -> None:
        """Queue faults for requests whose path starts with ``path_prefix`` (e.g.
        ``/wiki/api/v2/pages``): each such request takes the next one, in order, until the queue
        is empty. Checked before authentication and rate limits."""
        with self._lock:
            self._faults.append((path_prefix, deque(faults)))

    # ---------------------------------------------------------------- request plumbing

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, queue in self._faults:
                if queue and path.startswith(prefix):
                    return queue.popleft()
            if self.error_rate and self._fault_rng.random() < self.error_rate:
                return self._fault_rng.choice((500, 502, 503, 504))
        return None

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() == self.oauth_token
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return user == self.email and secret == self.api_token
        return False

    def _missing_scope(self, path: str) -> str | None:
        """The scope ``path`` needs that the token lacks (see ``without_scopes``), if any."""
        if not self.without_scopes:
            return None
        for pattern, scope in SCOPED_ROUTES:
            if scope in self.without_scopes and pattern.match(path):
                return scope
        return None

    def _take_budget(self) -> tuple[bool, dict[str, str]]:
        """Spend one request of the budget: (allowed, rate-limit headers)."""
        if self.rate_limit is None:
            return True, {}
        with self._lock:
            now = time.monotonic()
            if now - self._budget_start >= self.rate_window:
                elapsed_windows = int((now - self._budget_start) // self.rate_window)
                self._budget_start += elapsed_windows * self.rate_window
                self._budget_used = 0
            reset_in = max(0.0, self._budget_start + self.rate_window - now)
            allowed = self._budget_used < self.rate_limit
            if allowed:
                self._budget_used += 1
            remaining = max(0, self.rate_limit - self._budget_used)
        headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < 0.2 * self.rate_limit:
            headers["X-RateLimit-NearLimit"] = "true"
        if not allowed:
            retry_after = max(1, math.ceil(reset_in))
            reset_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_after)
            headers["Retry-After"] = str(retry_after)
            headers["X-RateLimit-Reset"] = reset_at.strftime("%Y-%m-%dT%H:%MZ")
        return allowed, headers


# --------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: ConfluenceSimulator) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, dropped faults) are normal here: stay quiet."""


def _v2_error(status: int, code: str, title: str, detail: str | None = None) -> bytes:
    return json.dumps({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}).encode()


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
    return json.dumps(body).encode()


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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "AtlassianEdge"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms a request
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the stats instead."""

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json;charset=UTF-8",
        cut: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def _error(
        self,
        status: int,
        title: str,
        detail: str | None,
        headers: dict[str, str] | None = None,
        v1: bool = False,
        code: str | None = None,
    ) -> None:
        if v1:
            body = _v1_error(status, title, _REASONS.get(status, "Error"))
        else:
            body = _v2_error(status, code or _CODES.get(status, "ERROR"), title, detail)
        self._send(status, body, headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        path = split.path
        v1 = path.startswith("/wiki/rest/")
        with sim._lock:
            sim.stats.requests[path] += 1
        if sim.latency_ms:
            time.sleep(sim.latency_ms / 1000)
        cut = False
        fault = sim._take_fault(path)
        if fault is not None:
            if isinstance(fault, float):
                time.sleep(fault)
            elif fault != "ok":
                with sim._lock:
                    sim.stats.faults += 1
                if fault == "drop":
                    self._drop()
                    return
                if fault == "bad_json":
                    self._send(200, b'{"results": [{"id": "1", "status": "current", "title": <html>Service', {})
                    return
                if fault == "truncate":
                    cut = True
                elif isinstance(fault, int):
                    self._fault_status(fault, v1)
                    return
                else:
                    raise ValueError(f"unknown fault {fault!r}")
        if not sim._authorized(self.headers.get("Authorization")):
            with sim._lock:
                sim.stats.unauthorized += 1
            self._error(401, "Unauthorized", "Client must be authenticated to access this resource.", v1=v1)
            return
        if sim._missing_scope(path) is not None:
            with sim._lock:
                sim.stats.unauthorized += 1
                sim.stats.scope_refused += 1
            self._send(401, json.dumps(SCOPE_MISMATCH).encode())
            return
        allowed, rate_headers = sim._take_budget()
        if not allowed:
            with sim._lock:
                sim.stats.rate_limited += 1
            self._error(429, "Too Many Requests", "Rate limit exceeded.", rate_headers, v1=v1)
            return
        try:
            status, payload, headers = sim.handle(path, split.query)
        except ApiError as exc:
            self._error(exc.status, exc.title, exc.detail, rate_headers, v1=v1, code=exc.code)
            return
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        self._send(status, body, {**rate_headers, **headers}, cut=cut)

    def _fault_status(self, status: int, v1: bool) -> None:
        if status in (502, 504):
            reason = _REASONS[status]
            page = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
            self._send(status, page.encode(), {}, content_type="text/html")
        elif status in (429, 503):
            headers = {"Retry-After": "1"}
            if status == 429:
                headers.update(
                    {
                        "X-RateLimit-Limit": str(self.server.sim.rate_limit or 100),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).strftime(
                            "%Y-%m-%dT%H:%MZ"
                        ),
                    }
                )
                with self.server.sim._lock:
                    self.server.sim.stats.rate_limited += 1
            self._error(status, _REASONS[status], None, headers, v1=v1)
        else:
            self._error(status, _REASONS.get(status, "Error"), None, v1=v1)

    def _not_allowed(self) -> None:
        self._discard_body()
        self._error(
            405,
            "Method Not Allowed",
            "The simulator is read-only.",
            v1=urlsplit(self.path).path.startswith("/wiki/rest/"),
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed


# --------------------------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulators.confluence [--port 0] [--seed 1] [--pages N] …``: print the
    site URL on the first line of stdout, then serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="confluence-simulator", description="A local Confluence Cloud: REST API v2 (and a little of v1)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pages", type=int, default=600, help="generated pages on top of the world's articles")
    parser.add_argument("--blogposts", type=int, default=30)
    parser.add_argument("--email", default="sync-bot@supportlake-demo.com")
    parser.add_argument("--token", default="confluence-sim-token", help="the API token of --email (Basic auth)")
    parser.add_argument("--oauth-token", default="confluence-sim-oauth", help="the Bearer token")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per --rate-window (default: no limit)")
    parser.add_argument("--rate-window", type=float, default=60.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument(
        "--without-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="a scope the token lacks, e.g. read:label (repeatable): its endpoints answer 401",
    )
    args = parser.parse_args(argv)
    sim = ConfluenceSimulator(
        seed=args.seed,
        n_extra_pages=args.pages,
        n_blogposts=args.blogposts,
        email=args.email,
        api_token=args.token,
        oauth_token=args.oauth_token,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        without_scopes=args.without_scope,
    )
    with sim.serve(port=args.port, host=args.host) as base_url:
        print(base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
