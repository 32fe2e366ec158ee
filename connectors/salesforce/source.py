"""The Salesforce Service Cloud dlt source.

Usable on its own in any dlt pipeline::

    import dlt
    from connectors.salesforce import salesforce_source

    pipeline = dlt.pipeline("sf", destination="duckdb", dataset_name="salesforce")
    pipeline.run(salesforce_source())  # configuration from SOURCES__SALESFORCE__* or .dlt/secrets.toml

Configuration (dlt conventions, ``SOURCES__SALESFORCE__...``): ``BASE_URL`` (the login host:
``https://login.salesforce.com`` by default, ``https://test.salesforce.com`` for sandboxes, a My
Domain; ``http://`` only on loopback, e.g. a simulator); ``CREDENTIALS__...`` (see
:mod:`connectors.salesforce.auth`); ``API_VERSION`` (``v62.0``); ``START_DATE`` (ISO date or
datetime; default: all history, no hidden cut-off); ``LOOKBACK_MINUTES`` (10); ``BULK_THRESHOLD``
(10,000 changed rows: at or above it an object is read through Bulk API 2.0; 0 means always);
``QUOTA_SHARE`` (0.5 of the API requests that remain when the run starts); ``OBJECTS`` (replaces
the default list) and ``EXTRA_OBJECTS`` (adds to it; custom ``__c`` objects included), each a JSON
list or comma-separated names.

One resource per object (named like its table, :data:`connectors.salesforce.objects.TABLES`), plus
``deleted_records``. For each object a run:

1. describes it. ``Case`` is the primary object: when the org lacks it or the integration user
   may not read it (describe or query refused: 401/403/404, ``INSUFFICIENT_ACCESS``,
   ``INVALID_TYPE``, ``NOT_FOUND``) the run fails. Every other object is an optional enrichment:
   refused, its table is marked ``skipped`` with the reason and the run goes on;
2. counts the rows changed since the stored cursor minus the lookback (``SELECT COUNT()``);
3. reads them through Bulk API 2.0 when there are at least ``bulk_threshold``, else through REST
   ``queryAll``; a Bulk job that cannot deliver falls back to REST with the reason logged;
   ``QUERY_TIMEOUT`` on REST is retried through Bulk, then in narrower time windows;
4. yields each page as an Arrow table and then advances the cursor (dlt commits the cursor with
   the load, so a crash never moves it past data that was not loaded).

``deleted_records`` lists what was purged since the last run, per object, from
``/sobjects/{object}/deleted``: rows ``(object, id, deleted_date)``, merged on ``(object, id)``.
They are kept apart from the object tables on purpose: merging a row that has only an ``Id`` into
``case`` would replace the case's last known values with NULLs. Soft deletes need none of this:
``queryAll`` returns them with ``IsDeleted = true``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Union

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from common.errors import AuthError, ConfigError, NotAvailableError
from connectors import chunks
from connectors.arrow import TableBuilder
from connectors.http import RetryPolicy
from connectors.incremental import window_start
from connectors.rejects import REJECTS
from connectors.salesforce.auth import (
    CredentialsRejected,
    SalesforceClientCredentials,
    SalesforceJwtBearerCredentials,
    SalesforceRefreshTokenCredentials,
    SalesforceUsernamePasswordCredentials,
)
from connectors.salesforce.bulk import BulkUnavailable, bulk_pages
from connectors.salesforce.context import (
    DEFAULT_API_VERSION,
    SOURCE,
    PrimaryObjectUnavailable,
    SalesforceContext,
    make_context,
)
from connectors.salesforce.deletions import DELETIONS
from connectors.salesforce.describe import ObjectSchema
from connectors.salesforce.objects import DELETED_RECORDS, SObject, resolve, table_map
from connectors.salesforce.query import (
    Api,
    Page,
    QueryLocatorExpired,
    QueryTimeout,
    ReplicationDateError,
    count,
    get_deleted,
    iso,
    parse_datetime,
    read_ids,
    readable_ids,
    records_to_arrow,
    rest_pages,
    text_builder_kinds,
)
from connectors.salesforce.quota import QuotaReserved
from connectors.writer import Sink, StreamWriter, table_hints
from schemas import salesforce as m
from schemas.payload import Payload, Validator

log = logging.getLogger("supportlake.salesforce")

STATE_KEY = "salesforce_v1"
"""Each resource's state lives under this key of its dlt resource state (versioned layout)."""
DELETED_WINDOW = dt.timedelta(days=30)
"""The furthest back ``/sobjects/{object}/deleted`` accepts a ``start``."""
DELETED_RETENTION = dt.timedelta(days=15)
"""How far back Salesforce documents that deleted records are listed (the Recycle Bin's 15 days)."""
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""Lower end of a time window when a full-history query has to be narrowed (no org is older)."""
MAX_SPLITS = 8
MIN_WINDOW = dt.timedelta(minutes=2)


# --------------------------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------------------------


@dlt.source(name="salesforce", max_table_nesting=0)
def salesforce_source(
    credentials: Union[  # noqa: UP007 - dlt resolves typing.Union, most specific flow first
        SalesforceUsernamePasswordCredentials,
        SalesforceJwtBearerCredentials,
        SalesforceRefreshTokenCredentials,
        SalesforceClientCredentials,
    ] = dlt.secrets.value,
    base_url: str | None = None,
    api_version: str = DEFAULT_API_VERSION,
    start_date: str | None = None,
    lookback_minutes: int = 10,
    bulk_threshold: int = 10_000,
    bulk_max_records: int = 50_000,
    bulk_poll_seconds: float = 2.0,
    bulk_timeout_seconds: float = 3600.0,
    quota_share: float = 0.5,
    objects: str | list[str] | None = None,
    extra_objects: str | list[str] | None = None,
    max_attempts: int = 8,
    deadline_seconds: float = 900.0,
    resources: Sequence[str] | None = None,
) -> Iterator[DltResource]:
    """One resource per configured object (see :mod:`connectors.salesforce.objects`) and
    ``deleted_records``; ``resources`` selects some of them by resource, table or object name.

    In a chunked sync the context (token, quota guard, describes) is made once and kept for every
    chunk: the quota share is of what remained when the run started, not when a chunk did."""
    memo = chunks.memo(SOURCE)
    if "context" in memo:
        ctx: SalesforceContext = memo["context"]
        yield from _resources(ctx, resources)
        return
    ctx = memo["context"] = make_context(
        credentials,
        base_url,
        api_version=api_version,
        start_date=start_date,
        lookback_minutes=lookback_minutes,
        bulk_threshold=bulk_threshold,
        bulk_max_records=bulk_max_records,
        bulk_poll_seconds=bulk_poll_seconds,
        bulk_timeout_seconds=bulk_timeout_seconds,
        quota_share=quota_share,
        objects=objects,
        extra_objects=extra_objects,
        policy=RetryPolicy(max_attempts=max_attempts, deadline_seconds=deadline_seconds),
    )
    yield from _resources(ctx, resources)


def _resources(ctx: SalesforceContext, resources: Sequence[str] | None) -> Iterator[DltResource]:
    wanted = select_resources(ctx.objects, resources)
    for obj in ctx.objects:
        if obj.table in wanted:
            yield dlt.resource(object_resource, name=obj.table, primary_key="id", write_disposition="merge")(obj, ctx)
    if DELETED_RECORDS in wanted:
        yield dlt.resource(
            deleted_records_resource,
            name=DELETED_RECORDS,
            primary_key=("object", "id"),
            write_disposition="merge",
        )(ctx)


def select_resources(objects: Sequence[SObject], names: Sequence[str] | None) -> set[str]:
    """Resource names from ``resources``: resource/table names or object API names, any case."""
    available = table_map(objects)
    if not names:
        return set(available)
    by_key = {t.lower(): t for t in available}
    by_key.update({o.name.lower(): o.table for o in objects})
    out: set[str] = set()
    for name in names:
        found = by_key.get(str(name).lower())
        if found is None:
            raise ConfigError(f"{name!r} is not a Salesforce resource; choose from: {', '.join(available)}")
        out.add(found)
    return out


def configured_tables() -> dict[str, tuple[str, ...]]:
    """Resource → tables, with ``SOURCES__SALESFORCE__OBJECTS`` / ``EXTRA_OBJECTS`` applied (for
    the CLI registry; :data:`connectors.salesforce.objects.TABLES` is the default list)."""
    objects: Any
    extra: Any
    try:
        objects = dlt.config.get("sources.salesforce.objects")
        extra = dlt.config.get("sources.salesforce.extra_objects")
    except Exception:  # no configuration available: the defaults
        objects = extra = None
    try:
        return table_map(resolve(objects, extra))
    except ValueError as exc:
        raise ConfigError(f"SOURCES__SALESFORCE__OBJECTS / EXTRA_OBJECTS: {exc}") from None


# --------------------------------------------------------------------------------------------
# One object
# --------------------------------------------------------------------------------------------


def object_resource(obj: SObject, ctx: SalesforceContext) -> Iterator[Any]:
    """A dlt resource body: one object, from the cursor kept in the resource's state (in a
    chunked sync, under the chunk's budget: :func:`connectors.chunks.guarded`)."""
    yield from chunks.guarded(SOURCE, obj.table, _sync_object_state(obj, ctx))


def _sync_object_state(obj: SObject, ctx: SalesforceContext) -> Iterator[Any]:
    yield from sync_object(obj, ctx, dlt.current.resource_state())


def sync_object(obj: SObject, ctx: SalesforceContext, state: dict[str, Any]) -> Iterator[Any]:
    """Read what changed in ``obj`` since ``state``'s cursor; yield Arrow tables; advance ``state``
    after each page that moves the cursor. Those pages (REST pages, ordered by the cursor field;
    the last set of a Bulk job) are where a chunked sync may stop the object: the next chunk
    queries again from the cursor minus the lookback."""
    budget = chunks.current(SOURCE)
    mine: dict[str, Any] = state.setdefault(STATE_KEY, {})
    try:
        ctx.quota.check()
        schema = ctx.schema(obj)
    except QuotaReserved as stop:
        _stopped(ctx, obj.table, str(stop))
        return
    if schema is None:
        return
    cursor = schema.cursor_field
    if mine.get("cursor_field") not in (None, cursor):
        log.warning(
            "%s: cursor field changed from %s to %s; reading from the start", obj.table, mine["cursor_field"], cursor
        )
        mine.pop("cursor", None)
    mine["cursor_field"] = cursor
    stored = parse_datetime(mine.get("cursor")) if cursor else None
    # CHANGED_SINCE (connectors.incremental): the stored cursor minus the lookback, never before start_date.
    lower = window_start(stored, ctx.start_date, ctx.lookback) if cursor else None
    writer = object_writer(obj, schema)
    try:
        for page in extract(ctx, obj, schema, lower):
            table = page_table(writer, obj, schema, page)
            if table.num_rows:
                yield writer.mark(obj.table, table)
            seen = len(page.records) if page.records is not None else table.num_rows + page.rejected
            ctx.stats.add(SOURCE, obj.table, records=seen, pages=1)  # rejections: counted as handed over
            if budget is not None:
                budget.release(table.num_rows)
            if page.newest is not None:
                current = parse_datetime(mine.get("cursor"))
                if current is None or page.newest > current:
                    mine["cursor"] = iso(page.newest)
                if page.more and budget is not None and budget.due():
                    budget.stop(obj.table)
                    return
        # Records held in quarantine are read again by Id (SOQL ``WHERE Id IN (…)`` through
        # queryAll): one that reads valid now is loaded and leaves the quarantine; the cursor does not
        # move for them. Ids the whole answer leaves out are purged: noted, and resolved as gone.
        held = REJECTS.held(SOURCE, obj.table)
        if held:
            answered: list[Any] = []
            for page in read_ids(ctx.api(), obj.table, schema, held, ctx.quota):
                answered += [r.get("Id") for r in page.records or () if isinstance(r, Mapping)]
                answered += [bad.record_id for bad in page.bad_rows]
                table = page_table(writer, obj, schema, page)
                if table.num_rows:
                    yield writer.mark(obj.table, table)
            REJECTS.missing(SOURCE, obj.table, readable_ids(held), answered)
    except QuotaReserved as stop:
        _stopped(ctx, obj.table, str(stop))
    except (NotAvailableError, AuthError) as exc:
        # A refusal of the query or Bulk job (401 after one re-authentication, 403, 404,
        # INSUFFICIENT_ACCESS, INVALID_TYPE, NOT_FOUND): optional objects are skipped, Case fails.
        if isinstance(exc, CredentialsRejected):
            raise
        ctx.refused(obj, str(exc), exc)
    finally:
        writer.hand_over(SOURCE, ctx.stats, obj.table)


def _stopped(ctx: SalesforceContext, resource: str, reason: str) -> None:
    log.warning("%s: %s", resource, reason)
    ctx.stats.stop(SOURCE, resource, reason)


def extract(ctx: SalesforceContext, obj: SObject, schema: ObjectSchema, lower: dt.datetime | None) -> Iterator[Page]:
    """Choose REST or Bulk for this delta and recover from what Salesforce throws at each."""
    api = ctx.api()
    use_bulk = False
    if obj.bulk:
        if ctx.bulk_threshold <= 0:
            use_bulk = True
        else:
            ctx.quota.check()
            try:
                changed: int | None = count(api, obj.table, schema, lower=lower)
            except QueryTimeout:
                changed = None
            use_bulk = changed is None or changed >= ctx.bulk_threshold
            log.info(
                "%s: %s row(s) to read since %s: %s",
                obj.table,
                "too many to count" if changed is None else changed,
                "the beginning" if lower is None else iso(lower),
                "Bulk API 2.0" if use_bulk else "REST",
            )
    if use_bulk:
        try:
            yield from _bulk(ctx, api, obj, schema, lower, None)
            return
        except BulkUnavailable as exc:
            log.warning("%s: Bulk API 2.0 could not serve the query (%s); reading through REST instead", obj.table, exc)
    yield from _rest(ctx, api, obj, schema, lower, bulk_tried=use_bulk)


def _bulk(
    ctx: SalesforceContext,
    api: Api,
    obj: SObject,
    schema: ObjectSchema,
    lower: dt.datetime | None,
    upper: dt.datetime | None,
) -> Iterator[Page]:
    return bulk_pages(
        api,
        obj.table,
        schema,
        lower=lower,
        upper=upper,
        max_records=ctx.bulk_max_records,
        poll_seconds=ctx.bulk_poll_seconds,
        timeout_seconds=ctx.bulk_timeout_seconds,
        quota=ctx.quota,
    )


def _rest(
    ctx: SalesforceContext,
    api: Api,
    obj: SObject,
    schema: ObjectSchema,
    lower: dt.datetime | None,
    *,
    bulk_tried: bool,
) -> Iterator[Page]:
    """REST ``queryAll`` over ``[lower, now)``. ``QUERY_TIMEOUT``: the rest of the window goes
    through Bulk (once), then is halved until it runs (at most :data:`MAX_SPLITS` times); an
    expired query locator restarts the window from the last page loaded."""
    windows: list[tuple[dt.datetime | None, dt.datetime | None]] = [(lower, None)]
    splits = restarts = 0
    while windows:
        lo, hi = windows[0]
        progress = lo
        try:
            for page in rest_pages(api, obj.table, schema, lower=lo, upper=hi, quota=ctx.quota):
                yield page
                if page.newest is not None and (progress is None or page.newest > progress):
                    progress = page.newest
            windows.pop(0)
        except QueryLocatorExpired as exc:
            restarts += 1
            if restarts > 3:
                raise
            log.warning(
                "%s: %s; restarting from %s", obj.table, exc, "the beginning" if progress is None else iso(progress)
            )
            windows[0] = (progress, hi)
        except QueryTimeout as exc:
            if obj.bulk and not bulk_tried:
                bulk_tried = True
                log.warning("%s: QUERY_TIMEOUT through REST; reading the window through Bulk API 2.0", obj.table)
                try:
                    yield from _bulk(ctx, api, obj, schema, progress, hi)
                    windows.pop(0)
                    continue
                except BulkUnavailable as bulk_exc:
                    log.warning("%s: Bulk API 2.0 could not serve it either (%s)", obj.table, bulk_exc)
            start = progress or EARLIEST
            end = hi or ctx.now()
            if schema.cursor_field is None or splits >= MAX_SPLITS or end - start <= MIN_WINDOW:
                raise QueryTimeout(
                    f"QUERY_TIMEOUT persists on {obj.name} for {schema.cursor_field or 'the whole object'} "
                    f"from {iso(start)} to {iso(end)} after {splits} narrowing(s) of the window: Salesforce "
                    "cannot run this query in time. Ask Salesforce support for an index on the cursor field, "
                    "or set SOURCES__SALESFORCE__START_DATE closer to today",
                    endpoint=f"{SOURCE}.{obj.table}",
                ) from exc
            middle = start + (end - start) / 2
            log.warning(
                "%s: QUERY_TIMEOUT; narrowing the window to %s .. %s, then %s ..",
                obj.table,
                iso(start),
                iso(middle),
                iso(middle),
            )
            windows[0:1] = [(start, middle), (middle, hi)]
            splits += 1


def object_writer(obj: SObject, schema: ObjectSchema) -> StreamWriter:
    """The stream writer of one object's table: columns typed from ``describe``, key ``id``, merge."""
    sink = Sink(
        name=obj.table,
        hints=table_hints(schema.dlt_columns(), "id", "merge"),
        builder=TableBuilder(obj.table, text_builder_kinds(schema)),
        validator=Validator(obj.table, _model_for(obj, schema), key="Id"),
        deletion=DELETIONS.of(obj.table),
        not_null=("id",),
    )
    return StreamWriter({obj.table: sink}, source=SOURCE)


def page_table(writer: StreamWriter, obj: SObject, schema: ObjectSchema, page: Page) -> pa.Table:
    """A page (REST records, or Bulk's typed Arrow table) with warehouse column names and the
    loader's columns."""
    if page.table is not None:
        table = page.table
        for bad in page.bad_rows:  # into the quarantine, as REST's rejected records
            writer.reject(obj.table, bad.payload, bad.problems)
    else:
        good = writer.validate(obj.table, page.records or [])
        builder = writer.sinks[obj.table].builder
        # A value its column cannot hold rejects the record, not the page.
        table = writer.salvage(
            obj.table,
            good,
            lambda idx: records_to_arrow(builder, schema, good if idx is None else [good[i] for i in idx]),
        )
        writer.accept(SOURCE, obj.table, good)
    columns = schema.columns()
    table = table.rename_columns([columns.get(n, n) for n in table.column_names])
    return writer.finish(obj.table, table)


def _model_for(obj: SObject, schema: ObjectSchema) -> type[Payload]:
    """The object's payload model, or the generic one when ``describe`` lacks a field the model
    requires (validation must never reject every row of an org that differs)."""
    names = set(schema.field_names)
    missing = [n for n, f in obj.model.model_fields.items() if f.is_required() and n not in names]
    if missing:
        log.warning("%s: describe has no %s; validating Id only", obj.table, ", ".join(missing))
        return m.SObjectRecord
    return obj.model


# --------------------------------------------------------------------------------------------
# Deleted records
# --------------------------------------------------------------------------------------------

DELETED_COLUMNS: dict[str, Any] = {
    "object": {"data_type": "text", "nullable": False},
    "id": {"data_type": "text", "nullable": False},
    "deleted_date": {"data_type": "timestamp", "nullable": True},
}


def deleted_records_resource(ctx: SalesforceContext) -> Iterator[Any]:
    """A dlt resource body: records purged from each object since the last run (one request per
    object: never cut by a chunk, but started only while the chunk has budget)."""
    yield from chunks.guarded(SOURCE, DELETED_RECORDS, _sync_deleted_state(ctx), resumable=False)


def _sync_deleted_state(ctx: SalesforceContext) -> Iterator[Any]:
    yield from sync_deleted(ctx, dlt.current.resource_state())


def sync_deleted(ctx: SalesforceContext, state: dict[str, Any]) -> Iterator[Any]:
    """``GET /sobjects/{object}/deleted/?start=&end=`` per object, from where the last run's
    ``latestDateCovered`` left off; rows ``(object, id, deleted_date)``."""
    windows: dict[str, str] = state.setdefault(STATE_KEY, {}).setdefault("deleted", {})
    writer = StreamWriter(
        {
            DELETED_RECORDS: Sink(
                name=DELETED_RECORDS,
                hints=table_hints(DELETED_COLUMNS, ("object", "id"), "merge"),
                builder=TableBuilder(DELETED_RECORDS, {"object": "text", "id": "text", "deleted_date": "timestamp"}),
                validator=Validator(DELETED_RECORDS, m.DeletedRecord, key="id"),
                deletion=DELETIONS.of(DELETED_RECORDS),
                not_null=("object", "id"),
            )
        },
        source=SOURCE,
    )
    refusals: list[str] = []
    listed = 0
    try:
        for obj in ctx.objects:
            if not obj.deleted:
                continue
            ctx.quota.check()
            try:
                schema = ctx.schema(obj)
            except PrimaryObjectUnavailable as exc:
                refusals.append(f"{obj.name}: {exc}")  # the object's own resource fails the run
                continue
            if schema is None:
                continue
            if not schema.replicateable:
                log.info("%s: not replicateable; Salesforce keeps no deleted-records log for it", obj.name)
                continue
            api = ctx.api()
            end = ctx.now().replace(second=0, microsecond=0)
            start = _deleted_start(obj.name, parse_datetime(windows.get(obj.name)), end)
            if end - start <= dt.timedelta(minutes=1):
                continue  # the API wants start earlier than end by more than a minute
            try:
                data = get_deleted(api, DELETED_RECORDS, schema.name, start, end, ctx.quota)
            except ReplicationDateError as exc:
                retry = end - DELETED_RETENTION
                if start >= retry:
                    log.warning("%s: deleted records not listed this run: %s", obj.name, exc)
                    continue
                log.warning(
                    "%s: %s; asking again from %s: records deleted between %s and then may not be listed",
                    obj.name,
                    exc,
                    iso(retry),
                    iso(start),
                )
                start = retry
                try:
                    data = get_deleted(api, DELETED_RECORDS, schema.name, start, end, ctx.quota)
                except ReplicationDateError as again:
                    log.warning("%s: deleted records not listed this run: %s", obj.name, again)
                    continue
            except (NotAvailableError, AuthError) as exc:
                # Optional: a refused deleted-records log is reported, never fatal.
                if isinstance(exc, CredentialsRejected):
                    raise
                refusals.append(f"{obj.name}: {exc}")
                ctx.stats.warn(SOURCE, DELETED_RECORDS, f"deleted records of {obj.name} not listed: {exc}")
                continue
            earliest = parse_datetime(data.get("earliestDateAvailable"))
            # Only a window that continues an earlier run can miss purges: on the first run the
            # purged rows were never loaded, so there is nothing to flag.
            if earliest is not None and earliest > start and windows.get(obj.name):
                log.warning(
                    "%s: Salesforce's delete log starts at %s, after %s: records purged in between are not "
                    "listed; a full refresh of %s drops them",
                    obj.name,
                    iso(earliest),
                    iso(start),
                    obj.table,
                )
            records = [
                {"object": schema.name, "id": r.get("id"), "deleted_date": r.get("deletedDate")}
                for r in writer.validate(DELETED_RECORDS, data.get("deletedRecords") or [])
            ]
            if records:
                yield writer.write(DELETED_RECORDS, records)
            ctx.stats.add(SOURCE, DELETED_RECORDS, records=len(records), pages=1)
            listed += 1
            covered = parse_datetime(data.get("latestDateCovered")) or end
            windows[obj.name] = iso(min(covered, end))
        if refusals and not listed:
            ctx.stats.skip(SOURCE, DELETED_RECORDS, "skipped: " + "; ".join(refusals))
    except QuotaReserved as stop:
        _stopped(ctx, DELETED_RECORDS, str(stop))
    finally:
        writer.hand_over(SOURCE, ctx.stats, DELETED_RECORDS)


def _deleted_start(name: str, stored: dt.datetime | None, end: dt.datetime) -> dt.datetime:
    """The window's start: where the last run's window ended; on the first run, as far back as
    Salesforce lists deletions; never beyond the 30 days the endpoint accepts."""
    if stored is None:
        return end - DELETED_RETENTION
    floor = end - DELETED_WINDOW + dt.timedelta(minutes=5)
    if stored < floor:
        log.warning(
            "%s: the last deleted-records window ended %s, more than 30 days ago; deletions before %s can no "
            "longer be listed (a full refresh of the object drops rows purged since)",
            name,
            iso(stored),
            iso(floor),
        )
        return floor
    return stored
