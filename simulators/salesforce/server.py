"""The Salesforce simulator: an HTTP server on a loopback port serving the org of :mod:`.data`.

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

import base64
import binascii
import csv
import hashlib
import hmac
import io
import json
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators import clock
from simulators.shared import (
    FaultQueue,
    HttpSimulator,
    Request,
    Response,
    Stats,
    basic_credentials,
    dumps,
    roll_fault,
)
from simulators.world import COMPANY_DOMAIN

from . import schema as S
from . import soql
from ._util import B62, DAY, MINUTE, csv_datetime, make_id, parse_iso, rng_for, sf_datetime
from .data import LIVE, PURGED, RECYCLED, Org, render_json

JSON_TYPE = "application/json;charset=UTF-8"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FAULT_KINDS = ("drop", "truncate", "badjson", "QUERY_TIMEOUT", "INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED")
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")

_KEY_LOCK = threading.Lock()
_KEYPAIR: tuple[str, str] | None = None


def _generated_keypair() -> tuple[str, str]:
    """One RSA key pair per process (PEM private, PEM public): generating one takes a while."""
    global _KEYPAIR
    with _KEY_LOCK:
        if _KEYPAIR is None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            public = (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
            _KEYPAIR = (private, public)
        return _KEYPAIR


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SalesforceStats(Stats):
    """What the simulator has seen; tests and benchmarks read it. ``requests`` are per path, with
    Ids, job ids and query locators replaced by ``{id}``, ``{jobId}``, ``{locator}``;
    ``rate_limited`` counts injected 429s; ``faults`` counts injected failures by kind
    (``"503"``, ``"drop"``, ``"truncate"``, ``"QUERY_TIMEOUT"``, ``"bulk_failed"``...)."""

    queries: Counter[str] = field(default_factory=Counter)
    """``query:Case``, ``queryAll:Case``, ``count:Case``, ``more:Case`` (nextRecordsUrl pages), ``bulk:Case``."""
    tokens: Counter[str] = field(default_factory=Counter)
    """Access tokens issued, per grant type."""
    auth_failures: int = 0
    invalid_sessions: int = 0
    bulk_jobs: int = 0
    bulk_jobs_failed: int = 0
    bulk_result_pages: int = 0
    limit_exceeded: int = 0
    """403 REQUEST_LIMIT_EXCEEDED responses."""
    api_usage: int = 0
    """API requests counted against the daily limit (the ``n`` of ``Sforce-Limit-Info``)."""


def _errors(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps([{"message": message, "errorCode": code}]), headers=headers or [])


def _oauth_error(error: str, description: str) -> Response:
    return Response(400, dumps({"error": error, "error_description": description}))


_NOT_FOUND = "The requested resource does not exist"
_MAX_JOBS = 500
_URI_TOO_LONG = b"<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"
_PATH_NORMALISERS = (
    (re.compile(r"/(query|queryAll)/[^/]+-\d+$"), r"/\1/{locator}"),
    (re.compile(r"/jobs/query/750[^/]+"), "/jobs/query/{jobId}"),
    (re.compile(r"/id/[^/]+/[^/]+$"), "/id/{orgId}/{userId}"),
    (re.compile(r"/sobjects/([^/]+)/(?!describe|deleted)[a-zA-Z0-9]{15,18}$"), r"/sobjects/\1/{id}"),
)


@dataclass
class _Cursor:
    object: str
    fields: list[str]
    rows: list[int]
    batch: int


@dataclass
class _BulkJob:
    id: str
    operation: str
    query: soql.Query
    created: int
    version: str
    state: str = "UploadComplete"
    polls: int = 0
    rows: list[int] | None = None
    error: str | None = None
    finished: int = 0


_NO_FAULT = object()


def _valid_fault(item: Any) -> bool:
    return (
        item is None
        or isinstance(item, dict)
        or (isinstance(item, tuple) and len(item) == 2 and item[0] == "delay")
        or (isinstance(item, int) and 400 <= item <= 599)
        or (isinstance(item, str) and (item in FAULT_KINDS or (item.isdigit() and len(item) == 3)))
    )


class SalesforceSimulator(HttpSimulator):
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
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._n_cursors = 0
        self._jobs: dict[str, _BulkJob] = {}
        self._n_jobs = 0

    # ------------------------------------------------------------------ public API

    @property
    def private_key_pem(self) -> str:
        """The PEM private key whose public half the JWT bearer grant trusts."""
        if self._jwt_public_key_pem is not None:
            raise AttributeError("the simulator was given a public key; the private key is the caller's")
        return _generated_keypair()[0]

    @property
    def public_key_pem(self) -> str:
        return self._jwt_public_key_pem or _generated_keypair()[1]

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

    # ------------------------------------------------------------------ helpers

    def _spec(self, name: str) -> S.ObjectSpec:
        spec = S.BY_LOWER.get(name.lower())
        if spec is None:
            raise ValueError(f"unknown object {name!r}; one of {', '.join(o.name for o in S.OBJECTS)}")
        return spec

    def _visible(self, name: str) -> S.ObjectSpec | None:
        if name.lower() in self.hidden_objects:
            return None
        return S.BY_LOWER.get(name.lower())

    def _now(self) -> int:
        """The server's time: the org's clock."""
        return self.org.clock

    def server_time(self) -> float:
        """The ``Date`` header: the org's clock, not the machine's."""
        return self._now()

    def internal_error(self, exc: Exception) -> Response:
        return _errors(500, "UNKNOWN_EXCEPTION", f"{type(exc).__name__}: {exc}")

    def _limit_header(self) -> tuple[str, str]:
        return ("Sforce-Limit-Info", f"api-usage={self.stats.api_usage}/{self.daily_limit}")

    # ------------------------------------------------------------------ request handling

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
            return _errors(404, "NOT_FOUND", _NOT_FOUND)
        version, rest = m.group(1), (m.group(2) or "").rstrip("/")
        if self._tokens.get(self._bearer(headers)) is None:
            self.stats.invalid_sessions += 1
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid", [("WWW-Authenticate", "Token")])
        self.stats.api_usage += 1
        if self.stats.api_usage > self.daily_limit:
            self.stats.limit_exceeded += 1
            return _errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", [self._limit_header()])
        if float(version[1:]) > float(self.api_version[1:]) or float(version[1:]) < 31.0:
            response = _errors(404, "NOT_FOUND", _NOT_FOUND)
        else:
            try:
                response = self._data(method, version, rest, params, headers, body)
            except soql.SoqlError as exc:
                response = _errors(400, exc.code, exc.message)
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
            return _errors(400, "QUERY_TIMEOUT", "Your query request was running for too long.")
        if fault == "INVALID_SESSION_ID":
            self.stats.invalid_sessions += 1
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if fault == "REQUEST_LIMIT_EXCEEDED":
            self.stats.limit_exceeded += 1
            return _errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", [self._limit_header()])
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
            return _errors(
                429,
                "TOO_MANY_REQUESTS",
                f"Too many requests; retry after {self.retry_after} seconds.",
                [("Retry-After", str(self.retry_after))],
            )
        if status in (502, 504):
            text = "Bad Gateway" if status == 502 else "Gateway Timeout"
            return Response(status, f"<html><body><h1>{status} {text}</h1></body></html>".encode(), "text/html")
        if status == 503:
            return _errors(
                503,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable; please try again later.",
                [("Retry-After", str(self.retry_after))],
            )
        return _errors(
            status,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId "
            "if you contact support: 1829457314-53370 (-1196430331)",
        )

    @staticmethod
    def _bearer(headers: Any) -> str:
        value = headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() in ("bearer", "oauth") else ""

    def _versions(self) -> list[dict[str, str]]:
        top = int(float(self.api_version[1:]))
        seasons = ("Winter", "Spring", "Summer")
        out = []
        for v in range(max(31, top - 5), top + 1):
            year = (v - 31) // 3 + 15
            out.append(
                {"label": f"{seasons[(v - 32) % 3]} '{year}", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            )
        return out

    # ------------------------------------------------------------------ OAuth

    def _issue(self, grant: str, refresh: bool = False, sign: bool = True) -> Response:
        base = self.base_url or "http://127.0.0.1"
        token = f"{self.org_id[:15]}!AQ" + "".join(self._token_rng.choice(B62 + ".") for _ in range(96))
        self._tokens[token] = grant
        self.stats.tokens[grant] += 1
        issued = str(self._now() * 1000)
        identity = f"{base}/id/{self.org_id}/{self.user_id}"
        body: dict[str, Any] = {"access_token": token}
        if refresh:
            body["refresh_token"] = self.refresh_token
        body.update({"instance_url": base, "id": identity, "token_type": "Bearer", "issued_at": issued})
        if sign:
            digest = hmac.new(self.client_secret.encode(), (identity + issued).encode(), hashlib.sha256).digest()
            body["signature"] = base64.b64encode(digest).decode()
        body["scope"] = "api refresh_token" if refresh or grant == "refresh_token" else "api"
        no_store = ("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
        return Response(200, dumps(body), headers=[no_store])

    def _token(self, params: dict[str, str], headers: Any, body: bytes) -> Response:
        form = dict(params)
        form.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()})
        basic = basic_credentials(headers.get("Authorization"))
        if basic is not None:
            form.setdefault("client_id", basic[0])
            form.setdefault("client_secret", basic[1])
        grant = form.get("grant_type", "")
        response = self._grant(grant, form)
        if response.status != 200:
            self.stats.auth_failures += 1
        return response

    def _grant(self, grant: str, form: dict[str, str]) -> Response:
        if grant not in ("client_credentials", "password", "refresh_token", JWT_BEARER):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if grant == JWT_BEARER:
            return self._jwt_grant(form.get("assertion", ""))
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        secret = form.get("client_secret")
        if grant == "refresh_token":
            if secret is not None and secret != self.client_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            if form.get("refresh_token") != self.refresh_token:
                return _oauth_error("invalid_grant", "expired access/refresh token")
            return self._issue(grant)
        if secret != self.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant == "client_credentials":
            return self._issue(grant)
        if form.get("username", "").lower() != self.username or form.get("password") != (
            self.password + self.security_token
        ):
            return _oauth_error("invalid_grant", "authentication failure")
        return self._issue(grant)

    def _jwt_grant(self, assertion: str) -> Response:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        parts = assertion.split(".")
        if len(parts) != 3:
            return _oauth_error("invalid_grant", "invalid assertion")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            return _oauth_error("invalid_grant", "invalid assertion")
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            return _oauth_error("invalid_grant", "invalid assertion")
        key = serialization.load_pem_public_key(self.public_key_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - configuration error
            return _oauth_error("invalid_grant", "invalid assertion")
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        accepted = set(self.jwt_audiences) | ({self.base_url} if self.base_url else set())
        if not any(isinstance(a, str) and a.rstrip("/") in accepted for a in audiences):
            return _oauth_error("invalid_grant", "audience is invalid")
        if str(claims.get("sub", "")).lower() != self.username:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            return _oauth_error("invalid_grant", "expired authorization code")
        return self._issue(JWT_BEARER, sign=False)

    def _identity(self, headers: Any) -> Response:
        if self._tokens.get(self._bearer(headers)) is None:
            return Response(403, b"Bad_OAuth_Token", "text/plain")
        base = self.base_url or ""
        user = self.org.build("User", 0)
        return Response(
            200,
            dumps(
                {
                    "id": f"{base}/id/{self.org_id}/{self.user_id}",
                    "asserted_user": True,
                    "user_id": self.user_id,
                    "organization_id": self.org_id,
                    "username": self.username,
                    "display_name": user["Name"],
                    "email": user["Email"],
                    "active": True,
                    "user_type": "STANDARD",
                    "language": "en_US",
                    "locale": "en_US",
                    "urls": {
                        "rest": f"{base}/services/data/{{version}}/",
                        "sobjects": f"{base}/services/data/{{version}}/sobjects/",
                        "query": f"{base}/services/data/{{version}}/query/",
                    },
                }
            ),
        )

    # ------------------------------------------------------------------ REST API

    def _data(
        self, method: str, version: str, rest: str, params: dict[str, str], headers: Any, body: bytes
    ) -> Response:
        if rest == "" and method == "GET":
            names = ("sobjects", "query", "queryAll", "limits", "jobs")
            return Response(200, dumps({n: f"/services/data/{version}/{n}" for n in names}))
        if rest == "/limits" and method == "GET":
            return Response(200, dumps(self._limits()))
        if rest == "/sobjects" and method == "GET":
            return Response(
                200,
                dumps(
                    {
                        "encoding": "UTF-8",
                        "maxBatchSize": 200,
                        "sobjects": [
                            o.global_entry(version) for o in S.OBJECTS if o.name.lower() not in self.hidden_objects
                        ],
                    }
                ),
            )
        m = re.match(r"^/sobjects/([^/]+)(?:/([^/]+))?$", rest)
        if m and method == "GET":
            spec = self._visible(m.group(1))
            if spec is None:
                return _errors(404, "NOT_FOUND", _NOT_FOUND)
            sub = m.group(2)
            if sub is None:
                return Response(200, dumps({"objectDescribe": spec.global_entry(version), "recentItems": []}))
            if sub == "describe":
                return Response(200, dumps(spec.describe(version, S.child_relationships(spec.name))))
            if sub == "deleted":
                return self._get_deleted(spec, params)
            return self._retrieve(spec, sub, params, version)
        m = re.match(r"^/(query|queryAll)(?:/([^/]+))?$", rest)
        if m and method == "GET":
            if m.group(2):
                return self._query_more(m.group(2), version)
            return self._query(m.group(1), params, headers, version)
        if rest == "/jobs/query" or rest.startswith("/jobs/query/"):
            return self._bulk(method, version, rest[len("/jobs/query") :], params, body)
        return _errors(404, "NOT_FOUND", _NOT_FOUND)

    def _limits(self) -> dict[str, Any]:
        jobs = self.stats.bulk_jobs
        return {
            "DailyApiRequests": {"Max": self.daily_limit, "Remaining": max(0, self.daily_limit - self.api_usage)},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": max(0, 10000 - jobs)},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DataStorageMB": {"Max": 5120, "Remaining": 4096},
            "FileStorageMB": {"Max": 20480, "Remaining": 20000},
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        }

    def _record_json(self, spec: S.ObjectSpec, idx: int, fields: list[str], version: str) -> dict[str, Any]:
        rec = self.org.build(spec.name, idx)
        out: dict[str, Any] = {
            "attributes": {"type": spec.name, "url": f"/services/data/{version}/sobjects/{spec.name}/{rec['Id']}"}
        }
        out.update(render_json(spec, rec, fields))
        return out

    def _retrieve(self, spec: S.ObjectSpec, record_id: str, params: dict[str, str], version: str) -> Response:
        table = self.org.tables[spec.name]
        idx = table.index(record_id)
        if idx is None or table.state[idx] != LIVE:
            return _errors(404, "NOT_FOUND", _NOT_FOUND)
        fields = spec.field_names()
        if params.get("fields"):
            fields = []
            for name in params["fields"].split(","):
                f = spec.by_lower.get(name.strip().lower())
                if f is None:
                    return _errors(
                        400, "INVALID_FIELD", f"No such column '{name.strip()}' on sobject of type {spec.name}"
                    )
                fields.append(f.name)
        return Response(200, dumps(self._record_json(spec, idx, fields, version)))

    def _getter(self, spec: S.ObjectSpec) -> Any:
        table = self.org.tables[spec.name]
        build = self.org.build
        name = spec.name
        fast = {
            "CreatedDate": table.created,
            "LastModifiedDate": table.modified,
            "SystemModstamp": table.sysmod,
        }

        def getter(field_name: str) -> soql.Getter:
            f = spec.by_name[field_name]
            norm = soql.normaliser(f)
            if field_name in fast:
                column = fast[field_name]
                return lambda idx, memo: column[idx]
            if field_name == "IsDeleted":
                state = table.state
                return lambda idx, memo: state[idx] != LIVE
            if field_name == "Id":
                return lambda idx, memo: table.id(idx)[:15]

            def slow(idx: int, memo: list[Any]) -> Any:
                rec = memo[0]
                if rec is None:
                    rec = memo[0] = build(name, idx)
                return norm(rec[field_name])

            return slow

        return getter

    def _run(self, q: soql.Query, include_deleted: bool) -> list[int]:
        table = self.org.tables[q.object.name]
        getter = self._getter(q.object)
        predicate = soql.compile_where(q, getter)
        state = table.state
        rows: list[int] = []
        for idx in range(len(table)):
            st = state[idx]
            if st == PURGED or (st == RECYCLED and not include_deleted):
                continue
            if predicate is None or predicate(idx, [None]):
                rows.append(idx)
        if q.order:
            rows = soql.order_rows(q, rows, getter)
        return soql.select(rows, q)

    def _query(self, resource: str, params: dict[str, str], headers: Any, version: str) -> Response:
        text = params.get("q")
        if text is None:
            return _errors(400, "MALFORMED_QUERY", "A query string has to be specified")
        q = soql.parse(text, self._visible)
        for n, (obj, error) in enumerate(self._query_failures):
            if obj is None or obj == q.object.name.lower():
                del self._query_failures[n]
                self.stats.count_fault(error)
                message = "Your query request was running for too long." if error == "QUERY_TIMEOUT" else error
                return _errors(400, error, message)
        rows = self._run(q, include_deleted=resource == "queryAll")
        if q.count:
            self.stats.queries[f"count:{q.object.name}"] += 1
            return Response(200, dumps({"totalSize": len(rows), "done": True, "records": []}))
        self.stats.queries[f"{resource}:{q.object.name}"] += 1
        batch = self.batch_size
        m = re.search(r"batchSize\s*=\s*(\d+)", headers.get("Sforce-Query-Options") or "")
        if m:
            batch = max(200, min(2000, int(m.group(1))))
        cursor = _Cursor(q.object.name, q.fields, rows, batch)
        return self._page(cursor, None, 0, version)

    def _page(self, cursor: _Cursor, locator: str | None, start: int, version: str) -> Response:
        spec = S.BY_NAME[cursor.object]
        table = self.org.tables[spec.name]
        chunk = [i for i in cursor.rows[start : start + cursor.batch] if table.state[i] != PURGED]
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": start + cursor.batch >= len(cursor.rows)}
        if not body["done"]:
            if locator is None:
                self._n_cursors += 1
                locator = make_id("01g", self._n_cursors)
                self._cursors[locator] = cursor
                while len(self._cursors) > 100:
                    self._cursors.popitem(last=False)
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{start + cursor.batch}"
        body["records"] = [self._record_json(spec, i, cursor.fields, version) for i in chunk]
        return Response(200, dumps(body))

    def _query_more(self, token: str, version: str) -> Response:
        locator, _, offset = token.rpartition("-")
        cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit():
            return _errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        self._cursors.move_to_end(locator)
        self.stats.queries[f"more:{cursor.object}"] += 1
        return self._page(cursor, locator, int(offset), version)

    def _get_deleted(self, spec: S.ObjectSpec, params: dict[str, str]) -> Response:
        if "start" not in params or "end" not in params:
            missing = "start" if "start" not in params else "end"
            return _errors(400, "MISSING_ARGUMENT", f"Missing required parameter: {missing}")
        start, end = parse_iso(params["start"]), parse_iso(params["end"])
        if start is None or end is None:
            bad = params["start"] if start is None else params["end"]
            return _errors(400, "INVALID_REPLICATION_DATE", f"Unable to parse date: {bad}")
        now = self._now()
        if start >= end:
            return _errors(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
        if start < now - self.replication_window_days * DAY:
            return _errors(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {self.replication_window_days} days ago",
            )
        table = self.org.tables[spec.name]
        horizon = now - self.deleted_retention_days * DAY
        log = [(t, idx) for idx, t in table.deleted_at.items() if t >= horizon]
        hits = sorted((t, table.id(idx)) for t, idx in log if start <= t <= end)
        earliest = min((t for t, _ in log), default=horizon)
        return Response(
            200,
            dumps(
                {
                    "deletedRecords": [{"id": rid, "deletedDate": sf_datetime(t)} for t, rid in hits],
                    "earliestDateAvailable": sf_datetime(earliest - earliest % MINUTE),
                    "latestDateCovered": sf_datetime(int(min(end, now))),
                }
            ),
        )

    # ------------------------------------------------------------------ Bulk API 2.0

    def _job_info(self, job: _BulkJob, full: bool = True) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.query.object.name,
            "createdById": self.user_id,
            "createdDate": sf_datetime(job.created),
            "systemModstamp": sf_datetime(max(job.created, job.finished)),
            "state": job.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(job.version[1:]),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if full:
            info.update(
                {
                    "jobType": "V2Query",
                    "numberRecordsProcessed": len(job.rows) if job.rows is not None else 0,
                    "retries": 0,
                    "totalProcessingTime": 0 if job.rows is None else 250 + len(job.rows) // 20,
                    "isPkChunkingSupported": True,
                }
            )
        if job.error is not None:
            info["errorMessage"] = job.error
        return info

    def _bulk(self, method: str, version: str, rest: str, params: dict[str, str], body: bytes) -> Response:
        if rest == "" and method == "POST":
            return self._bulk_create(version, body)
        if rest == "" and method == "GET":
            jobs = [self._job_info(j, full=False) for j in self._jobs.values()]
            return Response(200, dumps({"done": True, "records": jobs, "nextRecordsUrl": None}))
        m = re.match(r"^/([^/]+)(/results)?$", rest)
        job = self._jobs.get(m.group(1)) if m else None
        if m is None or job is None:
            return _errors(404, "NOT_FOUND", _NOT_FOUND)
        if m.group(2):
            if method != "GET":
                return _errors(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET")
            return self._bulk_results(job, params, version)
        if method == "GET":
            self._advance(job)
            return Response(200, dumps(self._job_info(job)))
        if method == "PATCH":
            try:
                wanted = json.loads(body or b"{}").get("state")
            except (ValueError, AttributeError):
                wanted = None
            if wanted != "Aborted":
                return _errors(400, "INVALIDJOBSTATE", "Only state Aborted can be set on a query job")
            if job.state in ("JobComplete", "Failed", "Aborted"):
                return _errors(400, "INVALIDJOBSTATE", f"Job {job.id} is already in state {job.state}")
            job.state = "Aborted"
            return Response(200, dumps(self._job_info(job, full=False)))
        if method == "DELETE":
            del self._jobs[job.id]
            return Response(204)
        return _errors(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE")

    def _bulk_create(self, version: str, body: bytes) -> Response:
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            return _errors(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if not isinstance(spec, dict):
            return _errors(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        operation = spec.get("operation")
        if operation not in ("query", "queryAll"):
            return _errors(400, "INVALIDJOB", f"Invalid operation for a query job: {operation}")
        if spec.get("contentType", "CSV") != "CSV" or spec.get("columnDelimiter", "COMMA") != "COMMA":
            return _errors(400, "INVALIDJOB", "The simulator writes CSV with COMMA delimiters only")
        text = spec.get("query")
        if not isinstance(text, str) or not text.strip():
            return _errors(400, "INVALIDJOB", "A query is required for a query job")
        q = soql.parse(text, self._visible)
        if q.object.name.lower() in self.bulk_unsupported_objects:
            return _errors(400, "INVALIDENTITY", f"Entity '{q.object.name}' is not supported by the Bulk API.")
        if q.count:
            return _errors(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0 query jobs")
        if q.offset:
            return _errors(400, "API_ERROR", "OFFSET is not supported by Bulk API 2.0 query jobs")
        if q.compound_fields:
            return _errors(400, "API_ERROR", "Selecting compound data not supported in Bulk Query")
        self._n_jobs += 1
        job = _BulkJob(make_id("750", self._n_jobs), operation, q, self._now(), version)
        self._jobs[job.id] = job
        while len(self._jobs) > _MAX_JOBS:  # Salesforce keeps results for days; a simulator keeps the latest jobs
            del self._jobs[next(iter(self._jobs))]
        self.stats.bulk_jobs += 1
        self.stats.queries[f"bulk:{q.object.name}"] += 1
        return Response(200, dumps(self._job_info(job, full=False)))

    def _advance(self, job: _BulkJob) -> None:
        if job.state not in ("UploadComplete", "InProgress"):
            return
        job.polls += 1
        if job.polls < self.bulk_polls_to_complete:
            job.state = "InProgress"
            return
        job.finished = self._now()
        for n, (obj, message) in enumerate(self._bulk_failures):
            if obj is None or obj == job.query.object.name.lower():
                del self._bulk_failures[n]
                job.state, job.error = "Failed", message
                self.stats.bulk_jobs_failed += 1
                self.stats.count_fault("bulk_failed")
                return
        job.rows = self._run(job.query, include_deleted=job.operation == "queryAll")
        job.state = "JobComplete"

    def _bulk_results(self, job: _BulkJob, params: dict[str, str], version: str) -> Response:
        if version != job.version:
            return _errors(409, "API_ERROR", "Use the same API version to get results that created the job")
        if job.state != "JobComplete" or job.rows is None:
            return _errors(
                400, "API_ERROR", f"Job {job.id} is in state {job.state}; results are available in state JobComplete"
            )
        start = 0
        if params.get("locator"):
            try:
                start = int(_b64url_decode(params["locator"]).decode())
            except (ValueError, binascii.Error, UnicodeDecodeError):
                return _errors(400, "INVALIDLOCATOR", f"Invalid locator: {params['locator']}")
        size = self.bulk_page_size
        if params.get("maxRecords"):
            if not params["maxRecords"].isdigit() or int(params["maxRecords"]) < 1:
                return _errors(400, "INVALIDMAXRECORDS", "maxRecords must be a positive integer")
            size = int(params["maxRecords"])
        rows = job.rows[start : start + size]
        end = start + len(rows)
        locator = "null" if end >= len(job.rows) else base64.b64encode(str(end).encode()).decode().rstrip("=")
        spec = job.query.object
        fields = job.query.fields
        types = [spec.by_name[f].type for f in fields]
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(fields)
        build = self.org.build
        table = self.org.tables[spec.name]
        n = 0
        for idx in rows:
            if table.state[idx] == PURGED:
                continue
            rec = build(spec.name, idx)
            writer.writerow([_csv_value(t, rec[f]) for f, t in zip(fields, types, strict=True)])
            n += 1
        self.stats.bulk_result_pages += 1
        return Response(
            200, out.getvalue().encode(), "text/csv", [("Sforce-Locator", locator), ("Sforce-NumberOfRecords", str(n))]
        )


def _csv_value(field_type: str, value: Any) -> Any:
    if value is None:
        return None
    if field_type == "datetime":
        return csv_datetime(value)
    if field_type == "boolean":
        return "true" if value else "false"
    return value
