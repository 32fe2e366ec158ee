"""Endpoints declared as data: one frozen, typed record per stream.

A connector's ``endpoints.py`` is a table of :class:`Endpoint` records; :func:`walk` turns one into
Arrow tables for dlt, and :func:`connectors.zendesk.source.zendesk_source` (and later the other
sources) turn the table into dlt resources. Nothing here knows a vendor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from common.errors import AuthError, NotAvailableError
from connectors import chunks
from connectors.arrow import TableBuilder, dlt_columns
from connectors.deletions import NEVER, Deletion, SourceDeletions
from connectors.http import HttpClient
from connectors.incremental import MODES
from connectors.incremental import Incremental as IncrementalMode
from connectors.paginators import BasePaginator
from connectors.prefetch import gc_paused
from connectors.rejects import REJECTS
from connectors.writer import SEQ_COLUMN, Sink, StreamWriter, table_hints
from schemas.payload import Payload, Validator, column_types

__all__ = ["SEQ_COLUMN", "Endpoint", "ShowMany", "Table", "WalkContext", "refetch", "walk"]

Incremental = Literal["cursor_export", "start_time", "full", "newest_first"]
"""How an endpoint resumes: the name of one of :data:`connectors.incremental.MODES`."""
# A page's body → {table: records}. The default reads ``data_selector`` into the endpoint's table.
Splitter = Callable[[Any], Mapping[str, list[Any]]]
# A page's body and its split records → a warning to record (run log + summary), or None.
PageCheck = Callable[[Any, Mapping[str, list[Any]]], str | None]
# A page's records (which it may edit in place) → extra columns (name → one value per record);
# e.g. pivoting Zendesk custom fields into named columns. Runs before the Arrow build.
PageHook = Callable[[list[dict[str, Any]]], Mapping[str, list[Any]]]


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
        return table_hints(dlt_columns(column_types(self.model)), self.primary_key, self.write_disposition)

    def sink(self, deletion: Deletion = NEVER, extra_columns: Mapping[str, str] | None = None) -> Sink:
        """How the stream writer builds and marks this table's rows."""
        kinds = column_types(self.model)
        return Sink(
            name=self.name,
            hints=self.hints(),
            builder=TableBuilder(self.name, {**kinds, **(extra_columns or {})}),
            validator=Validator(self.name, self.model, self.primary_key),
            deletion=deletion,
        )


@dataclass(frozen=True)
class ShowMany:
    """How an endpoint's records are read again by id, those held in quarantine (:func:`refetch`):
    ``path?ids=1,2,3`` with ``params``, up to ``batch`` ids a request."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    batch: int = 100


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
    show_many: ShowMany | None = None
    """Where its held records are read again by id (None: only when the stream sends them again)."""
    description: str = ""

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table, *self.also)

    @property
    def mode(self) -> IncrementalMode:
        return MODES[self.incremental]

    def writer(
        self,
        deletions: SourceDeletions,
        extra_columns: Mapping[str, Mapping[str, str]] | None = None,
        source: str | None = None,
    ) -> StreamWriter:
        """The stream writer of the tables this endpoint fills (``source``: see
        :attr:`connectors.writer.StreamWriter.source`)."""
        extra = extra_columns or {}
        sinks = {t.name: t.sink(deletions.of(t.name), extra.get(t.name)) for t in self.tables}
        return StreamWriter(sinks, source=source)

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
    prefetch: int = 1
    """Pages fetched ahead while the current one is written (0: one after the other)."""


STATE_VERSION = 1


def walk(endpoint: Endpoint, ctx: WalkContext, state: dict[str, Any]) -> Iterator[Any]:
    """Fetch every page of ``endpoint`` from where ``state`` says, yielding Arrow tables.

    ``state`` is the resource's dlt state: it is committed with the load package, so a crash
    never moves a cursor past data that was not loaded. It is advanced after each batch's data
    has been yielded. The next page is fetched while this one is written (``prefetch``).

    In a chunked sync (:mod:`connectors.chunks`) each release is a point where the walk may stop:
    when the chunk's budget is spent and a next page exists, the pages read are released, the
    state advanced past them, and the walk ends saying it has more; the next chunk starts from
    that state (the page fetched ahead is the only one read again).
    """
    if state.get("v") not in (None, STATE_VERSION):
        raise RuntimeError(f"{endpoint.name}: state version {state.get('v')} is newer than this code")
    state["v"] = STATE_VERSION
    client = ctx.client
    source = client.name
    mode = endpoint.mode
    writer = endpoint.writer(ctx.deletions, ctx.extra_columns, client.name)
    params = {**endpoint.params, **mode.params(state, ctx.start_time)}
    paginator = endpoint.paginator()
    if paginator.records_key is None and endpoint.data_selector:
        paginator.records_key = endpoint.data_selector  # the page envelope must hold it
    newest: Any = None  # the newest cursor value among the pages not yet released
    released: Any = None  # the paginator's position after the last page read
    budget = chunks.current(source)
    # A stream read whole every run has no position to resume from: it is never cut.
    resumable = mode.keep_cursor or mode.keep_start

    def release() -> Iterator[Any]:
        """Hand the batched pages to dlt, then move the state past them (never before)."""
        nonlocal newest
        rows = writer.pending_rows
        yield from writer.drain()
        mode.advance(state, released, newest, endpoint.overlap_seconds)
        newest = None
        writer.count_rejections(client, endpoint.name)  # rejected records leave with their batch
        if budget is not None:
            budget.release(rows)

    with gc_paused():  # pages are acyclic; see gc_paused
        try:
            for page in client.paginate(
                endpoint.path,
                endpoint=endpoint.name,
                paginator=paginator,
                params=params,
                rate_group=endpoint.rate_group,
                prefetch=ctx.prefetch,
            ):
                released = page.position
                n_records = 0
                split = endpoint.records(page.data)
                if endpoint.page_check is not None:
                    warning = endpoint.page_check(page.data, split)
                    if warning:
                        client.stats.warn(source, endpoint.name, warning)
                for table_name, records in split.items():
                    good = writer.validate(table_name, records)
                    # Rows as the summary counts them: valid ones, each under its own table
                    # (the progress line and the summary must agree).
                    if table_name == endpoint.table.name:
                        n_records += len(good)
                    elif good:
                        client.stats.add(source, table_name, records=len(good))
                    if table_name == endpoint.table.name and endpoint.cursor_field:
                        for r in good:
                            v = r.get(endpoint.cursor_field)
                            if v is not None and (newest is None or v > newest):
                                newest = v
                    if not good:
                        continue
                    hook = ctx.page_hooks.get(table_name)
                    extra = hook(good) if hook is not None else None  # type: ignore[arg-type]
                    writer.add(table_name, writer.build(table_name, good, extra))
                    writer.accept(source, table_name, good)
                client.stats.add(source, endpoint.name, records=n_records, pages=1)
                _note_truncated(client, endpoint.name, paginator)
                cut = budget is not None and resumable and released.more and budget.due(writer.pending_rows)
                if writer.full or cut:
                    yield from release()
                if cut:
                    assert budget is not None
                    budget.stop(endpoint.name)
                    return
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
            writer.count_rejections(client, endpoint.name)


def refetch(
    endpoint: Endpoint,
    ctx: WalkContext,
    path: str,
    ids: list[str],
    *,
    params: Mapping[str, Any] | None = None,
    id_param: str = "ids",
    batch: int = 100,
) -> Iterator[Any]:
    """Read ``ids`` again by id (records held in quarantine): ``path?{id_param}=1,2,3`` in batches,
    through the endpoint's own split, validation and Arrow build. What reads valid now is noted
    (:meth:`connectors.writer.StreamWriter.accept`) and resolved once loaded; what still breaks
    the contract is rejected again. Held ids an answer leaves out are noted
    (:meth:`connectors.rejects.Rejects.missing`): the API no longer has them for this account."""
    if not ids:
        return
    client = ctx.client
    writer = endpoint.writer(ctx.deletions, ctx.extra_columns, client.name)
    required = endpoint.data_selector

    def check(data: Any) -> str | None:
        if not isinstance(data, dict) or not isinstance(data.get(required), list):
            return f"the answer has no {required!r} list"
        return None

    try:
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            page = client.get_json(
                path, endpoint=endpoint.name, params={**(params or {}), id_param: ",".join(chunk)}, check=check
            )
            split = endpoint.records(page.data)
            key = endpoint.table.primary_key
            answered = [r.get(key) for r in split.get(endpoint.table.name, ()) if isinstance(r, Mapping)]
            REJECTS.missing(client.name, endpoint.table.name, chunk, answered)
            for table_name, records in split.items():
                good = writer.validate(table_name, records)
                if not good:
                    continue
                hook = ctx.page_hooks.get(table_name)
                extra = hook(good) if hook is not None else None  # type: ignore[arg-type]
                writer.add(table_name, writer.build(table_name, good, extra))
                writer.accept(client.name, table_name, good)
            yield from writer.drain()
    finally:
        writer.count_rejections(client, endpoint.name)


def _note_truncated(client: HttpClient, endpoint: str, paginator: BasePaginator) -> None:
    """A full page inside one second that the time form could not page through: a warning and a
    ``partial`` table, never a silent success (:class:`connectors.paginators.ZendeskTimeExportPaginator`)."""
    truncated: list[tuple[int, int]] = getattr(paginator, "truncated", [])
    while truncated:
        second, n = truncated.pop(0)
        when = dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        client.stats.partial(
            client.name,
            endpoint,
            f"a full page of {n} items all at {when} (start_time={second}): the time-based export cannot page "
            "inside one second, so items of that second past the page may be missing",
        )
