"""The walk of Confluence pages or blog posts (:class:`ContentWalk`): how they stay exact, run after run.

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
3. **Label inventory**: see :mod:`connectors.confluence.labels`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any

from common.dates import parse_time
from connectors.confluence.endpoints import DELETED_CONTENT, LABELS
from connectors.confluence.labels import ContentLabels
from connectors.confluence.rows import changed_at, content_row, id_of, inventory_entry
from connectors.confluence.run import STATE_VERSION
from connectors.confluence.spaces import results as _results
from connectors.incremental import window_start
from connectors.paginators import ConfluenceCursorPaginator
from connectors.rejects import REJECTS

log = logging.getLogger("supportlake.confluence")

ID_BATCH = 250  # ids per ``id=`` lookup, the page size of the answer


class ContentWalk(ContentLabels):
    """One run over pages or blog posts: the newest-first read, then the inventory (and the label
    inventory of :class:`connectors.confluence.labels.ContentLabels`). Its state is that of
    :class:`connectors.confluence.run.ContentRun`."""

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
            # Content held in quarantine is read again by id (the v2 list's ``id`` filter, every
            # status the stream reads); what reads valid now loads and leaves the quarantine, and ids
            # the whole answer leaves out are noted as gone. The watermark does not move for it.
            held = [i for i in REJECTS.held(self.client.name, self.table) if i.isdigit() and i not in self.loaded]
            if held:
                found = yield from self.fetch_ids(held, scoped=False)
                REJECTS.missing(self.client.name, self.table, held, found)
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
                fresh = [r for r in good if cutoff is None or changed_at(r) >= cutoff]
                yield from self.emit(fresh, paginator, advance=True)
                if cutoff is not None and good and changed_at(good[-1]) < cutoff:
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
                    content_id = id_of(r)
                    if content_id is None:
                        continue
                    entry = inventory_entry(r)
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
                    found.update({i: r.get("spaceId") for r in results if (i := id_of(r)) is not None})
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
            changed = changed_at(r)
            if advance and (self.newest is None or changed > self.newest):
                self.newest = changed
        labels = self.label_rows(records)
        if labels:
            yield self._write_other(LABELS.name, labels)

    def tombstone(self, content_id: str, last: Sequence[Any]) -> dict[str, Any]:
        return {
            "id": content_id,
            "content_type": self.stream.content_type,
            "detected_at": self.ctx.now().isoformat(),
            "last_version": last[0] if last else None,
            "last_status": last[1] if len(last) > 1 else None,
        }
