"""SOQL over REST: building queries, the ``queryAll`` walk, ``COUNT()``, wide SELECT lists, the
deleted-records window, and Salesforce's error bodies.

- ``GET /services/data/vXX.X/queryAll?q=<SOQL>`` returns ``{"totalSize", "done", "records",
  "nextRecordsUrl"}``; up to 2,000 records a batch; ``nextRecordsUrl`` (a relative URL) is followed
  until ``done``. ``queryAll`` (not ``query``) so that soft-deleted and merged records arrive with
  ``IsDeleted = true``.
- Incremental queries are ``WHERE <cursor> >= <stored − lookback> ORDER BY <cursor>, Id``: ``>=``
  and the lookback re-read the boundary (rows sharing the last timestamp are never lost, duplicates
  are merged on ``Id``); ordering makes each page's last cursor value a safe place to resume.
- A SELECT list too long for a URI (Salesforce answers 414 over 16,384 bytes) is split into field
  chunks joined on ``Id``: the first chunk (``Id``, the cursor and as many fields as fit) drives the
  walk; for each of its pages the other chunks are read with ``WHERE Id IN (...)`` in batches small
  enough for the URI limit, and merged into the page's records by ``Id``. This works for every
  object, including the ones Bulk API 2.0 cannot serve; a row that changes between the chunk reads
  has a newer ``SystemModstamp`` and is read again, whole, by the next run.
- Error bodies are ``[{"message": ..., "errorCode": ...}]``; :func:`classifier` maps them to what
  the caller should do (``INVALID_SESSION_ID`` → re-authenticate once, ``REQUEST_LIMIT_EXCEEDED``
  → :class:`~connectors.salesforce.quota.RequestLimitExceeded`, ``QUERY_TIMEOUT`` →
  :class:`QueryTimeout`, ...).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlencode

import pyarrow as pa
import requests

from common.errors import APIError, AuthError, FatalAPIError, NotAvailableError, RetriableAPIError
from common.secrets import redact_url
from connectors.arrow import TableBuilder
from connectors.http import HttpClient
from connectors.paginators import SalesforceQueryPaginator
from connectors.salesforce.quota import QuotaGuard, RequestLimitExceeded

if TYPE_CHECKING:
    from connectors.salesforce.describe import ObjectSchema

log = logging.getLogger("supportlake.salesforce.query")

URI_LIMIT = 16_000
"""Salesforce refuses URIs over 16,384 bytes (HTTP 414); this leaves room for the proxy's view."""
ID_BATCH = 200
"""Ids per ``WHERE Id IN (...)`` query of a field chunk (about 5,600 URI characters), fewer when
the URI limit is lower: the ids take at most half of it."""
_ID_COST = len(quote_plus("'" + "0" * 18 + "', "))
_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")


@dataclass(frozen=True)
class Api:
    """The data API of one org: the client on ``instance_url`` and the API version."""

    client: HttpClient
    version: str = "v62.0"
    sleep: Callable[[float], None] = time.sleep

    @property
    def base(self) -> str:
        return f"/services/data/{self.version}"

    def path(self, *parts: str) -> str:
        return "/".join([self.base, *(quote(p, safe="") for p in parts)])


@dataclass
class Page:
    """One page of an object: REST ``records`` or a typed Arrow ``table`` (Bulk CSV), both keyed
    by API field names; ``newest`` is the cursor to store once the page is loaded (``None``: keep
    the stored one, e.g. before the last page of a Bulk job, whose rows are not ordered)."""

    records: list[Mapping[str, Any]] | None = None
    table: pa.Table | None = None
    newest: dt.datetime | None = None
    via: str = "rest"
    bad_rows: list[BadRow] = field(default_factory=list)
    """Rows of a Bulk set that are not in ``table`` (REST pages: the writer validates ``records``)."""
    extra: dict[str, Any] = field(default_factory=dict)
    more: bool = False
    """Whether the query has a next page (a chunked sync may stop after this one)."""

    @property
    def rejected(self) -> int:
        return len(self.bad_rows)


@dataclass(frozen=True)
class BadRow:
    """A Bulk CSV row that is not loaded: its ``Id`` (None without one), why, and the row as the
    CSV sent it (keyed by API names), for the quarantine."""

    record_id: str | None
    problems: str
    payload: dict[str, Any]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class QueryTimeout(FatalAPIError):
    """``QUERY_TIMEOUT``: the query ran too long; the caller retries through Bulk or a narrower window."""


class QueryLocatorExpired(FatalAPIError):
    """``INVALID_QUERY_LOCATOR``: a ``nextRecordsUrl`` expired; the walk restarts from its cursor."""


class UriTooLong(FatalAPIError):
    """HTTP 414: the SELECT list does not fit in a URI; the caller splits it into field chunks."""


class ReplicationDateError(FatalAPIError):
    """``INVALID_REPLICATION_DATE``: the deleted-records window is outside what Salesforce keeps."""


class IdLimitExceeded(FatalAPIError):
    """``EXCEEDED_ID_LIMIT``: more than 600,000 deleted ids in the window; the caller splits it."""


_NOT_AVAILABLE = frozenset({"INVALID_TYPE", "NOT_FOUND", "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY"})
_RETRIABLE = frozenset({"SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"})


def error_codes(response: requests.Response) -> list[tuple[str, str]]:
    """``(errorCode, message)`` pairs of a Salesforce error body (a list, or one object)."""
    try:
        body = response.json()
    except ValueError:
        return []
    items = body if isinstance(body, list) else [body]
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Mapping) and item.get("errorCode"):
            out.append((str(item["errorCode"]), str(item.get("message") or "")))
    return out


def classifier(auth_hint: str = "") -> Callable[[requests.Response, str], APIError | None]:
    """The HTTP layer's ``classify`` hook for the data API (REST and Bulk 2.0)."""

    def classify(response: requests.Response, where: str) -> APIError | None:
        status = response.status_code
        url = redact_url(response.url)
        kw: dict[str, Any] = {"endpoint": where, "url": url, "status": status}
        if status == 414:
            return UriTooLong("the request URI is longer than Salesforce accepts", **kw)
        for code, message in error_codes(response):
            text = f"{code}: {message}" if message else code
            if code == "INVALID_SESSION_ID":
                hint = f" Check {auth_hint}." if auth_hint else ""
                return AuthError(f"the session expired or is invalid ({text}).{hint}", **kw)
            if code == "REQUEST_LIMIT_EXCEEDED":
                if "concurrent" in message.lower():  # ConcurrentPerOrgLongTxn: too many long requests at once
                    return RetriableAPIError(f"too many concurrent long requests ({text})", retry_after=30.0, **kw)
                return RequestLimitExceeded(
                    f"Salesforce refused the request: the org's API request allocation is spent ({text}). "
                    "Data loaded by this and earlier runs is intact; run again when the rolling 24-hour window "
                    "frees requests, and lower SOURCES__SALESFORCE__QUOTA_SHARE to leave room for other integrations",
                    **kw,
                )
            if code == "QUERY_TIMEOUT":
                return QueryTimeout(f"the query ran too long ({text})", **kw)
            if code == "INVALID_QUERY_LOCATOR":
                return QueryLocatorExpired(f"the query locator expired ({text})", **kw)
            if code == "INVALID_REPLICATION_DATE":
                return ReplicationDateError(f"the deleted-records window is not available ({text})", **kw)
            if code == "EXCEEDED_ID_LIMIT":
                return IdLimitExceeded(f"too many deleted records in the window ({text})", **kw)
            if code in _NOT_AVAILABLE:
                return NotAvailableError(f"not available to this org or user ({text})", **kw)
            if code in _RETRIABLE:
                return RetriableAPIError(f"temporary failure ({text})", **kw)
        return None

    return classify


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


def parse_datetime(value: Any) -> dt.datetime | None:
    """A Salesforce datetime (``2024-05-20T20:49:32.000+0000``, ``...Z``) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value).strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = dt.datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def soql_datetime(value: dt.datetime) -> str:
    """A SOQL dateTime literal (UTC, whole seconds, rounded down)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def server_time(response: requests.Response | None) -> dt.datetime:
    """The server's clock (``Date`` header) at a response, or ours when it has none."""
    raw = response.headers.get("Date") if response is not None else None
    if raw:
        try:
            return parsedate_to_datetime(raw).astimezone(dt.UTC)
        except (TypeError, ValueError):
            pass
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------------------------
# SOQL
# --------------------------------------------------------------------------------------------


def soql(
    select: Sequence[str],
    sobject: str,
    *,
    cursor: str | None = None,
    lower: dt.datetime | None = None,
    upper: dt.datetime | None = None,
    ids: Sequence[str] | None = None,
    order: bool = True,
) -> str:
    """``SELECT <fields> FROM <object> [WHERE <cursor> >= lower [AND <cursor> < upper]]
    [ORDER BY <cursor>, Id]`` (or ``WHERE Id IN (...)`` for a field chunk)."""
    clauses: list[str] = []
    if cursor and lower is not None:
        clauses.append(f"{cursor} >= {soql_datetime(lower)}")
    if cursor and upper is not None:
        clauses.append(f"{cursor} < {soql_datetime(upper)}")
    if ids is not None:
        clauses.append("Id IN (" + ", ".join(f"'{i}'" for i in ids if _ID.match(i)) + ")")
    # Names come from describe and the object declarations (checked as API names), ids match _ID.
    text = f"SELECT {', '.join(select)} FROM {sobject}"  # noqa: S608 - SOQL, not SQL; no user text
    if clauses:
        text += " WHERE " + " AND ".join(clauses)
    if order and cursor:
        text += f" ORDER BY {cursor}, Id"
    return text


def url_length(api: Api, path: str, query: str) -> int:
    """Length of ``GET path?q=query`` as sent (``requests`` encodes the query with ``quote_plus``)."""
    return len(api.client.url_for(path)) + 1 + len(urlencode({"q": query}))


def plan_chunks(
    api: Api,
    schema: ObjectSchema,
    *,
    lower: dt.datetime | None,
    upper: dt.datetime | None,
    limit: int = URI_LIMIT,
) -> tuple[list[list[str]], int]:
    """The SELECT list in chunks that each fit in ``limit`` URI characters, and the number of ids
    per joined query: one chunk when the whole list fits; otherwise a driver chunk (``Id``, the
    cursor, fields) and chunks read with ``WHERE Id IN (...)``."""
    path = api.path("queryAll")
    names = schema.field_names
    cursor = schema.cursor_field
    full = soql(names, schema.name, cursor=cursor, lower=lower, upper=upper)
    id_batch = max(1, min(ID_BATCH, (limit // 2) // _ID_COST))
    if url_length(api, path, full) <= limit:
        return [names], id_batch
    head = ["Id"] + ([cursor] if cursor and cursor != "Id" else [])
    driver_len = url_length(api, path, soql(head, schema.name, cursor=cursor, lower=lower, upper=upper))
    joined_len = url_length(api, path, soql(["Id"], schema.name, ids=["0" * 18] * id_batch, order=False))
    chunks: list[list[str]] = [list(head)]
    used = driver_len
    for name in names:
        if name in head:
            continue
        add = len(quote_plus(", " + name))
        if used + add > limit:
            chunks.append(["Id"])
            used = joined_len
            if used + add > limit:
                raise FatalAPIError(
                    f"field {name} of {schema.name} does not fit in a {limit}-character URI",
                    endpoint=f"{api.client.name}.{schema.name}",
                )
        chunks[-1].append(name)
        used += add
    return chunks, id_batch


def count(api: Api, endpoint: str, schema: ObjectSchema, *, lower: dt.datetime | None) -> int:
    """``SELECT COUNT() FROM <object> WHERE <cursor> >= lower`` through ``queryAll`` (deleted rows count)."""
    query = soql(["COUNT()"], schema.name, cursor=schema.cursor_field, lower=lower, order=False)
    result = api.client.get_json(
        api.path("queryAll"), endpoint=endpoint, params={"q": query}, check=_envelope("totalSize")
    )
    return int((result.data or {}).get("totalSize") or 0)


def _envelope(*keys: str) -> Callable[[Any], str | None]:
    """A body check: the keys the documentation says every answer has."""

    def check(data: Any) -> str | None:
        if not isinstance(data, Mapping):
            return f"the body is {type(data).__name__}, not a JSON object"
        missing = [k for k in keys if k not in data]
        return "the answer has no " + ", ".join(repr(k) for k in missing) if missing else None

    return check


# --------------------------------------------------------------------------------------------
# The REST walk
# --------------------------------------------------------------------------------------------


def newest_of(records: Sequence[Mapping[str, Any]], cursor: str | None, ceiling: dt.datetime) -> dt.datetime | None:
    """The largest cursor value of a page, never later than ``ceiling`` (when the query started:
    rows changed while the walk went on are read again by the next run)."""
    if not cursor:
        return None
    newest: dt.datetime | None = None
    for record in records:
        try:
            value = parse_datetime(record.get(cursor))
        except ValueError:
            continue
        if value is not None and (newest is None or value > newest):
            newest = value
    return None if newest is None else min(newest, ceiling)


def rest_pages(
    api: Api,
    endpoint: str,
    schema: ObjectSchema,
    *,
    lower: dt.datetime | None,
    upper: dt.datetime | None = None,
    quota: QuotaGuard | None = None,
    limit: int = URI_LIMIT,
) -> Iterator[Page]:
    """Every record of ``schema.name`` with ``lower <= cursor < upper``, page by page, in cursor order.

    Raises :class:`QueryTimeout` / :class:`QueryLocatorExpired` for the caller to recover from
    (it knows how far the walk got from the pages' ``newest``).
    """
    path = api.path("queryAll")
    cursor = schema.cursor_field
    shrinks = 0
    while True:
        chunks, id_batch = plan_chunks(api, schema, lower=lower, upper=upper, limit=limit)
        if len(chunks) > 1:
            log.info("%s: SELECT list too long for one URI: %d field chunks joined on Id", schema.name, len(chunks))
        query = soql(chunks[0], schema.name, cursor=cursor, lower=lower, upper=upper)
        paginator = SalesforceQueryPaginator()
        started: dt.datetime | None = None
        if quota is not None:
            quota.check()
        try:
            for result in api.client.paginate(path, endpoint=endpoint, paginator=paginator, params={"q": query}):
                if started is None:
                    started = server_time(result.response)
                data = result.data if isinstance(result.data, Mapping) else {}
                records: list[Mapping[str, Any]] = [r for r in data.get("records") or [] if isinstance(r, Mapping)]
                if len(chunks) > 1 and records:
                    records = _join_chunks(api, endpoint, schema, chunks[1:], records, id_batch, quota)
                yield Page(records=records, newest=newest_of(records, cursor, started), more=paginator.has_next_page)
                if paginator.has_next_page and quota is not None:
                    quota.check()
            return
        except UriTooLong:
            if started is not None or shrinks >= 4:
                raise
            shrinks += 1
            limit = int(min(limit, url_length(api, path, query)) * 0.75)
            log.warning(
                "%s: 414 URI too long; splitting the SELECT list for URIs under %d characters", schema.name, limit
            )


def readable_ids(ids: Sequence[str]) -> list[str]:
    """The ``ids`` :func:`read_ids` asks for: those shaped like a Salesforce Id."""
    return [i for i in ids if _ID.match(i)]


def read_ids(
    api: Api, endpoint: str, schema: ObjectSchema, ids: Sequence[str], quota: QuotaGuard | None = None
) -> Iterator[Page]:
    """The records of ``ids`` again, every field (``SELECT … FROM <object> WHERE Id IN (…)`` through
    ``queryAll``, in batches that fit a URI): how records held in quarantine are read again.
    Malformed ids are left out (``_ID``); ids Salesforce no longer has are simply not returned."""
    wanted = readable_ids(ids)
    if not wanted:
        return
    chunks, id_batch = plan_chunks(api, schema, lower=None, upper=None)
    for start in range(0, len(wanted), id_batch):
        batch = wanted[start : start + id_batch]
        records = list(_read_by_ids(api, endpoint, schema.name, chunks[0], batch, quota))
        if len(chunks) > 1 and records:
            records = _join_chunks(api, endpoint, schema, chunks[1:], records, id_batch, quota)
        yield Page(records=records, newest=None, via="ids")


def _join_chunks(
    api: Api,
    endpoint: str,
    schema: ObjectSchema,
    chunks: Sequence[Sequence[str]],
    records: Sequence[Mapping[str, Any]],
    id_batch: int,
    quota: QuotaGuard | None,
) -> list[Mapping[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for r in records:
        rid = str(r.get("Id"))
        merged[rid] = {k: v for k, v in r.items() if k != "attributes"}
        order.append(rid)
    ids = [i for i in order if _ID.match(i)]
    for chunk in chunks:
        for rid in order:
            merged[rid].update(dict.fromkeys(chunk[1:]))
        for start in range(0, len(ids), id_batch):
            for row in _read_by_ids(api, endpoint, schema.name, chunk, ids[start : start + id_batch], quota):
                target = merged.get(str(row.get("Id")))
                if target is not None:
                    target.update({k: v for k, v in row.items() if k not in ("attributes", "Id")})
    return [merged[i] for i in order]


def _read_by_ids(
    api: Api, endpoint: str, sobject: str, select: Sequence[str], ids: Sequence[str], quota: QuotaGuard | None
) -> Iterator[Mapping[str, Any]]:
    query = soql(select, sobject, ids=ids, order=False)
    try:
        if quota is not None:
            quota.check()
        for result in api.client.paginate(
            api.path("queryAll"),
            endpoint=endpoint,
            paginator=SalesforceQueryPaginator(),
            params={"q": query},
        ):
            yield from (r for r in (result.data or {}).get("records") or [] if isinstance(r, Mapping))
    except UriTooLong:
        if len(ids) <= 1:
            raise
        half = len(ids) // 2
        yield from _read_by_ids(api, endpoint, sobject, select, ids[:half], quota)
        yield from _read_by_ids(api, endpoint, sobject, select, ids[half:], quota)


def records_to_arrow(builder: TableBuilder, schema: ObjectSchema, records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """REST records (validated) → an Arrow table keyed by API names, typed from ``describe``."""
    names = schema.field_names
    dates = {f.name for f in schema.fields if f.kind == "date"}
    rows = [{n: r.get(n) for n in names} for r in records]
    table = builder.build(rows)
    for i, name in enumerate(table.column_names):
        if name in dates:
            try:
                table = table.set_column(i, name, table.column(i).cast(pa.date32()))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                # A ValueError naming the column: the stream writer rejects the record, not the page.
                raise ValueError(f"{builder.name}.{name}: not a date ({exc})") from None
    return table


def text_builder_kinds(schema: ObjectSchema) -> dict[str, str]:
    """:class:`~connectors.arrow.TableBuilder` kinds: dates are read as text, then cast."""
    return {name: ("text" if kind == "date" else kind) for name, kind in schema.kinds().items()}


# --------------------------------------------------------------------------------------------
# Deleted records
# --------------------------------------------------------------------------------------------


def deleted_param(value: dt.datetime) -> str:
    """``start``/``end`` of the deleted-records resource (UTC; Salesforce ignores the seconds)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:00+00:00")


def get_deleted(
    api: Api, endpoint: str, sobject: str, start: dt.datetime, end: dt.datetime, quota: QuotaGuard | None = None
) -> dict[str, Any]:
    """``GET /sobjects/{object}/deleted/?start=&end=`` → ``{"deletedRecords": [...],
    "earliestDateAvailable": ..., "latestDateCovered": ...}``; a window holding more than 600,000 ids
    (``EXCEEDED_ID_LIMIT``) is split in two."""
    if quota is not None:
        quota.check()
    path = api.path("sobjects", sobject, "deleted") + "/"
    try:
        result = api.client.get_json(
            path,
            endpoint=endpoint,
            params={"start": deleted_param(start), "end": deleted_param(end)},
            check=_envelope("deletedRecords", "latestDateCovered"),
        )
    except IdLimitExceeded:
        if end - start <= dt.timedelta(minutes=4):
            raise
        middle = start + (end - start) / 2
        first = get_deleted(api, endpoint, sobject, start, middle, quota)
        second = get_deleted(api, endpoint, sobject, middle, end, quota)
        return {
            "deletedRecords": list(first.get("deletedRecords") or []) + list(second.get("deletedRecords") or []),
            "earliestDateAvailable": first.get("earliestDateAvailable"),
            "latestDateCovered": second.get("latestDateCovered"),
        }
    return dict(result.data) if isinstance(result.data, Mapping) else {}
