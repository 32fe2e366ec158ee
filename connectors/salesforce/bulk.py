"""Bulk API 2.0 query jobs: large deltas and backfills as CSV, typed by ``describe``.

1. ``POST /services/data/vXX.X/jobs/query`` with ``{"operation": "queryAll", "query": <SOQL>,
   "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}`` → the job (``id``,
   ``state``). The SOQL travels in the body, so a wide SELECT list is no problem here. No
   ``ORDER BY``: it would disable PK chunking and invite timeouts.
2. ``GET /jobs/query/{id}`` until ``state`` is ``JobComplete`` (``Failed`` and ``Aborted`` carry
   ``errorMessage``), with a growing interval and a total deadline (then the job is aborted).
3. ``GET /jobs/query/{id}/results?maxRecords=N[&locator=L]`` (``Accept: text/csv``): one set of
   rows per request; the ``Sforce-Locator`` response header names the next set and is the string
   ``null`` after the last. ``Sforce-NumberOfRecords`` counts the set's rows.

CSV values are typed by the fields' ``describe`` types (``true``/``false`` booleans, numbers,
ISO 8601 datetimes and dates); an empty value is NULL (Bulk CSV cannot tell an empty string from
a null). Parsing is Arrow's CSV reader, not a Python loop; a set with a value that does not fit its
type falls back to a row-by-row parse that rejects only the offending rows, naming the field. A
rejected row goes to the quarantine like a rejected REST record (:class:`connectors.salesforce.query.BadRow`),
and later runs read it again by ``Id``.

Anything that keeps a job from delivering (the object or a field not supported by Bulk, a refused
or failed job, a timeout) raises :class:`BulkUnavailable` with the reason; the caller falls back to
REST for the same window. Rows already yielded from the job are merged on ``Id``, so nothing is
duplicated; the cursor only moves after the job's last set, because its rows are not ordered.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from common.coltypes import arrow_type
from common.errors import AuthError, FatalAPIError, QuotaExhausted, RetriesExhausted
from connectors.salesforce.describe import ObjectSchema
from connectors.salesforce.query import Api, BadRow, Page, parse_datetime, server_time, soql
from connectors.salesforce.quota import QuotaGuard

log = logging.getLogger("supportlake.salesforce.bulk")

DONE_STATES = frozenset({"JobComplete", "Failed", "Aborted"})
NO_MORE = frozenset({"", "null"})


class BulkUnavailable(Exception):
    """A Bulk API 2.0 job could not deliver this query; ``str(exc)`` says why."""


def bulk_soql(schema: ObjectSchema, lower: dt.datetime | None, upper: dt.datetime | None = None) -> str:
    return soql(schema.field_names, schema.name, cursor=schema.cursor_field, lower=lower, upper=upper, order=False)


def bulk_pages(
    api: Api,
    endpoint: str,
    schema: ObjectSchema,
    *,
    lower: dt.datetime | None,
    upper: dt.datetime | None = None,
    max_records: int = 50_000,
    poll_seconds: float = 2.0,
    timeout_seconds: float = 3600.0,
    quota: QuotaGuard | None = None,
) -> Iterator[Page]:
    """Run one ``queryAll`` job for ``lower <= cursor < upper`` and yield its result sets as typed
    Arrow tables. Raises :class:`BulkUnavailable` when REST must take over."""
    query = bulk_soql(schema, lower, upper)
    jobs = api.path("jobs", "query")
    try:
        if quota is not None:
            quota.check()
        created = api.client.request(
            "POST",
            jobs,
            endpoint=endpoint,
            json_body={
                "operation": "queryAll",
                "query": query,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            },
        )
        job = created.data if isinstance(created.data, Mapping) else {}
        job_id = str(job.get("id") or "")
        if not job_id:
            raise BulkUnavailable("the job response has no id")
        started = server_time(created.response)
        info = _wait(api, endpoint, job_id, poll_seconds, timeout_seconds, quota)
        expected = info.get("numberRecordsProcessed")
        newest: dt.datetime | None = None
        locator: str | None = None
        sets = read = 0
        while True:
            if quota is not None:
                quota.check()
            params: dict[str, Any] = {"maxRecords": max_records}
            if locator:
                params["locator"] = locator
            result = api.client.request(
                "GET",
                api.path("jobs", "query", job_id, "results"),
                endpoint=endpoint,
                params=params,
                headers={"Accept": "text/csv"},
                expect_json=False,
            )
            if result.response.status_code == 204:
                raise BulkUnavailable(f"job {job_id}: the results request answered 204 No Content")
            table, bad_rows = parse_csv(result.response.content, schema)
            sets += 1
            read += table.num_rows + len(bad_rows)
            newest = _later(newest, _max_cursor(table, schema.cursor_field))
            nxt = result.response.headers.get("Sforce-Locator")
            locator = None if nxt is None or nxt.strip() in NO_MORE else nxt.strip()
            last = locator is None
            if last and isinstance(expected, int) and read < expected:
                # Never move the cursor past rows the job has but did not deliver.
                raise BulkUnavailable(f"job {job_id} delivered {read} of its {expected} rows")
            yield Page(
                table=table,
                newest=(min(newest, started) if newest is not None else None) if last else None,
                via="bulk",
                bad_rows=bad_rows,
                extra={"job": job_id, "set": sets},
            )
            if last:
                return
    except (QuotaExhausted, AuthError):
        raise
    except (FatalAPIError, RetriesExhausted) as exc:
        raise BulkUnavailable(str(exc)) from exc


def _wait(
    api: Api, endpoint: str, job_id: str, poll_seconds: float, timeout_seconds: float, quota: QuotaGuard | None
) -> Mapping[str, Any]:
    """Poll the job until it is complete; returns its final info (``numberRecordsProcessed``, ...)."""
    path = api.path("jobs", "query", job_id)
    started = time.monotonic()
    waited = 0.0
    delay = max(0.0, poll_seconds)
    while True:
        if quota is not None:
            quota.check()
        data = api.client.get_json(path, endpoint=endpoint).data
        info: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        state = str(info.get("state") or "")
        if state == "JobComplete":
            return info
        if state in DONE_STATES:
            raise BulkUnavailable(f"job {job_id} ended {state}: {info.get('errorMessage') or 'no error message'}")
        if max(waited, time.monotonic() - started) >= timeout_seconds:
            _abort(api, endpoint, job_id)
            raise BulkUnavailable(f"job {job_id} did not complete within {timeout_seconds:.0f}s (state {state})")
        api.sleep(delay)
        waited += delay
        delay = min(30.0, delay * 1.5)


def _abort(api: Api, endpoint: str, job_id: str) -> None:
    try:
        api.client.request(
            "PATCH", api.path("jobs", "query", job_id), endpoint=endpoint, json_body={"state": "Aborted"}
        )
    except (FatalAPIError, RetriesExhausted) as exc:
        log.warning("could not abort Bulk job %s: %s", job_id, exc)


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _max_cursor(table: pa.Table, cursor: str | None) -> dt.datetime | None:
    if not cursor or cursor not in table.column_names or table.num_rows == 0:
        return None
    value = pc.max(table.column(cursor)).as_py()
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def parse_csv(body: bytes, schema: ObjectSchema) -> tuple[pa.Table, list[BadRow]]:
    """One result set → (typed Arrow table keyed by API names, the rows rejected).

    Rows without ``Id`` or without their cursor value are rejected, like the payload models
    reject them on the REST path."""
    types = schema.arrow_types()
    if not body.strip():
        return pa.table({name: pa.array([], typ) for name, typ in types.items()}), []
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                true_values=["true"],
                false_values=["false"],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        log.warning(
            "%s: a Bulk result set does not fit its describe types (%s); parsing it row by row", schema.name, exc
        )
        table, bad = _parse_rows(body, schema)
    else:
        bad = []
    return _require(table, schema, bad)


def _require(table: pa.Table, schema: ObjectSchema, bad: list[BadRow]) -> tuple[pa.Table, list[BadRow]]:
    required = [c for c in ("Id", schema.cursor_field) if c and c in table.column_names]
    if not required or table.num_rows == 0:
        return table, bad
    mask = (
        pc.and_kleene(*[pc.is_valid(table.column(c)) for c in required])
        if len(required) > 1
        else pc.is_valid(table.column(required[0]))
    )
    kept = table.filter(mask)
    if kept.num_rows < table.num_rows:
        for row in table.filter(pc.invert(mask)).to_pylist():
            missing = " and ".join(c for c in required if row.get(c) is None)
            bad.append(BadRow(row.get("Id"), f"{missing}: the row has no value", row))
    return kept, bad


def _parse_rows(body: bytes, schema: ObjectSchema) -> tuple[pa.Table, list[BadRow]]:
    """The slow path: Python's csv module and one conversion per value; bad rows are rejected."""
    kinds = schema.kinds()
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig")))
    header = next(reader, [])
    columns: dict[str, list[Any]] = {name: [] for name in header}
    bad: list[BadRow] = []
    for row in reader:
        values: dict[str, Any] = {}
        try:
            for name, raw in zip(header, row, strict=False):
                values[name] = _convert(raw, kinds.get(name, "text"))
        except (ValueError, TypeError) as exc:
            sent = dict(zip(header, row, strict=False))
            problem = f"{name}: value {raw!r} does not fit {kinds.get(name)} ({exc})"
            bad.append(BadRow(sent.get("Id") or None, problem, sent))
            continue
        for name in header:
            columns[name].append(values.get(name))
    arrays = {
        name: pa.array(vals, arrow_type(kinds[name]) if name in kinds else pa.string())
        for name, vals in columns.items()
    }
    return pa.table(arrays), bad


def _convert(raw: str, kind: str) -> Any:
    if raw == "":
        return None
    if kind == "text":
        return raw
    if kind == "bool":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"not a boolean: {raw!r}")
        return lowered == "true"
    if kind == "bigint":
        return int(raw)
    if kind == "double":
        return float(raw)
    if kind == "timestamp":
        return parse_datetime(raw)
    if kind == "date":
        return dt.date.fromisoformat(raw)
    return raw
