"""Endpoints declared as data: one frozen, typed record per stream.

A connector's ``endpoints.py`` is a table of :class:`Endpoint` records; :func:`walk` turns one into
Arrow tables for dlt, and :func:`connectors.zendesk.source.zendesk_source` (and later the other
sources) turn the table into dlt resources. Nothing here knows a vendor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import dlt
import pyarrow as pa

from common.errors import AuthError, NotAvailableError
from connectors.arrow import TableBuilder, dlt_columns, sequence
from connectors.deletions import DLT_COLUMNS as DELETION_COLUMNS
from connectors.deletions import SourceDeletions, flag_arrow
from connectors.http import HttpClient
from connectors.paginators import BasePaginator
from schemas.payload import Payload, Validator, column_types

Incremental = Literal["cursor_export", "start_time", "start_time_then_cursor", "full"]
"""How an endpoint resumes:

- ``cursor_export``: an export cursor (``cursor``) kept in state; ``start_time`` only on the first run;
- ``start_time``: ``start_time`` from the newest ``cursor_field`` seen (minus ``overlap_seconds``);
- ``start_time_then_cursor``: cursor *pagination* (``page[size]``/``page[after]``) started at
  ``start_time``; the last page's ``after_cursor`` is kept in state and the next run resumes with
  ``page[after]``. A state holding only ``start_time`` (the time-based form) starts from it;
- ``full``: read whole every run.
"""
# A page's body → {table: records}. The default reads ``data_selector`` into the endpoint's table.
Splitter = Callable[[Any], Mapping[str, list[Any]]]
# A page's body and its split records → a warning to record (run log + summary), or None.
PageCheck = Callable[[Any, Mapping[str, list[Any]]], str | None]
# A page's records (which it may edit in place) → extra columns (name → one value per record);
# e.g. pivoting Zendesk custom fields into named columns. Runs before the Arrow build.
PageHook = Callable[[list[dict[str, Any]]], Mapping[str, list[Any]]]

SEQ_COLUMN = "_sl_seq"
"""Extraction order within a run; merge keeps the highest, i.e. the latest version of a key."""


@dataclass(frozen=True, kw_only=True)
class Table:
    """A warehouse table that an endpoint fills."""

    name: str
    model: type[Payload]
    primary_key: str = "id"
    write_disposition: Literal["merge", "append", "replace"] = "merge"
    description: str = ""

    def resource_hints(self) -> dict[str, Any]:
        """Hints for the dlt resource itself: no columns (see :func:`mark_table`)."""
        return {"primary_key": self.primary_key, "write_disposition": self.write_disposition}

    def hints(self) -> dict[str, Any]:
        columns = dlt_columns(column_types(self.model))
        columns[SEQ_COLUMN] = {"data_type": "bigint", "dedup_sort": "desc", "nullable": True}
        columns.update(DELETION_COLUMNS)
        return {
            "primary_key": self.primary_key,
            "write_disposition": self.write_disposition,
            "columns": columns,
        }


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One API stream: where it is, how it pages, how it is incremental, what it fills."""

    name: str
    path: str
    data_selector: str
    table: Table
    paginator: Callable[[], BasePaginator]
    params: Mapping[str, Any] = field(default_factory=dict)
    incremental: Incremental = "full"
    cursor_field: str | None = None
    overlap_seconds: int = 1
    rate_group: str = "default"
    optional: bool = False
    also: tuple[Table, ...] = ()
    split: Splitter | None = None
    page_check: PageCheck | None = None
    description: str = ""

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table, *self.also)

    def records(self, data: Any) -> Mapping[str, list[Any]]:
        if self.split is not None:
            return self.split(data)
        return {self.table.name: list(data.get(self.data_selector) or [])}


@dataclass
class WalkContext:
    """What a walk needs besides the endpoint: the client, where to start, row hooks."""

    client: HttpClient
    start_time: int = 0
    page_hooks: Mapping[str, PageHook] = field(default_factory=dict)
    extra_columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    deletions: SourceDeletions = field(default_factory=SourceDeletions)
    """How each table's records say they are deleted (:mod:`connectors.deletions`)."""


STATE_VERSION = 1
BATCH_ROWS = 10_000
"""Pages are handed to dlt in batches of about this many rows: dlt's cost per item (schema
reconciliation) is constant, so fewer, larger Arrow tables load faster; memory stays bounded."""


class Batcher:
    """Collects a resource's Arrow tables per warehouse table; releases them in batches."""

    def __init__(self, max_rows: int = BATCH_ROWS) -> None:
        self.max_rows = max_rows
        self._pending: dict[str, list[pa.Table]] = {}
        self._rows = 0

    def add(self, table_name: str, table: pa.Table) -> None:
        self._pending.setdefault(table_name, []).append(table)
        self._rows += table.num_rows

    @property
    def full(self) -> bool:
        return self._rows >= self.max_rows

    def drain(self) -> Iterator[tuple[str, pa.Table]]:
        pending, self._pending, self._rows = self._pending, {}, 0
        for name, tables in pending.items():
            yield name, tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")


def walk(endpoint: Endpoint, ctx: WalkContext, state: dict[str, Any]) -> Iterator[Any]:
    """Fetch every page of ``endpoint`` from where ``state`` says, yielding Arrow tables.

    ``state`` is the resource's dlt state: it is committed with the load package, so a crash
    never moves a cursor past data that was not loaded. It is advanced after each page's data has
    been yielded.
    """
    if state.get("v") not in (None, STATE_VERSION):
        raise RuntimeError(f"{endpoint.name}: state version {state.get('v')} is newer than this code")
    state["v"] = STATE_VERSION
    client = ctx.client
    source = client.name
    builders = {
        t.name: TableBuilder(t.name, {**column_types(t.model), **ctx.extra_columns.get(t.name, {})})
        for t in endpoint.tables
    }
    validators = {t.name: Validator(t.name, t.model, t.primary_key) for t in endpoint.tables}
    seq = dict.fromkeys(builders, 0)
    hinted: set[str] = set()

    params = dict(endpoint.params)
    if endpoint.incremental == "cursor_export":
        if state.get("cursor"):
            params["cursor"] = state["cursor"]
        else:
            params["start_time"] = ctx.start_time
    elif endpoint.incremental == "start_time":
        params["start_time"] = max(int(state.get("start_time", 0)), ctx.start_time)
    elif endpoint.incremental == "start_time_then_cursor":
        # start_time is required by the API and bounds the first page; a stored cursor (the
        # previous run's last after_cursor) says exactly where to resume.
        params["start_time"] = max(int(state.get("start_time", 0)), ctx.start_time)
        if state.get("cursor"):
            params["page[after]"] = state["cursor"]

    paginator = endpoint.paginator()
    batch = Batcher()
    newest: Any = None  # the newest cursor value among the pages not yet released

    def release() -> Iterator[Any]:
        """Hand the batched pages to dlt, then move the state past them (never before)."""
        nonlocal newest
        for table_name, tbl in batch.drain():
            yield mark_table(tbl, table_name, endpoint, hinted)
        _advance(endpoint, paginator, state, newest)
        newest = None

    try:
        for page in client.paginate(
            endpoint.path,
            endpoint=endpoint.name,
            paginator=paginator,
            params=params,
            rate_group=endpoint.rate_group,
        ):
            n_records = 0
            split = endpoint.records(page.data)
            if endpoint.page_check is not None:
                warning = endpoint.page_check(page.data, split)
                if warning:
                    client.stats.warn(source, endpoint.name, warning)
            for table_name, records in split.items():
                good = validators[table_name].filter(records)
                n_records += len(records)
                if table_name == endpoint.table.name and endpoint.cursor_field:
                    for r in good:
                        v = r.get(endpoint.cursor_field)
                        if v is not None and (newest is None or v > newest):
                            newest = v
                if not good:
                    continue
                builder = builders[table_name]
                hook = ctx.page_hooks.get(table_name)
                extra: dict[str, pa.Array] = {}
                if hook is not None:
                    for name, values in hook(good).items():  # type: ignore[arg-type]
                        arr = builder.column(name, values)
                        if arr is not None:
                            extra[name] = arr
                extra[SEQ_COLUMN] = sequence(seq[table_name], len(good))
                batch.add(table_name, flag_arrow(builder.build(good, extra), ctx.deletions.of(table_name)))
                seq[table_name] += len(good)
            client.stats.add(source, endpoint.name, records=n_records, pages=1)
            if batch.full:
                yield from release()
        yield from release()
    except (NotAvailableError, AuthError) as exc:
        # An optional enrichment the account may not read (401/403/404: a missing scope or
        # permission, a feature not enabled) is skipped with the reason; only primary streams fail.
        if not endpoint.optional:
            raise
        # Pages read before the refusal still load, with the state that matches them.
        yield from release()
        client.stats.skip(source, endpoint.name, f"skipped: {exc}")
        return
    finally:
        rejected = sum(len(v.rejections) for v in validators.values())
        if rejected:
            client.stats.add(source, endpoint.name, rejected=rejected)


def mark_table(tbl: pa.Table, table_name: str, endpoint: Endpoint, hinted: set[str]) -> Any:
    """Name the table of every item explicitly; the first item of each table carries its hints
    (columns, key, de-duplication) as a table *variant*. Resource-level column hints would leak
    into every table of the resource, and plain ``with_hints`` would re-target the resource."""
    if table_name in hinted:
        return dlt.mark.with_table_name(tbl, table_name)
    hinted.add(table_name)
    table = next(t for t in endpoint.tables if t.name == table_name)
    hints = dlt.mark.make_hints(table_name=table_name, **table.hints())
    return dlt.mark.with_hints(tbl, hints, create_table_variant=True)


def _advance(endpoint: Endpoint, paginator: BasePaginator, state: dict[str, Any], newest: Any) -> None:
    if endpoint.incremental == "cursor_export":
        cursor = getattr(paginator, "after_cursor", None)
        if cursor:
            state["cursor"] = cursor
    elif endpoint.incremental == "start_time_then_cursor":
        cursor = getattr(paginator, "after_cursor", None)
        if cursor:
            state["cursor"] = cursor
        if newest is not None:  # kept too: the position survives should the cursor be dropped
            nxt = _to_epoch(newest) - endpoint.overlap_seconds
            state["start_time"] = max(int(state.get("start_time", 0)), nxt)
    elif endpoint.incremental == "start_time":
        candidates = []
        end_time = getattr(paginator, "end_time", None)
        if end_time is not None:
            candidates.append(int(end_time))
        if newest is not None:
            candidates.append(_to_epoch(newest))
        if candidates:
            # One second of overlap: records sharing the last second are read again and merged.
            nxt = min(candidates) - endpoint.overlap_seconds
            state["start_time"] = max(int(state.get("start_time", 0)), nxt)


def _to_epoch(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value)
    from datetime import datetime

    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
