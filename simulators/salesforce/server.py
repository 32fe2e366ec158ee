"""The Salesforce simulator: an HTTP server on a loopback port serving the org of :mod:`.data`
(the parts: :mod:`.oauth`, :mod:`.rest`, :mod:`.bulk`; what they share: :mod:`.core`).

Login host and instance are the same server. Shapes follow Salesforce's documentation:

* OAuth 2.0 token endpoint ``POST /services/oauth2/token`` (client credentials, username-password
  with the security token appended to the password, refresh token, JWT bearer with RS256);
  errors ``{"error": ..., "error_description": ...}`` with HTTP 400.
* REST API ``/services/data/vXX.X/``: ``sobjects`` (describeGlobal), ``sobjects/{Object}``,
  ``sobjects/{Object}/describe``, ``sobjects/{Object}/{Id}``, ``sobjects/{Object}/deleted``,
  ``query`` and ``queryAll`` (``nextRecordsUrl`` pages of up to 2,000 records, or the
  ``Sforce-Query-Options: batchSize`` asked for), ``limits``; errors
  ``[{"message": ..., "errorCode": ...}]``.
* Bulk API 2.0 query jobs ``/services/data/vXX.X/jobs/query``: UploadComplete → InProgress →
  JobComplete (or Failed with ``errorMessage``), CSV results paged by ``maxRecords`` and
  ``locator`` with ``Sforce-Locator`` (``null`` on the last page) and ``Sforce-NumberOfRecords``.
* ``Sforce-Limit-Info: api-usage=n/m`` on every API response; past the daily limit
  ``403 REQUEST_LIMIT_EXCEEDED``. A request URI longer than ``max_uri_length`` gets the load
  balancer's ``414 URI Too Long`` page.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators import clock
from simulators.shared import (
    FaultQueue,
    Request,
    Response,
    dumps,
    roll_fault,
)
from simulators.world import COMPANY_DOMAIN

from . import schema as S
from . import soql
from ._util import B62, make_id, rng_for
from .core import JSON_TYPE, NOT_FOUND, BulkJob, Cursor, SalesforceStats, errors
from .data import PURGED, Org, render_json
from .oauth import LOGIN_AUDIENCES, OAuth
from .rest import RestApi

FAULT_KINDS = ("drop", "truncate", "badjson", "QUERY_TIMEOUT", "INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED")


_URI_TOO_LONG = b"<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"


_PATH_NORMALISERS = (
    (re.compile(r"/(query|queryAll)/[^/]+-\d+$"), r"/\1/{locator}"),
    (re.compile(r"/jobs/query/750[^/]+"), "/jobs/query/{jobId}"),
    (re.compile(r"/id/[^/]+/[^/]+$"), "/id/{orgId}/{userId}"),
    (re.compile(r"/sobjects/([^/]+)/(?!describe|deleted)[a-zA-Z0-9]{15,18}$"), r"/sobjects/\1/{id}"),
)


_NO_FAULT = object()


def _valid_fault(item: Any) -> bool:
    return (
        item is None
        or isinstance(item, dict)
        or (isinstance(item, tuple) and len(item) == 2 and item[0] == "delay")
        or (isinstance(item, int) and 400 <= item <= 599)
        or (isinstance(item, str) and (item in FAULT_KINDS or (item.isdigit() and len(item) == 3)))
    )


class SalesforceSimulator(RestApi, OAuth):
    """A seeded, deterministic Salesforce org behind a local HTTP server.

    >>> sim = SalesforceSimulator(seed=1, n_cases=3000)
    >>> with sim.serve() as base_url:  # doctest: +SKIP
    ...     token = requests.post(f"{base_url}/services/oauth2/token", data={
    ...         "grant_type": "client_credentials", "client_id": sim.client_id,
    ...         "client_secret": sim.client_secret}).json()["access_token"]

    The org's clock starts at ``now`` (default: the simulators' shared clock,
    :data:`simulators.clock.NOW`, with ``history_days`` of cases before it) and moves
    on only with :meth:`mutate`; it never reads the wall clock, so the same seed gives the same
    org on any day. Responses carry that clock as server time (the ``Date`` header, the delete
    log's ``latestDateCovered``, Bulk job stamps), as a real org's carry its own.
    """

    server_name = "salesforce-simulator"
    methods = ("GET", "POST", "PATCH", "DELETE")
    server_version = "SalesforceSimulator/1.0"
    json_type = JSON_TYPE

    def __init__(
        self,
        seed: int = 1,
        n_cases: int = 3000,
        *,
        daily_limit: int = 100_000,
        api_version: str = "v62.0",
        now: datetime | int | None = None,
        history_days: int = clock.HISTORY_DAYS,
        batch_size: int = 2000,
        max_uri_length: int = 16_384,
        bulk_page_size: int = 50_000,
        bulk_polls_to_complete: int = 2,
        bulk_unsupported_objects: Iterable[str] = ("Knowledge__kav",),
        hidden_objects: Iterable[str] = (),
        deleted_retention_days: int = 15,
        replication_window_days: int = 30,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        truncate_rate: float = 0.0,
        retry_after: int = 1,
        client_id: str | None = None,
        client_secret: str | None = None,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
        refresh_token: str | None = None,
        jwt_public_key_pem: str | None = None,
        jwt_audiences: Iterable[str] = LOGIN_AUDIENCES,
    ) -> None:
        if not re.fullmatch(r"v\d+\.\d", api_version):
            raise ValueError(f"api_version must look like 'v62.0', not {api_version!r}")
        self.seed = seed
        self.api_version = api_version
        if now is None:
            now = clock.NOW
        start = int(now.timestamp()) if isinstance(now, datetime) else int(now)
        self.org = Org(seed, n_cases, start, history_days)
        self.daily_limit = daily_limit
        self.batch_size = batch_size
        self.max_uri_length = max_uri_length
        self.bulk_page_size = bulk_page_size
        self.bulk_polls_to_complete = bulk_polls_to_complete
        self.bulk_unsupported_objects = {o.lower() for o in bulk_unsupported_objects}
        self.hidden_objects = {o.lower() for o in hidden_objects}
        self.deleted_retention_days = deleted_retention_days
        self.replication_window_days = replication_window_days
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.drop_rate = drop_rate
        self.truncate_rate = truncate_rate
        self.retry_after = retry_after
        self.jwt_audiences = set(jwt_audiences)
        self.stats: SalesforceStats = SalesforceStats()

        r = rng_for(seed, 7_777)
        self.org_id = make_id("00D", 1)
        self.user_id = self.org.user_id(0)
        self.client_id = client_id or "3MVG9" + "".join(r.choice(B62) for _ in range(80))
        self.client_secret = client_secret or "".join(r.choice("0123456789ABCDEF") for _ in range(64))
        self.username = (username or "integration@" + COMPANY_DOMAIN).lower()
        self.password = password or "Sim-" + "".join(r.choice(B62) for _ in range(12))
        self.security_token = (
            security_token if security_token is not None else "".join(r.choice(B62) for _ in range(24))
        )
        self.refresh_token = refresh_token or "5Aep861" + "".join(r.choice(B62 + "._") for _ in range(80))
        self._jwt_public_key_pem = jwt_public_key_pem
        self._token_rng = rng_for(seed, 7_778)
        self._tokens: dict[str, str] = {}

        self._lock = threading.RLock()
        self._fault_rng = rng_for(seed, 7_779)
        self._injections: FaultQueue[Any] = FaultQueue(_valid_fault)
        self._query_failures: list[tuple[str | None, str]] = []
        self._bulk_failures: list[tuple[str | None, str]] = []
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._n_cursors = 0
        self._jobs: dict[str, BulkJob] = {}
        self._n_jobs = 0

    # ------------------------------------------------------------------ public API

    @property
    def api_usage(self) -> int:
        return self.stats.api_usage

    @api_usage.setter
    def api_usage(self, value: int) -> None:
        self.stats.api_usage = value

    @property
    def now(self) -> datetime:
        """The simulated clock: the time of the latest change in the org."""
        return datetime.fromtimestamp(self.org.clock, tz=UTC)

    @property
    def n_cases(self) -> int:
        return len(self.org.t_case)

    @property
    def objects(self) -> list[str]:
        """The org's object names (those the integration user can see)."""
        return [o.name for o in S.OBJECTS if o.name.lower() not in self.hidden_objects]

    def data_path(self, resource: str = "") -> str:
        """``/services/data/vXX.X/<resource>``: handy for :meth:`inject`."""
        return f"/services/data/{self.api_version}/{resource.lstrip('/')}".rstrip("/")

    def expire_tokens(self) -> None:
        """Every access token issued so far becomes invalid (``INVALID_SESSION_ID``); refresh tokens stay."""
        with self._lock:
            self._tokens.clear()

    def inject(self, path_prefix: str, responses: Iterable[Any]) -> None:
        """Queue scripted answers for the next requests whose path starts with ``path_prefix``.

        Each item: an HTTP status (``500``, ``502``, ``503``, ``504``, ``429`` with ``Retry-After``...);
        ``"drop"`` (close the connection without answering); ``"truncate"`` (send fewer bytes than
        ``Content-Length``); ``"QUERY_TIMEOUT"``, ``"INVALID_SESSION_ID"`` or
        ``"REQUEST_LIMIT_EXCEEDED"`` (those errors); ``{"status": ..., "body": ..., "headers": {...}}``;
        ``("delay", seconds)`` (answer normally, late); or ``None`` (answer normally).
        """
        self._injections.inject(path_prefix, responses)

    def fail_queries(self, object_name: str | None = None, count: int = 1, error: str = "QUERY_TIMEOUT") -> None:
        """The next ``count`` REST queries (of ``object_name``, or any) fail with ``error`` (HTTP 400)."""
        with self._lock:
            self._query_failures.extend([(object_name.lower() if object_name else None, error)] * count)

    def fail_bulk_jobs(
        self,
        object_name: str | None = None,
        count: int = 1,
        message: str = "InternalServerError: an unexpected error occurred while processing the query",
    ) -> None:
        """The next ``count`` Bulk query jobs (of ``object_name``, or any) end in state ``Failed``."""
        with self._lock:
            self._bulk_failures.extend([(object_name.lower() if object_name else None, message)] * count)

    def mutate(
        self,
        seed: int = 0,
        update_fraction: float = 0.01,
        insert_count: int | None = None,
        delete_count: int | None = None,
        advance_seconds: int = 3600,
    ) -> dict[str, int]:
        """Change the org: status changes, new comments, completed and violated milestones, new cases,
        soft deletes (recycle bin, still in ``queryAll``), merges, hard deletes (purged, listed by the
        deleted endpoint), automation that moves ``SystemModstamp`` but not ``LastModifiedDate``, and
        several records sharing one ``SystemModstamp``. Returns what changed, per object and kind.

        The clock moves on ``advance_seconds``; the changes fall before the last two minutes of
        that time (as when a sync runs a few minutes after the last edit), so a client whose
        windows end at the server's time, rounded down to the minute, sees them all."""
        with self._lock:
            return self.org.mutate(seed, self.org.clock + advance_seconds, update_fraction, insert_count, delete_count)

    def reset_stats(self) -> None:
        """Forget the request counters (API usage stays: it is the org's)."""
        with self._lock:
            usage = self.stats.api_usage
            self.stats = SalesforceStats(api_usage=usage)

    def records(self, object_name: str) -> list[dict[str, Any]]:
        """The latest state of every record still in the org (soft-deleted ones with ``IsDeleted``
        true; purged ones excluded), as the REST API returns them without ``attributes``."""
        spec = self._spec(object_name)
        with self._lock:
            table = self.org.tables[spec.name]
            return [render_json(spec, self.org.build(spec.name, i)) for i in table.alive()]

    def deleted(self, object_name: str) -> list[str]:
        """Ids of the records purged from the org (gone from ``queryAll``), sorted."""
        spec = self._spec(object_name)
        with self._lock:
            table = self.org.tables[spec.name]
            return sorted(table.id(i) for i in range(len(table)) if table.state[i] == PURGED)

    # ------------------------------------------------------------------ request handling

    def internal_error(self, exc: Exception) -> Response:
        return errors(500, "UNKNOWN_EXCEPTION", f"{type(exc).__name__}: {exc}")

    def respond(self, request: Request) -> Response:
        return self._respond(request.method, request.target, request.headers, request.body)

    def _respond(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        key = path
        for rx, repl in _PATH_NORMALISERS:
            key = rx.sub(repl, key)
        self.stats.count_request(key)
        if len(raw_path) > self.max_uri_length:
            return Response(414, _URI_TOO_LONG, "text/html;charset=iso-8859-1", close=True)
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        with self._lock:
            fault = self._next_fault(path)
        if isinstance(fault, tuple) and fault and fault[0] == "delay":
            time.sleep(float(fault[1]))
            fault = None
        elif isinstance(fault, dict) and "delay" in fault:
            time.sleep(float(fault["delay"]))
            fault = None
        truncate = fault == "truncate"
        if fault is not None and not truncate:
            with self._lock:
                return self._fault_response(fault)
        if truncate:
            self.stats.count_fault("truncate")
        with self._lock:
            response = self._answer(method, path, params, headers, body)
        if truncate:
            response.action = "truncate"
        return response

    def _answer(self, method: str, path: str, params: dict[str, str], headers: Any, body: bytes) -> Response:
        if path == "/services/oauth2/token" and method == "POST":
            return self._token(params, headers, body)
        if path == "/services/oauth2/revoke" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            self._tokens.pop(form.get("token", params.get("token", "")), None)
            return Response(200)
        if path.rstrip("/") == "/services/data" and method == "GET":
            return Response(200, dumps(self._versions()))
        if path.startswith("/id/"):
            return self._identity(headers)
        m = re.match(r"^/services/data/(v\d+\.\d)(/.*)?$", path)
        if not m:
            return errors(404, "NOT_FOUND", NOT_FOUND)
        version, rest = m.group(1), (m.group(2) or "").rstrip("/")
        if self._tokens.get(self._bearer(headers)) is None:
            self.stats.invalid_sessions += 1
            return errors(401, "INVALID_SESSION_ID", "Session expired or invalid", [("WWW-Authenticate", "Token")])
        self.stats.api_usage += 1
        if self.stats.api_usage > self.daily_limit:
            self.stats.limit_exceeded += 1
            return errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", [self._limit_header()])
        if float(version[1:]) > float(self.api_version[1:]) or float(version[1:]) < 31.0:
            response = errors(404, "NOT_FOUND", NOT_FOUND)
        else:
            try:
                response = self._data(method, version, rest, params, headers, body)
            except soql.SoqlError as exc:
                response = errors(400, exc.code, exc.message)
        response.headers.append(self._limit_header())
        return response

    def _next_fault(self, path: str) -> Any:
        queued = self._injections.take(path, _NO_FAULT)
        if queued is not _NO_FAULT:
            return queued  # None among them: answer this one normally
        return roll_fault(
            self._fault_rng,
            drop_rate=self.drop_rate,
            truncate_rate=self.truncate_rate,
            error_rate=self.error_rate,
            error_statuses=(500, 502, 503),
        )

    def _fault_response(self, fault: Any) -> Response:
        kind = str(fault.get("status", "custom")) if isinstance(fault, dict) else str(fault)
        self.stats.count_fault(kind)
        if isinstance(fault, str) and fault.isdigit():
            fault = int(fault)
        if fault == "badjson":
            return Response(200, b'{"totalSize":5000,"done":false,"records":[{"attributes":{"type":')
        if fault == "drop":
            return Response(0, action="drop")
        if fault == "QUERY_TIMEOUT":
            return errors(400, "QUERY_TIMEOUT", "Your query request was running for too long.")
        if fault == "INVALID_SESSION_ID":
            self.stats.invalid_sessions += 1
            return errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if fault == "REQUEST_LIMIT_EXCEEDED":
            self.stats.limit_exceeded += 1
            return errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", [self._limit_header()])
        if isinstance(fault, dict):
            raw = fault.get("body", b"")
            if isinstance(raw, bytes):
                payload = raw
            elif isinstance(raw, str):
                payload = raw.encode()
            else:
                payload = dumps(raw)
            status = int(fault.get("status", 500))
            return Response(
                status,
                payload,
                str(fault.get("content_type", JSON_TYPE)),
                [(str(k), str(v)) for k, v in dict(fault.get("headers", {})).items()],
            )
        status = int(fault)
        if status == 429:
            # Salesforce documents no 429 for REST; a neutral code keeps it apart from the daily quota's
            # REQUEST_LIMIT_EXCEEDED, which a client must treat as final.
            return errors(
                429,
                "TOO_MANY_REQUESTS",
                f"Too many requests; retry after {self.retry_after} seconds.",
                [("Retry-After", str(self.retry_after))],
            )
        if status in (502, 504):
            text = "Bad Gateway" if status == 502 else "Gateway Timeout"
            return Response(status, f"<html><body><h1>{status} {text}</h1></body></html>".encode(), "text/html")
        if status == 503:
            return errors(
                503,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable; please try again later.",
                [("Retry-After", str(self.retry_after))],
            )
        return errors(
            status,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId "
            "if you contact support: 1829457314-53370 (-1196430331)",
        )
