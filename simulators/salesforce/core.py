"""What the parts of the Salesforce simulator share: its stats, error bodies, the org's state as
the OAuth, REST and Bulk parts see it, and the record queries REST and Bulk both run."""

from __future__ import annotations

import random
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from simulators.shared import (
    HttpSimulator,
    Response,
    Stats,
    dumps,
)

from . import schema as S
from . import soql
from .data import LIVE, PURGED, RECYCLED, Org
from .specs import ObjectSpec

JSON_TYPE = "application/json;charset=UTF-8"
NOT_FOUND = "The requested resource does not exist"


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


def errors(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps([{"message": message, "errorCode": code}]), headers=headers or [])


def oauth_error(error: str, description: str) -> Response:
    return Response(400, dumps({"error": error, "error_description": description}))


@dataclass
class Cursor:
    object: str
    fields: list[str]
    rows: list[int]
    batch: int


@dataclass
class BulkJob:
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


class Core(HttpSimulator):
    """The org and the state the simulator's parts share (set by :class:`SalesforceSimulator`)."""

    org: Org
    stats: SalesforceStats
    api_version: str
    daily_limit: int
    batch_size: int
    hidden_objects: set[str]
    bulk_page_size: int
    bulk_polls_to_complete: int
    bulk_unsupported_objects: set[str]
    deleted_retention_days: int
    replication_window_days: int
    client_id: str
    client_secret: str
    username: str
    password: str
    security_token: str
    refresh_token: str
    jwt_audiences: set[str]
    org_id: str
    user_id: str
    _jwt_public_key_pem: str | None
    _token_rng: random.Random
    _tokens: dict[str, str]
    _lock: threading.RLock
    _query_failures: list[tuple[str | None, str]]
    _bulk_failures: list[tuple[str | None, str]]
    _cursors: OrderedDict[str, Cursor]
    _n_cursors: int
    _jobs: dict[str, BulkJob]
    _n_jobs: int

    def _spec(self, name: str) -> ObjectSpec:
        spec = S.BY_LOWER.get(name.lower())
        if spec is None:
            raise ValueError(f"unknown object {name!r}; one of {', '.join(o.name for o in S.OBJECTS)}")
        return spec

    def _visible(self, name: str) -> ObjectSpec | None:
        if name.lower() in self.hidden_objects:
            return None
        return S.BY_LOWER.get(name.lower())

    def _now(self) -> int:
        """The server's time: the org's clock."""
        return self.org.clock

    def server_time(self) -> float:
        """The ``Date`` header: the org's clock, not the machine's."""
        return self._now()

    def _limit_header(self) -> tuple[str, str]:
        return ("Sforce-Limit-Info", f"api-usage={self.stats.api_usage}/{self.daily_limit}")

    @staticmethod
    def _bearer(headers: Any) -> str:
        value = headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() in ("bearer", "oauth") else ""

    def _getter(self, spec: ObjectSpec) -> Any:
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
