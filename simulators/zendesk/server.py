"""The HTTP side: a keep-alive ``ThreadingHTTPServer``, rate limits, faults and error bodies.

Error bodies and headers follow Zendesk's documentation and observed responses:

* 401 — ``{"error": "Couldn't authenticate you"}`` for Basic auth; an OAuth bearer token that
  is not valid gets ``{"error": "invalid_token", "error_description": ...}``;
* 404 — ``{"error": "InvalidEndpoint", "description": "Not found"}``;
* 403 — ``{"error": "Forbidden", "description": "You do not have access to this page. ..."}``;
* 429 — ``Retry-After`` (seconds) and a plain-text body, "Number of allowed API requests per
  minute exceeded" (the incremental exports say "incremental export API requests");
* every response carries ``X-Rate-Limit``, ``X-Rate-Limit-Remaining``, ``ratelimit-limit``,
  ``ratelimit-remaining`` and ``ratelimit-reset`` (API reference: Rate limits), for the limit
  that binds the endpoint: 10 a minute for the incremental exports, the account's plan limit
  for everything else.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._util import dumps

log = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

UNAUTHORIZED = dumps({"error": "Couldn't authenticate you"})
INVALID_TOKEN = dumps(
    {
        "error": "invalid_token",
        "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons.",
    }
)
NOT_FOUND = dumps({"error": "InvalidEndpoint", "description": "Not found"})
FORBIDDEN = dumps(
    {
        "error": "Forbidden",
        "description": (
            "You do not have access to this page. Please contact the account owner of this help desk for further help."
        ),
    }
)
ACCOUNT_LIMITED = b"Number of allowed API requests per minute exceeded"
EXPORT_LIMITED = b"Number of allowed incremental export API requests per minute exceeded"
BAD_JSON = b'{"tickets":[{"id":1,"subject":"unterminated'
_ERROR_BODIES: dict[int, tuple[bytes, str]] = {
    500: (dumps({"error": "InternalServerError", "description": "Something went wrong"}), JSON),
    502: (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: (b"Service Unavailable", TEXT),
    504: (b"<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html"),
}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: str = "send"
    """``send``; ``drop`` (close without answering); ``truncate`` (close half-way through the body)."""


def error_response(status: int) -> Response:
    body, content_type = _ERROR_BODIES.get(status, (dumps({"error": f"HTTP {status}"}), JSON))
    return Response(status, body, content_type)


@dataclass
class Stats:
    """What the simulator served: requests per path, statuses, 429s and faults."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def faults_served(self) -> int:
        return sum(self.faults.values())


class RateWindow:
    """A sliding-window request limit: at most ``limit`` requests in any ``window`` seconds."""

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def _prune(self, now: float, window: float) -> None:
        while self.stamps and self.stamps[0] <= now - window:
            self.stamps.popleft()

    def acquire(self, now: float, limit: int, window: float) -> tuple[bool, int, int]:
        """Take a slot if one is free: ``(allowed, remaining, seconds until a slot frees)``."""
        self._prune(now, window)
        if len(self.stamps) >= limit:
            return False, 0, self._reset(now, window)
        self.stamps.append(now)
        return True, limit - len(self.stamps), self._reset(now, window)

    def peek(self, now: float, limit: int, window: float) -> tuple[int, int]:
        self._prune(now, window)
        return max(limit - len(self.stamps), 0), self._reset(now, window)

    def _reset(self, now: float, window: float) -> int:
        if not self.stamps:
            return math.ceil(window)
        return max(1, math.ceil(self.stamps[0] + window - now))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: without it, Nagle + delayed ACK add ~40 ms to small keep-alive responses.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        response = self.server.app.handle(self.path, dict(self.headers.items()), f"http://{host}")
        if response.action == "drop":
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if response.action == "truncate":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(response.body[: max(1, len(response.body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class App:
    """What :class:`_Server` asks to answer a request (the simulator implements it)."""

    def handle(self, path: str, headers: dict[str, str], base_url: str) -> Response:  # pragma: no cover
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app


class HttpServer:
    """A :class:`ThreadingHTTPServer` in a daemon thread."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), app)
        self._thread = threading.Thread(target=self._server.serve_forever, name="zendesk-simulator", daemon=True)
        self._thread.start()
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        log.info("Zendesk simulator serving at %s", self.base_url)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def monotonic() -> float:
    return time.monotonic()
