"""The loopback HTTP server every simulator runs on, and its serving lifecycle.

A simulator subclasses :class:`HttpSimulator` and answers :class:`Request` objects with
:class:`Response` objects in :meth:`HttpSimulator.respond`; the server here does the HTTP/1.1
keep-alive plumbing, the faults a transport can show (``drop``: close without an answer;
``truncate``: announce the full ``Content-Length``, send half the body, close) and counts the
statuses it sends.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal

from .stats import Stats

log = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

try:  # orjson is faster; the standard library is the fallback
    import orjson

    def dumps(obj: Any) -> bytes:
        """Compact JSON bytes."""
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - exercised only without orjson

    def dumps(obj: Any) -> bytes:
        """Compact JSON bytes."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Request:
    """One HTTP request as a simulator sees it."""

    method: str
    target: str
    """The request target: path and query string, as sent."""
    headers: Message
    """The request headers (case-insensitive ``get``)."""
    body: bytes
    host_url: str
    """``http://host:port`` from the ``Host`` header (or the server's address)."""


@dataclass
class Response:
    """What a simulator answers."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    """None: the simulator's JSON type (:attr:`HttpSimulator.json_type`)."""
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: Literal["send", "drop", "truncate"] = "send"
    """``send``; ``drop`` (close without answering); ``truncate`` (close half-way through the body)."""
    close: bool = False
    """Send ``Connection: close`` and close after the answer."""


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(user, secret)`` of an ``Authorization: Basic …`` header, else None."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user, secret


def bearer_token(header: str | None, schemes: Sequence[str] = ("bearer",)) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (or another of ``schemes``), else None."""
    scheme, _, value = (header or "").partition(" ")
    return value.strip() if scheme.lower() in schemes else None


class HttpSimulator:
    """A simulator served by a :class:`ThreadingHTTPServer` in a daemon thread on a loopback port.

    Subclasses implement :meth:`respond` and set ``stats`` (a :class:`Stats`); they may set
    ``methods`` (the HTTP methods routed to :meth:`respond`; others get the server's 501),
    ``json_type``, ``server_version`` and :meth:`server_time` (the ``Date`` header), and
    :meth:`internal_error` (the answer when :meth:`respond` raises).
    """

    server_name: ClassVar[str] = "simulator"
    methods: ClassVar[tuple[str, ...]] = ("GET",)
    server_version: ClassVar[str | None] = None
    json_type: ClassVar[str] = JSON
    """The ``Content-Type`` of a :class:`Response` that names none."""
    stats: Stats
    base_url: str | None = None
    """Where the simulator listens while it serves (``http://127.0.0.1:PORT``), else None."""
    _http: _LoopbackServer | None = None

    def respond(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def server_time(self) -> float | None:
        """The server's clock for the ``Date`` header (Unix seconds); None: the machine's."""
        return None

    def internal_error(self, exc: Exception) -> Response:
        """The answer when :meth:`respond` raises: the simulator must answer like a server, not die."""
        log.error("%s failed to answer", self.server_name, exc_info=exc)
        return Response(500, dumps({"error": "internal error", "detail": f"{type(exc).__name__}: {exc}"}))

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve in a daemon thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._http is None:
            self._http = _LoopbackServer(self, host, port)
            self.base_url = self._http.base_url
        assert self.base_url is not None
        return self.base_url

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
            self.base_url = None

    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve for the duration of the ``with`` block, yielding the base URL."""
        base_url = self.start(port, host)
        try:
            yield base_url
        finally:
            self.stop()

    def _http_answer(self, request: Request) -> Response:
        try:
            response = self.respond(request)
        except Exception as exc:
            response = self.internal_error(exc)
        if response.action != "drop":
            self.stats.count_status(response.status)
        return response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms a request.
    disable_nagle_algorithm = True
    server: _Server

    def _handle(self) -> None:
        sim = self.server.simulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        response = sim._http_answer(Request(self.command, self.path, self.headers, body, f"http://{host}"))
        if response.action == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        cut = response.action == "truncate"
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type or sim.json_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if cut or response.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if cut:
            self.wfile.write(response.body[: max(1, len(response.body) // 2)])
            self.wfile.flush()
            return
        self.wfile.write(response.body)

    def version_string(self) -> str:
        return self.server.simulator.server_version or super().version_string()

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the simulator's clock when it has one."""
        return super().date_time_string(self.server.simulator.server_time() if timestamp is None else timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: HttpSimulator) -> None:
        handler = type(
            f"{type(simulator).__name__}Handler",
            (_Handler,),
            {f"do_{method}": _Handler._handle for method in simulator.methods},
        )
        super().__init__(address, handler)
        self.simulator = simulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, dropped faults) are normal here: stay quiet."""
        log.debug("connection from %s ended with an error", client_address)


class _LoopbackServer:
    def __init__(self, simulator: HttpSimulator, host: str, port: int) -> None:
        self._server = _Server((host, port), simulator)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=simulator.server_name,
            daemon=True,
        )
        self._thread.start()
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        log.info("%s serving at %s", simulator.server_name, self.base_url)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
