"""The Confluence Cloud dlt source.

Usable on its own in any dlt pipeline::

    import dlt
    from connectors.confluence import confluence_source

    pipeline = dlt.pipeline("cf", destination="duckdb", dataset_name="confluence")
    pipeline.run(confluence_source())  # configuration from SOURCES__CONFLUENCE__* or .dlt/secrets.toml

Configuration (dlt conventions): ``base_url`` (the site, ``https://acme.atlassian.net``; the
connector adds ``/wiki``; ``http://`` only on loopback or with ``allow_insecure_http``; with OAuth 2.0 the gateway
``https://api.atlassian.com/ex/confluence/{cloudId}``); credentials (see
:mod:`connectors.confluence.credentials`); ``space_keys`` (``KB,RUN`` or a JSON list; default: every
space the user can see); ``start_date`` (ISO date or datetime; content last modified before it is not
read; default: all history); ``overlap_minutes`` (how far before the watermark each run reads again);
``detect_deletions`` (the id inventory that notices status changes and purges; on by default);
``detect_label_changes`` (the label inventory, part of the id inventory; on by default).

How pages and blog posts stay exact, run after run (:class:`ContentWalk`):

1. **Newest first, stopped at the watermark.** The list is read with ``sort=-modified-date`` and
   every status, and reading stops after the first result page whose oldest entry was modified
   before ``watermark - overlap``. The watermark is the newest ``version.createdAt`` loaded; it is
   moved forward in the resource's dlt state only after every row has been yielded, so a failed
   run never skips anything. Each content read has its labels re-read and replaced.
2. **Inventory** (from the second run on: a first run reads everything and is its own inventory).
   The same list without bodies (250 ids per request, every status) is compared with the
   ``[version, status]`` of every id kept in state. An id whose version or status differs
   (e.g. trashed or archived, which need not touch the modification date) is fetched again by id;
   an id listed before and listed nowhere now is looked up by id once more, and when it is found
   nowhere it is recorded in ``deleted_content`` (its row in ``pages``/``blogposts`` stays as last
   seen: merging a row that holds only an id would blank its other columns).
3. **Label inventory.** Adding or removing a label makes no new version, so each run also lists
   every label and the content carrying it, and rewrites the labels of the content whose label
   set differs from the one kept in state (one request per label, plus one per 250 labels).
   The label catalogue (``GET /wiki/api/v2/labels``) is the one endpoint that needs the
   ``read:label:confluence`` scope; a token without it (401/403 there) gets the same exact labels
   by reading each current page's and blog post's own labels instead (``read:page:confluence``,
   one request per content), with one warning naming the scope (:func:`label_scope_warning`).

Optional tables never fail a run: a 401/403/404 on the spaces list, the blog posts list or a
content's labels marks that table ``skipped`` with the reason (``STATS.skip``); only pages fail the
run. Without spaces, ``space_key`` stays empty (and ``space_keys`` cannot be honoured: that is a
configuration error).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Union
from urllib.parse import quote

import dlt
from dlt.sources import DltResource

from common.dates import parse_start_date, parse_time
from common.errors import AuthError, ConfigError, NotAvailableError
from connectors import chunks
from connectors.arrow import flatten
from connectors.confluence.credentials import ConfluenceApiTokenCredentials, ConfluenceOAuthCredentials
from connectors.confluence.deletions import DELETIONS
from connectors.confluence.endpoints import (
    CLEAR_COLUMN,
    DELETED_CONTENT,
    LABELS,
    LABELS_CATALOGUE,
    PAGE_SIZE,
    SPACES_ENDPOINT,
    STREAMS,
    ContentStream,
)
from connectors.confluence.settings import (
    START_DATE,
    make_client,
    parse_space_keys,
    resolve_base_url,
)
from connectors.confluence.spaces import SpaceDirectory
from connectors.confluence.spaces import results as _results
from connectors.http import HttpClient, HttpResult, RetryPolicy
from connectors.incremental import window_start
from connectors.paginators import ConfluenceCursorPaginator
from connectors.rejects import REJECTS
from schemas.confluence import DELETED_STATUSES

log = logging.getLogger("supportlake.confluence")

LABEL_SCOPE = "read:label:confluence"


def label_scope_warning(status: int | None) -> str:
    """What the run log and the summary say, once, when the label catalogue is refused."""
    return (
        f"the label catalogue ({LABELS_CATALOGUE}) was refused (HTTP {status}): the token lacks the "
        f"{LABEL_SCOPE} scope (or the user may not list labels). Labels are exact all the same, read with "
        f"one request per current page and blog post instead of one per label; grant {LABEL_SCOPE} to "
        "make that cheap, or set SOURCES__CONFLUENCE__DETECT_LABEL_CHANGES=false to read labels only with "
        "content that changed (labels added or removed without a new version are then missed)"
    )


STATE_VERSION = 1
ID_BATCH = 250  # ids per ``id=`` lookup, the page size of the answer


@dlt.source(name="confluence", max_table_nesting=0)
def confluence_source(
    credentials: Union[ConfluenceApiTokenCredentials, ConfluenceOAuthCredentials] = dlt.secrets.value,  # noqa: UP007 - dlt resolves typing.Union
    base_url: str | None = None,
    space_keys: str | Sequence[str] | None = None,
    start_date: str | None = None,
    overlap_minutes: int = 10,
    detect_deletions: bool = True,
    detect_label_changes: bool = True,
    max_attempts: int = 8,
    deadline_seconds: float = 900.0,
    resources: Sequence[str] | None = None,
) -> Iterator[DltResource]:
    """Spaces, pages and blog posts (with their labels and purges) of a Confluence Cloud site."""
    if overlap_minutes < 0:
        raise ConfigError(f"SOURCES__CONFLUENCE__OVERLAP_MINUTES must be 0 or more, got {overlap_minutes!r}")
    memo = chunks.memo("confluence")  # a chunked sync keeps the client and the spaces read
    if "context" in memo:
        yield from _resources(memo["context"], resources)
        return
    client = make_client(
        credentials,
        resolve_base_url(base_url),
        policy=RetryPolicy(max_attempts=max_attempts, deadline_seconds=deadline_seconds),
    )
    ctx = memo["context"] = ConfluenceContext(
        client=client,
        directory=SpaceDirectory(client, parse_space_keys(space_keys)),
        start=parse_start_date(start_date, START_DATE),
        overlap=dt.timedelta(minutes=overlap_minutes),
        detect_deletions=detect_deletions,
        detect_label_changes=detect_label_changes,
    )
    yield from _resources(ctx, resources)


def _resources(ctx: ConfluenceContext, resources: Sequence[str] | None) -> Iterator[DltResource]:
    if not resources or SPACES_ENDPOINT.name in resources:
        yield dlt.resource(guarded_spaces, name=SPACES_ENDPOINT.name, **SPACES_ENDPOINT.table.resource_hints())(ctx)
    for stream in STREAMS:
        if resources and stream.name not in resources:
            continue
        yield dlt.resource(guarded_content, name=stream.name, **stream.endpoint.table.resource_hints())(stream, ctx)


def guarded_spaces(ctx: ConfluenceContext) -> Iterator[Any]:
    """:func:`spaces_resource` under a chunked sync's budget (:func:`connectors.chunks.guarded`)."""
    yield from chunks.guarded(ctx.client.name, SPACES_ENDPOINT.name, spaces_resource(ctx), resumable=False)


def guarded_content(stream: ContentStream, ctx: ConfluenceContext) -> Iterator[Any]:
    """:func:`content_resource` under a chunked sync's budget. A content walk is never cut: its
    watermark may only move once the newest-first read reached it, and its inventory compares the
    whole listing, so it commits as one unit (it starts only while the chunk has budget)."""
    yield from chunks.guarded(ctx.client.name, stream.name, content_resource(stream, ctx), resumable=False)


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


def spaces_resource(ctx: ConfluenceContext) -> Iterator[Any]:
    """A dlt resource body: every space in scope, read whole (spaces are few). Optional: refused
    (401/403/404), the table is skipped with the reason."""
    writer = SPACES_ENDPOINT.writer(DELETIONS)
    directory = ctx.directory
    directory.load()
    if directory.refused is not None:
        ctx.client.stats.skip(ctx.client.name, SPACES_ENDPOINT.name, f"skipped: {directory.refused}")
        return
    good = writer.validate(SPACES_ENDPOINT.table.name, directory.records)
    if good:
        base = directory.base or ctx.default_base
        yield writer.write(SPACES_ENDPOINT.table.name, [space_row(r, base) for r in good])
    writer.count_rejections(ctx.client, SPACES_ENDPOINT.name)


def content_resource(stream: ContentStream, ctx: ConfluenceContext) -> Iterator[Any]:
    """A dlt resource body: pages or blog posts from the watermark kept in the resource's state.

    An optional stream (blog posts) refused with 401/403/404 is skipped with the reason; what was
    read before the refusal still loads, and its state is not advanced.
    """
    walk = ContentWalk(stream, ctx, dlt.current.resource_state())
    if not stream.endpoint.optional:
        yield from walk.run()
        return
    try:
        yield from walk.run()
    except (AuthError, NotAvailableError) as exc:
        ctx.client.stats.skip(ctx.client.name, stream.name, f"skipped: {exc}")


# --------------------------------------------------------------------------------------------
# The walk of pages and blog posts
# --------------------------------------------------------------------------------------------


@dataclass
class ConfluenceContext:
    """What every resource of one source instance shares."""

    client: HttpClient
    directory: SpaceDirectory
    start: dt.datetime | None = None
    overlap: dt.timedelta = dt.timedelta(minutes=10)
    detect_deletions: bool = True
    detect_label_changes: bool = True
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    label_sweep_refused: int | None = None
    """The HTTP status that refused the label catalogue (then labels are read per content), once it was."""
    labels_refused: str | None = None
    """Why a content's own labels were refused (then the ``labels`` table is skipped), once it was."""

    @property
    def sweeping(self) -> bool:
        """Whether current content takes its labels from the label sweep rather than one by one."""
        return self.detect_label_changes and self.detect_deletions and self.label_sweep_refused is None

    @property
    def default_base(self) -> str:
        """Where web links point when the API does not say (its ``_links.base``)."""
        return self.client.base_url.rstrip("/") + "/wiki"


class ContentWalk:
    """One run over pages or blog posts: the newest-first read, then the inventory.

    ``state`` is the resource's dlt state: ``watermark`` (ISO time of the newest version loaded),
    ``known`` (``{id: [version number, status]}`` of every id in scope at the last inventory) and
    ``labels`` (``{id: [label ids]}``). All are written after the last item has been yielded.
    """

    def __init__(self, stream: ContentStream, ctx: ConfluenceContext, state: dict[str, Any]) -> None:
        if state.get("v") not in (None, STATE_VERSION):
            raise RuntimeError(f"{stream.name}: state version {state.get('v')} is newer than this code")
        self.stream = stream
        self.endpoint = stream.endpoint
        self.table = stream.endpoint.table.name
        self.ctx = ctx
        self.client = ctx.client
        self.state = state
        self.writer = stream.endpoint.writer(DELETIONS)
        self.loaded: dict[str, list[Any]] = {}  # id → [version number, status] loaded by this run
        self.label_sets: dict[str, list[str]] = {}  # id → its label ids, read by this run
        self.newest: dt.datetime | None = None

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> Iterator[Any]:
        self.ctx.directory.load()
        if self.ctx.directory.refused is not None:
            self.client.stats.warn(
                self.client.name,
                self.stream.name,
                "space_key is empty: the spaces list was refused (the token needs read:space:confluence)",
            )
        first_run = "watermark" not in self.state and "known" not in self.state
        try:
            yield from self.read_changes()
            # Content held in quarantine is read again by id (the v2 list's ``id`` filter); what reads
            # valid now loads and leaves the quarantine. The watermark does not move for it.
            held = [i for i in REJECTS.held(self.client.name, self.table) if i.isdigit() and i not in self.loaded]
            if held:
                yield from self.fetch_ids(held, scoped=False)
            known: dict[str, list[Any]] | None = None
            if self.ctx.detect_deletions and first_run:
                known = dict(self.loaded)  # nothing was cut off: the read itself is the inventory
                if self.ctx.detect_label_changes:
                    yield from self.reconcile_labels(known)  # the labels of current content
            elif self.ctx.detect_deletions:
                known = yield from self.reconcile(baseline="known" not in self.state)
        finally:
            self.writer.count_rejections(self.client, self.stream.name)
        self.state["v"] = STATE_VERSION
        watermark = parse_time(self.state.get("watermark"))
        if self.newest is not None and (watermark is None or self.newest > watermark):
            self.state["watermark"] = self.newest.isoformat()
        if known is not None:
            self.state["known"] = known
            if self.ctx.detect_label_changes:
                labels = {**(self.state.get("labels") or {}), **self.label_sets}
                self.state["labels"] = {i: v for i, v in labels.items() if i in known}

    def cutoff(self) -> dt.datetime | None:
        """Content whose version is older than this was loaded by an earlier run."""
        return window_start(parse_time(self.state.get("watermark")), self.ctx.start, self.ctx.overlap)

    def read_changes(self) -> Iterator[Any]:
        """Newest-modified first, every status, bodies included; stops at the cutoff."""
        cutoff = self.cutoff()
        for scope in self.ctx.directory.scopes():
            params = {**self.endpoint.params, "status": ",".join(self.stream.statuses), **scope}
            paginator = self.paginator()
            for page in self._pages(self.endpoint.path, paginator, params):
                good = self.writer.validate(self.table, _results(page.data))
                fresh = [r for r in good if cutoff is None or _changed_at(r) >= cutoff]
                yield from self.emit(fresh, paginator, advance=True)
                if cutoff is not None and good and _changed_at(good[-1]) < cutoff:
                    log.debug("%s: reached the watermark (%s); the rest is loaded", self.stream.name, cutoff)
                    break  # sorted newest first: what follows was modified before the cutoff

    def reconcile(self, *, baseline: bool = False) -> Generator[Any, None, dict[str, list[Any]]]:
        """The id inventory: fetch what changed unseen, record what is gone. Returns ``known``.

        ``baseline``: deletion detection was off until now, so nothing is known to compare with;
        the inventory only becomes the reference of the next run.
        """
        have: dict[str, list[Any]] = {**(self.state.get("known") or {}), **self.loaded}
        listed: dict[str, list[Any]] = {}
        for scope in self.ctx.directory.scopes():
            params = {"sort": "id", "status": ",".join(self.stream.statuses), **scope}
            for page in self._pages(self.endpoint.path, self.paginator(), params, records=False):
                for r in _results(page.data):
                    content_id = _id_of(r)
                    if content_id is None:
                        continue
                    entry = _inventory_entry(r)
                    if entry is None:  # there, but unreadable: neither re-read nor taken for purged
                        if content_id in have:
                            listed[content_id] = have[content_id]
                        continue
                    version, changed = entry
                    if self.ctx.start is not None and changed < self.ctx.start:
                        continue  # before start_date: never loaded, never tracked
                    listed[content_id] = version
        if baseline:
            known = {**listed, **{i: v for i, v in self.loaded.items() if i in listed}}
            if self.ctx.detect_label_changes:
                yield from self.reconcile_labels(known)
            return known
        stale = [i for i, v in listed.items() if have.get(i) != v]
        if stale:
            log.info(
                "%s: %d changed without a newer modification date; reading them again", self.stream.name, len(stale)
            )
            yield from self.fetch_ids(stale, scoped=True)
        known = {i: self.loaded.get(i, v) for i, v in listed.items()}
        gone = [i for i in have if i not in listed]
        if gone:
            # Listed before, in no listing now: look each up by id, in every space, once more.
            found = yield from self.fetch_ids(gone, scoped=False)
            purged = [i for i in gone if i not in found]
            if purged:
                log.info("%s: %d purged since the last run", self.stream.name, len(purged))
                yield self._write_other(DELETED_CONTENT.name, [self.tombstone(i, have[i]) for i in purged])
            # Found after all: still tracked while in scope; moved to a space out of scope, its row
            # (just loaded, with its new space) is its last.
            directory = self.ctx.directory
            known.update({i: self.loaded.get(i, have[i]) for i, space in found.items() if directory.in_scope(space)})
        if self.ctx.detect_label_changes:
            yield from self.reconcile_labels(known)
        return known

    def reconcile_labels(self, known: Mapping[str, Sequence[Any]]) -> Iterator[Any]:
        """Rewrite the labels of content whose label set changed without a new version.

        Only current content is compared (see :data:`ContentStream.label_listed_statuses`):
        trashed and archived content cannot be relabelled, and its labels were read with it when
        its status changed. When the label catalogue is refused (no ``read:label:confluence``),
        the labels of that current content are read one content at a time instead.
        """
        if self.ctx.labels_refused is not None:
            return
        stored: dict[str, list[str]] = {**(self.state.get("labels") or {}), **self.label_sets}
        listable = set(self.stream.label_listed_statuses)
        catalogue: dict[str, Mapping[str, Any]] = {}
        if self.ctx.label_sweep_refused is None:
            try:
                for page in self._pages(LABELS_CATALOGUE, ConfluenceCursorPaginator(PAGE_SIZE), {}, pages=False):
                    for label in _results(page.data):
                        if (label_id := _id_of(label)) is not None:
                            catalogue[label_id] = label
            except (AuthError, NotAvailableError) as exc:
                log.info("%s: label catalogue refused: %s", self.stream.name, exc)
                self.ctx.label_sweep_refused = exc.status or 0
        if self.ctx.label_sweep_refused is not None:
            self.client.stats.warn(self.client.name, LABELS.name, label_scope_warning(self.ctx.label_sweep_refused))
            ids = [i for i, (_, status) in known.items() if status in listable and i not in self.label_sets]
            log.info("%s: reading the labels of %d current items one by one", self.stream.name, len(ids))
            one_by_one = self.read_label_sets(ids, unchanged=stored)
            if one_by_one:
                yield self._write_other(LABELS.name, one_by_one)
            return
        carried: dict[str, set[str]] = {}
        for label_id in catalogue:
            path = self.stream.label_content_path.format(id=quote(label_id, safe=""))
            try:
                for page in self._pages(path, ConfluenceCursorPaginator(PAGE_SIZE), {}, pages=False):
                    for r in _results(page.data):
                        if (content_id := _id_of(r)) is not None:
                            carried.setdefault(content_id, set()).add(label_id)
            except NotAvailableError:  # the label went away meanwhile: it carries nothing
                continue
        rows: list[dict[str, Any]] = []
        for content_id, (_, status) in known.items():
            if status not in listable or content_id in self.label_sets:
                continue  # frozen in the trash, or read with the content by this run
            now = sorted(carried.get(content_id, ()))
            if stored.get(content_id) == now:
                continue
            self.label_sets[content_id] = now
            rows.extend(self._label_set_rows(content_id, [catalogue[i] for i in now]))
        if rows:
            log.info(
                "%s: labels changed on %d without a new version", self.stream.name, len({r["content_id"] for r in rows})
            )
            yield self._write_other(LABELS.name, rows)

    def fetch_ids(self, ids: Sequence[str], *, scoped: bool) -> Generator[Any, None, dict[str, Any]]:
        """Read ``ids`` (with bodies) by id, ``ID_BATCH`` at a time; returns the ids found, each
        with its space id (a record that fails validation is found too: it exists)."""
        found: dict[str, Any] = {}
        scopes = self.ctx.directory.scopes() if scoped else [{}]
        for start in range(0, len(ids), ID_BATCH):
            batch = ids[start : start + ID_BATCH]
            for scope in scopes:
                params = {
                    "id": ",".join(batch),
                    "status": ",".join(self.stream.statuses),
                    "body-format": "storage",
                    **scope,
                }
                paginator = self.paginator()
                for page in self._pages(self.endpoint.path, paginator, params):
                    results = _results(page.data)
                    found.update({i: r.get("spaceId") for r in results if (i := _id_of(r)) is not None})
                    yield from self.emit(self.writer.validate(self.table, results), paginator)
        return found

    # -- rows ----------------------------------------------------------------------------------

    def emit(
        self, records: Sequence[Mapping[str, Any]], paginator: ConfluenceCursorPaginator, *, advance: bool = False
    ) -> Iterator[Any]:
        """Content rows as one Arrow table, then the labels of the same content. ``advance``: the
        rows come from the newest-first read, the only one whose times may move the watermark."""
        if not records:
            return
        base = paginator.base or self.ctx.directory.base or self.ctx.default_base
        directory = self.ctx.directory
        yield self.writer.write(self.table, [content_row(r, base, directory.key_of) for r in records])
        self.writer.accept(self.client.name, self.table, records)
        for r in records:
            self.loaded[str(r["id"])] = [r["version"]["number"], r["status"]]
            changed = _changed_at(r)
            if advance and (self.newest is None or changed > self.newest):
                self.newest = changed
        labels = self.label_rows(records)
        if labels:
            yield self._write_other(LABELS.name, labels)

    def _write_other(self, table: str, rows: list[dict[str, Any]]) -> Any:
        """Rows of a table besides the stream's own, counted under that table, as the run's
        summary counts them (the progress line and the summary agree)."""
        self.client.stats.add(self.client.name, table, records=len(rows))
        return self.writer.write(table, rows)

    def label_rows(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Every label of each record; a record without labels gets one row that clears them.

        When the run ends with the label sweep (:meth:`reconcile_labels`: one request per label,
        not per content), current content takes its labels from it; only content the sweep
        cannot see (trashed, deleted, archived) is asked one by one. A first sync of a large site
        then costs a few hundred requests for labels instead of one per page.
        """
        sweep = self.ctx.sweeping
        listed = self.stream.label_listed_statuses
        return self.read_label_sets([str(r["id"]) for r in records if not (sweep and r.get("status") in listed)])

    def read_label_sets(
        self, ids: Sequence[str], *, unchanged: Mapping[str, Sequence[str]] | None = None
    ) -> list[dict[str, Any]]:
        """Read each content's own labels (``labels_path``); the rows of each whole label set,
        except those equal to ``unchanged[id]`` (what is already stored).

        A 404 is content purged meanwhile (its stored labels stay); a 401/403 refuses the labels
        of every content: the ``labels`` table is skipped with the reason, for the rest of the run.
        """
        rows: list[dict[str, Any]] = []
        for content_id in ids:
            if self.ctx.labels_refused is not None:
                break
            path = self.stream.labels_path.format(id=quote(content_id, safe=""))
            try:
                raw = [
                    label
                    for page in self._pages(path, ConfluenceCursorPaginator(PAGE_SIZE), {}, pages=False)
                    for label in _results(page.data)
                ]
            except (AuthError, NotAvailableError) as exc:
                if isinstance(exc, NotAvailableError) and exc.status == 404:
                    log.debug("%s: labels of %s not available: %s", self.stream.name, content_id, exc)
                    continue  # e.g. content purged meanwhile: keep what is stored
                self.ctx.labels_refused = str(exc)
                self.client.stats.skip(self.client.name, LABELS.name, f"skipped: {exc}")
                break
            good = self.writer.validate(LABELS.name, raw)
            if raw and not good:
                continue  # only labels that break the contract: keep what is stored
            now = sorted(str(x["id"]) for x in good)
            self.label_sets[content_id] = now
            if unchanged is not None and content_id in unchanged and list(unchanged[content_id]) == now:
                continue
            rows.extend(self._label_set_rows(content_id, good))
        return rows

    def _label_set_rows(self, content_id: str, labels: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows of one content's whole label set; none left: one row that clears them."""
        owner = {"content_id": content_id, "content_type": self.stream.content_type}
        if not labels:
            return [{**owner, "label_id": "", CLEAR_COLUMN: True}]
        return [{**owner, "label_id": str(x["id"]), "name": x.get("name"), "prefix": x.get("prefix")} for x in labels]

    def tombstone(self, content_id: str, last: Sequence[Any]) -> dict[str, Any]:
        return {
            "id": content_id,
            "content_type": self.stream.content_type,
            "detected_at": self.ctx.now().isoformat(),
            "last_version": last[0] if last else None,
            "last_status": last[1] if len(last) > 1 else None,
        }

    # -- requests ------------------------------------------------------------------------------

    def paginator(self) -> ConfluenceCursorPaginator:
        paginator = self.endpoint.paginator()
        assert isinstance(paginator, ConfluenceCursorPaginator)
        return paginator

    def _pages(
        self,
        path: str,
        paginator: ConfluenceCursorPaginator,
        params: Mapping[str, Any],
        *,
        records: bool = True,
        pages: bool = True,
    ) -> Iterator[HttpResult]:
        """Every page of a list, counted under the resource's name (labels count as requests only,
        inventory entries as pages only)."""
        for page in self.client.paginate(
            path,
            endpoint=self.stream.name,
            paginator=paginator,
            params=params,
            rate_group=self.endpoint.rate_group,
        ):
            if pages:
                n = len(_results(page.data)) if records else 0
                self.client.stats.add(self.client.name, self.stream.name, records=n, pages=1)
            yield page


# --------------------------------------------------------------------------------------------
# Rows and Arrow tables
# --------------------------------------------------------------------------------------------


def content_row(record: Mapping[str, Any], base: str, key_of: Callable[[Any], str | None]) -> dict[str, Any]:
    """A page or blog post as a row: flattened, snake_case, plus space key, web link, is_deleted."""
    row = {_column(k): v for k, v in flatten(record).items()}
    row["space_key"] = key_of(record.get("spaceId"))
    row["web_url"] = web_url(base, record)
    row["is_deleted"] = record.get("status") in DELETED_STATUSES
    return row


def space_row(record: Mapping[str, Any], base: str) -> dict[str, Any]:
    row = {_column(k): v for k, v in flatten(record).items()}
    row["web_url"] = web_url(base, record)
    return row


def web_url(base: str, record: Mapping[str, Any]) -> str | None:
    """``_links.base`` + ``_links.webui`` (``https://acme.atlassian.net/wiki`` + ``/spaces/KB/pages/1/T``)."""
    links = record.get("_links")
    webui = links.get("webui") if isinstance(links, Mapping) else None
    if not isinstance(webui, str) or not webui:
        return None
    if webui.startswith(("http://", "https://")):
        return webui
    return base.rstrip("/") + "/" + webui.lstrip("/")


@lru_cache(maxsize=1024)
def _column(name: str) -> str:
    """camelCase → snake_case, per flattened segment (``version__createdAt`` → ``version__created_at``)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _changed_at(record: Mapping[str, Any]) -> dt.datetime:
    """``version.createdAt`` of a validated record, as an aware datetime."""
    parsed = parse_time(record["version"]["createdAt"])
    assert parsed is not None
    return parsed


def _id_of(record: Any) -> str | None:
    if not isinstance(record, Mapping) or record.get("id") is None:
        return None
    return str(record["id"])


def _inventory_entry(record: Mapping[str, Any]) -> tuple[list[Any], dt.datetime] | None:
    """``([version number, status], version time)`` of an inventory entry; None if malformed
    (the reads with bodies reject and report such records by name)."""
    version = record.get("version")
    if not isinstance(version, Mapping) or not isinstance(version.get("number"), int):
        return None
    try:
        changed = parse_time(version.get("createdAt"))
    except ValueError:
        return None
    if changed is None:
        return None
    return [version["number"], record.get("status")], changed
